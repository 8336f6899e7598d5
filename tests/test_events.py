"""The event record: typed events in, words and marks out, and a table a user can keep."""

import ast
import math
from pathlib import Path

import pandas as pd
import pytest

from guarantee_sim.model.engine import GuaranteeModel
from guarantee_sim.model.events import COLUMNS, Event, EventKind, Reason
from guarantee_sim.present import explain, narrative, timeline
from guarantee_sim.present.dashboard import charts
from guarantee_sim.runs.runner import run_replications
from guarantee_sim.scenario.compose import load_scenario

SRC = Path(__file__).parents[1] / "src" / "guarantee_sim"
SAMPLE = {  # one event of each kind, with the fields its kind needs
    EventKind.CHOICE: Event(0.5, EventKind.CHOICE, count=2, share=0.3, due=14.0),
    EventKind.BREACH: Event(1.0, EventKind.BREACH, incident=0, breach="artillery", count=3, severity=2.0, targets_force=False),
    EventKind.DETECTION: Event(1.0, EventKind.DETECTION, Reason.SEEN, incident=0, breach="artillery", count=3, seen=2, due=2.0),
    EventKind.REFERRAL: Event(2.0, EventKind.REFERRAL, incident=0, breach="artillery", breach_day=1.0, false_alarm=False,
                              monitoring_evidence=True),
    EventKind.FINDING: Event(9.0, EventKind.FINDING, incident=0, breach="artillery", breach_day=1.0, false_alarm=False,
                             conclusive=True, attributed=True),
    EventKind.TRIGGER: Event(9.0, EventKind.TRIGGER, tier=0, false_alarm=False),
    EventKind.INVOCATION: Event(10.0, EventKind.INVOCATION, tier=0),
    EventKind.CONSULTATION: Event(11.0, EventKind.CONSULTATION, tier=0),
    EventKind.DECISION: Event(11.0, EventKind.DECISION, Reason.NO_FOLLOW_THROUGH, support="military"),
    EventKind.APPROVAL: Event(12.0, EventKind.APPROVAL, Reason.EU_PACKAGE, support="economic"),
    EventKind.DELIVERY: Event(13.0, EventKind.DELIVERY, Reason.DELIVERING, state="France", support="military"),
    EventKind.ACTIVATION: Event(13.0, EventKind.ACTIVATION, share=0.6),
    EventKind.HORIZON: Event(365.0, EventKind.HORIZON, count=0),
}


@pytest.fixture(scope="module")
def told():
    """A run whose trigger fires and whose coalition decides (teaching roster, surge)."""
    return explain.tell(["coalition=teaching", "breach=surge_offensive", "seed=7"])


def test_every_event_kind_has_a_sentence_and_a_timeline_mark(told):
    assert set(SAMPLE) == set(EventKind)
    model = told.model
    declining = next(a for a in model.coalition)
    for kind, event in SAMPLE.items():
        if kind is EventKind.DECISION:
            event = Event(11.0, kind, Reason.NO_FOLLOW_THROUGH, state=declining.name, support="military")
        assert kind in narrative.SENTENCES
        text = narrative.sentence(event, model)
        assert isinstance(text, str) and len(text) > 10, kind
        assert timeline.mark(event) in timeline.MARKS, kind


def test_every_incident_reason_changes_the_words_and_the_mark(told):
    """The reasons of the evidence-and-escalation issue are told and drawn apart from the plain event."""
    import dataclasses

    model = told.model
    for kind, reason, extra in ((EventKind.BREACH, Reason.WAR, {}),
                                (EventKind.FINDING, Reason.BOTH_SIDES, {"attributed": False, "conclusive": True}),
                                (EventKind.TRIGGER, Reason.OVERT_ATTACK, {})):
        plain = dataclasses.replace(SAMPLE[kind], **extra)
        tagged = dataclasses.replace(plain, reason=reason)
        assert narrative.sentence(tagged, model) != narrative.sentence(plain, model), reason
        assert timeline.mark(tagged) != timeline.mark(plain), reason


def test_every_decision_reason_has_words(told):
    m = told.model
    state = m.coalition[0]
    for reason in (Reason.NO_FOLLOW_THROUGH, Reason.UNSC_VETO, Reason.APPROVAL_REFUSED, Reason.WAITS_FOR_US,
                   Reason.WAITS_FOR_PEERS, Reason.WILLING, Reason.APPROVED, Reason.DELIVERING):
        assert narrative.reason_text(m, state, "military", reason), reason


def test_the_dashboard_and_the_report_draw_the_same_timeline_marks():
    """The report draws the figure; the dashboard draws the same marks in HTML (type a projector
    shows): one vocabulary of lanes, marks and colours, one figure function."""
    assert charts.mark is timeline.mark and charts.MARKS is timeline.MARKS and charts.LANES is timeline.LANES
    report = [p for p in (SRC / "present").rglob("*.py") if "report" in p.parts or p.stem.startswith("report")]
    assert any("timeline.plot_timeline" in p.read_text() or "import plot_timeline" in p.read_text() for p in report)
    drawn = [p.name for p in SRC.rglob("*.py") if "def plot_timeline" in p.read_text()]
    assert drawn == ["timeline.py"]


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_the_engine_and_agents_import_nothing_that_writes_prose():
    for path in (SRC / "model").glob("*.py"):
        bad = {m for m in _imports(path) if m.startswith("guarantee_sim.present") or m.startswith("guarantee_sim.runs")}
        assert not bad, (path.name, bad)


def test_nothing_parses_narration_text():
    """Words are made at the edge and never read back: no regular expressions or sentence
    matching in the modules that handle runs' histories."""
    for path in [SRC / "present" / n for n in ("app.py", "timeline.py", "explain.py", "narrative.py")] + sorted(
            (SRC / "present" / "dashboard").glob("*.py")):
        assert "re" not in _imports(path), path.name
    source = "\n".join(p.read_text() for p in SRC.rglob("*.py"))
    for gone in ("def classify(", "def story_mark(", "def story_stage(", "PLAIN_KIND", ".story["):
        assert gone not in source, gone


def test_recording_costs_nothing_when_off_and_changes_no_outcome():
    scenario = load_scenario(("breach=hybrid", "trigger=count_window"))
    for seed in (1, 2, 3):
        quiet = GuaranteeModel(scenario, seed=seed, collect=False, compiled=False)
        loud = GuaranteeModel(scenario, seed=seed, collect=False, record=True)
        a, b = quiet.run(), loud.run()
        assert quiet.event_log == [] and len(loud.event_log) > 0
        assert all(a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])) for k in a)


def test_the_events_table_has_the_documented_columns():
    model = GuaranteeModel(load_scenario(("breach=surge_offensive",)), seed=3, collect=False, record=True)
    model.run()
    events = model.events
    assert tuple(events.columns) == COLUMNS
    assert set(events["kind"]) <= {k.value for k in EventKind}
    assert events["kind"].iloc[-1] == "horizon" and events["day"].is_monotonic_increasing
    doc = (Path(__file__).parents[1] / "docs" / "architecture.md").read_text()
    for column in COLUMNS:
        assert f"`{column}`" in doc, f"docs/architecture.md does not describe the column {column}"


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("overrides", [
    ("breach=surge_offensive", "coalition=teaching"),
    ("breach=hybrid", "trigger=count_window"),
    ("breach=compliant", "trigger=any_attributed"),
    ("breach=sporadic", "commitments=budapest_like"),
])
def test_explain_events_file_reconstructs_the_funnel_stage(tmp_path, capsys, overrides, suffix):
    table = run_replications(load_scenario(overrides), 12, 5)
    for run in range(12):
        path = tmp_path / f"run{run}{suffix}"
        explain.main([*overrides, "seed=5", f"run={run}", "--events", str(path)])
        capsys.readouterr()
        events = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
        assert narrative.stage_of(events) == table.loc[run, "stage"], (overrides, run)


def test_explain_events_needs_a_table_file_name(capsys):
    with pytest.raises(SystemExit) as exc:
        explain.main(["--events", "out.txt"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--events" in err and ".csv or .parquet" in err
