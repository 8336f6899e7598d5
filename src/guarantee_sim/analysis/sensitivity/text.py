"""A sensitivity study in words: the plain-text summary printed at the end of a run (and kept as
``summary.txt``), and the Markdown section rendered from the typed result. The sentences the
report's HTML shares with the Markdown are here too, so the two say the same thing.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from guarantee_sim.analysis.sensitivity.evaluate import OUTCOMES, outcome_label
from guarantee_sim.analysis.sensitivity.indices import MIN_VARYING_SHARE
from guarantee_sim.analysis.sensitivity.result import LeverIndex, OutcomeIndices, StudyResult, load_result
from guarantee_sim.analysis.sensitivity.study import StudyRun, needed_n, remedy, too_wide

TOP = 8  # levers shown per outcome in the Markdown and the report
INDEX_HEAD = ("rank", "lever", "key", "total index ST (95% CI)", "first-order S1 (95% CI)")


# the summary of a run ------------------------------------------------------------------------------
def format_indices(indices: pd.DataFrame, outcome: str, top: int | None = None) -> str:
    """The levers of one outcome ranked by total index, with their intervals, as text."""
    t = indices[indices["outcome"] == outcome].sort_values("ST", ascending=False, na_position="last")
    if top:
        t = t.head(top)
    if t["ST"].isna().all():
        return f"n/a: the outcome varies at fewer than {MIN_VARYING_SHARE:.0%} of the points, so no index is estimated"
    lines = [f"{'lever':<34}{'total index ST (95% CI)':<28}first-order S1 (95% CI)"]
    for _, r in t.iterrows():
        if math.isnan(r["ST"]):
            lines.append(f"{r['label'][:33]:<34}n/a (the outcome varies at < {MIN_VARYING_SHARE:.0%} of the points)")
            continue
        st = f"{r['ST']:.3f} ({r['ST_low']:.3f} to {r['ST_high']:.3f})"
        s1 = f"{r['S1']:.3f} ({r['S1_low']:.3f} to {r['S1_high']:.3f})"
        lines.append(f"{r['label'][:33]:<34}{st:<28}{s1}")
    return "\n".join(lines)


def format_study(res: StudyRun) -> str:
    """The study as printed when it ends and kept as ``summary.txt``."""
    from guarantee_sim.analysis.discovery import describe

    m = res.meta
    lines = [
        f"Sensitivity study '{m['name']}': {m['points']:,} sample points x {m['replicates']} runs "
        f"({m['design']}, n={m['n']}, {len(res.levers)} levers), scenario "
        + ", ".join(f"{k}={v}" for k, v in m["scenario"].items()),
        "Exploratory: indices rank the assumptions within the ranges of docs/parameters.md; they do not predict.",
    ]
    if m["question"]:
        lines.append(f"Question: {m['question']}")
    for outcome, (label, unit) in OUTCOMES.items():
        label = outcome_label(outcome, m.get("support_type"))
        nz = m["noise"][outcome]
        lines += ["", f"{label} [{unit}]"]
        if outcome == "median_days_to_activation" and res.indices.loc[res.indices["outcome"] == outcome, "ST"].isna().all():
            lines.append("  " + median_missing(m["median_reached_share"], m["points"], m["replicates"], m["horizon"]))
        elif outcome == "median_days_to_activation":
            lines.append(f"  the median is reached within the horizon at {m['median_reached_share']:.0%} of the points"
                         " (elsewhere it counts as the horizon)")
            if m["median_reached_share"] < 0.5:
                lines.append("  caution: at most points fewer than half the runs activate, so these indices say mostly what"
                             " lets activation reach one half at all; read the activation probability first")
        if nz["noise_share"] is not None and not (isinstance(nz["noise_share"], float) and math.isnan(nz["noise_share"])):
            lines.append(f"  seed noise: {nz['noise_share']:.1%} of the output variance (replicate means of {m['replicates']} runs)")
        lines.append(format_indices(res.indices, outcome))
    what, among = m["discovery"]["what"], m["discovery"]["of"]
    labels = {lv.name: lv.label for lv in res.levers}
    units = {lv.name: lv.unit for lv in res.levers}
    lines += ["", "Where binding support fails (CART scenario discovery):",
              describe(res.discovery, labels, units, what, among)]
    prim = m["discovery"].get("prim")
    if prim:
        lines.append(f"PRIM (EMA Workbench) finds one box: {prim['text']}")
    elif m["discovery"].get("prim_note"):
        lines.append(m["discovery"]["prim_note"])
    lines += [f"warning: {w}" for w in m.get("warnings", [])]
    lines += ["", f"Time: {m['seconds']:.0f} s wall, {m['cpu_seconds']:.0f} s CPU, {m['workers']} worker(s) "
                  f"({m['runs']:,} runs)"]
    return "\n".join(lines)


# sentences of the typed result ---------------------------------------------------------------------
def title(result: StudyResult) -> str:
    return f"Which assumptions matter: sensitivity study '{result.name}'"


def design_sentence(result: StudyResult) -> str:
    sc = ", ".join(f"{k}={v}" for k, v in result.scenario.items())
    return (f"Scenario {sc}; {len(result.levers)} levers over their plausible ranges (docs/parameters.md, "
            f"Lever ranges); {result.design} design, n = {result.n}, {result.points:,} points × "
            f"{result.replicates} runs (common random numbers); 95% bootstrap intervals.")


def not_estimated(outcome: OutcomeIndices, result: StudyResult) -> str:
    if outcome.outcome != "median_days_to_activation":
        return f"The outcome varies at fewer than {MIN_VARYING_SHARE:.0%} of the points: its indices are not estimated."
    return (median_missing(result.median_reached_share, result.points, result.replicates, result.horizon)
            + f" The outcome then varies at fewer than {MIN_VARYING_SHARE:.0%} of the points and its indices are not "
            "estimated. The figure shows where the median is reached: each point's activation probability against "
            "the lever that drives it most. To study how fast support comes, use a scenario where activation is "
            "common (experiment=sensitivity_any_attributed) or the analytic case (experiment=sensitivity_analytic).")


def median_missing(share: float, points: int, replicates: int, horizon: float) -> str:
    """Which points have no median within the horizon, and why (the median-days figure's words too)."""
    return (f"The median is within the horizon only where at least half of a point's runs "
            f"activate: at {share:.0%} of the points ({round(share * points):,} of {points:,}). At the others fewer "
            f"than half of the {replicates} runs activate within {horizon:g} days, so the median lies beyond the "
            "horizon and counts as the horizon.")


def wide_interval(t: pd.DataFrame, n: int, precision: float, labels: dict[str, str] | None = None) -> str | None:
    """The warning of an outcome whose intervals are wider than the index range (``study.too_wide``),
    in the words of the figure and the report; None when they are not."""
    wide = too_wide(t) if len(t) else None
    if wide is None:
        return None
    lever, index, low, high = wide
    return (f"study.n = {n} is too small for these indices to mean anything: the 95% interval of "
            f"{(labels or {}).get(lever, lever)}'s {index} index runs from {low:.3g} to {high:.3g}, wider than the "
            f"whole index range [0, 1]; {remedy(needed_n(n, (high - low) / 2, precision), precision, ' = ')}.")


def too_small(outcome: OutcomeIndices, result: StudyResult) -> list[str]:
    t = pd.DataFrame([asdict(x) for x in outcome.levers])
    note = wide_interval(t, result.n, result.precision, {x.lever: x.label for x in outcome.levers})
    return [] if note is None else [note]


def index_cells(x: LeverIndex) -> tuple[str, str]:
    """The total and first-order index of a lever, each with its interval."""
    return (f"{x.ST:.3f} ({x.ST_low:.3f}–{x.ST_high:.3f})", f"{x.S1:.3f} ({x.S1_low:.3f}–{x.S1_high:.3f})")


def noise_note(outcome: OutcomeIndices) -> list[str]:
    return [] if outcome.noise_share is None else [f"Seed noise: {outcome.noise_share:.1%} of the output variance."]


def median_notes(outcome: OutcomeIndices, result: StudyResult) -> list[str]:
    if outcome.outcome != "median_days_to_activation":
        return []
    notes = [f"The median is reached within the horizon at {result.median_reached_share:.0%} of the points "
             "(elsewhere it counts as the horizon)."]
    if result.median_reached_share < 0.5:
        notes.append("At most points fewer than half the runs activate, so these indices say mostly what lets "
                     "activation reach one half at all: read the activation probability first.")
    return notes


def failure_sentence(result: StudyResult) -> str:
    f = result.failures
    return (f"Overall, {f.what} in {f.rate:.0%} of {f.among}. "
            f"CART regions with a failure density of at least {f.min_density:.0%}:")


def region_items(result: StudyResult) -> list[str]:
    return [r.text for r in result.failures.regions] or ["none in this sample"]


# the Markdown section --------------------------------------------------------------------------------
def result_markdown(result: StudyResult, top: int = TOP, link=lambda name: name) -> str:
    """A Markdown section: the ranked levers with intervals, the rules, the figures (``link``
    turns a figure's file name into the link written)."""
    lines = [f"## {title(result)}", ""]
    if result.question:
        lines += [f"*Question.* {result.question}", ""]
    lines += [design_sentence(result), ""]
    for outcome in result.outcomes:
        lines += [f"### {outcome.label}", ""]
        if not outcome.estimated:
            lines += [not_estimated(outcome, result)]
            if outcome.figure:
                lines += ["", f"![{outcome.label}]({link(outcome.figure)})"]
            lines.append("")
            continue
        warning = too_small(outcome, result)
        lines += [f"**Warning:** {w}" for w in warning] + ([""] if warning else [])
        lines += ["| " + " | ".join(INDEX_HEAD) + " |", "|---|---|---|---|---|"]
        for i, x in enumerate(outcome.levers[:top], 1):
            st, s1 = index_cells(x)
            lines.append(f"| {i} | {x.label} | `{x.key}` | {st} | {s1} |")
        noise = noise_note(outcome)
        lines += ([""] if noise else []) + noise + median_notes(outcome, result)
        if outcome.figure:
            lines += ["", f"![{outcome.label}]({link(outcome.figure)})"]
        lines.append("")
    lines += ["### Where binding support fails", "", failure_sentence(result), ""]
    lines += [f"- {item}" for item in region_items(result)]
    if result.failures.figure:
        lines += ["", f"![failure regions]({link(result.failures.figure)})"]
    return "\n".join(lines) + "\n"


def report_markdown(folder: Path | str, top: int = TOP, relative_to: Path | str | None = None) -> str:
    """A study folder's Markdown section (``result_markdown`` of its ``study_result.json``).

    Figure links are relative to the study folder, or to ``relative_to`` (the report's folder).
    """
    folder = Path(folder)
    link = (lambda name: Path(os.path.relpath(folder / name, relative_to)).as_posix()) if relative_to else (lambda name: name)
    return result_markdown(load_result(folder), top, link)
