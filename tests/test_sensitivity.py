"""Global sensitivity analysis: the pipeline recovers known Sobol' indices, its lever ranges are
the documented ones, the model's inert lever scores 0 and the analytic case's dominant levers
rank first, results do not depend on the number of workers, and the command writes a study."""

import json
import math
import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import yaml
from omegaconf import OmegaConf

from guarantee_sim.analysis.sensitivity.cli import compose_study, main
from guarantee_sim.analysis.sensitivity.evaluate import OUTCOMES, Evaluator, evaluate, point_outcomes, seed_blocks
from guarantee_sim.analysis.sensitivity.indices import saltelli_2010, sobol_table, split_blocks, varying_share
from guarantee_sim.analysis.sensitivity.levers import Lever
from guarantee_sim.analysis.sensitivity.result import KIND, RESULT, find_studies, is_study, load_result
from guarantee_sim.analysis.sensitivity.sampling import sample_design, saltelli_points
from guarantee_sim.analysis.sensitivity.study import check_study, run_study, size_warnings, too_wide
from guarantee_sim.analysis.sensitivity.text import report_markdown
from guarantee_sim.scenario.compose import compose_config
from guarantee_sim.errors import ConfigError

pytestmark = pytest.mark.main_line  # made from rows, equal on both lines: see pyproject.toml

ROOT = Path(__file__).resolve().parents[1]
PI = math.pi


# the pipeline on a function with known indices -----------------------------------------------------
def ishigami(X, a=7.0, b=0.1):
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_truth(a=7.0, b=0.1):
    """Analytic first-order and total indices of the Ishigami function on [-pi, pi]^3."""
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


@pytest.mark.parametrize("design,confidence", [("sobol", 0.95), ("lhs", 0.99)])
def test_ishigami_indices_lie_within_their_bootstrap_intervals(design, confidence):
    """Design, Saltelli points, scipy's estimator and the bootstrap recover the known indices.

    With the Sobol' design the row bootstrap is conservative (no miss in 120 intervals over 20
    seeds); with Latin hypercube it is nominal (6 misses in 120 at 95%), so the six LHS intervals
    are checked at 99%.
    """
    levers = [Lever(f"x{i}", (f"x{i}",), -PI, PI) for i in (1, 2, 3)]
    n = 2**12
    A, B = sample_design(levers, n, design, rng=np.random.SeedSequence([3, 1]))
    X, _, _ = saltelli_points(A, B)
    t = sobol_table(ishigami(X), n, [lv.name for lv in levers], n_resamples=999, confidence=confidence, rng=7)
    s1, st = ishigami_truth()
    assert np.all(t["S1_low"] <= s1) and np.all(s1 <= t["S1_high"]), t
    assert np.all(t["ST_low"] <= st) and np.all(st <= t["ST_high"]), t
    # and the intervals are informative, not merely wide
    assert np.all(t["S1_high"] - t["S1_low"] < 0.15) and np.all(t["ST_high"] - t["ST_low"] < 0.15), t


def test_bootstrap_estimator_equals_scipy_estimate():
    """The estimator applied to resamples is scipy.stats.sobol_indices's on the full sample."""
    from scipy.stats import sobol_indices

    levers = [Lever(f"x{i}", (f"x{i}",), -PI, PI) for i in (1, 2, 3)]
    n = 256
    A, B = sample_design(levers, n, "sobol", rng=1)
    y = ishigami(saltelli_points(A, B)[0])
    f = split_blocks(y, n, 3)
    ref = sobol_indices(func=f, n=n)
    s1, st = saltelli_2010(f["f_A"][0], f["f_B"][0], f["f_AB"][:, 0, :])
    np.testing.assert_allclose(s1, np.ravel(ref.first_order), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(st, np.ravel(ref.total_order), rtol=1e-12, atol=1e-12)


def test_constant_or_nearly_constant_output_has_no_indices():
    """No variance to share out; or 3 of 128 A and B points carry all of it (estimates swing wildly)."""
    t = sobol_table(np.full(8 * 5, 0.3), 8, ["a", "b", "c"], n_resamples=100)
    assert t[["S1", "ST", "ST_low", "ST_high"]].isna().all().all()
    y = np.full(64 * 5, 365.0)
    y[[3, 70, 100, 200, 260]] = 40.0
    assert varying_share(y[:128]) == pytest.approx(3 / 128)
    assert sobol_table(y, 64, ["a", "b", "c"], n_resamples=100)["ST"].isna().all()


# designs -----------------------------------------------------------------------------------------
def test_designs_stay_in_range_and_ab_rows_swap_one_lever():
    levers = [Lever("p", ("p",), 0.4, 0.95), Lever("r", ("r",), 0.001, 0.1, "log"), Lever("t", ("t",), 2, 30)]
    for design in ("sobol", "lhs"):
        A, B = sample_design(levers, 64, design, rng=5)
        for M in (A, B):
            for j, lv in enumerate(levers):
                assert lv.low <= M[:, j].min() and M[:, j].max() <= lv.high
        # log-uniform: as many points below the geometric midpoint (0.01) as above
        assert abs((A[:, 1] < 0.01).mean() - 0.5) < 0.1
        X, block, swapped = saltelli_points(A, B)
        assert X.shape == (64 * 5, 3)
        np.testing.assert_array_equal(X[:64], A)
        np.testing.assert_array_equal(X[64:128], B)
        for i in range(3):
            ab = X[128 + 64 * i : 128 + 64 * (i + 1)]
            np.testing.assert_array_equal(ab[:, i], B[:, i])
            np.testing.assert_array_equal(np.delete(ab, i, axis=1), np.delete(A, i, axis=1))
            assert set(block[128 + 64 * i : 128 + 64 * (i + 1)]) == {"AB"} and set(swapped[128 + 64 * i : 192 + 64 * i]) == {i}
    # Latin hypercube: every column has one point in each of the n strata
    A, _ = sample_design(levers[:1], 64, "lhs", rng=5)
    strata = np.floor((A[:, 0] - 0.4) / 0.55 * 64).astype(int)
    assert sorted(strata) == list(range(64))
    with pytest.raises(ConfigError, match="power of 2"):
        sample_design(levers, 100, "sobol")


def test_median_not_reached_counts_as_the_horizon_and_attacked_runs_only():
    rows = [{"activated": i < 3, "activation_day": 40.0 + i if i < 3 else math.nan,
             "offensive_day": 20.0 if i in (0, 5, 6) else None} for i in range(10)]
    p, med, reached, considered, failed = point_outcomes(rows, 365.0)
    assert (p, med, reached, considered, failed) == (0.3, 365.0, False, 10, 7)
    _, _, _, considered, failed = point_outcomes(rows, 365.0, among="attacked")
    assert (considered, failed) == (3, 2)
    # late: activation 20 days after the attack fails a 15-day limit
    _, _, _, considered, failed = point_outcomes(rows, 365.0, among="attacked", late_days=15)
    assert (considered, failed) == (3, 3)
    rows = [{"activated": True, "activation_day": d, "activation_day_military": math.nan if d < 35 else d,
             "offensive_day": None} for d in (10.0, 20.0, 30.0, 40.0)]
    assert point_outcomes(rows, 365.0)[1:3] == (20.0, True)
    # one support type: its own activation days
    assert point_outcomes(rows, 365.0, support_type="military") == (0.25, 365.0, False, 4, 3)


# lever ranges: the YAML presets against docs/parameters.md ---------------------------------------
def lever_table():
    """The "Lever ranges" table of docs/parameters.md: {(key, breach pattern or None): (low, high)}."""
    text = (ROOT / "docs" / "parameters.md").read_text()
    section = text.split("### Lever ranges", 1)[1]
    rows = {}
    for line in section.splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("key", "") or set(cells[0]) <= set("-"):
            continue
        key = cells[0].strip("`")
        m = re.search(r"\(breach=(\w+)\)", cells[5])
        rows[(key, m.group(1) if m else None)] = (float(cells[2]), float(cells[3]))
    return rows


def test_every_lever_range_is_the_documented_one():
    table = lever_table()
    assert len(table) > 60
    presets = sorted((ROOT / "conf" / "sensitivity").glob("*.yaml"))
    assert {p.stem for p in presets} >= {"paris_2026", "analytic"}
    checked = 0
    for path in presets:
        levers = yaml.safe_load(path.read_text())["levers"]
        for name, spec in levers.items():
            keys = spec["key"] if isinstance(spec["key"], list) else [spec["key"]]
            for key in keys:
                row = table.get((key, spec.get("breach"))) or table.get((key, None))
                assert row is not None, f"{path.name}: {name} ({key}) is not in the Lever ranges table"
                assert (spec["low"], spec["high"]) == row, f"{path.name}: {name} ({key})"
                checked += 1
    assert checked >= 35


def test_study_config_composes_the_same_scenario_as_the_one_scenario_command():
    """conf/sensitivity.yaml repeats config.yaml's group defaults; they must not drift apart."""
    scenario_keys = ("coalition", "commitments", "breach", "trigger", "monitoring", "commission", "coordination",
                     "force", "ukraine", "horizon", "seed")
    for overrides in ((), ("breach=hybrid", "trigger=count_window"), ("experiment=analytic",)):
        a = OmegaConf.to_container(compose_config(overrides), resolve=True)
        b = OmegaConf.to_container(compose_study(overrides), resolve=True)
        for key in scenario_keys:
            assert a[key] == b[key], (overrides, key)


# the model ---------------------------------------------------------------------------------------
def analytic_config(extra=(), inert=True):
    overrides = ("experiment=sensitivity_analytic", "+coalition.states.Ally.capacity.military=0", "study.n=64",
                 "study.replicates=16", "study.bootstrap=500", "study.noise_points=16", "study.precision=0.5", *extra)
    config = OmegaConf.to_container(compose_study(overrides), resolve=True)
    if inert:
        config["study"]["levers"]["inert"] = {"key": "commitments.types.military.follow_through", "low": 0.22,
                                              "high": 0.75, "scale": "linear", "label": "military follow-through",
                                              "unit": "probability", "breach": None}
    return config


@pytest.fixture(scope="module")
def analytic_study():
    return run_study(analytic_config(), workers=1)


def test_analytic_dominant_levers_rank_first_and_inert_lever_scores_zero(analytic_study):
    """In the closed form P = 1 - exp(-rate p q (H - L)) only the rate, detection p and attribution q
    move P much (the delays shift L by days out of ~350). With no state committing military
    capacity, military follow-through is never drawn against: the lever is inert, and with common
    run seeds inside each Saltelli row its total index is exactly 0 (noise terms included)."""
    t = analytic_study.indices
    t = t[t["outcome"] == "activation_probability"].set_index("lever")
    ranked = list(t.sort_values("ST", ascending=False).index)
    assert set(ranked[:3]) == {"breach_rate", "detection", "attribution"}, t
    assert ranked[0] == "breach_rate"
    # the inert lever changes no run: its index is 0 and its interval [0, what 0 changed runs of
    # n R allow] (indices.changed_runs_bound); the breach rate's interval lies above every other's
    assert t.loc["inert", "ST"] == 0 and t.loc["inert", "ST_low"] == 0 < t.loc["inert", "ST_high"] < 0.05, t
    assert t.loc["breach_rate", "ST_low"] > t.drop("breach_rate")["ST_high"].max(), t
    assert t.loc["attribution", "ST_low"] > 0, t
    noise = analytic_study.meta["noise"]["activation_probability"]["noise_share"]
    assert 0 < noise < 0.25


def test_results_do_not_depend_on_the_number_of_workers():
    config = analytic_config(inert=False)
    base, levers = check_study(config)
    A, B = sample_design(levers, 4, "sobol", rng=2)
    X, _, _ = saltelli_points(A, B)
    blocks = np.tile(np.arange(4), len(levers) + 2)
    ev = Evaluator(base, levers, seed_blocks(0, 4, 8), 365.0)
    serial = evaluate(ev, X, blocks, workers=1)
    parallel = evaluate(ev, X, blocks, workers=2)
    pd.testing.assert_frame_equal(serial, parallel)
    # rows share seeds: an AB point equal to its A point gives the same outcome
    same = evaluate(ev, np.vstack([A[:1], A[:1]]), np.array([0, 0]))
    assert same.iloc[0].equals(same.iloc[1])


def test_bad_levers_are_named():
    config = analytic_config()
    config["study"]["levers"]["inert"]["key"] = "commission.attribution_probabilty"
    with pytest.raises(ConfigError, match=r"study\.levers\.inert\.key: commission\.attribution_probabilty is not a key"):
        check_study(config)
    config = analytic_config()
    config["study"]["levers"]["inert"]["high"] = 1.4
    with pytest.raises(ConfigError, match=r"study\.levers\.inert\.high: .*outside \[0, 1\]"):
        check_study(config)


# the command -------------------------------------------------------------------------------------
SMALL = ["experiment=sensitivity_analytic", "study.n=8", "study.replicates=4", "study.bootstrap=100",
         "study.noise_points=4", "workers=1"]


def test_command_writes_the_study_and_the_report_section(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["guarantee-sim-sensitivity"])
    main(SMALL)
    (out,) = list((tmp_path / "results" / "sensitivity").iterdir())
    names = {p.name for p in out.iterdir()}
    assert {"sample.parquet", "indices.csv", "indices.json", "rules.csv", "rules.json", "summary.txt", "config.yaml",
            "study.json", "sobol_activation_probability.png", "sobol_activation_probability.svg",
            "sobol_median_days_to_activation.png"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    meta = json.loads((out / "study.json").read_text())
    assert meta["kind"] == KIND and meta["n"] == 8 and meta["points"] == 8 * 9
    assert is_study(out) and find_studies(tmp_path / "results") == [out]
    sample = pd.read_parquet(out / "sample.parquet")
    assert len(sample) == 72 and {"breach_rate", "activation_probability", "median_days_to_activation"} <= set(sample.columns)
    indices = pd.read_csv(out / "indices.csv")
    assert set(indices["outcome"]) == set(OUTCOMES) and len(indices) == 2 * 7
    assert yaml.safe_load((out / "config.yaml").read_text())["study"]["n"] == 8
    text = capsys.readouterr().out
    assert "total index ST" in text and "Where binding support fails" in text
    section = report_markdown(out)
    assert section.startswith("## Which assumptions matter") and "breach rate" in section
    assert "](sobol_activation_probability.png)" in section
    linked = report_markdown(out, relative_to=tmp_path)
    assert f"](results/sensitivity/{out.name}/sobol_activation_probability.png)" in linked
    # the typed result beside the tables: the same indices, ranked, and the figures written
    result = load_result(out)
    assert RESULT in names and (result.name, result.n, result.points, result.runs) == (meta["name"], 8, 72, meta["runs"])
    for outcome in result.outcomes:
        ranked = indices[indices["outcome"] == outcome.outcome].sort_values("rank")
        assert [x.lever for x in outcome.levers] == list(ranked["lever"])
        assert [x.ST for x in outcome.levers] == pytest.approx(list(ranked["ST"]), nan_ok=True)
        assert (out / outcome.figure).is_file()
    assert [r.text for r in result.failures.rules] == list(pd.read_csv(out / "rules.csv")["text"])
    # a study written before the typed result: one line naming the file and what to do
    (out / RESULT).unlink()
    with pytest.raises(ConfigError, match=r"study_result\.json: not found: .*rerun the study: guarantee-sim-sensitivity"):
        load_result(out)


BAD = [
    (["study.design=grid"], "study.design", "lhs"),
    (["study.n=100"], "study.n", "256"),
    (["study.replicates=0"], "study.replicates", "1"),
    (["study.levers.attribution.high=1.4"], "study.levers.attribution.high", "[0, 1]"),
    (["study.nn=3"], "study.nn", "replicates"),
    (["study.levers.foo.low=3"], "study.levers.foo", "attribution"),
    (["+study.levers.attribution.kee=x"], "study.levers.attribution.kee", "scale"),
    (["+study.levers.foo={key: commission.qualified_shar, low: 0.5, high: 1.0}"], "study.levers.foo.key", "qualified_share"),
    (["study.discovery.among=some"], "study.discovery.among", "attacked"),
    (["study.support_type=naval"], "study.support_type", "military"),
    (["breach=sporadik"], "breach", "sporadic"),
    (["experiment=analytic"], "study.levers.", "sensitivity"),
    (["commission.attribution_probability=1.5"], "commission.attribution_probability", "[0, 1]"),
]


@pytest.mark.parametrize("argv,key,allowed", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_input_one_line_exit_2_nothing_written(argv, key, allowed, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"guarantee-sim-sensitivity: error: {key}"), err
    assert allowed in err.split("allowed:", 1)[1], err
    assert os.listdir(tmp_path) == []


# figures -----------------------------------------------------------------------------------------
def test_index_figure_ranks_levers_with_whiskers(analytic_study):
    from guarantee_sim.present.sensitivity_plots import plot_failure_region, plot_sobol_indices

    fig = plot_sobol_indices(analytic_study.indices, "activation_probability", analytic_study.meta)
    (ax,) = fig.axes
    ticks = sorted(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels())), reverse=True)
    assert ticks[0][1] == "breach rate" and len(ticks) == 8  # the first-ranked lever on top
    assert "Sobol' index" in ax.get_xlabel()
    fig = plot_failure_region(analytic_study.sample, analytic_study.discovery, analytic_study.levers, analytic_study.meta)
    assert fig is not None and fig.axes[0].get_xlabel()


def test_a_study_too_small_for_its_precision_warns_with_the_n_it_needs(analytic_study):
    """At n = 64 the analytic study's intervals lie within the index range but are wider than
    +/-0.05: the warning names study.precision and a power of 2 above 64; asked for +/-1, none."""
    t = analytic_study.indices
    assert too_wide(t[t["outcome"] == "activation_probability"]) is None
    (note,) = size_warnings(t[t["outcome"] == "activation_probability"], 64, 0.05, 0.95)
    assert re.match(r"^study\.n=64 is too small for study\.precision=0\.05: .* about study\.n=\d+ would reach \+/-0\.05$", note)
    need = int(re.search(r"about study\.n=(\d+)", note).group(1))
    assert need > 64 and need & (need - 1) == 0  # a power of 2, as the design needs
    assert size_warnings(t[t["outcome"] == "activation_probability"], 64, 1.0, 0.95) == []


@pytest.fixture(scope="module")
def too_small_study():
    """The analytic study at n = 16 with 4 runs a point: intervals wider than the index range."""
    config = analytic_config(("study.n=16", "study.replicates=4", "study.noise_points=0"), inert=False)
    logged = []
    res = run_study(config, workers=1, log=logged.append)
    return res, logged


def test_intervals_wider_than_the_index_range_warn_whatever_the_precision(too_small_study):
    """At n = 16 a 95% interval spans more than [0, 1]: the indices rank nothing. The study warns
    (one line, logged as the command prints it on stderr) with the study.n that would narrow the
    widest interval to +/- study.precision (0.5 here), and it does so even when study.precision
    asks for less than that interval's half-width."""
    res, logged = too_small_study
    assert res.meta["warnings"] and [f"warning: {w}" for w in res.meta["warnings"]] == [x for x in logged if x.startswith("warning")]
    pattern = (r"^study\.n=16 is too small for the Sobol' indices of (\w+) to mean anything: the 95% interval of (\w+)'s "
               r"(total|first-order) index runs from (\S+) to (\S+), wider than the whole index range \[0, 1\]; "
               r"about study\.n=(\d+) would narrow it to \+/-0\.5 \(study\.precision\)$")
    for note in res.meta["warnings"]:
        outcome, lever, index, low, high, need = re.match(pattern, note).groups()
        row = res.indices.set_index(["outcome", "lever"]).loc[(outcome, lever)]
        col = "ST" if index == "total" else "S1"
        assert float(high) - float(low) > 1 and float(high) == pytest.approx(row[f"{col}_high"], rel=0.01)
        assert int(need) > 16 and int(need) & (int(need) - 1) == 0
    assert len(size_warnings(res.indices, 16, 1.0, 0.95)) == len(res.meta["warnings"])


def test_intervals_wider_than_the_index_range_are_marked_in_the_figure_and_the_report(too_small_study, analytic_study):
    from guarantee_sim.analysis.sensitivity.text import result_markdown
    from guarantee_sim.analysis.sensitivity.write import study_result
    from guarantee_sim.present.sensitivity_plots import plot_sobol_indices

    res, _ = too_small_study
    outcome = re.match(r"study\.n=16 is too small for the Sobol' indices of (\w+)", res.meta["warnings"][0]).group(1)
    fig = plot_sobol_indices(res.indices, outcome, res.meta)
    (warning,) = [t.get_text().replace("\n", " ") for t in fig.texts if t.get_gid() == "too_small"]
    assert warning.startswith("Warning: study.n = 16 is too small for these indices to mean anything") and "about study.n = " in warning
    (ax,) = fig.axes
    cut = [line for line in ax.lines if line.get_gid() == "cut"]  # whiskers beyond the axis end in an arrow at its edge
    assert cut and all(x in ax.get_xlim() for line in cut for x in line.get_xdata())
    markdown = result_markdown(study_result(res))
    assert "**Warning:** study.n = 16 is too small for these indices to mean anything" in markdown
    # companion: at n = 64 the intervals lie within the range; nothing is marked
    fig = plot_sobol_indices(analytic_study.indices, "activation_probability", analytic_study.meta)
    assert not [t for t in fig.texts if t.get_gid() == "too_small"]
    assert "**Warning:**" not in result_markdown(study_result(analytic_study))


def test_the_median_figure_shows_where_the_median_is_reached_when_it_has_no_indices():
    """With a rare breach, fewer than half of a point's runs activate almost everywhere: the median
    lies beyond the horizon at all but two of 288 points and has no indices. Its figure then plots
    each point's activation probability against the lever that drives it most (the breach rate),
    with the one-half line above which the median exists, and the text says which points have one."""
    from guarantee_sim.analysis.sensitivity.text import format_study, result_markdown
    from guarantee_sim.analysis.sensitivity.write import study_result
    from guarantee_sim.present.sensitivity_plots import plot_sobol_indices

    config = analytic_config(("study.n=32", "study.replicates=8", "study.noise_points=0", "study.bootstrap=100",
                              "study.levers.breach_rate.low=0.0005", "study.levers.breach_rate.high=0.0015"), inert=False)
    res = run_study(config, workers=1)
    sample = res.sample
    reached = int(sample["median_reached"].sum())
    assert res.indices.loc[res.indices["outcome"] == "median_days_to_activation", "ST"].isna().all()
    assert reached == 2 and len(sample) == 288
    assert (sample.loc[sample["median_reached"], "activation_probability"] >= 0.5).all()
    assert (sample.loc[~sample["median_reached"], "activation_probability"] < 0.5).all()
    fig = plot_sobol_indices(res.indices, "median_days_to_activation", res.meta, sample=sample)
    (ax,) = fig.axes
    drawn = [c.get_offsets() for c in ax.collections]
    assert sorted(len(o) for o in drawn) == [reached, len(sample) - reached]
    points = np.vstack(drawn)
    assert sorted(points[:, 0]) == pytest.approx(sorted(sample["breach_rate"]))
    assert sorted(points[:, 1]) == pytest.approx(sorted(sample["activation_probability"]))
    assert [line.get_ydata()[0] for line in ax.lines] == [0.5]
    assert ax.get_xscale() == "log" and ax.get_xlabel().startswith("breach rate (per day)")
    title = ax.get_title(loc="left").replace("\n", " ")
    assert "no Sobol' indices" in title and "at 1% of the points (2 of 288)" in title
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert f"median reached within the horizon: {reached} points" in legend
    why = "only where at least half of a point's runs activate: at 1% of the points (2 of 288)"
    assert why in format_study(res)
    markdown = result_markdown(study_result(res, {"median_days_to_activation": "sobol_median_days_to_activation.png"}))
    section = markdown.split("### median days to pooled activation", 1)[1].split("###", 1)[0]
    assert why in section and "](sobol_median_days_to_activation.png)" in section
    # without the points the figure still says why it has no indices
    fig = plot_sobol_indices(res.indices, "median_days_to_activation", res.meta)
    assert "not estimated" in " ".join(t.get_text() for t in fig.axes[0].texts)


def test_the_command_prints_the_size_warning_on_stderr(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["guarantee-sim-sensitivity"])
    main(SMALL)
    err = capsys.readouterr().err
    assert re.search(r"^guarantee-sim-sensitivity: warning: study\.n=8 is too small for .*; about study\.n=\d+ would ", err, re.M), err


def test_a_lever_that_does_nothing_under_a_breach_pattern_is_left_out_there():
    """The force's hazard multiplier is how scripted violators feel the force; the strategic
    violator weighs it as a trip-wire instead, so the multiplier leaves its rows unchanged and its
    studies (and EMA's) leave the lever out rather than rank noise."""
    from guarantee_sim.ema import lever_ranges
    from guarantee_sim.runs.runner import run_replications
    from guarantee_sim.scenario.compose import load_scenario

    assert "force_effect" not in {lv.name for lv in lever_ranges("paris_2026", "strategic")}
    assert "force_effect" in {lv.name for lv in lever_ranges("paris_2026", "sporadic")}
    low, high = (run_replications(load_scenario(("breach=strategic", f"force.hazard_multiplier={m}")), 100, 1)
                 for m in (0.15, 0.7))
    pd.testing.assert_frame_equal(low, high)
    scripted = [run_replications(load_scenario(("breach=surge_offensive", f"force.hazard_multiplier={m}")), 100, 1)
                for m in (0.15, 0.7)]
    assert scripted[0]["offensive_day"].notna().sum() < scripted[1]["offensive_day"].notna().sum()
