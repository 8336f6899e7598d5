"""The results explorer on a real sweep: the grid holds the sweep summary's numbers, a cell's funnel
its own runs, its narrated run what ``guarantee-sim explain`` tells, and a click shows them."""

import contextlib
import html
import io
import math
import os
import re
import shlex
import shutil
import sys

import ipyvuetify as v
import pandas as pd
import pytest
import solara

from guarantee_sim.errors import ConfigError
from guarantee_sim.model.outcomes import STAGES
from guarantee_sim.present import explain
from guarantee_sim.present.style import layout_problems
from guarantee_sim.present.dashboard.explorer import SweepExplorer
from guarantee_sim.present.dashboard.sweep_view import MEASURES, cell_view, find_sweeps, heat_table

pytestmark = pytest.mark.main_line  # made from rows, equal on both lines: see pyproject.toml

SWEEP = ["-m", "breach=sporadic,surge_offensive", "commitments=paris_2026,budapest_like",
         "trigger=armed_attack,any_attributed", "runs=20", "hydra/launcher=basic"]


@pytest.fixture(scope="module")
def root(tmp_path_factory, worker_id):
    """A results folder with one real sweep (2 x 2 x 2 cells, 20 runs each), an older copy of it and
    a sweep that has not finished: made once, under a lock, for all of the session's workers."""
    from filelock import FileLock
    from hydra.core.global_hydra import GlobalHydra

    from guarantee_sim.runs import cli

    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    root = shared / "explorer" / "results"
    with FileLock(str(shared / "explorer.lock")):
        if (root / "sweeps" / "running").is_dir():
            return root
        root.mkdir(parents=True, exist_ok=True)
        with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(io.StringIO()):
            mp.chdir(root.parent)
            mp.setattr(sys, "argv", ["guarantee-sim"])
            try:
                cli.main([*SWEEP, "hydra.sweep.dir=results/sweeps/small"])  # as tests/test_sweep.py: a few times faster
            finally:
                GlobalHydra.instance().clear()
        small = root / "sweeps" / "small"
        shutil.copytree(small, root / "older")
        written = (small / "sweep.json").stat().st_mtime
        os.utime(root / "older" / "sweep.json", (written - 3600, written - 3600))
        shutil.copytree(small, root / "sweeps" / "running", ignore=shutil.ignore_patterns("sweep.json"))
    return root


@pytest.fixture(scope="module")
def sweep(root):
    return root / "sweeps" / "small"


def test_find_sweeps_lists_finished_sweeps_newest_first(root, sweep):
    assert find_sweeps(root) == [sweep, root / "older"]
    assert find_sweeps(sweep) == [sweep]  # a folder that is itself a sweep
    assert find_sweeps(root / "nowhere") == []


def test_the_grid_holds_the_sweep_summarys_numbers_for_every_measure(sweep):
    summary = pd.read_csv(sweep / "sweep_summary.csv").set_index("cell")
    for column, measure in MEASURES.items():
        for trigger in ("armed_attack", "any_attributed"):
            table = heat_table(sweep, column, fixed={"trigger": trigger})
            assert (table.rows_lever, table.cols_lever) == ("breach", "commitments")
            assert table.rows == ["sporadic", "surge_offensive"] and table.cols == ["paris_2026", "budapest_like"]
            assert table.fixed == {"trigger": trigger} and table.choices == {"trigger": ["armed_attack", "any_attributed"]}
            assert len(table.cells()) == 4
            for hc in table.cells():
                row = summary.loc[hc.cell]
                assert (row["breach"], row["commitments"], row["trigger"]) == (hc.row, hc.col, trigger)
                for got, col in ((hc.estimate.value, column), (hc.estimate.low, measure.low), (hc.estimate.high, measure.high)):
                    assert got == row[col] or (math.isnan(got) and math.isnan(row[col]))
                if column == "activation_probability" and hc.col == "budapest_like":
                    assert hc.estimate.note == "nothing binding, by construction"
    turned = heat_table(sweep, rows="trigger", cols="breach")
    assert (turned.rows_lever, turned.cols_lever, turned.fixed) == ("trigger", "breach", {"commitments": "paris_2026"})
    with pytest.raises(ConfigError, match="measure"):
        heat_table(sweep, "median_days")
    with pytest.raises(ConfigError, match="not among"):
        heat_table(sweep, fixed={"trigger": "count_window"})


def test_a_cells_funnel_is_its_runs_stages_and_its_run_is_the_one_explain_tells(sweep):
    cells = pd.read_csv(sweep / "sweep_summary.csv")["cell"]
    told = set()  # one run per stage is checked against explain: each stage has its own "why"
    for cell in cells:
        view = cell_view(sweep, cell)
        runs = pd.read_parquet(sweep / cell / "runs.parquet")
        shares = runs["stage"].value_counts(normalize=True)
        assert [s.stage for s in view.funnel] == STAGES
        for s in view.funnel:
            assert s.share == pytest.approx(shares.get(s.stage, 0.0)) and s.runs == (runs["stage"] == s.stage).sum()
        assert view.run.seed == runs.loc[runs["run"] == 0, "seed"].item()
        assert view.run.stage == runs.loc[runs["run"] == 0, "stage"].item()
        assert view.figure.axes[0].get_ylabel().startswith("share of runs")
        argv = shlex.split(view.run.command)
        assert argv[:2] == ["guarantee-sim", "explain"] and "seed=0" in argv
        if view.run.stage in told:
            continue
        told.add(view.run.stage)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            explain.main(argv[2:])
        assert f"  Why: {view.run.why}\n" in out.getvalue()
        for _, _, sentence in view.run.story:
            assert sentence in out.getvalue()
    assert len(told) >= 3
    assert layout_problems(view.figure) == []  # the report's check: no text overlaps or leaves the figure


def test_a_bad_cell_or_folder_is_one_line(sweep, root):
    with pytest.raises(ConfigError, match="no cell"):
        cell_view(sweep, "breach=nothing")
    with pytest.raises(ConfigError, match="not a finished sweep"):
        heat_table(root / "sweeps" / "running")


def _html(rc, id_: str) -> str:
    found = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets if f'id="{id_}"' in (w.unsafe_innerHTML or "")]
    assert len(found) == 1, id_
    return found[0]


def _text(widget) -> str:
    """The words on a widget and its children."""
    parts = []
    for child in getattr(widget, "children", None) or []:
        parts.append(child if isinstance(child, str) else _text(child))
    return " ".join(parts)


def test_the_page_shows_the_newest_sweep_and_a_click_shows_that_cell(root, sweep):
    box, rc = solara.render(SweepExplorer(root), handle_error=False)
    rc.find(attributes={"id": "gs-explorer"}).assert_single()
    assert rc.find(v.Select, label="Sweep").widget.v_model == "sweeps/small"
    buttons = [w for w in rc.find(v.Btn).widgets if "gs-heat-cell" in (w.class_ or "")]
    table = heat_table(sweep)
    assert sorted(b.attributes["data-cell"] for b in buttons) == sorted(c.cell for c in table.cells())
    for b in buttons:
        hc = next(c for c in table.cells() if c.cell == b.attributes["data-cell"])
        assert f"{100 * hc.estimate.value:.0f}%" in _text(b) and "95%:" in _text(b)
    cell = "breach=surge_offensive,commitments=budapest_like,trigger=armed_attack"
    next(b for b in buttons if b.attributes["data-cell"] == cell).click()
    view = cell_view(sweep, cell)
    funnel = _html(rc, "gs-explorer-funnel")
    for s in view.funnel:
        assert f'data-stage="{s.stage}"' in funnel and f"{s.runs} of 20 runs" in funnel
    run = _html(rc, "gs-explorer-run")
    assert run.index(html.escape(view.run.why)) < run.index("The decisive events") < run.index("<code")
    code = run[run.index("<code"):run.index("</code>")]
    assert html.unescape(re.sub(r"<[^>]+>", "", code)) == view.run.command

    rc.find(v.Select, label="Measure").widget.v_model = "P(attack)"
    attack = heat_table(sweep, "attack_probability").grid[1][1].estimate
    (picked,) = [w for w in rc.find(v.Btn).widgets if (w.attributes or {}).get("data-cell") == cell]
    assert f"{100 * attack.value:.0f}%" in _text(picked)

    rc.find(v.Select, label="trigger fixed at").widget.v_model = "any_attributed"
    cells = {w.attributes["data-cell"] for w in rc.find(v.Btn).widgets if "gs-heat-cell" in (w.class_ or "")}
    assert cells == {c.cell for c in heat_table(sweep, fixed={"trigger": "any_attributed"}).cells()}

    field = rc.find(v.TextField, label="Or another sweep folder (Enter)").widget
    field.v_model = str(root / "older")
    field.fire_event("keyup.enter", None)
    assert rc.find(v.Select, label="Sweep").widget.v_model == "older"
    field.v_model = str(root / "no such folder")
    field.fire_event("keyup.enter", None)
    message = rc.find(attributes={"id": "gs-explorer-message"}).widget
    assert "is not a folder" in _text(message) and "\n" not in _text(message)
    assert not [w for w in rc.find(v.Btn).widgets if "gs-heat-cell" in (w.class_ or "")]


def test_an_empty_results_folder_says_what_to_run(tmp_path):
    box, rc = solara.render(SweepExplorer(tmp_path), handle_error=False)
    assert "guarantee-sim -m" in _text(rc.find(attributes={"id": "gs-explorer-message"}).widget)
