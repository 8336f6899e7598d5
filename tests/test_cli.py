"""The one-scenario command writes its tables into the Hydra output folder."""

import io
import json
import subprocess
import sys

import pandas as pd
import yaml

from guarantee_sim.errors import say
from guarantee_sim.model.outcomes import COLUMNS, STAGES


def run_cli(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "guarantee_sim.runs.cli", *args], cwd=tmp_path, capture_output=True, text=True, check=True
    )


def test_run_writes_rows_summary_and_config(tmp_path):
    proc = run_cli(tmp_path, "breach=hybrid", "trigger=any_attributed", "runs=120", "seed=7")
    (out,) = list((tmp_path / "results" / "runs").iterdir())
    df = pd.read_parquet(out / "runs.parquet")
    assert len(df) == 120 and list(df.columns) == [*COLUMNS, "horizon", "event"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == 120 and summary["seed"] == 7
    assert abs(summary["activation_probability"]["estimate"] - df["activated"].mean()) < 1e-12
    assert set(summary["funnel"]) == set(STAGES)
    assert abs(sum(summary["funnel"].values()) - 1) < 1e-9
    table = pd.read_csv(out / "summary.csv")
    assert {"measure", "support_type", "estimate", "low", "high"} <= set(table.columns)
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["breach"]["pattern"] == "hybrid" and config["runs"] == 120
    assert "Pooled binding support activated" in proc.stdout and "Military support in time" in proc.stdout
    assert "Wilson" not in proc.stderr
    for stage in STAGES:
        assert stage in proc.stdout


def test_same_config_and_seed_give_identical_parquet(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    for d in (a, b):
        run_cli(d, "breach=salami", "runs=80", "seed=3")
    (fa,) = (a / "results" / "runs").glob("*/runs.parquet")
    (fb,) = (b / "results" / "runs").glob("*/runs.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(fa), pd.read_parquet(fb))
    assert fa.read_bytes() == fb.read_bytes()


def test_the_stored_config_is_omegaconfs_resolved_yaml():
    """Each output folder's config.yaml is written with libyaml: the text OmegaConf would write."""
    from pathlib import Path

    from omegaconf import OmegaConf

    import guarantee_sim
    from guarantee_sim.runs.cli import resolved_yaml
    from guarantee_sim.scenario.compose import compose_config

    conf = Path(guarantee_sim.__file__).parent / "conf"
    options = [f"{group.name}={f.stem}" for group in conf.iterdir() if group.is_dir() and group.name not in ("hydra", "sensitivity")
               for f in group.glob("*.yaml") if not f.stem.startswith("sensitivity")]
    assert len(options) > 20
    for option in options:
        cfg = compose_config((option,))
        assert resolved_yaml(OmegaConf.to_container(cfg, resolve=True)) == OmegaConf.to_yaml(cfg, resolve=True), option
    # entries are remembered by value: 1, 1.0, True and "1" each keep their own text
    texts = [resolved_yaml({"horizon": v, "x": {1: v}}) for v in (1, 1.0, True, "1")]
    assert texts == [OmegaConf.to_yaml(OmegaConf.create({"horizon": v, "x": {1: v}})) for v in (1, 1.0, True, "1")]
    assert len(set(texts)) == 4


def test_info_flags_need_no_earlier_composition(tmp_path):
    """``--cfg``/``--info`` skip the command-line check; the schema and its resolvers are still
    registered (the cli module imports them), and nothing is written."""
    proc = run_cli(tmp_path, "--cfg", "hydra", "--resolve")
    hydra_cfg = yaml.safe_load(proc.stdout)["hydra"]
    assert hydra_cfg["job"]["config"]["override_dirname"]["exclude_keys"][:2] == ["runs", "seed"]
    job = yaml.safe_load(run_cli(tmp_path, "--cfg", "job", "breach=hybrid").stdout)
    assert job["breach"]["pattern"] == "hybrid" and job["runs"] == 200
    assert list(tmp_path.iterdir()) == []


def test_a_run_folder_chosen_by_hand_is_resumed_or_refused(tmp_path, monkeypatch, capsys):
    """hydra.run.dir=X twice: the second finds the run complete; another seed into X is refused in
    one line and changes nothing (it used to overwrite it)."""
    from hydra.core.global_hydra import GlobalHydra

    from guarantee_sim.runs import cli

    def run(*args):
        monkeypatch.chdir(tmp_path)
        monkeypatch.setattr(sys, "argv", ["guarantee-sim"])
        try:
            cli.main(["coalition=teaching", "runs=20", "hydra.run.dir=mine", *args])
            code = 0
        except SystemExit as exc:
            code = exc.code
        finally:
            GlobalHydra.instance().clear()
        return code, capsys.readouterr()

    assert run()[0] == 0
    before = (tmp_path / "mine" / "runs.parquet").read_bytes()
    code, out = run()
    assert code == 0 and "run: complete, skipped (20 runs)" in out.out
    code, out = run("seed=5")
    assert code == 2 and out.err.count("\n") == 1
    assert "error: hydra.run.dir: mine holds other results: seed 0 (this command: 5)" in out.err
    assert (tmp_path / "mine" / "runs.parquet").read_bytes() == before


def test_cells_that_finish_together_get_different_places_in_the_count(tmp_path):
    """Both cells' results exist when each prints its line (two jobs finishing at once): counting
    finished cells would print 2/2 twice; each cell's place in the progress record gives 1 and 2."""
    from guarantee_sim.runs.jobs import sweep_progress
    from guarantee_sim.runs.sweep import PROGRESS

    (tmp_path / "manifest.json").write_text(json.dumps({"cells": [{"cell": "a"}, {"cell": "b"}],
                                                        "written": "2026-01-01T00:00:00+00:00"}))
    (tmp_path / PROGRESS).write_text("")
    for name in "ab":
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text("{}")
    assert sweep_progress(tmp_path, "b").startswith("[1/2, about ")
    assert sweep_progress(tmp_path, "a") == "[2/2]"


def test_help_says_what_the_tool_is_for_with_examples_and_where_results_go(tmp_path):
    out = run_cli(tmp_path, "--help").stdout
    assert out.startswith("guarantee-sim: how often")
    assert "powered by Hydra" not in out and "Albania" not in out  # no config dump
    for shown in ("Examples", "guarantee-sim -m ", "guarantee-sim explain ", "results/runs/", "results/sweeps/",
                  "P(in time | attack)", "breach: ", "--cfg job"):
        assert shown in out, shown
    assert len(out.splitlines()) < 60


def test_a_sweep_off_a_terminal_prints_one_line_per_cell_with_k_of_n_and_writes_no_log(tmp_path):
    proc = run_cli(tmp_path, "-m", "breach=sporadic,hybrid", "trigger=armed_attack,any_attributed", "runs=10",
                   "hydra/launcher=joblib")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("[")]
    assert sorted(int(line[1:].split("/")[0]) for line in lines) == [1, 2, 3, 4]
    assert all(line.split("]")[0].split(",")[0].endswith("/4") for line in lines)
    assert "Launching" not in proc.stdout + proc.stderr and "#0 :" not in proc.stdout + proc.stderr
    (folder,) = (tmp_path / "results" / "sweeps").iterdir()
    assert folder.name.startswith("breach+trigger-")  # named by what it sweeps
    assert not list(folder.rglob("*.log"))


class _Writes(io.RawIOBase):
    """A pipe's end that records each write it is given, as the kernel would see them."""

    def __init__(self):
        self.calls: list[bytes] = []

    def writable(self):
        return True

    def write(self, data):
        self.calls.append(bytes(data))
        return len(data)


def test_a_cells_line_reaches_the_pipe_in_one_write_even_unbuffered():
    """Cells of a sweep print from several processes into one pipe: a line written in two parts can
    run into another worker's (CI sets PYTHONUNBUFFERED, under which ``print`` splits the newline off)."""
    unbuffered = lambda raw: io.TextIOWrapper(raw, write_through=True)  # how -u builds sys.stdout
    raw = _Writes()
    say("[1/4] cell: 10 runs", unbuffered(raw))
    assert raw.calls == [b"[1/4] cell: 10 runs\n"]
    raw = _Writes()  # the companion: print, as the workers did, splits the line
    print("[1/4] cell: 10 runs", file=unbuffered(raw), flush=True)
    assert len(raw.calls) == 2
