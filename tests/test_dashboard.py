"""The dashboard without a browser: solara.render finds the controls and panels and steps the model."""

import math
import re
import shlex

import ipyvuetify as v
import ipywidgets
import pytest
import solara

from guarantee_sim.present import app

from guarantee_sim.present import explain, timeline
from guarantee_sim.model.breaches import BreachKind
from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.runs.runner import run_replications

LEVERS = ["Detection x preset", "Attribution prob.", "Investigation days", "Parliament days", "US Congress days",
          "Follow-through x preset", "Breach rate x preset"]
PRESETS = ["Coalition roster", "Commitments design", "Breach pattern", "Trigger rule", "Monitoring",
           "Commission decision rule", "US role (backstop)"]
PANELS = ["gs-timeline-caption", "gs-coalition", "gs-funnel", "gs-narrative"]


@solara.component
def Dashboard():
    with solara.AppLayout():  # as the server wraps the page; without it the sidebar is not rendered
        app.Page()


def panel(rc, id_: str) -> str:
    found = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets if f'id="{id_}"' in (w.unsafe_innerHTML or "")]
    assert len(found) == 1, id_
    return found[0]


def widget(rc, cls, label: str):
    (w,) = [w for w in rc.find(cls).widgets if (w.label or "").startswith(label)]
    return w


def test_the_page_has_the_controls_and_panels_and_steps_the_model():
    box, rc = solara.render(Dashboard(), handle_error=False)
    sliders = [w.label for w in rc.find(v.Slider).widgets]
    assert set(LEVERS) <= set(sliders)
    assert set(PRESETS) <= {w.label for w in rc.find(v.Select).widgets}
    assert widget(rc, v.TextField, "Seed").v_model == app.DEFAULT_SEED
    for name in ("Reset", "Step", "▶"):
        rc.find(v.Btn, children=[name]).assert_single()
    for id_ in PANELS:
        panel(rc, id_)
    assert panel(rc, "gs-coalition").count('class="gs-state"') == 35
    assert "Day 0 of 365" in panel(rc, "gs-funnel")
    assert "nothing has happened yet" in panel(rc, "gs-narrative")
    image = rc.find(ipywidgets.Image).widget.value

    widget(rc, v.Slider, "Render Interval").v_model = 41  # Step then advances 41 days
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert "Day 41 of 365" in panel(rc, "gs-funnel")
    assert "Up to day 41:" in panel(rc, "gs-timeline-caption")
    days = [int(d) for d in re.findall(r">Day (\d+): ", panel(rc, "gs-narrative"))]
    assert days and max(days) <= 41 and days == sorted(days, reverse=True)
    assert rc.find(ipywidgets.Image).widget.value != image

    widget(rc, v.Slider, "Attribution prob.").v_model = 0.3  # takes effect on Reset, as in Mesa
    widget(rc, v.Select, "Breach pattern").v_model = "hybrid"
    rc.find(v.Btn, children=["Reset"]).widget.click()
    funnel = panel(rc, "gs-funnel")
    assert "Day 0 of 365" in funnel and "Attribution probability 0.30" in funnel
    command = re.search(r'<code id="gs-command"[^>]*>(.*?)</code>', funnel).group(1)
    assert command == f"guarantee-sim explain breach=hybrid commission.attribution_probability=0.3 seed={app.DEFAULT_SEED}"
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert "breach=hybrid" in panel(rc, "gs-funnel") and "Day 41 of 365" in panel(rc, "gs-funnel")


def test_the_dashboard_run_is_run_0_of_its_seed_and_its_command_tells_it():
    """Stepping day by day in the dashboard ends where the table's row and the told story end."""
    model = app.DashboardModel(breach="surge_offensive", seed="15")
    while model.running:
        model.step()
    row = run_replications(load_scenario(tuple(model.overrides)), 1, 15).iloc[0]
    told = explain.tell(shlex.split(model.command)[2:])
    for got in (model.outcome(), told.row):
        assert got["seed"] == row["seed"] and got["stage"] == row["stage"]
        assert got["activation_day"] == row["activation_day"] or math.isnan(row["activation_day"])
    assert model.event_log == told.model.event_log


def test_levers_become_overrides_relative_to_the_preset():
    d = app.defaults()
    base = dict(coalition=d["coalition"], commitments=d["commitments"], breach=d["breach"], trigger=d["trigger"],
                monitoring=d["monitoring"], decision_rule=d["decision_rule"])
    assert app.build_overrides(**base, attribution=d["attribution"], investigation_days=d["investigation_days"],
                               parliament_days=d["parliament_days"], congress_days=d["congress_days"]) == []
    model = app.DashboardModel(detection=0.5, follow_through=2.0, breach_rate=2.0, investigation_days=30,
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
    # another design keeps its own follow-through figures when the slider is untouched
    art5 = app.DashboardModel(commitments="article5_like")
    assert art5.spec.support["military"].follow_through == 0.75


@pytest.mark.parametrize("group", app.GROUPS)
def test_every_preset_option_builds_a_run(group):
    for option in app.options(group):
        model = app.DashboardModel(**{group: option})
        assert model.error is None, (group, option, model.error)
        model.step()


def test_bad_input_never_breaks_the_page():
    odd_seed = app.DashboardModel(seed="seven")
    assert odd_seed.error.startswith("seed:") and odd_seed.root_seed == 0
    unknown = app.DashboardModel(breach="nope")
    assert unknown.error.startswith("breach: unknown option") and unknown.overrides == []
    unknown.step()
    assert "the default scenario runs instead" in app.funnel_html(unknown)


@pytest.mark.parametrize("overrides", [
    ("breach=surge_offensive", "trigger=graduated"),
    ("breach=hybrid", "trigger=count_window", "commission.decision_rule=unanimity"),
    ("coalition=teaching", "breach=surge_offensive", "commitments.us_role=binding"),
])
def test_the_timeline_marks_every_event(overrides):
    told = explain.tell([*overrides, "seed=2"])
    marks = [timeline.mark(e) for e in told.model.event_log]
    assert set(marks) <= set(timeline.MARKS)
    assert marks.count("breach") == told.row["n_incidents"]
    assert marks.count("attributed") == told.row["n_attributed"]
    assert (marks.count("trigger") > 0) == (not math.isnan(told.row["trigger_day"]))
    fig = app.timeline_figure(told.model)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(timeline.LANES)


def test_the_panels_tile_two_columns_without_overlap():
    layout = app.grid_layout(4)
    cells = {(x, y) for item in layout for x in range(item["x"], item["x"] + item["w"])
             for y in range(item["y"], item["y"] + item["h"])}
    assert len(cells) == sum(item["w"] * item["h"] for item in layout)
    assert {item["x"] for item in layout} == {0, 6}
