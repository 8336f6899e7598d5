"""The figure functions: they take the sweep's own tables, draw what the tables say, and stay readable."""

import math
from pathlib import Path

import matplotlib
import matplotlib.colors
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from omegaconf import OmegaConf
from scipy import stats as sps

from guarantee_sim.analysis.stats import km_median
from guarantee_sim.model.breaches import KIND_KEYS
from guarantee_sim.model.engine import GuaranteeModel
from guarantee_sim.model.triggers import SUPPORT_TYPES
from guarantee_sim.present import (
    narrative,
    plots,
    style,
    survival_figures,
    sweep_figures,
    timeline,
)
from guarantee_sim.runs.store import CellPlan, run_cell
from guarantee_sim.runs.sweep import aggregate
from guarantee_sim.scenario.build import build_scenario
from guarantee_sim.scenario.compose import compose_config, load_scenario

pytestmark = pytest.mark.main_line  # made from rows, equal on both lines: see pyproject.toml

ARTIFACTS = Path(__file__).parent / "artifacts"
STAMP = "guarantee_sim 0.1.0 · commit abc123 · config test-sweep (breach, trigger) · 60 runs per cell · root seed 0 · horizon 365 days"
CELLS = [("sporadic", "any_attributed"), ("sporadic", "armed_attack"), ("hybrid", "any_attributed"), ("hybrid", "armed_attack")]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A real 2 x 2 sweep written by the sweep's own store and aggregator (no Hydra launcher)."""
    root = tmp_path_factory.mktemp("plots-sweep")
    for breach, trigger in CELLS:
        overrides = (f"breach={breach}", f"trigger={trigger}")
        cfg = compose_config(overrides)
        name = f"breach={breach},trigger={trigger}"
        run_cell(build_scenario(cfg), root / name, CellPlan(60, 0, 500, 0.02, 60), OmegaConf.to_container(cfg, resolve=True),
                 OmegaConf.to_yaml(cfg, resolve=True), name, {"breach": breach, "trigger": trigger})
    aggregate(root, ("breach", "sporadic"), 0)
    return pd.read_csv(root / "sweep_summary.csv"), pd.read_parquet(root / "sweep_runs.parquet"), root


def stamp_text(fig: Figure) -> str:
    return " ".join(t.get_text() for t in fig.findobj(lambda a: getattr(a, "get_gid", lambda: None)() == "stamp"))


def legend_of(fig: Figure) -> Legend:
    (legend,) = fig.findobj(Legend)
    return legend


def texts_with(fig: Figure, word: str) -> str:
    return " ".join(t.get_text() for t in fig.findobj(Text) if word in t.get_text()).replace("\n", " ")


def readable(fig: Figure) -> None:
    assert style.layout_problems(fig) == []
    assert "root seed 0" in stamp_text(fig).replace("\n", " ")


def test_lever_columns_are_those_of_the_sweep(sweep):
    summary, runs, _ = sweep
    assert plots.lever_columns(summary) == ["breach", "trigger"]
    assert plots.lever_columns(runs) == ["breach", "trigger"]
    assert plots.values_of(summary, "breach", {"breach": ["sporadic", "hybrid"]}) == ["sporadic", "hybrid"]


def test_heatmap_cells_show_the_summary_estimate_and_wilson_interval(sweep):
    summary, _, _ = sweep
    fig = sweep_figures.plot_heatmap(summary, "breach", "trigger", order={"breach": ["sporadic", "hybrid"]}, horizon=365, stamp=STAMP)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sporadic", "hybrid"]
    shown = {t.get_text() for t in ax.texts}
    for _, r in summary.iterrows():
        assert f"{100 * r.activation_probability:.0f}%" in shown
        assert f"{100 * r.activation_low:.0f}–{100 * r.activation_high:.0f}" in shown
    image = ax.get_images()[0].get_array()
    row = summary.set_index(["breach", "trigger"])
    assert image[0, 0] == pytest.approx(row.loc[("sporadic", "any_attributed"), "activation_probability"])
    assert image[1, 1] == pytest.approx(row.loc[("hybrid", "armed_attack"), "activation_probability"])
    colourbar = fig.axes[-1]
    assert "365 days" in colourbar.get_ylabel().replace("\n", " ")
    readable(fig)


def test_other_levers_become_panels_and_two_cells_are_never_drawn_as_one(sweep):
    summary, _, _ = sweep
    other = summary.assign(cell=summary["cell"] + ",design=b")
    both = pd.concat([summary, other], ignore_index=True)
    both.insert(3, "design", ["a"] * len(summary) + ["b"] * len(other))
    fig = sweep_figures.plot_heatmap(both, "breach", "trigger", horizon=365)
    titles = [ax.get_title() for ax in fig.axes if ax.get_images()]
    assert titles == ["design=a", "design=b"]
    with pytest.raises(ValueError, match="several cells share"):
        sweep_figures.plot_heatmap(both, "breach", "trigger", facet=[])


def test_bars_stand_at_the_estimates_with_wilson_whiskers(sweep):
    summary, _, _ = sweep
    fig = sweep_figures.plot_bars(summary, "breach", hue="trigger", horizon=365, stamp=STAMP)
    ax = fig.axes[0]
    heights = sorted(round(p.get_height(), 9) for p in ax.patches)
    assert heights == sorted(round(v, 9) for v in summary["activation_probability"])
    whiskers = np.concatenate([seg[:, 1] for c in ax.collections for seg in c.get_segments()])
    for v in (*summary["activation_low"], *summary["activation_high"]):
        assert np.isclose(whiskers, v).any()
    assert {t.get_text() for t in legend_of(fig).get_texts()} == {"any attributed", "armed attack"}
    assert "days" in ax.get_ylabel()
    readable(fig)


def test_a_design_that_binds_nothing_is_drawn_as_such_not_as_zero(sweep):
    """budapest_like's pooled measure has nothing to activate: the heat map greys its cells and says
    "nothing binding", the bars leave it out and say so; neither draws it as a 0% failure. The
    companion check: the same cells with the flag off are drawn as their 0%."""
    summary, _, _ = sweep
    empty = summary.assign(activation_probability=0.0, activation_low=0.0, activation_high=0.05)
    flagged = empty.assign(nothing_binding=summary["breach"] == "hybrid")
    fig = sweep_figures.plot_heatmap(flagged, "breach", "trigger", order={"breach": ["sporadic", "hybrid"]}, horizon=365)
    ax = fig.axes[0]
    colours = np.ma.filled(ax.get_images()[0].get_array().astype(float), np.nan)
    assert np.isnan(colours[1]).all() and not np.isnan(colours[0]).any()  # the hybrid row has no colour on the scale
    assert [t.get_text() for t in ax.texts].count("nothing\nbinding") == 2
    assert "Pooled binding support activated (the secondary measure)" in texts_with(fig, "Pooled")
    bars = sweep_figures.plot_bars(flagged, "breach", hue="trigger", horizon=365)
    assert len(bars.axes[0].patches) == 2 and "nothing binding" in texts_with(bars, "nothing binding")
    assert style.layout_problems(fig) == [] and style.layout_problems(bars) == []

    plain = sweep_figures.plot_heatmap(empty.assign(nothing_binding=False), "breach", "trigger", horizon=365)
    assert "nothing\nbinding" not in [t.get_text() for t in plain.axes[0].texts]
    assert len(sweep_figures.plot_bars(empty.assign(nothing_binding=False), "breach", hue="trigger").axes[0].patches) == 4


def test_kaplan_meier_curve_ends_at_the_activated_share_and_crosses_half_at_the_median(sweep):
    _, runs, _ = sweep
    for cell, r in runs.groupby("cell"):
        k = survival_figures.km_curve(r["activation_day"], 365)
        assert k["share"].iloc[-1] == pytest.approx(r["activated"].mean())
        assert (k["low"] <= k["share"] + 1e-12).all() and (k["share"] <= k["high"] + 1e-12).all()
        median = km_median(r["activation_day"], 365)[0]
        crossed = k.loc[k["share"] >= 0.5 - 1e-12, "day"]
        assert (crossed.iloc[0] if len(crossed) else math.nan) == pytest.approx(median, nan_ok=True)


def test_logrank_p_value(sweep):
    _, runs, _ = sweep
    a = runs.loc[runs["cell"] == "breach=sporadic,trigger=any_attributed", "activation_day"]
    b = runs.loc[runs["cell"] == "breach=hybrid,trigger=any_attributed", "activation_day"]
    expected = sps.logrank(survival_figures.censored(a, 365), survival_figures.censored(b, 365)).pvalue
    assert survival_figures.logrank_p(a, b, 365) == pytest.approx(expected)
    assert survival_figures.logrank_p(a, a, 365) == pytest.approx(1.0)
    assert math.isnan(survival_figures.logrank_p([np.nan] * 5, [np.nan] * 5, 365))


def test_kaplan_meier_figure_names_medians_and_the_pair(sweep):
    _, runs, _ = sweep
    cells = [f"breach={b},trigger={t}" for b, t in CELLS]
    fig = survival_figures.plot_km(runs, cells, 365, pair=(cells[2], cells[0]), stamp=STAMP)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "days since the ceasefire" and ax.get_xlim() == (0, 365)
    legend = [t.get_text() for t in legend_of(fig).get_texts()]
    assert len(legend) == 4 and all("median" in t for t in legend)
    text = texts_with(fig, "log-rank")
    pair = "log-rank test, breach=hybrid, trigger=any_attributed vs breach=sporadic, trigger=any_attributed: p "
    assert pair + "=" in text or pair + "< 0.001" in text, text
    readable(fig)


def test_survival_figures_draw_no_curve_or_points_for_a_design_that_binds_nothing(sweep):
    """A cell whose design binds nothing gets a legend entry saying so, and no curve (Kaplan–Meier) or
    points (support types) drawn at 0; the companion: without the flag the same cell is drawn."""
    _, runs, _ = sweep
    cells = [f"breach={b},trigger={t}" for b, t in CELLS]
    curves = lambda fig: len([line for line in fig.axes[0].lines if line.get_drawstyle() == "steps-post"])  # noqa: E731
    flagged = survival_figures.plot_km(runs, cells, 365, empty={cells[1]})
    legend = [t.get_text() for t in legend_of(flagged).get_texts()]
    assert curves(flagged) == 3 and sum(narrative.NOTHING_DRAWN in t for t in legend) == 1
    assert curves(survival_figures.plot_km(runs, cells, 365)) == 4
    points = lambda fig: len(fig.axes[0].containers)  # noqa: E731 (one error bar per drawn cell)
    flagged = survival_figures.plot_support_types(runs, cells, 365, empty={cells[1]})
    legend = " ".join(t.get_text().replace("\n", " ") for t in legend_of(flagged).get_texts())
    assert points(flagged) == 3 and narrative.NOTHING_DRAWN in legend
    assert points(survival_figures.plot_support_types(runs, cells, 365)) == 4
    assert style.layout_problems(flagged) == []


def test_funnel_segments_are_the_summary_shares(sweep):
    summary, _, _ = sweep
    fig = sweep_figures.plot_funnel(summary, stamp=STAMP)
    ax = fig.axes[0]
    widths = np.array([p.get_width() for p in ax.patches]).reshape(len(narrative.FUNNEL_ORDER), len(summary))
    for i, stage in enumerate(narrative.FUNNEL_ORDER):
        assert widths[i] == pytest.approx(summary[f"funnel_{stage}"].to_numpy())
    assert widths.sum(axis=0) == pytest.approx(1.0)
    assert {t.get_text() for t in legend_of(fig).get_texts()} == set(narrative.STAGE_LABELS.values())
    assert "The funnel of pooled binding support activated (the secondary measure)" in texts_with(fig, "funnel")
    readable(fig)


def test_support_type_numbers_equal_the_sweep_summary(sweep):
    summary, runs, _ = sweep
    table = survival_figures.support_type_table(runs, list(summary["cell"]), 365)
    for _, r in summary.iterrows():
        for t in SUPPORT_TYPES:
            row = table[(table["cell"] == r["cell"]) & (table["support_type"] == t)].iloc[0]
            assert row["activation_probability"] == pytest.approx(r[f"activation_probability_{t}"])
            assert row["median_days"] == pytest.approx(r[f"median_days_{t}"], nan_ok=True)
    fig = survival_figures.plot_support_types(runs, list(summary["cell"]), 365, stamp=STAMP)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(SUPPORT_TYPES)
    assert "days" in fig.axes[1].get_xlabel()
    readable(fig)


def test_paired_figure_marks_each_difference(sweep):
    summary, _, _ = sweep
    rows = summary[summary["paired_difference"].notna()]
    pairs = pd.DataFrame({"a": rows["cell"], "b": rows["baseline_cell"], "estimate": rows["paired_difference"],
                          "low": rows["paired_low"], "high": rows["paired_high"], "n": rows["runs"]})
    fig = survival_figures.plot_paired(pairs, stamp=STAMP)
    ax = fig.axes[0]
    xs = sorted(line.get_xdata()[0] for line in ax.lines if line.get_marker() == "o")
    assert xs == pytest.approx(sorted(rows["paired_difference"]))
    assert "percentage points" in ax.get_xlabel()
    readable(fig)


def test_timeline_of_a_rerun_says_whether_it_reproduces_the_stored_row(sweep):
    _, runs, root = sweep
    cell = "breach=sporadic,trigger=any_attributed"
    row = runs[(runs["cell"] == cell) & runs["activated"]].iloc[0]
    model = GuaranteeModel(build_scenario(OmegaConf.load(root / cell / "config.yaml")), seed=int(row["seed"]),
                           collect=False, record=True)
    model.run()
    fig = timeline.plot_timeline(model, stored=row.to_dict(), title="run", stamp=STAMP)
    assert "re-run matches the stored row" in texts_with(fig, "re-run")
    events, cascade = [ax for ax in fig.axes if ax.get_yticks().size]
    assert [t.get_text() for t in events.get_yticklabels()] == list(timeline.LANES)
    regimes = {a.profile.regime for a in model.coalition}
    assert len(cascade.get_yticks()) == len(model.coalition) + len(regimes)
    assert "days" in cascade.get_xlabel()
    readable(fig)
    tampered = dict(row.to_dict(), stage="below_trigger")
    fig = timeline.plot_timeline(model, stored=tampered)
    assert "re-run DIFFERS from the stored row" in texts_with(fig, "re-run")


def breach_rows(fig: Figure) -> dict[str, dict]:
    """Per breach-kind row of the timeline (its label in the narrative's words): its y, the days its
    points mark, the day spans and heights of its bars, and their colours."""
    ax = fig.axes[0]
    rows = {t.get_text().replace("\n", " "): {"y": y, "points": [], "spans": [], "heights": [], "colours": set()}
            for t, y in zip(ax.get_yticklabels(minor=True), ax.get_yticks(minor=True))}
    words = {narrative.BREACH_WORDS[k]: k for k in KIND_KEYS}
    for label, row in rows.items():
        kind = words[label]
        for c in ax.collections:
            if c.get_gid() == f"breach:{kind}":
                row["points"] += list(c.get_offsets()[:, 0])
                assert set(c.get_offsets()[:, 1]) == {row["y"]}
                row["colours"].add(tuple(c.get_facecolor()[0]))
        for patch in ax.patches:
            if patch.get_gid() == f"fire:{kind}":
                row["spans"].append((patch.get_x(), patch.get_x() + patch.get_width()))
                row["heights"].append(patch.get_height())
                low, high = patch.get_y(), patch.get_y() + patch.get_height()
                assert row["y"] - timeline.KIND_ROW / 2 < low < high < row["y"] + timeline.KIND_ROW / 2
                row["colours"].add(tuple(patch.get_facecolor()))
    return rows


@pytest.mark.parametrize("breach,seed", [("surge_offensive", 3), ("chronic", 1), ("sporadic", 0), ("poisson", 0),
                                         ("compliant", 0)])
def test_timeline_gives_each_breach_kind_in_the_run_its_own_row(breach, seed):
    """Surge and chronic runs have hundreds of incidents a year; drawn as points on one lane they
    merged into a bar that hid the kinds. Each kind in the run's event record is a row of its own,
    labelled in the narrative's words and drawn in its colour, and every incident of that kind is
    on its row at its day: a point, or a bar over the days its aggregated fire covers."""
    model = GuaranteeModel(load_scenario((f"breach={breach}",)), seed=seed, collect=False, record=True)
    model.run()
    events = model.events
    breaches = events[events["kind"] == "breach"]
    kinds = [k for k in KIND_KEYS if k in set(breaches["breach"])]
    fig = timeline.plot_timeline(model, stamp=STAMP)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(timeline.LANES)
    rows = breach_rows(fig)
    assert list(rows) == [narrative.BREACH_WORDS[k] for k in kinds]
    assert len(rows) == {"surge_offensive": 3, "chronic": 3, "sporadic": 5, "poisson": 1, "compliant": 0}[breach]
    for kind, row in zip(kinds, rows.values()):
        assert row["colours"] == {matplotlib.colors.to_rgba(style.BREACH_COLOURS[kind])}
        for day in breaches.loc[breaches["breach"] == kind, "day"]:
            assert day in row["points"] or any(lo <= day <= hi for lo, hi in row["spans"]), (kind, day)
        assert len(row["points"]) + len(row["spans"]) == (breaches["breach"] == kind).sum()
    readable(fig)
    if breach == "surge_offensive":  # the war's fire after the offensive stands above the managed fire before it
        attack = breaches.loc[breaches["breach"] == "armed_attack", "day"].iloc[0]
        for label in (narrative.BREACH_WORDS["small_arms"], narrative.BREACH_WORDS["artillery"]):
            spans, heights = rows[label]["spans"], rows[label]["heights"]
            before = [h for (lo, _), h in zip(spans, heights) if lo < attack]
            after = [h for (lo, _), h in zip(spans, heights) if lo >= attack]
            assert after and min(after) > max(before)
        ARTIFACTS.mkdir(exist_ok=True)
        fig.savefig(ARTIFACTS / "timeline_dense.png", dpi=100)


def test_stamp_is_wrapped_to_the_figure_width():
    long = " · ".join(f"part {i} " + "x" * 30 for i in range(12))
    text = style.wrap_stamp(long, 4.0)
    per_line = int((4.0 - 0.1) / (style.STAMP * 0.55 / 72))
    assert len(text.splitlines()) > 1 and all(len(line) <= per_line for line in text.splitlines())
    fig, _ = style.new_figure(4.0, 3.0, long)
    assert style.layout_problems(fig) == []


def test_deterrence_figure_draws_the_three_measures_per_design_side_by_side():
    designs = ["paris_2026", "budapest_like", "article5_like"]
    rows = []
    for i, d in enumerate(designs):
        row = {"cell": f"commitments={d}", "commitments": d, "runs": 100}
        for j, m in enumerate(("attack_probability", "support_in_time_given_attack", "protected_probability")):
            est = 0.1 * (i + 1) + 0.2 * j
            row.update({m: est, f"{m}_low": est - 0.05, f"{m}_high": est + 0.05})
        rows.append(row)
    rows[1]["support_in_time_given_attack"] = float("nan")  # no attack to answer: no bar, not a zero
    summary = pd.DataFrame(rows)
    fig = sweep_figures.plot_deterrence(summary, "commitments", stamp=STAMP)
    ax = fig.axes[0]
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    expected = sorted(round(v, 6) for r in rows for m in ("attack_probability", "support_in_time_given_attack",
                                                           "protected_probability") if not np.isnan(v := r[m]))
    assert heights == expected and len(heights) == 8
    assert [t.get_text() for t in ax.get_xticklabels()] == ["paris 2026", "budapest\nlike", "article5\nlike"]
    assert style.layout_problems(fig) == []
    # the response share says how many attacks it rests on, and is pale on fewer than 20
    assert sorted(t.get_text() for t in ax.texts) == ["n=10", "n=30"]
    colour = {p.get_x(): matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches
              if round(p.get_height(), 6) == 0.3 and p.get_x() < 0 or round(p.get_height(), 6) == 0.5 and p.get_x() > 1.5}
    assert sorted(colour.values()) == sorted([sweep_figures.PALE, sweep_figures.MEASURES[1][2]])  # paris: 10 attacks; article5: 30
    assert colour[min(colour)] == sweep_figures.PALE
