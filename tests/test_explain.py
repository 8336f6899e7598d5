"""`guarantee-sim explain` tells the run that runs.parquet tables: same seed, activation day and stage."""

import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from guarantee_sim.present import explain
from guarantee_sim.present.narrative import stage_of, state_header, support_text
from guarantee_sim.model.agents import SupportStatus
from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.model.outcomes import STAGES
from guarantee_sim.runs.runner import run_replications, run_seeds

pytestmark = pytest.mark.main_line  # made from rows, equal on both lines: see pyproject.toml

# two scenarios whose 200-run samples together reach every funnel stage
SAMPLES = {
    "headline": (),
    "short_and_blind": ("horizon=40", "monitoring.ukraine_recall=0.1", "monitoring.detection.small_arms=0.1",
                        "trigger=count_window", "trigger.params.k=2"),
}
ROOT = 5


def printed(text: str) -> tuple[float, str]:
    """(activation day, funnel stage) as the told story prints them."""
    act = re.search(r"^  Pooled binding support activated: (day ([\d.]+)|not within the horizon)$", text, re.M)
    stage = re.search(r"^  Funnel stage: (\w+) ", text, re.M)
    assert act and stage, text[-800:]
    return (float(act.group(2)) if act.group(2) else math.nan), stage.group(1)


def same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


@pytest.fixture(scope="module")
def samples():
    return {name: run_replications(load_scenario(ov), 200, ROOT) for name, ov in SAMPLES.items()}


def test_the_samples_reach_every_stage(samples):
    """Otherwise the agreement test below would leave some endings untold."""
    reached = set(pd.concat(samples.values())["stage"])
    assert reached == set(STAGES)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_story_and_row_agree_for_every_run_of_a_200_run_sample(samples, name):
    overrides = [*SAMPLES[name], f"seed={ROOT}"]
    table = samples[name]
    for i, expected in table.iterrows():
        told = explain.tell(overrides, run=i)
        row = told.row
        assert row["seed"] == expected["seed"] and row["run"] == expected["run"] == i
        for col in ("stage", "activation_day", "trigger_day", "n_breaches", "n_incidents", "n_detected", "n_attributed"):
            assert same(row[col], expected[col]), (i, col, row[col], expected[col])
        # what the event record itself says
        events = told.model.events
        overall = events[(events["kind"] == "activation") & events["support"].isna()]
        assert same(overall["day"].iloc[0] if len(overall) else math.nan, expected["activation_day"]), i
        assert stage_of(events) == expected["stage"], i
        assert (events["kind"] == "breach").sum() == expected["n_incidents"]
        # what the printed story says
        day, stage = printed(explain.render(told, brief=(i % 2 == 1)))
        assert stage == expected["stage"], i
        if math.isnan(expected["activation_day"]):
            assert math.isnan(day), i
        else:
            assert day == round(expected["activation_day"], 1), i


def test_every_state_decision_is_told_with_its_reason():
    # run 0: the trigger fires, a mix of decisions (no reviews: states still wait at the horizon)
    overrides = ["coalition=teaching", "breach=surge_offensive", "seed=7", "coalition.review_days=0"]
    told = explain.tell(overrides)
    text = explain.render(told)
    m = told.model
    assert m.response.decided_types, "the trigger must fire for this check to mean anything"
    decisions = text.split("The coalition's decisions")[1].split("\nOutcome")[0]
    for state in m.coalition:
        header = state_header(m, state)
        assert f"  {header}\n" in decisions
        assert state.profile.regime.replace("_", " ") + " regime" in header
        for t in m.response.decided_types:
            if state.status[t] is not SupportStatus.NOT_COMMITTED:
                assert f"      {t:<13} {support_text(m, state, t)}" in decisions
    statuses = {state.status[t] for state in m.coalition for t in m.response.decided_types}
    assert {SupportStatus.DELIVERING, SupportStatus.DECLINED, SupportStatus.DECIDING} <= statuses
    # conditionality is a reason of its own (alone, or beside a threshold not met yet)
    assert "waiting for the United States to act" in decisions or "and the United States acts" in decisions
    assert "joins once" in decisions and "acts first (threshold 0%)" in decisions  # thresholds are told


def test_brief_keeps_the_trigger_and_what_followed_but_not_the_incidents():
    told = explain.tell(["coalition=teaching", "breach=surge_offensive", "seed=7"])
    full, brief = explain.render(told), explain.render(told, brief=True)
    story = brief.split("The coalition's decisions")[0]
    breaches = [line for line in story.splitlines() if "  breach  " in line]
    assert len(breaches) <= 1 and all("armed attack" in line for line in breaches)  # the attack, not the incidents
    assert " trigger " in brief and " activation " in brief
    assert printed(full) == printed(brief)
    assert len(brief) < len(full) / 3


GUIDE = Path(__file__).resolve().parents[1] / "docs" / "teaching.md"


def test_brief_is_brief_for_every_run_the_guide_tells():
    """At most 40 lines (a terminal's height) for each ``explain ... --brief`` of the course guide,
    with every decided support type summed up in one line."""
    commands = re.findall(r"^guarantee-sim explain (.*?--brief)", GUIDE.read_text(), re.M)
    assert len(commands) >= 10
    longest = 0
    for command in commands:
        args = command.split()
        req = explain.parse_args(args)
        told = explain.tell(req.overrides, req.run, req.run_seed)
        text = explain.render(told, brief=True)
        longest = max(longest, len(text.splitlines()))
        for t in dict.fromkeys(told.model.response.decided_types):
            assert re.search(rf"^  {t}: \d+ of \d+ committed states? delivering", text, re.M), (command, t)
    assert longest <= 40
    assert longest > 20  # not vacuous: some of these runs decide, and say so


def test_run_seed_tells_the_same_run_as_run_of_root_seed():
    a = explain.tell(["breach=hybrid", "seed=11"], run=3)
    b = explain.tell(["breach=hybrid"], run_seed=run_seeds(11, 4)[3])
    assert a.row["seed"] == b.row["seed"] and a.story == b.story


def test_the_command_tells_the_row_of_the_main_commands_parquet(tmp_path):
    """End to end: `guarantee-sim ... seed=N runs=R`, then `guarantee-sim explain ... seed=N run=I`."""
    args = ["breach=hybrid", "trigger=any_attributed", "coalition=teaching", "seed=4"]
    subprocess.run([sys.executable, "-m", "guarantee_sim.runs.cli", *args, "runs=12"], cwd=tmp_path, check=True,
                   capture_output=True, text=True)
    (parquet,) = list(tmp_path.glob("results/**/runs.parquet"))
    row = pd.read_parquet(parquet).set_index("run").loc[9]
    out = subprocess.run([sys.executable, "-m", "guarantee_sim.runs.cli", "explain", *args, "run=9"], cwd=tmp_path,
                         check=True, capture_output=True, text=True).stdout
    day, stage = printed(out)
    assert stage == row["stage"]
    assert same(day, round(row["activation_day"], 1) if not math.isnan(row["activation_day"]) else math.nan)
    assert f"(the run's own seed: {row['seed']})" in out
    assert not list(tmp_path.glob("results/**/runs.parquet"))[1:], "explain writes nothing"


@pytest.mark.parametrize(
    "argv, key",
    [
        (["run=x"], "run"),
        (["run=-2"], "run"),
        (["run_seed=1.5"], "run_seed"),
        (["run=1", "run_seed=3"], "run_seed"),
        (["runs=5", "run=5"], "run"),
        (["breach=nope"], "breach"),
        (["commission.attribution_probability=1.4"], "commission.attribution_probability"),
        (["--verbose"], "--verbose"),
        (["-m", "breach=hybrid,chronic"], "-m"),
    ],
)
def test_bad_input_is_one_line_naming_the_key_and_exit_code_2(capsys, argv, key):
    with pytest.raises(SystemExit) as exc:
        explain.main(argv)
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"guarantee-sim explain: error: {key}")
    assert "allowed:" in lines[0]


def test_help_names_the_seed_keys(capsys):
    explain.main(["--help"])
    out = capsys.readouterr().out
    assert "run=I" in out and "run_seed=S" in out and "--brief" in out


GOLDEN = Path(__file__).parent / "golden"
DECISIVE = ("trigger", "invocation", "consultation", "decision", "approval", "delivery", "activation")


def decisive_and_outcome(text: str) -> list[str]:
    """The lines that tell what the coalition did, and the outcome section."""
    lines = text.splitlines()
    kept = [line for line in lines if (m := re.match(r"\s+day\s+[\d.]+\s+(\w+)\s", line)) and m.group(1) in DECISIVE]
    return kept + [""] + lines[next(i for i, line in enumerate(lines) if line.startswith("Outcome")):]


def test_explain_tells_the_recorded_runs(capsys):
    """Two recorded runs: the whole story of one, the decisive events and the outcome of the other.
    Recorded before the typed-event rewrite, which left them byte-identical; re-recorded when a
    model issue changed the runs on purpose (evidence and escalation: attribution by evidence, war
    after an armed attack; the coalition's response: correlated decisions, reviews, military
    support in time; a day's fire split by inverting a uniform, which moved the surge run's counts
    of violations seen and reported), as the golden set is."""
    explain.main(["breach=hybrid", "trigger=count_window", "seed=7"])
    assert capsys.readouterr().out == (GOLDEN / "explain_hybrid_count_window_seed7.txt").read_text()
    explain.main(["breach=surge_offensive", "seed=3", "run=12"])
    expected = (GOLDEN / "explain_surge_offensive_seed3_run12.txt").read_text().splitlines()
    assert decisive_and_outcome(capsys.readouterr().out) == expected
