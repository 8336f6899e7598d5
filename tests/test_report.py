"""``guarantee-sim-report``: every figure from a real sweep, one offline HTML file, the sweep's numbers."""

import base64
import io
import math
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.text import Text
from omegaconf import OmegaConf

import guarantee_sim
from guarantee_sim.analysis.sensitivity.cli import compose_study
from guarantee_sim.analysis.sensitivity.result import RESULT
from guarantee_sim.analysis.sensitivity.study import run_study
from guarantee_sim.analysis.sensitivity.write import write_study
from guarantee_sim.present import plots, style, sweep_figures
from guarantee_sim.present.report.cli import main as report_main
from guarantee_sim.present.report.cli import parser
from guarantee_sim.present.report.figures import build_figures, paired_table
from guarantee_sim.present.report.load import RESULTS, load
from guarantee_sim.present.report.plan import plan as make_plan
from guarantee_sim.present.report.plan import resolve_cell
from guarantee_sim.present.report.study import study_figures
from guarantee_sim.present.report.write import write_report
from guarantee_sim.scenario.compose import compose_config
from guarantee_sim.scenario.build import build_scenario
from guarantee_sim.runs.store import CellPlan, run_cell
from guarantee_sim.runs.sweep import aggregate

pytestmark = pytest.mark.main_line  # made from rows, equal on both lines: see pyproject.toml

SWEEP = ["-m", "breach=sporadic,hybrid", "trigger=any_attributed,armed_attack", "runs=80"]
CHROMIUM = "/usr/bin/chromium"
KINDS = ["deterrence", "heatmap", "bars", "km", "funnel", "support_types", "paired", "timeline"]  # the headline first


def cli(cwd, *args):
    return subprocess.run([sys.executable, "-m", "guarantee_sim.runs.cli", *args], cwd=cwd, capture_output=True, text=True,
                          check=True)


@pytest.fixture(scope="session")
def workspace(tmp_path_factory):
    """One small real sweep (2 breach patterns x 2 trigger rules, 80 runs per cell), made once."""
    root = tmp_path_factory.mktemp("report")
    cli(root, *SWEEP, "hydra.sweep.dir=results/small")
    return root


@pytest.fixture(scope="session")
def built(workspace):
    """The report of the small sweep with the default options: its figures, and the folder written."""
    folder = workspace / "results" / "small"
    res = load([folder])
    p = make_plan(res, parser().parse_args([str(folder)]))
    figs, tables = build_figures(res, p)
    write_report(res, p, (figs, tables))
    return figs, p.out


@pytest.fixture(scope="session")
def made(built):
    return built[1]


class Tables(HTMLParser):
    """Rows of the HTML tables: per table id, per row, the cells' attributes and text."""

    def __init__(self):
        super().__init__()
        self.tables, self.table, self.row, self.cell = {}, None, None, None
        self.figures, self.urls = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if key in a:
                self.urls.append(a[key])
        if tag == "table":
            self.table = self.tables.setdefault(a.get("id") or f"t{len(self.tables)}", [])
        elif tag == "tr" and self.table is not None:
            self.row = {"attrs": a, "cells": []}
            self.table.append(self.row)
        elif tag == "td" and self.row is not None:
            self.cell = {**a, "text": ""}
            self.row["cells"].append(self.cell)
        elif tag == "figure":
            self.figures.append({"kind": a.get("data-kind")})
        elif tag == "img" and self.figures:
            self.figures[-1]["src"] = a["src"]

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None
        elif tag == "tr":
            self.row = None
        elif tag == "td":
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data


def parsed(path: Path) -> Tables:
    t = Tables()
    t.feed(path.read_text())
    return t


def number(cell, key="estimate") -> float:
    """The exact value behind a table cell (NaN where the cell is empty)."""
    return float(cell[f"data-{key}"])


def test_every_figure_kind_is_written_and_embedded_and_needs_no_network(made):
    html = (made / "report.html").read_text()
    page = parsed(made / "report.html")
    kinds = [f["kind"] for f in page.figures]
    assert kinds == KINDS
    for f in page.figures:
        assert f["src"].startswith("data:image/png;base64,")
        png = base64.b64decode(f["src"].split(",", 1)[1])
        assert png == (made / "figures" / f"{f['kind']}.png").read_bytes()
        assert (made / "figures" / f"{f['kind']}.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert all(u.startswith(("data:", "#")) for u in page.urls), [u[:60] for u in page.urls if not u.startswith("data:")]
    assert not re.search(r"https?://|//cdn|<script|<link ", html)
    assert not [p for p in made.rglob("*") if p.name.endswith(".tmp")]


BROWSER = """
import json, sys
from playwright.sync_api import sync_playwright
asked = []
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=sys.argv[2], headless=True, args=["--no-sandbox", "--disable-gpu"])
    context = browser.new_context(offline=True)
    def route(r):
        asked.append(r.request.url)
        r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()
    context.route("**/*", route)
    page = context.new_page()
    page.goto(sys.argv[1])
    images = page.eval_on_selector_all("figure img", "els => els.map(e => [e.closest('figure').dataset.kind, e.naturalWidth])")
    browser.close()
print(json.dumps({"asked": asked, "images": images}))
"""


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM} (make test installs it)")
def test_report_opens_offline_in_a_browser_with_every_figure(made):
    """Offline, every request but the page itself refused: every figure still shows."""
    out = subprocess.run([sys.executable, "-c", BROWSER, (made / "report.html").resolve().as_uri(), CHROMIUM],
                         capture_output=True, text=True, check=True, timeout=120)
    seen = json.loads(out.stdout)
    assert seen["asked"] == [(made / "report.html").resolve().as_uri()]
    assert [kind for kind, _ in seen["images"]] == KINDS
    assert all(width > 300 for _, width in seen["images"])


# the printed report ------------------------------------------------------------------------------
WIDE = ["-m", "breach=sporadic,hybrid,salami,poisson",
        "trigger=any_attributed,armed_attack,count_window,cumulative_severity,graduated,trip_wire", "runs=8"]
needs_chromium = pytest.mark.skipif(  # under CI (which installs chromium) a missing browser fails instead
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"), reason=f"Debian's chromium is not installed at {CHROMIUM} (CI installs it)")


@pytest.fixture(scope="session")
def base_url():
    """No base URL: the page is a file (replaces pytest-base-url's fixture, which pytest 9 flags as deprecated)."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium, headless, as tests/test_browser.py launches it; playwright's own browser download is not used."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run"]}


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """A sweep of 24 cells (8 runs each), more rows than the summary table's scroll box shows on a
    screen, and its report; the sweep runs in this process (``guarantee-sim``'s own main)."""
    from hydra.core.global_hydra import GlobalHydra

    from guarantee_sim.runs import cli as run_cli

    root = tmp_path_factory.mktemp("print")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setattr(sys, "argv", ["guarantee-sim"])
        try:
            run_cli.main([*WIDE, "hydra.sweep.dir=results/wide"])
        finally:
            GlobalHydra.instance().clear()
    folder = root / "results" / "wide"
    report_main([str(folder)])
    return folder


def row_label(row) -> str:
    """A summary row as it begins on paper: its lever values (the table's first columns) and its runs."""
    return " ".join(str(row[k]) for k in plots.lever_columns(row.to_frame().T)) + f" {row['runs']}"


def printed_rows(page, html: Path, summary: pd.DataFrame) -> list[tuple[str, str]]:
    """The summary table's rows in the text of the page printed to PDF (A4), in the order printed:
    (the row's label, its text up to the next row's label)."""
    from pypdf import PdfReader

    page.goto(html.resolve().as_uri())
    reader = PdfReader(io.BytesIO(page.pdf(format="A4")))
    labels = [row_label(r) for _, r in summary.iterrows()]
    rows: list[list[str]] = []
    for line in "\n".join(p.extract_text() for p in reader.pages).splitlines():
        label = next((x for x in labels if line.startswith(x + " ")), None)
        if label:
            rows.append([label, line])
        elif rows:
            rows[-1][1] += " " + line
    return [(label, text) for label, text in rows]


@needs_chromium
def test_the_printed_report_has_every_summary_row(wide, page):
    """Acceptance: the printed (PDF) report contains every summary row. On screen the table scrolls
    in a box; the print stylesheet opens it and fits it to the page, so every cell of
    sweep_summary.csv is a row of the PDF, once, with every column's text. Without that stylesheet
    the same extraction loses the rows below the box: the check can fail."""
    summary = pd.read_csv(wide / "sweep_summary.csv")
    assert len(summary) == 24
    label_of = {r["cell"]: row_label(r) for _, r in summary.iterrows()}
    table = parsed(wide / "report.html").tables["summary-table"]
    shown = {label_of[r["attrs"]["data-cell"]]: [" ".join(c["text"].split()) for c in r["cells"]]
             for r in table if r["attrs"].get("data-cell")}
    rows = printed_rows(page, wide / "report.html", summary)
    assert sorted(label for label, _ in rows) == sorted(label_of.values())
    for label, text in rows:  # every column too: nothing cut at the page's right edge
        assert all(cell in text for cell in shown[label]), (label, shown[label], text[:300])
    html = (wide / "report.html").read_text()
    unprinted = wide / "report_without_print_stylesheet.html"
    unprinted.write_text(re.sub(r"@media print \{.*?\n\}\n", "", html, flags=re.S))
    assert "@media print" in html and "@media print" not in unprinted.read_text()
    boxed = [label for label, _ in printed_rows(page, unprinted, summary)]
    assert 0 < len(boxed) < len(summary) and set(boxed) < set(label_of.values())


def test_report_table_numbers_equal_the_sweep_summary(made, workspace):
    summary = pd.read_csv(workspace / "results" / "small" / "sweep_summary.csv").set_index("cell")
    rows = parsed(made / "report.html").tables["summary-table"]
    body = [r for r in rows if r["attrs"].get("data-cell")]
    assert sorted(r["attrs"]["data-cell"] for r in body) == sorted(summary.index)
    for r in body:
        s = summary.loc[r["attrs"]["data-cell"]]
        cells = [c for c in r["cells"] if "data-estimate" in c]
        attack, in_time, protected, p, median, false_alarm, paired = cells
        for cell, measure in ((attack, "attack_probability"), (in_time, "support_in_time_given_attack"),
                              (protected, "protected_probability")):
            for key, column in (("estimate", measure), ("low", f"{measure}_low"), ("high", f"{measure}_high")):
                assert number(cell, key) == pytest.approx(s[column], nan_ok=True, rel=1e-15), (measure, key)
        assert (number(p), number(p, "low"), number(p, "high")) == (s.activation_probability, s.activation_low, s.activation_high)
        assert number(median) == pytest.approx(s.median_days, nan_ok=True, rel=1e-15)
        assert number(median, "low") == pytest.approx(s.median_days_low, nan_ok=True, rel=1e-15)
        assert number(false_alarm) == s.false_activation
        assert number(paired) == pytest.approx(s.paired_difference, nan_ok=True, rel=1e-15)
        assert number(paired, "low") == pytest.approx(s.paired_low, nan_ok=True, rel=1e-15)
        assert f"{100 * s.activation_probability:.1f}%" in p["text"]
    table = pd.read_csv(made / "report_table.csv").set_index("cell")
    shared = [c for c in summary.columns if c in table.columns]
    pd.testing.assert_frame_equal(table.loc[summary.index, shared], summary[shared], check_dtype=False)


def test_report_begins_with_the_question_the_levers_and_the_caveat(made):
    html = (made / "report.html").read_text()
    body = html[html.index("<main>"):]
    marks = [body.index(guarantee_sim_question()), body.index('id="levers-table"'), body.index("exploratory, not predictive"),
             body.index("<figure")]
    assert marks == sorted(marks)
    levers = parsed(made / "report.html").tables["levers-table"]
    assert [r["cells"][0]["text"] for r in levers if r["cells"]] == ["breach", "trigger"]


def guarantee_sim_question():
    return "how often — and how fast — does binding support actually activate"


def test_paired_comparison_with_a_cells_baseline_equals_the_sweeps_own(workspace, made, capsys):
    folder = workspace / "results" / "small"
    summary = pd.read_csv(folder / "sweep_summary.csv").set_index("cell")
    a, b = "breach=hybrid,trigger=armed_attack", "breach=sporadic,trigger=armed_attack"
    assert summary.loc[a, "baseline_cell"] == b
    res = load([folder])
    args = parser().parse_args([str(folder), "--pair", "breach=hybrid,trigger=armed_attack", "breach=sporadic"])
    p = make_plan(res, args)
    assert p.pairs == [(a, b)]
    t = paired_table(res, p.pairs, p.seed).iloc[0]
    assert (t.estimate, t.low, t.high) == (summary.loc[a, "paired_difference"], summary.loc[a, "paired_low"],
                                           summary.loc[a, "paired_high"])
    assert t.n == 80 and t.p_a == pytest.approx(summary.loc[a, "protected_probability"])
    # the default report's paired table: each scenario minus the first, the same numbers as its figure
    pt = pd.read_csv(made / "report_paired.csv")
    rows = parsed(made / "report.html").tables["paired-table"]
    body = [r for r in rows if r["attrs"].get("data-a")]
    assert [(r["attrs"]["data-a"], r["attrs"]["data-b"]) for r in body] == list(zip(pt["a"], pt["b"]))
    for r, (_, row) in zip(body, pt.iterrows()):
        diff = [c for c in r["cells"] if "data-low" in c][0]
        assert (number(diff), number(diff, "low"), number(diff, "high")) == pytest.approx((row.estimate, row.low, row.high))


def test_figures_carry_the_stamp_and_are_readable(workspace, built):
    folder = workspace / "results" / "small"
    figs, out = built
    assert out == folder  # the report goes into the results folder
    assert [f.kind for f in figs] == KINDS
    commit = json.loads((folder / "sweep.json").read_text())["git_commit"]
    for f in figs:
        stamp = " ".join(t.get_text() for t in f.figure.findobj(Text) if t.get_gid() == "stamp").replace("\n", " ")
        for part in ("config small (breach=sporadic,hybrid trigger=any_attributed,armed_attack runs=80)",
                     "80 runs per cell", "root seed 0", "horizon 365 days", f"guarantee_sim {guarantee_sim.__version__}",
                     f"commit {commit[:12]}"):
            assert part in stamp, (f.kind, part, stamp)
        assert style.layout_problems(f.figure) == [], f.kind
        labels = [ax.get_xlabel() + ax.get_ylabel() for ax in f.figure.axes if ax.get_visible()]
        assert any(labels), f.kind
    km = next(f for f in figs if f.kind == "km").figure
    assert "days" in km.axes[0].get_xlabel()
    timeline = next(f for f in figs if f.kind == "timeline").figure
    assert "re-run matches the stored row" in " ".join(t.get_text() for t in timeline.findobj(Text))


def test_cells_named_by_some_of_their_levers_and_reference_values(workspace):
    folder = workspace / "results" / "small"
    res = load([folder])
    assert res.reference() == {"breach": "sporadic", "trigger": "any_attributed"}  # the values listed first
    assert resolve_cell(res, "breach=hybrid", "--pair") == "breach=hybrid,trigger=any_attributed"
    p = make_plan(res, parser().parse_args([str(folder), "--at", "trigger=armed_attack", "--run", "breach=hybrid:5"]))
    assert p.run == ("breach=hybrid,trigger=armed_attack", 5)
    assert p.pairs[0][1] == p.scenarios[0]


def test_defaults_and_choices_of_the_figures(workspace):
    folder = workspace / "results" / "small"
    res = load([folder])

    def plan(*options):
        return make_plan(res, parser().parse_args([str(folder), *options]))

    p = plan()
    assert (p.heat, p.bars, p.hue) == (("breach", "trigger"), "breach", "trigger")
    assert p.scenarios == list(res.summary["cell"]) and len(p.scenarios) == 4  # a handful: all of them
    assert p.pairs == [(c, p.scenarios[0]) for c in p.scenarios[1:]]
    cell, run = p.run  # an activated run of the first scenario, near its median day
    assert cell == p.scenarios[0] and bool(res.runs.query("cell == @cell and run == @run")["activated"].iloc[0])
    assert (plan("--bars", "trigger").hue, plan("--bars", "trigger", "none").hue) == ("breach", None)
    assert plan("--levers", "trigger", "breach").heat == ("trigger", "breach")
    fig = sweep_figures.plot_bars(res.summary, "cell")
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 1 and len(fig.axes[0].patches) == 4


BAD = [
    (lambda ws: [str(ws)], "RESULTS_DIR", "a sweep folder"),
    (lambda ws: [str(ws / "missing")], "RESULTS_DIR", "a run folder"),
    (lambda ws: [str(ws / "results" / "small"), "--levers", "breach", "nope"], "--levers", "breach, trigger"),
    (lambda ws: [str(ws / "results" / "small"), "--bars", "design"], "--bars", "breach, trigger"),
    (lambda ws: [str(ws / "results" / "small"), "--pair", "breach=hybrid", "breach=salami"], "--pair", "breach=sporadic,hybrid"),
    (lambda ws: [str(ws / "results" / "small"), "--pair", "breach=hybrid,oops", "breach=sporadic"], "--pair", "a cell"),
    (lambda ws: [str(ws / "results" / "small"), "--scenarios", "no-such-cell"], "--scenarios", "a cell"),
    (lambda ws: [str(ws / "results" / "small"), "--run", "breach=hybrid:80"], "--run", "0 to 79"),
    (lambda ws: [str(ws / "results" / "small"), "--run", "breach=hybrid"], "--run", "CELL:RUN"),
    (lambda ws: [str(ws / "results" / "small"), "--at", "trigger=graduated"], "--at", "trigger=any_attributed,armed_attack"),
    (lambda ws: [str(ws / "results" / "small"), "--levers", "breach"], "argument --levers", "--help"),
]


@pytest.mark.parametrize("argv,key,allowed", BAD, ids=[b[1] + str(i) for i, b in enumerate(BAD)])
def test_bad_input_one_line_exit_2_nothing_written(workspace, made, argv, key, allowed, capsys):
    before = sorted(p.relative_to(workspace) for p in workspace.rglob("*"))
    stamp_before = {p: p.stat().st_mtime_ns for p in made.rglob("*")}
    with pytest.raises(SystemExit) as info:
        report_main(argv(workspace))
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"guarantee-sim-report: error: {key}"), err
    assert allowed in err, err
    assert sorted(p.relative_to(workspace) for p in workspace.rglob("*")) == before
    assert {p: p.stat().st_mtime_ns for p in made.rglob("*")} == stamp_before


def store_sweep(folder: Path, levers: list[dict], runs: int, seed: int = 0) -> None:
    """A sweep written by the sweep's own store and aggregator, in-process (no Hydra launcher)."""
    for lv in levers:
        overrides = tuple(f"{k}={v}" for k, v in lv.items())
        cfg = compose_config(overrides)
        name = ",".join(sorted(overrides))
        run_cell(build_scenario(cfg), folder / name, CellPlan(runs, seed, 500, 0.02, runs),
                 OmegaConf.to_container(cfg, resolve=True), OmegaConf.to_yaml(cfg, resolve=True), name, lv)
    aggregate(folder, None, seed)


def test_two_sweeps_side_by_side(workspace, capsys):
    small, european = workspace / "results" / "small", workspace / "results" / "european"
    store_sweep(european, [{"breach": b, "trigger": t, "monitoring": "european_only"}
                           for b in ("sporadic", "hybrid") for t in ("any_attributed", "armed_attack")], runs=40)
    out = workspace / "compare"
    res = load([small, european])
    p = make_plan(res, parser().parse_args([str(small), str(european), "--out", str(out)]))
    figs, tables = build_figures(res, p)
    write_report(res, p, (figs, tables))
    plan = p
    assert "monitoring" in res.varying and len(res.summary) == 8
    assert set(res.summary.loc[res.summary["cell"].str.contains("european"), "monitoring"]) == {"european_only"}
    assert set(res.summary.loc[~res.summary["cell"].str.contains("european"), "monitoring"]) == {"us_led"}
    page = parsed(out / "report.html")
    assert [f["kind"] for f in page.figures] == KINDS
    cells = [r["attrs"]["data-cell"] for r in page.tables["summary-table"] if r["attrs"].get("data-cell")]
    assert len(cells) == 8 and len(set(cells)) == 8
    for folder in (small, european):  # every cell's numbers are its own sweep's
        summary = pd.read_csv(folder / "sweep_summary.csv").set_index("cell")
        rows = {r["attrs"]["data-cell"]: r for r in page.tables["summary-table"] if r["attrs"].get("data-cell")}
        for cell, s in summary.iterrows():
            p = [c for c in rows[cell]["cells"] if "data-estimate" in c][3]
            assert number(p) == s.activation_probability
    # the heat map puts the two monitoring set-ups side by side; the bars and curves compare them
    heat = next(f.figure for f in figs if f.kind == "heatmap")
    assert [ax.get_title() for ax in heat.axes if ax.get_images()] == ["monitoring=us_led", "monitoring=european_only"]
    # a pair across the two folders: the same root seed, so the same run seeds, paired run by run
    pt = paired_table(res, [("breach=hybrid,monitoring=european_only,trigger=any_attributed",
                             "breach=hybrid,trigger=any_attributed")], None)
    assert pt.iloc[0]["n"] == 40
    # the same sweep twice: the folder's name becomes a lever, so no two cells are drawn as one
    twice = load([small, small])
    assert RESULTS in twice.levers and len(twice.summary) == 8
    assert plan.bars == "monitoring" and plan.pairs == [("breach=sporadic,monitoring=european_only,trigger=any_attributed",
                                                   "breach=sporadic,trigger=any_attributed")]
    for f in figs:
        assert style.layout_problems(f.figure) == [], f.kind


def test_single_run_folder(workspace, capsys):
    cli(workspace, "breach=hybrid", "runs=40", "seed=3", "hydra.run.dir=results/runs/one")
    folder = workspace / "results" / "runs" / "one"
    report_main([str(folder)])
    page = parsed(folder / "report.html")
    assert [f["kind"] for f in page.figures] == ["deterrence", "bars", "km", "funnel", "support_types", "timeline"]
    html = (folder / "report.html").read_text()
    assert "No heat map: it needs two levers that vary" in html
    summary = json.loads((folder / "summary.json").read_text())
    row = [r for r in page.tables["summary-table"] if r["attrs"].get("data-cell")][0]
    assert row["attrs"]["data-cell"] == "breach=hybrid"
    p = [c for c in row["cells"] if "data-estimate" in c][0]
    assert number(p) == summary["activation_probability"]["estimate"]


def test_sensitivity_study_section(workspace, capsys):
    config = OmegaConf.to_container(compose_study(("experiment=sensitivity_analytic", "study.n=8", "study.replicates=4",
                                                   "study.bootstrap=100", "study.noise_points=4", "workers=1")),
                                    resolve=True)
    folder = workspace / "results" / "sensitivity" / "tiny"
    write_study(run_study(config, workers=1), folder)
    report_main([str(folder)])
    html = (folder / "report.html").read_text()
    page = parsed(folder / "report.html")
    assert "Which assumptions matter" in html and "breach rate" in html and "Where binding support fails" in html
    assert '<p class="caveat"><strong>Warning.</strong> study.n = 8 is too small for these indices to mean anything' in html
    assert [f["kind"] for f in page.figures].count("sensitivity") >= 2
    assert all(f["src"].startswith("data:image/png;base64,") for f in page.figures)
    for name in ("sobol_activation_probability", "sobol_median_days_to_activation", "discovery"):
        assert (folder / "figures" / f"study-tiny-{name}.png").exists(), name  # redrawn, with the stamp
    figures = study_figures(load([folder]), load([folder]).studies[0])
    for fig in figures.values():
        stamp = " ".join(t.get_text() for t in fig.findobj(Text) if t.get_gid() == "stamp").replace("\n", " ")
        assert "sensitivity study analytic (tiny)" in stamp and "root seed 0" in stamp and "horizon 365 days" in stamp
    # a study written before its typed result: one line naming the file and what to do, nothing written
    (folder / RESULT).unlink()
    capsys.readouterr()
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    with pytest.raises(SystemExit) as info:
        report_main([str(folder)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(folder / RESULT) in err, err
    assert "rerun the study: guarantee-sim-sensitivity" in err, err
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before


def test_no_file_carries_a_path_of_this_machine(made, workspace):
    written = [made / "report.html", *made.glob("report_*.csv"), *made.glob("figures/*")]
    assert len(written) == 1 + 3 + 2 * len(KINDS)
    for path in written:
        data = path.read_bytes()
        assert str(workspace).encode() not in data and (str(Path.home()) + "/").encode() not in data, path.name


def test_help_names_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        report_main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("RESULTS_DIR", "--levers", "--bars", "--at", "--scenarios", "--pair", "--run", "--out", "--seed"):
        assert option in out


def test_the_key_findings_state_the_sweep_summarys_numbers(made, workspace):
    """The paragraph names the measure and the caveat, and every number it states is the sweep
    summary's (read from it, and printed as the paragraph prints it)."""
    from guarantee_sim.present.report.findings import key_findings, stated_values_match

    summary = pd.read_csv(workspace / "results" / "small" / "sweep_summary.csv")
    levers = ["breach", "trigger"]
    findings = key_findings(summary, levers)
    assert stated_values_match(findings, summary)
    assert sum(len(f.states) for f in findings) >= 12  # not vacuous: two ranges (6 numbers each) at least
    html = (made / "report.html").read_text()
    paragraph = re.search(r'<p id="key-findings">(.*?)</p>', html, re.S).group(1)
    assert "P(protected) is the headline" in paragraph and "not forecasts" in paragraph
    rows = summary.set_index("cell")
    for f in findings:
        for (cell, col), value in f.states.items():
            shown = f"{100 * value:.1f}%" if not col.startswith("paired") else f"{100 * value:+.1f}"
            assert shown in paragraph, (cell, col, shown)
            assert value == rows.loc[cell, col]


def test_companion_a_finding_that_misstates_a_number_is_caught():
    from guarantee_sim.present.report.findings import Finding, stated_values_match

    summary = pd.DataFrame({"cell": ["a"], "protected_probability": [0.5]})
    assert stated_values_match([Finding("x", {("a", "protected_probability"): 0.5})], summary)
    assert not stated_values_match([Finding("x", {("a", "protected_probability"): 0.51})], summary)


def test_the_printed_report_keeps_every_table_row():
    """Printed or saved as PDF, the scroll boxes open up: every summary row is on paper."""
    from guarantee_sim.present.report.html import CSS

    media = CSS[CSS.index("@media print"):]
    assert re.search(r"\.scroll\s*\{[^}]*max-height:\s*none[^}]*overflow:\s*visible", media)


def test_the_focused_cells_activate_within_the_horizon_when_any_cell_does():
    """Without --at, the Kaplan–Meier and related figures hold the other levers where some cell has
    its median within the horizon, instead of the first listed values where none has."""
    from guarantee_sim.present.report.plan import _along, _informative_reference

    class Res:  # what the choice reads of the loaded results
        levers = ["commitments", "trigger"]
        at: dict = {}
        summary = pd.DataFrame({"cell": ["a", "b", "c", "d"], "commitments": ["paris", "budapest", "paris", "budapest"],
                                "trigger": ["armed", "armed", "any", "any"],
                                "median_days": [math.nan, math.nan, 49.0, math.nan]})

        def reference(self):
            return {k: self.at.get(k) or self.summary[k].iloc[0] for k in self.levers}

    res = Res()
    res.at = {}
    held = _informative_reference(res, ["commitments"])
    assert held == "trigger=any" and _along(res, ["commitments"]) == ["c", "d"]
    res.at = {}
    res.summary["median_days"] = math.nan  # companion: no cell activates, nothing to choose
    assert _informative_reference(res, ["commitments"]) == "" and _along(res, ["commitments"]) == ["a", "b"]
