"""Sweeps from the command line: one store per command, resumable, launcher-independent."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import run_cli
from guarantee_sim.runs.cli import covering_jobs, sweep_folder
from guarantee_sim.analysis.stats import protected, wilson
from guarantee_sim.runs.store import Progress

SWEEP = ["-m", "breach=sporadic,hybrid", "trigger=any_attributed,armed_attack"]


def cli(cwd, *args, check=True, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "guarantee_sim.runs.cli", *args], cwd=cwd, capture_output=True, text=True, check=check, **kwargs
    )


def the_sweep(cwd: Path) -> Path:
    (folder,) = list((cwd / "results" / "sweeps").iterdir())
    return folder


def test_sweep_gives_cell_folders_a_sweep_table_and_a_summary(tmp_path):
    proc = cli(tmp_path, *SWEEP, "runs=150", "seed=4")
    folder = the_sweep(tmp_path)
    cells = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert cells == sorted(f"breach={b},trigger={t}" for b in ("sporadic", "hybrid") for t in ("any_attributed", "armed_attack"))
    runs = pd.read_parquet(folder / "sweep_runs.parquet")
    assert len(runs) == 4 * 150
    assert {"cell", "breach", "trigger", "run", "seed", "activated", "stage"} <= set(runs.columns)
    # common random numbers: run i of every cell has the same seed
    seeds = runs.pivot(index="run", columns="cell", values="seed")
    assert (seeds.nunique(axis=1) == 1).all()
    summary = pd.read_csv(folder / "sweep_summary.csv")
    assert len(summary) == 4
    for _, row in summary.iterrows():
        cell = runs[runs["cell"] == row["cell"]]
        est, lo, hi = wilson(int(cell["activated"].sum()), len(cell))
        assert row["activation_probability"] == pytest.approx(est)
        assert (row["activation_low"], row["activation_high"]) == pytest.approx((lo, hi), abs=1e-6)
        assert sum(row[f"funnel_{s}"] for s in ("no_breach", "undetected", "unattributed", "below_trigger",
                                                "not_approved", "pending_at_horizon", "activated")) == pytest.approx(1)
    # paired differences against the first value of the first swept lever, within the same trigger
    hyb = summary.set_index("cell").loc["breach=hybrid,trigger=any_attributed"]
    assert hyb["baseline_cell"] == "breach=sporadic,trigger=any_attributed"
    a = protected(runs[runs["cell"] == "breach=hybrid,trigger=any_attributed"]).to_numpy()
    b = protected(runs[runs["cell"] == "breach=sporadic,trigger=any_attributed"]).to_numpy()
    assert hyb["paired_difference"] == pytest.approx(a.mean() - b.mean())
    assert hyb["paired_low"] <= hyb["paired_difference"] <= hyb["paired_high"]
    # provenance, per cell and for the sweep
    sweep_meta = json.loads((folder / "sweep.json").read_text())
    assert sweep_meta["root_seed"] == 4 and sweep_meta["runs"] == 600 and sorted(sweep_meta["cells"]) == cells
    for cell in cells:
        prov = json.loads((folder / cell / "provenance.json").read_text())
        assert prov["root_seed"] == 4 and prov["runs"] == 150
        assert {"git_commit", "versions", "started", "finished"} <= set(prov)
        assert "mesa" in prov["versions"] and (folder / cell / "config.yaml").exists()
    assert "Sweep of 4 cells" in proc.stdout


@pytest.mark.slow  # Hydra's launchers are the same code on both lines; test_parallel_cells_... is the 3.12 check
def test_a_different_launcher_gives_the_same_sweep_tables(tmp_path):
    basic, local = tmp_path / "basic", tmp_path / "submitit"
    basic.mkdir(), local.mkdir()
    cli(basic, *SWEEP, "runs=60")
    proc = cli(local, *SWEEP, "runs=60", "hydra/launcher=submitit_local")
    assert (the_sweep(local) / ".submitit").is_dir(), "cells ran as separate submitit jobs"
    assert the_sweep(basic).name == the_sweep(local).name, "the launcher does not change the store"
    for table in ("sweep_summary.csv", "sweep_runs.parquet"):
        assert (the_sweep(basic) / table).read_bytes() == (the_sweep(local) / table).read_bytes(), table
    assert "Sweep of 4 cells" in proc.stdout


@pytest.mark.slow
def test_killed_sweep_resumes_and_matches_an_uninterrupted_one(tmp_path):
    args = ["-m", "breach=sporadic,salami", "trigger=count_window", "runs=400", "batch_size=25"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    whole.mkdir(), killed.mkdir()
    cli(whole, *args)

    proc = subprocess.Popen(
        [sys.executable, "-m", "guarantee_sim.runs.cli", *args], cwd=killed,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        done = list(killed.glob("results/sweeps/*/*/batches/*.parquet"))
        if len(done) >= 20:  # past the first cell (16 batches), inside the second
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    folder = the_sweep(killed)
    assert not (folder / "sweep_summary.csv").exists()
    assert not (folder / "breach=salami,trigger=count_window" / "summary.json").exists()

    rerun = cli(killed, *args)
    assert "breach=sporadic,trigger=count_window: complete, skipped" in rerun.stdout
    resumed = [line.split("] ", 1)[-1] for line in rerun.stdout.splitlines() if "] breach=salami" in line]
    assert resumed and " 0 resumed" not in resumed[0], resumed
    for table in ("sweep_summary.csv", "sweep_runs.parquet"):
        assert (the_sweep(whole) / table).read_bytes() == (folder / table).read_bytes(), table
    for cell in ("breach=salami,trigger=count_window", "breach=sporadic,trigger=count_window"):
        assert (the_sweep(whole) / cell / "runs.parquet").read_bytes() == (folder / cell / "runs.parquet").read_bytes()


@pytest.mark.slow
def test_precision_driven_runs_stop_at_the_first_batch_that_reaches_the_target(tmp_path):
    proc = cli(tmp_path, "-m", "breach=sporadic,hybrid", "trigger=any_attributed", "runs=auto", "precision=0.02",
               "precision_on=activation_probability", "batch_size=200",
               "commitments.activation_share=0.8")  # P near 0.85-0.9: more than one batch
    summary = pd.read_csv(the_sweep(tmp_path) / "sweep_summary.csv")
    runs = pd.read_parquet(the_sweep(tmp_path) / "sweep_runs.parquet")
    for _, row in summary.iterrows():
        assert row["half_width"] <= 0.02 and row["precision_on"] == "activation_probability"
        cell = runs[runs["cell"] == row["cell"]]["activated"]
        assert len(cell) == row["runs"] and row["runs"] % 200 == 0 and row["runs"] > 200
        shorter = cell[: row["runs"] - 200]
        _, lo, hi = wilson(int(shorter.sum()), len(shorter))
        assert (hi - lo) / 2 > 0.02, "it did not stop at the first batch that met the target"
        assert f"{row['cell']}: {row['runs']} runs" in proc.stdout  # the run count is reported


@pytest.mark.slow
@pytest.mark.parametrize("measure, column, trials", [
    ("protected_probability", "protected", None),
    ("support_in_time_given_attack", "in_time", "attacked")])
def test_runs_auto_makes_the_chosen_headline_measure_precise(tmp_path, measure, column, trials):
    """runs=auto stops when the measure named by precision_on (P(protected) by default) is precise,
    counting only the runs with an attack for the response share."""
    extra = () if measure == "protected_probability" else (f"precision_on={measure}",)
    cli(tmp_path, "breach=surge_offensive", "commitments=no_us_backstop", "runs=auto", "precision=0.04", "batch_size=100",
        "max_runs=3000", *extra, f"hydra.run.dir={tmp_path / 'one'}")
    summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    rows = pd.read_parquet(tmp_path / "one" / "runs.parquet")
    attacked = rows["offensive_day"].notna()
    in_time = attacked & rows["support_in_time"].fillna(False).astype(bool)
    flags = {"protected": ~attacked | in_time, "in_time": in_time}[column]
    among = attacked if trials else pd.Series(True, index=rows.index)

    def width(n):
        k, m = int(flags[:n][among[:n]].sum()), int(among[:n].sum())
        _, lo, hi = wilson(k, m)
        return (hi - lo) / 2

    n = len(rows)
    assert summary["precision_on"] == measure and summary["precision_reached"]
    assert width(n) <= 0.04 < width(n - 100), "it did not stop at the first batch that met the target"
    assert summary["half_width"] == pytest.approx(width(n))
    assert n > 100


def test_runs_auto_says_a_cell_without_attacks_has_no_response_share_to_make_precise(tmp_path):
    proc = cli(tmp_path, "breach=compliant", "runs=auto", "precision_on=support_in_time_given_attack", "batch_size=50",
               "max_runs=100", f"hydra.run.dir={tmp_path / 'one'}")
    summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert summary["half_width"] is None and not summary["precision_reached"] and summary["runs"] == 100
    assert "half-width of support_in_time_given_attack undefined (no run had an attack) (cap reached)" in proc.stdout


def test_same_command_same_store_and_launcher_or_workers_do_not_matter():
    a = sweep_folder(["-m", "breach=sporadic,hybrid", "runs=100"])
    assert a == sweep_folder(["-m", "runs=100", "breach=sporadic,hybrid", "workers=2", "hydra/launcher=joblib"])
    assert a != sweep_folder(["-m", "breach=sporadic,hybrid", "runs=200"])
    assert sweep_folder(["-m", "experiment=headline"]).startswith("results/sweeps/headline-")


def test_cell_names_leave_out_the_run_settings_and_the_preset():
    """conf/config.yaml's exclude_keys is ``${gs_not_levers:}``: NOT_LEVERS, declared by the schema."""
    from guarantee_sim.runs.sweep import default_baseline, lever_overrides
    from guarantee_sim.scenario.compose import compose_config
    from guarantee_sim.scenario.schema import NOT_LEVERS, RUN_SETTINGS, GuaranteeConfig

    assert RUN_SETTINGS == ("runs", "seed", "workers", "executor", "batch_size", "precision", "precision_on", "max_runs",
                            "baseline")
    assert set(RUN_SETTINGS) <= {f.name for f in dataclasses.fields(GuaranteeConfig)}
    task = ["runs=5", "seed=3", "workers=2", "executor=dask", "batch_size=10", "precision=0.1", "max_runs=50",
            "baseline='breach=hybrid'", "experiment=exercise_designs", "breach=hybrid", "monitoring.report_delay=2"]
    cfg = compose_config(tuple(task), hydra=True)
    assert list(cfg.hydra.job.config.override_dirname.exclude_keys) == list(NOT_LEVERS)
    assert cfg.hydra.job.override_dirname == "breach=hybrid,monitoring.report_delay=2"
    assert lever_overrides(task) == {"breach": "hybrid", "monitoring.report_delay": "2"}
    assert default_baseline(["runs=5,10", "breach=sporadic,hybrid"]) == ("breach", "sporadic")


def test_covering_jobs_use_every_value_once():
    jobs = [[f"a={a}", f"b={b}"] for a in range(6) for b in range(4)]
    chosen = covering_jobs(jobs)
    assert len(chosen) <= 7
    assert {o for job in chosen for o in job} == {o for job in jobs for o in job}


def test_progress_is_a_bar_on_a_terminal_and_silent_otherwise(monkeypatch, capsys):
    class Terminal:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bar = Progress("cell", 200)
    bar.advance(100)
    bar.close()
    assert "cell" in terminal.text and "run" in terminal.text
    monkeypatch.setattr(sys, "stderr", sys.__stderr__)
    quiet = Progress("cell", 200)
    assert quiet.bar is None


def test_a_preset_sweep_compares_with_its_first_listed_value(tmp_path):
    cli(tmp_path, "-m", "experiment=exercise_designs", "runs=40")
    summary = json.loads((the_sweep(tmp_path) / "sweep_summary.json").read_text())
    assert summary["baseline"] == ["commitments", "paris_2026"]
    others = [c for c in summary["cells"] if c["commitments"] != "paris_2026"]
    assert others and all(c["paired_difference"] is not None for c in others)


def test_parallel_cells_with_their_own_worker_pools_finish_with_the_same_tables(tmp_path):
    """workers=2 inside joblib's own worker processes: no nested pool, the same tables, and it exits."""
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    serial.mkdir(), parallel.mkdir()
    cli(serial, "-m", "breach=sporadic,hybrid", "runs=60")
    proc = cli(parallel, "-m", "breach=sporadic,hybrid", "runs=60", "workers=2",
               "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", timeout=240)
    assert "Sweep of 2 cells" in proc.stdout
    assert proc.stdout.count("batches computed") == 2  # each cell run once, whichever job took it
    assert not (the_sweep(parallel) / ".claims").exists()
    assert (the_sweep(serial) / "sweep_summary.csv").read_bytes() == (the_sweep(parallel) / "sweep_summary.csv").read_bytes()


def test_a_sweep_runs_its_cells_in_few_jobs_with_the_tables_of_one_job_per_cell(tmp_path, monkeypatch):
    """Hydra's basic sweeper composes every cell, one after another, before launching any, and each
    job costs a composition and Hydra's set-up; ours (hydra_plugins/guarantee_sim_sweeper) leaves the
    check to the command line's and runs the cells in few jobs (the basic launcher: one), which
    compose their other cells from their first. The folders, configs and tables are those of one
    job per cell (``hydra.sweeper.cells_per_job=1``)."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.plugins import Plugins
    from hydra.plugins.sweeper import Sweeper

    from guarantee_sim.runs import cli

    (found,) = [c for c in Plugins.instance().discover(Sweeper) if c.__name__ == "CheckedSweeper"]
    assert found.__module__ == "hydra_plugins.guarantee_sim_sweeper.checked_sweeper"
    assert "BasicSweeper" in [base.__name__ for base in found.__mro__]
    composed = []
    original = ConfigLoaderImpl.load_sweep_config

    def counting(self, master_config, sweep_overrides):
        composed.append(tuple(sweep_overrides))
        return original(self, master_config, sweep_overrides)

    monkeypatch.setattr(ConfigLoaderImpl, "load_sweep_config", counting)
    monkeypatch.setattr(sys, "argv", ["guarantee-sim"])
    monkeypatch.chdir(tmp_path)
    jobs = {}
    for name, extra in (("few", []), ("each", ["hydra.sweeper.cells_per_job=1"])):
        composed.clear()
        try:
            cli.main(["-m", "breach=sporadic,hybrid", "trigger=any_attributed", "runs=5",
                      "commission.attribution_probability=0.6,0.7", "hydra/launcher=basic",
                      f"hydra.sweep.dir={tmp_path / name}", *extra])
        finally:
            GlobalHydra.instance().clear()
        jobs[name] = len(composed)
    assert jobs == {"few": 1, "each": 4}
    cells = sorted(p.parent.name for p in (tmp_path / "each").glob("*/summary.json"))
    assert len(cells) == 4 and cells == sorted(p.parent.name for p in (tmp_path / "few").glob("*/summary.json"))
    for cell in cells:
        for table in ("config.yaml", "runs.parquet", "summary.csv"):
            assert (tmp_path / "few" / cell / table).read_bytes() == (tmp_path / "each" / cell / table).read_bytes()
    for table in ("sweep_summary.csv", "sweep_runs.parquet"):
        assert (tmp_path / "few" / table).read_bytes() == (tmp_path / "each" / table).read_bytes()


run_in_process = run_cli


def test_a_swept_horizon_is_a_lever_column_of_the_sweep_tables(tmp_path, monkeypatch, capsys):
    """A lever the runs table already carries (``horizon``) takes its place among the levers, once."""
    from guarantee_sim.present.plots import lever_columns

    code, _, err = run_in_process(["-m", "horizon=100,200", "coalition=teaching", "runs=20", "hydra.sweep.dir=s"],
                                  tmp_path, monkeypatch, capsys)
    assert code == 0, err
    runs = pd.read_parquet(tmp_path / "s" / "sweep_runs.parquet")
    assert "horizon" in lever_columns(runs) and list(runs.columns).count("horizon") == 1
    assert {cell.split("horizon=")[1]: list(days) for cell, days in runs.groupby("cell")["horizon"].unique().items()} \
        == {"100": [100.0], "200": [200.0]}
    summary = pd.read_csv(tmp_path / "s" / "sweep_summary.csv")
    assert sorted(summary["horizon"]) == [100, 200]


def test_baseline_unquoted_long_and_unicode_lever_values(tmp_path, monkeypatch, capsys):
    """``baseline=lever=value`` needs no quotes; a value too long for a folder name, or with letters
    beyond ASCII (quoted), still makes one cell folder each and a full table."""
    long = "x" * 300
    code, out, err = run_in_process(["-m", f"coalition.states.France.source={long},'Élysée'", "coalition=teaching",
                                     "runs=20", f"baseline=coalition.states.France.source={long}",
                                     "hydra.sweep.dir=s"], tmp_path, monkeypatch, capsys)
    assert code == 0, err
    summary = json.loads((tmp_path / "s" / "sweep_summary.json").read_text())
    assert summary["baseline"] == ["coalition.states.France.source", long]
    cells = sorted(p.name for p in (tmp_path / "s").iterdir() if p.is_dir())
    assert len(cells) == 2 and all(len(c.encode()) <= 200 for c in cells) and any("Élysée" in c for c in cells)
    table = pd.read_csv(tmp_path / "s" / "sweep_summary.csv", dtype=str, keep_default_na=False)
    assert sorted(table["coalition.states.France.source"]) == sorted([long, "Élysée"])
    base = next(c for c in cells if "Élysée" not in c)
    assert table.set_index("coalition.states.France.source").loc["Élysée", "baseline_cell"] == base


@pytest.mark.parametrize("first, jobs", [
    (["commitments=paris_2026", "breach=strategic", "trigger=armed_attack", "experiment=headline", "runs=20"],
     [["commitments=" + c, "breach=" + b, "trigger=" + t, "experiment=headline", "runs=20"]
      for c, b, t in [("budapest_like", "chronic", "graduated"), ("no_us_backstop", "salami", "count_window"),
                      ("bilateral_only", "strategic", "any_attributed"), ("article5_like", "hybrid", "armed_attack")]]),
    (["experiment=replay_2022", "commitments=paris_2026"],
     [["experiment=replay_2022", "commitments=" + c] for c in ("budapest_like", "bilateral_only", "no_us_backstop")]),
    (["monitoring=us_led", "breach=sporadic", "commission.attribution_probability=0.5", "horizon=180"],
     [["monitoring=european_only", "breach=chronic", "commission.attribution_probability=0.6", "horizon=200"],
      ["monitoring=us_led", "breach=sporadic", "commission.attribution_probability=0.65", "horizon=180"]]),
    (["breach=sporadic", "breach.params.rates.small_arms=0.1"], [["breach=sporadic", "breach.params.rates.small_arms=0.3"]]),
    (["commission.decision_rule=qualified_majority", "commitments.us_role=discretionary", "coalition.exclude=[]"],
     [["commission.decision_rule=unanimity", "commitments.us_role=binding", "coalition.exclude=[France,Germany]"],
      ["commission.decision_rule=qualified_majority", "commitments.us_role=none", "coalition.exclude=[]"]]),
])
def test_a_jobs_config_composed_from_the_first_is_hydras(first, jobs):
    """``job_config`` (presets swapped in, values set by Hydra's rules) gives the config Hydra composes,
    and leaves the first job's cached typed config (values are set on it, then put back) as it was."""
    from omegaconf import OmegaConf

    from guarantee_sim.runs.cli import resolved_yaml
    from guarantee_sim.scenario import compose
    from guarantee_sim.scenario.compose import base_config, job_config

    for job in jobs:
        assert resolved_yaml(job_config(first, job)) == resolved_yaml(base_config(tuple(job)))
        assert job_config(first, job) != base_config(tuple(first))  # not vacuous: the job's config is another
    typed = compose._COMPOSED.get(tuple(first))
    assert typed is None or OmegaConf.to_container(typed, resolve=True) == base_config(tuple(first))


def test_the_jobs_shares_deal_out_every_cell_once_and_mix_the_values_of_a_lever():
    from hydra_plugins.guarantee_sim_sweeper.checked_sweeper import share_of

    for cells, jobs in ((140, 2), (140, 8), (7, 3), (1, 1)):
        shares = [share_of(cells, k, jobs) for k in range(jobs)]
        assert sorted(i for share in shares for i in share) == list(range(cells))
    # the headline's last lever has 4 values: each of two jobs gets each value about equally often
    for share in (share_of(140, 0, 2), share_of(140, 1, 2)):
        counts = [sum(i % 4 == v for i in share) for v in range(4)]
        assert min(counts) >= 12, counts  # every other cell would give [35, 0, 35, 0]


def test_a_job_done_early_takes_the_cells_another_has_not_begun_and_none_is_taken_twice(tmp_path):
    """Jobs run their own share, then take the other jobs' cells from the ends of their shares;
    a claim (a file created atomically) makes each cell one job's."""
    from types import SimpleNamespace

    from guarantee_sim.runs.jobs import claim, job_cells
    from guarantee_sim.runs.sweep import CLAIMS
    from hydra_plugins.guarantee_sim_sweeper.checked_sweeper import share_of

    cells = [{"cell": f"c{i}", "overrides": [f"x={i}"]} for i in range(9)]
    (tmp_path / "manifest.json").write_text(json.dumps({"cells": cells}))

    def job(k):
        env = {"GS_FIRST": "0", "GS_COUNT": "9", "GS_JOB": str(k), "GS_JOBS": "2"}
        first = share_of(9, k, 2)[0]
        return job_cells(SimpleNamespace(job={"env_set": env}), tmp_path, [f"x={first}"])

    own = [[i for i, _ in job(k)][: len(share_of(9, k, 2))] for k in (0, 1)]
    assert own == [share_of(9, 0, 2), share_of(9, 1, 2)]  # without a claims folder: its own share only
    assert [i for i, _ in job(0)] == own[0]

    (tmp_path / CLAIMS).mkdir()
    order0, order1 = [i for i, _ in job(0)], [i for i, _ in job(1)]
    assert order0 == own[0] + own[1][::-1] and order1 == own[1] + own[0][::-1]
    taken1 = [i for i in order1[:2] if claim(tmp_path, i)]  # job 1 has begun two of its cells
    taken0 = [i for i in order0 if claim(tmp_path, i)]  # job 0 runs through, then takes the rest
    taken1 += [i for i in order1[2:] if claim(tmp_path, i)]
    assert taken1 == order1[:2] and sorted(taken0 + taken1) == list(range(9))
    assert taken0 == own[0] + own[1][:1:-1]  # job 1's cells from the end of its share


def test_the_cells_take_the_configs_and_scenarios_the_pre_launch_check_built(monkeypatch):
    """The check composes and builds every job; the cells a process runs after it (the basic
    launcher's) take them: each is the config Hydra composes for that job and its scenario."""
    from guarantee_sim.runs import cli
    from guarantee_sim.scenario.compose import base_config

    cli.check_command_line(["-m", "commission.attribution_probability=0.3,0.5,0.7", "runs=5"])
    assert len(cli._CHECKED) == 3
    for job, (cfg, scenario) in cli._CHECKED.items():
        assert cfg == base_config(job)
        assert scenario.attribution_probability == cfg["commission"]["attribution_probability"]
    assert len({c["commission"]["attribution_probability"] for c, _ in cli._CHECKED.values()}) == 3  # not vacuous
    monkeypatch.setattr(cli, "CHECKED_KEPT", 2)  # a longer sweep keeps none: its cells compose their own
    cli.check_command_line(["-m", "commission.attribution_probability=0.3,0.5,0.7", "runs=5"])
    assert cli._CHECKED == {}
    cli.check_command_line(["runs=5"])  # a single run keeps nothing either
    assert cli._CHECKED == {}
