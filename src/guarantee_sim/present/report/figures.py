"""The report's figure set, drawn in memory as the plan asks, and the tables behind it: the paired
comparisons (bootstrap and log-rank) and one stored run re-run with narration for the timeline."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from guarantee_sim.errors import ConfigError
from guarantee_sim.model.outcomes import Stage
from guarantee_sim.present.narrative import (
    FUNNEL_ORDER,
    STAGE_LABELS,
    STAGE_MEANING,
    nothing_binding,
)
from guarantee_sim.present.report.load import Results
from guarantee_sim.present.report.plan import Plan, shares_seeds
from guarantee_sim.present.report.stamps import stamp_for


@dataclass
class ReportFigure:
    """One figure of the report: its file stem, the Figure, a caption and its alt text."""

    name: str
    kind: str
    figure: object
    title: str
    caption: str


def cell_labels(res: Results, cells: list[str]) -> tuple[dict[str, str], str]:
    from guarantee_sim.present.plots import short_labels

    return short_labels(res.summary, cells, res.order)


def paired_table(res: Results, pairs: list[tuple[str, str]], seed: int | None) -> pd.DataFrame:
    """Per pair: the paired difference in P(protected) (no attack, or military support in time) with its
    BCa interval (``sweep.paired_difference``) over the runs the two cells share, and the log-rank
    p-value of their days to pooled activation."""
    from guarantee_sim.analysis.stats import protected
    from guarantee_sim.present.survival_figures import logrank_p
    from guarantee_sim.runs.sweep import paired_difference

    rows = []
    for a, b in pairs:
        n = shares_seeds(res, a, b)
        ra = res.runs[res.runs["cell"] == a].sort_values("run").iloc[:n]
        rb = res.runs[res.runs["cell"] == b].sort_values("run").iloc[:n]
        root = res.cell_source[a].meta.get("root_seed")
        s = int(seed if seed is not None else (root if root is not None else 0))
        pa, pb = protected(ra).reset_index(drop=True), protected(rb).reset_index(drop=True)
        d = paired_difference(pa, pb, seed=s)
        horizon = float(res.cell_source[a].meta.get("horizon") or res.horizon)
        rows.append({"a": a, "b": b, "n": n, "p_a": float(pa.mean()), "p_b": float(pb.mean()),
                     "estimate": d["estimate"], "low": d["low"], "high": d["high"],
                     "logrank_p": logrank_p(ra["activation_day"], rb["activation_day"], horizon), "bootstrap_seed": s})
    return pd.DataFrame(rows, columns=["a", "b", "n", "p_a", "p_b", "estimate", "low", "high", "logrank_p", "bootstrap_seed"])


def narrated_run(res: Results, cell: str, run: int):
    """Re-run one stored run with narration: the cell's resolved config and the run's own seed."""
    from omegaconf import OmegaConf

    from guarantee_sim.model.engine import GuaranteeModel
    from guarantee_sim.scenario.build import build_scenario

    source = res.cell_source[cell]
    cell_dir = source.cell_dirs[res.cell_name[cell]]
    config = cell_dir / "config.yaml"
    if not config.is_file():
        raise ConfigError("--run", f"{cell} has no config.yaml to re-run from", "a cell written by guarantee-sim")
    scenario = build_scenario(OmegaConf.load(config))
    stored = res.runs[(res.runs["cell"] == cell) & (res.runs["run"] == run)].iloc[0]
    model = GuaranteeModel(scenario, seed=int(stored["seed"]), collect=False, record=True)
    model.run()
    return model, stored


MAX_DETERRENCE_PANELS = 6


def deterrence_cells(res: Results, p: Plan) -> tuple[pd.DataFrame | None, str, str]:
    """The cells of the deterrence figure: by design when the designs vary, and, when the sweep has
    the strategic violator, its cells only (the scripted violators do not weigh the guarantee).
    None when the results predate these measures or would need more than a handful of panels."""
    from guarantee_sim.present.plots import varying

    table = res.summary
    note = ""
    if "attack_probability" not in table.columns:
        return None, "", ""
    if "breach" in res.levers and (table["breach"].astype(str) == "strategic").any() and table["breach"].nunique() > 1:
        table = table[table["breach"].astype(str) == "strategic"].drop(columns="breach")
        note = (" Cells with the strategic violator (breach=strategic) only: the scripted violators attack on a "
                "schedule whatever the design.")
    lever = "commitments" if "commitments" in varying(table) else p.bars
    panels = table.drop_duplicates([c for c in varying(table, exclude=[lever])] or ["cell"]).shape[0]
    if varying(table, exclude=[lever]) and panels > MAX_DETERRENCE_PANELS:
        return None, "", ""
    return table, lever, note


def build_figures(res: Results, p: Plan) -> tuple[list[ReportFigure], dict[str, pd.DataFrame]]:
    """Every figure the plan asks for, and the tables behind the report."""
    from guarantee_sim.present import survival_figures, sweep_figures, timeline
    from guarantee_sim.present.plots import varying

    figs: list[ReportFigure] = []
    tables: dict[str, pd.DataFrame] = {}
    h = res.horizon
    per_cell = {c: float(res.cell_source[c].meta.get("horizon") or h) for c in res.summary["cell"]}
    hk = per_cell if len(set(per_cell.values())) > 1 else h  # each cell censored at its own horizon
    stamp = stamp_for(res)
    if not len(res.summary):
        return figs, tables
    table, lever, note = deterrence_cells(res, p)
    if table is not None:
        fig = sweep_figures.plot_deterrence(table, lever, order=res.order, stamp=stamp)
        figs.append(ReportFigure("deterrence", "deterrence", fig, f"The headline: deterrence and response by {lever}",
                                 "Per " + lever + ", side by side: P(attack) — an armed attack within the horizon (the "
                                 "deterrence side); P(support in time | attack) — military support delivered (binding or "
                                 "not) reaching what Ukraine needs within its holding time, among runs with an attack (the response side; no bar "
                                 "where no run had an attack; above it, n, the runs with an attack it rests on, and pale where "
                                 f"they are fewer than {sweep_figures.FEW_ATTACKS}: a design that deters well has few attacks "
                                 "to answer); P(protected) — no attack, or support in time. Whiskers: "
                                 "95% Wilson intervals." + note))
    if p.heat:
        fig = sweep_figures.plot_heatmap(res.summary, p.heat[0], p.heat[1], order=res.order, horizon=None if isinstance(hk, dict) else h,
                                 stamp=stamp)
        facet = varying(res.summary, exclude=p.heat)
        figs.append(ReportFigure("heatmap", "heatmap", fig, f"Pooled activation probability by {p.heat[0]} and {p.heat[1]}",
                            "Each cell: the share of runs in which pooled binding support activated within the horizon (bold; the secondary measure) "
                            "and its 95% Wilson interval, in %."
                            + (f" One panel per {' × '.join(facet)}." if facet else "")))
    fig = sweep_figures.plot_bars(res.summary, p.bars, hue=p.hue, order=res.order, horizon=None if isinstance(hk, dict) else h,
                          stamp=stamp)
    what = "scenario" if p.bars == "cell" else p.bars
    figs.append(ReportFigure("bars", "bars", fig, f"Pooled activation probability by {what}" + (f" and {p.hue}" if p.hue else ""),
                        "Bars: the share of runs with pooled binding support activated within the horizon; whiskers: 95% Wilson "
                        "interval." + (f" Colour: {p.hue}." if p.hue else "")
                        + (" Panels: the other levers." if varying(res.summary, exclude=[p.bars, p.hue]) else "")))
    labels, common = cell_labels(res, p.scenarios)
    pair = p.pairs[0] if p.pairs else None
    empty = frozenset(r["cell"] for _, r in res.summary.iterrows() if nothing_binding(r))
    fig = survival_figures.plot_km(res.runs, p.scenarios, hk, pair=pair, order=res.order, stamp=stamp, empty=empty)
    figs.append(ReportFigure("km", "km", fig, "Days to pooled activation (Kaplan–Meier)",
                        "The share of runs with pooled binding support activated by each day (the secondary measure); runs "
                        "without activation are censored at the horizon; bands: pointwise 95% (log-log). A design that "
                        "binds nothing has no curve."
                        + (" Log-rank p-value in the corner for the first pair; the scenarios share run seeds, so the "
                           "test (which assumes independent samples) is a guide, and the paired bootstrap below is "
                           "the comparison to read." if pair else "")))
    fig = sweep_figures.plot_funnel(res.summary, p.funnel, order=res.order, stamp=stamp)
    figs.append(ReportFigure("funnel", "funnel", fig, "Where pooled activation failed (the secondary measure)",
                        "Each run counted once, at the furthest stage the chain reached: "
                        + "; ".join(f"{STAGE_LABELS[s]} ({STAGE_MEANING[Stage(s)]})" for s in FUNNEL_ORDER) + "."))
    fig = survival_figures.plot_support_types(res.runs, p.scenarios, hk, order=res.order, stamp=stamp, empty=empty)
    figs.append(ReportFigure("support_types", "support_types", fig, "Binding support activated, by support type",
                        "Per support type: the share of runs in which its binding support activated (95% Wilson interval) "
                        "and the Kaplan–Meier median days to it (95% interval; ▷: the median lies beyond the horizon). "
                        "A design that binds nothing has nothing to activate: it is not drawn."))
    st = survival_figures.support_type_table(res.runs, p.scenarios, hk)
    tables["support_types"] = st
    if p.pairs:
        pt = paired_table(res, p.pairs, p.seed)
        tables["paired"] = pt
        plabels, _ = cell_labels(res, list(dict.fromkeys([c for ab in p.pairs for c in ab])))
        frame = pt.assign(label=[f"{plabels[a]}\nminus {plabels[b]}" for a, b in zip(pt["a"], pt["b"])])
        fig = survival_figures.plot_paired(frame, stamp=stamp)
        figs.append(ReportFigure("paired", "paired", fig, "Paired comparisons",
                            "The difference in activation probability between two scenarios over the same run seeds "
                            "(common random numbers), with its 95% BCa bootstrap interval (scipy)."))
    if p.run:
        cell, run = p.run
        model, stored = narrated_run(res, cell, run)
        from guarantee_sim.present.narrative import stage_text, why
        from guarantee_sim.runs.runner import release

        label = labels.get(cell) or cell_labels(res, [cell])[0][cell]
        extra = f"run {run} of {cell} (run seed {int(stored['seed'])})"
        fig = timeline.plot_timeline(model, stored=stored.to_dict(), title=f"One run: {label}, run {run}",
                                  stamp=stamp_for(res, [res.cell_source[cell]], extra))
        release(model)
        figs.append(ReportFigure("timeline", "timeline", fig, f"One run: {cell}, run {run}",
                            "The run re-computed with its event record from the cell's config.yaml and the run's seed. "
                            "Top: the violator's decisions (strategic violator); breaches, one row per kind (an "
                            "incident as a point, a day's or the war's aggregated fire as a bar whose height grows with "
                            "the log of the violations a day); detections, referrals and findings, the trigger, the "
                            "states' decisions and deliveries. Bottom: the coalition cascade "
                            "— when each state approved (open) and began delivering (filled) each type of support, "
                            f"grouped by legal regime. Stage: {stage_text(model)}. Why: {why(model)}"))
    return figs, tables
