"""The dashboard without a browser: its panels as functions of the model, its settings as
overrides, its batches as the command line's runs, and the page rendered with solara.render."""

import math
import re
import shlex

import ipyvuetify as v
import pytest
import solara

from guarantee_sim.analysis.stats import summarize
from guarantee_sim.model.breaches import BreachKind
from guarantee_sim.present import explain, narrative, timeline
from guarantee_sim.present.dashboard import batch, charts, controls, one_run, settings
from guarantee_sim.runs.runner import run_replications
from guarantee_sim.scenario.compose import load_scenario

pytestmark = pytest.mark.main_line  # the same on both lines: see pyproject.toml

PRESETS = ["Coalition roster", "Commitments design", "Breach pattern", "Trigger rule", "Monitoring",
           "Commission decision rule", "US role (backstop)"]
PANELS = ["gs-why", "gs-in-time", "gs-timeline", "gs-capacity", "gs-funnel", "gs-narrative", "gs-coalition", "gs-command"]


@solara.component
def Dashboard():
    from guarantee_sim.present import app

    with solara.AppLayout():  # as the server wraps the page; without it the sidebar is not rendered
        app.Page()


def html_of(rc) -> str:
    return "\n".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)


def panel(rc, id_: str) -> str:
    found = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets if f'id="{id_}"' in (w.unsafe_innerHTML or "")]
    assert len(found) == 1, id_
    return found[0]


def test_the_page_has_the_controls_and_panels_steps_and_applies_a_setting_at_once():
    box, rc = solara.render(Dashboard(), handle_error=False)
    assert set(PRESETS) <= {w.label for w in rc.find(v.Select).widgets}
    values = re.findall(r'data-lever="(\w+)">([^<]+)<', html_of(rc))
    assert [k for k, _ in values] == [lv.key for lv in settings.LEVERS]  # each slider's value written out
    assert dict(values)["attribution"] == "Commission attributes an incident: 70%"
    for name in ("Reset", "Step 7 days", "Play", "To the end"):
        rc.find(v.Btn, children=[name]).assert_single()
    for id_ in PANELS:
        panel(rc, id_)
    assert panel(rc, "gs-coalition").count('class="gs-state"') == 35
    assert "Day 0 of 365" in panel(rc, "gs-why") and "Nothing has happened yet" in panel(rc, "gs-why")
    for internal in ("PAGE 0", "Use Threads", "Render Interval", "Play Interval"):
        assert internal not in html_of(rc)

    rc.find(v.Btn, children=["Step 7 days"]).widget.click()
    assert "Day 7 of 365" in panel(rc, "gs-why")
    days = [int(d) for d in re.findall(r"<div>Day (\d+): ", panel(rc, "gs-narrative"))]
    assert days and max(days) <= 7 and days == sorted(days, reverse=True)

    (select,) = [w for w in rc.find(v.Select).widgets if w.label == "Breach pattern"]
    select.v_model = "hybrid"  # applied at once, and the run brought back to the day it had reached
    assert "Day 7 of 365" in panel(rc, "gs-why")
    assert panel(rc, "gs-command").endswith(f"guarantee-sim explain breach=hybrid seed={settings.DEFAULT_SEED}</code>")
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert "Day 0 of 365" in panel(rc, "gs-why")
    rc.find(v.Btn, children=["To the end"]).widget.click()
    assert "Day 365 of 365" in panel(rc, "gs-why")
    assert rc.find(v.Btn, children=["Step 7 days"]).widget.disabled


def test_the_dashboard_run_is_run_0_of_its_seed_and_its_command_tells_it():
    """Stepping in the dashboard ends where the table's row and the told story end."""
    model = settings.DashboardModel(breach="surge_offensive", seed="15")
    while model.running:
        controls.go(model, 30)
    row = run_replications(load_scenario(tuple(model.overrides)), 1, 15).iloc[0]
    told = explain.tell(shlex.split(model.command)[2:])
    for got in (model.outcome(), told.row):
        assert got["seed"] == row["seed"] and got["stage"] == row["stage"]
        assert got["activation_day"] == row["activation_day"] or math.isnan(row["activation_day"])
    assert model.event_log == told.model.event_log
    assert one_run.why_text(model) == narrative.why(told.model)


def test_levers_become_overrides_relative_to_the_preset():
    d = settings.defaults()
    base = {k: d[k] for k in (*settings.GROUPS, "decision_rule")}
    assert settings.build_overrides(**base, attribution=d["attribution"], investigation_days=d["investigation_days"],
                                    parliament_days=d["parliament_days"], congress_days=d["congress_days"]) == []
    model = settings.DashboardModel(detection=0.5, follow_through=2.0, breach_rate=2.0, investigation_days=30,
                                    congress_days=200, us_role="binding", seed="1")
    s, default = model.spec, load_scenario(())
    assert model.error is None
    for kind in BreachKind:
        assert s.detection[kind] == pytest.approx(min(1.0, default.detection[kind] * 0.5), abs=1e-4)
    assert all(s.support[t].follow_through == 1.0 for t in s.support)  # doubled, capped at 1
    assert s.investigation_time.mean == pytest.approx(30) and s.regimes["congressional"].delay.mean == pytest.approx(200)
    assert s.us_role == "binding"
    assert s.breach_params.rates["artillery"] == pytest.approx(2 * default.breach_params.rates["artillery"])
    assert "commission.investigation_time={dist: gamma, mean: 30, shape: 4}" in model.overrides
    art5 = settings.DashboardModel(commitments="article5_like")  # another design keeps its own figures
    assert art5.spec.support["military"].follow_through == 0.75


def test_each_lever_reads_in_its_units():
    texts = {lv.key: lv.text(lv.low + 2 * lv.step) for lv in settings.LEVERS}
    assert texts["attribution"] == "10%" and texts["investigation_days"] == "3 days"
    assert texts["detection"] == "0.10 x the preset's values"


@pytest.mark.parametrize("group", settings.GROUPS)
def test_every_preset_option_builds_a_run(group):
    for option in settings.options(group):
        model = settings.DashboardModel(**{group: option})
        assert model.error is None, (group, option, model.error)
        controls.go(model, 30)


def test_bad_input_never_breaks_the_page():
    odd_seed = settings.DashboardModel(seed="seven")
    assert odd_seed.error.startswith("seed:") and odd_seed.root_seed == 0
    unknown = settings.DashboardModel(breach="nope")
    assert unknown.error.startswith("breach: unknown option") and unknown.overrides == []
    controls.go(unknown, 30)
    assert "the default scenario runs instead" in one_run.why_html(unknown)


@pytest.mark.parametrize("overrides", [
    ("breach=surge_offensive", "trigger=graduated"),
    ("breach=hybrid", "trigger=count_window", "commission.decision_rule=unanimity"),
    ("coalition=teaching", "breach=chronic", "commitments.us_role=binding"),
])
def test_the_timeline_shows_every_lane_every_breach_kind_and_the_days_that_matter(overrides):
    told = explain.tell([*overrides, "seed=2"])
    m = told.model
    page = charts.timeline_html(m)
    assert re.findall(r'class="gs-lane-label">([^<]*)<', page)[: len(timeline.LANES)] == list(timeline.LANES)
    drawn = set(re.findall(r'data-mark="(\w+)"', page))
    assert drawn == {timeline.mark(e) for e in m.event_log if timeline.MARKS[timeline.mark(e)][0] is not None}
    for kind in BreachKind:  # each kind that occurred is in the legend with its count, and no other
        n = told.row[f"n_breaches_{kind.key}"]
        shown = re.search(re.escape(narrative.BREACH_WORDS[kind.key]) + r" \((\d+)\)", page)
        assert (shown is not None) == (n > 0), kind
    assert page.count('class="gs-mark"') <= len(timeline.LANES) * charts.BUCKETS * len(BreachKind)  # dense lanes stay light
    if not math.isnan(told.row["offensive_day"]):
        assert f"armed attack, day {told.row['offensive_day']:.0f}" in page


def test_the_support_chart_adds_up_to_what_the_model_delivered_and_says_if_it_came_in_time():
    for seed in range(12):
        told = explain.tell(["breach=surge_offensive", f"seed={seed}"])
        m, row = told.model, told.row
        day, military, binding = charts.arrivals(m)[-1]
        assert military == pytest.approx(row["military_delivered"]) and binding == pytest.approx(m.response.binding_share())
        text = one_run.in_time_text(m)
        if row["support_in_time"] is None or (isinstance(row["support_in_time"], float) and math.isnan(row["support_in_time"])):
            assert text.startswith("No armed attack")
        else:
            assert text.endswith(": in time." if row["support_in_time"] else "not in time.")


def test_each_state_tile_tells_where_each_commitment_stands_and_why():
    import html

    told = explain.tell(["seed=6"])
    page = one_run.coalition_html(told.model)
    tiles = page.split('class="gs-state"')[1:]
    assert len(tiles) == len(told.model.coalition)
    for state, tile in zip(sorted(told.model.coalition, key=lambda a: page.index(f'data-state="{a.name}"')), tiles):
        assert html.escape(narrative.state_header(told.model, state)) in tile
        for t in ("military", "economic"):
            if state.profile.capacity[t] > 0:
                assert html.escape(narrative.support_text(told.model, state, t)) in tile


def test_decisive_events_are_pinned_above_the_routine_ones():
    told = explain.tell(["seed=6"])
    page = one_run.events_html(told.model)
    decisive, rest = page.split("Everything that happened")
    for _, _, sentence in narrative.story(told.model, brief=True):
        assert sentence.replace("'", "&#x27;") in decisive
    assert decisive.count('class="gs-decisive"') == len(narrative.story(told.model, brief=True))


def test_a_batch_fills_in_to_the_command_lines_runs_and_measures():
    scenario, overrides, _ = settings.scenario_of({"breach": "surge_offensive", "seed": 4})
    steps = list(batch.batches(scenario, 4, 25, chunk=10))
    assert [len(df) for df in steps] == [10, 20, 25]
    whole = run_replications(load_scenario(tuple(overrides)), 25, 4)
    assert steps[-1].drop(columns=["run"]).equals(whole.drop(columns=["run"]))
    got, want = batch.measures(steps[-1], scenario.horizon), summarize(whole, scenario.horizon)
    for m in batch.MEASURES:
        assert got[m]["estimate"] == want[m]["estimate"] and got[m]["low"] == want[m]["low"]
    assert batch.batch_command(overrides, 25, 4) == "guarantee-sim breach=surge_offensive runs=25 seed=4"
    table = batch.results_html({"these settings": got}, "gs-batch", "25 of 25 runs done")
    assert table.count("<tr>") == 1 + len(batch.MEASURES) and "P(support in time | attack)" in table


def test_the_paired_difference_reads_the_same_seeds():
    scenario_a, _, _ = settings.scenario_of({"commitments": "paris_2026", "breach": "surge_offensive"})
    scenario_b, _, _ = settings.scenario_of({"commitments": "budapest_like", "breach": "surge_offensive"})
    a, b = batch.rows_of(scenario_a, 3, 60), batch.rows_of(scenario_b, 3, 60)
    assert (a["seed"] == b["seed"]).all()
    diff = batch.paired_protection(a, b)
    assert diff["low"] <= diff["estimate"] <= diff["high"]
    assert diff["low"] > 0  # the Paris design protects more than a Budapest-like one on the same seeds


GUIDE_SCREENS = [  # the course guide's "On screen" statements, and the settings they are read from
    ({"breach": "surge_offensive", "commitments": "paris_2026", "seed": 38}, "not in time", "`paris_2026` — not in time (day 218"),
    ({"breach": "surge_offensive", "commitments": "article5_like", "seed": 38}, "in time", "`article5_like` — in time (day 129)"),
    ({"breach": "surge_offensive", "commitments": "budapest_like", "seed": 38}, "not in time", "`budapest_like` — never"),
    ({"breach": "surge_offensive", "seed": 41}, "in time", "*as designed* — in time (day 209"),
    ({"breach": "surge_offensive", "us_role": "binding", "seed": 41}, "in time", "`binding` — in\ntime, on the same days"),
    ({"breach": "surge_offensive", "us_role": "none", "seed": 41}, "not in time", "`none` — not in time"),
    ({"breach": "surge_offensive", "seed": 0}, "no attack", "Seed 0, *as designed* (no armed attack)"),
    ({"breach": "surge_offensive", "us_role": "none", "seed": 0}, "attack on day 114", "(an armed attack on day 114)"),
    ({"breach": "hybrid", "trigger": "count_window", "decision_rule": "unanimity", "seed": 8}, "trigger never fires",
     "`unanimity` — the commission\nattributes 1 incident and the trigger never fires"),
    ({"breach": "hybrid", "trigger": "count_window", "seed": 8}, "trigger day 79.1", "the trigger fires on day\n79.1"),
    ({"breach": "hybrid", "trigger": "graduated", "seed": 1}, "trigger day 130.7, 40%", "the trigger fires on day 130.7 and 40%"),
    ({"breach": "surge_offensive", "trigger": "graduated", "seed": 1}, "trigger day 263.1, 20%", "the trigger fires on day 263.1, 20%"),
]


@pytest.mark.parametrize("chosen, expected, quoted", GUIDE_SCREENS)
def test_what_the_course_guide_says_the_dashboard_shows_is_what_it_shows(chosen, expected, quoted):
    from pathlib import Path

    guide = (Path(__file__).parents[1] / "docs" / "teaching.md").read_text()
    assert quoted in guide
    model = settings.DashboardModel(**chosen)
    controls.go(model, model.horizon)
    verdict, why = one_run.in_time_text(model), one_run.why_text(model)
    if expected in ("in time", "not in time"):
        assert verdict.endswith(f": {expected}."), verdict
    elif expected == "no attack":
        assert verdict.startswith("No armed attack")
    elif expected.startswith("attack on day"):
        assert verdict.startswith(f"Armed attack on day {expected.split()[-1]};")
    elif expected == "trigger never fires":
        assert "trigger rule was never met" in why and model.n_attributed == 1
    else:
        day, *share = expected.removeprefix("trigger day ").split(", ")
        assert why.startswith(f"The trigger fired on day {day}")
        assert not share or f"only {share[0]} of the committed binding capacity" in why
