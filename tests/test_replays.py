"""The historical replays (issue 13; docs/model.md, "Historical replays"): each runs from the command
line as a named experiment, and its report page builds. They are pattern-oriented checks of the
model against what happened, not forecasts; the comparison is in docs/model.md."""

import subprocess
import sys

import pandas as pd
import pytest

from guarantee_sim.present.report.cli import main as report_main

REPLAYS = ["replay_2014", "replay_2022", "replay_minsk"]


def cli(cwd, *args):
    return subprocess.run([sys.executable, "-m", "guarantee_sim.runs.cli", *args], cwd=cwd, capture_output=True,
                          text=True, check=True)


@pytest.mark.slow  # a sweep and its report per replay; their rows are held equal on both lines
@pytest.mark.parametrize("replay", REPLAYS)
def test_a_replay_runs_from_the_command_line_and_its_report_builds(replay, tmp_path):
    folder = tmp_path / "results" / replay
    cli(tmp_path, "-m", f"experiment={replay}", "runs=30", "hydra/launcher=basic", f"hydra.sweep.dir={folder}")
    runs = pd.read_parquet(folder / "sweep_runs.parquet")
    assert len(runs) == 30 * runs["cell"].nunique() and runs["cell"].nunique() >= 3
    report_main([str(folder)])
    html = (folder / "report.html").read_text()
    assert "<html" in html.lower() and "budapest_like" in html


def test_a_replay_runs_as_a_single_scenario_too(tmp_path):
    out = cli(tmp_path, "experiment=replay_2022", "runs=20", f"hydra.run.dir={tmp_path / 'one'}")
    assert "P(attack) 1.000" in out.stdout


def test_what_happened_in_each_replay_is_what_its_inputs_say():
    """The inputs reproduce the record: 2022 an offensive 7 days after the surge began (day 67); 2014
    a deniable incursion from day 5 and regular units on day 183; Minsk no offensive at all."""
    from guarantee_sim.runs.runner import run_replications
    from guarantee_sim.scenario.compose import load_scenario

    def rows(replay):
        return run_replications(load_scenario((f"experiment={replay}",)), 40, seed=3)

    y2022, y2014, minsk = rows("replay_2022"), rows("replay_2014"), rows("replay_minsk")
    assert (y2022["offensive_day"] == 67.0).all()
    assert (y2014["offensive_day"].round() == 183).all() and (y2014["n_breaches_ground_incursion"] > 0).mean() > 0.9
    assert minsk["offensive_day"].isna().all() and minsk["n_breaches"].median() > 350_000  # ~400,000 in 2017
