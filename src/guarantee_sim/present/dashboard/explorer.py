"""The results explorer: a finished sweep as a grid of one measure over two levers; a click on a
cell shows its Kaplan–Meier curves, its funnel and its run 0 told in words.

A lecturer runs the sweep (``guarantee-sim -m ...``) before class, and the room can ask "what
happened in that cell?" and see it. What is shown is read by ``sweep_view.py``; this module draws it.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import solara
from matplotlib import colormaps
from matplotlib.colors import to_hex

from guarantee_sim.errors import ConfigError
from guarantee_sim.present.dashboard.sweep_view import (DEFAULT_MEASURE, MEASURES, CellView, HeatTable, Measure,
                                                        cell_view, find_sweeps, heat_table)
from guarantee_sim.present.narrative import STAGE_LABELS, day_text
from guarantee_sim.present.style import NO_NUMBER, STAGE_COLOURS


# HTML ------------------------------------------------------------------------------------------
def heat_colour(value: float) -> tuple[str, str]:
    """(background, text) of a share on the report heat map's scale (viridis); grey for no number."""
    if value is None or math.isnan(value):
        return NO_NUMBER, "#222"
    return to_hex(colormaps["viridis"](min(max(value, 0.0), 1.0))), ("#fff" if value < 0.6 else "#000")


def legend_html(measure: Measure) -> str:
    stops = ", ".join(f"{heat_colour(x / 10)[0]} {10 * x}%" for x in range(11))
    ticks = "".join(f'<span>{x}%</span>' for x in (0, 25, 50, 75, 100))
    return ('<div class="gs-explorer-legend">'
            f'<div>{html.escape(measure.label)}, in % of runs</div>'
            f'<div class="gs-explorer-scale" style="background:linear-gradient(to right, {stops});"></div>'
            f'<div class="gs-explorer-ticks">{ticks}</div>'
            '<div class="gs-explorer-grey">grey: no number (nothing binding by construction, or no attack to answer)</div></div>')


def funnel_html(view: CellView) -> str:
    boxes = "".join(
        f'<div class="gs-explorer-stage" data-stage="{s.stage}" style="border-top-color:{STAGE_COLOURS[s.stage]};">'
        f'<div class="gs-explorer-stage-label">{html.escape(s.label)}</div>'
        f'<div class="gs-explorer-stage-share">{100 * s.share:.0f}%</div>'
        f'<div class="gs-explorer-stage-runs">{s.runs} of {view.runs} runs</div>'
        f'<div class="gs-explorer-stage-meaning">{html.escape(s.meaning)}</div></div>' for s in view.funnel)
    return ('<div id="gs-explorer-funnel">'
            '<div class="gs-explorer-title">Where the chain stopped: the furthest stage each run reached</div>'
            f'<div class="gs-explorer-stages">{boxes}</div></div>')


def run_html(view: CellView) -> str:
    r = view.run
    lines = "".join(f'<div class="gs-explorer-event">{html.escape(day_text(day))}: {html.escape(text)}</div>'
                    for day, _, text in r.story) or "<div>no armed attack, and the trigger never fired</div>"
    return ('<div id="gs-explorer-run">'
            f'<div class="gs-explorer-title">Run {r.run} of this cell (its seed {r.seed}): '
            f'{html.escape(STAGE_LABELS[r.stage])}</div>'
            f'<div class="gs-explorer-why">{html.escape(r.why)}</div>'
            f'<div class="gs-explorer-subtitle">The decisive events</div>{lines}'
            '<div class="gs-explorer-command-intro">The same run in a terminal (without --brief: every incident, and '
            "each state's decision):</div>"
            '<code class="gs-explorer-command">' + " ".join(  # line breaks between arguments only, never at a hyphen
                f'<span>{html.escape(a)}</span>' for a in r.command.split(" ")) + "</code></div>")


def measures_html(view: CellView) -> str:
    items = "".join(f"<li><b>{html.escape(m.label)}</b>: " + html.escape(
        e.note or f"{100 * e.value:.0f}% (95%: {100 * e.low:.0f}–{100 * e.high:.0f})") + "</li>" for m, e in view.estimates)
    return (f'<div id="gs-explorer-cell"><div class="gs-explorer-cell-name">{html.escape(view.cell)}</div>'
            f'<div>{view.runs} runs, horizon {view.horizon:g} days</div><ul>{items}</ul></div>')


def _text(text: str, size: int = 18, bold: bool = False, colour: str = "inherit", **kw):
    return solara.v.Html(tag="div", children=[text], style_=f"font-size:{size}px; color:{colour};{' font-weight:bold;' * bold}", **kw)


def _message(what) -> object:
    """Bad input or an unreadable folder, in one line on the page (never a traceback)."""
    return _text(" ".join(str(what).split()), 18, True, "#b00020", attributes={"id": "gs-explorer-message"})


TROUBLE = (ConfigError, OSError, ValueError, KeyError)  # what a folder or a choice can go wrong with
WIDE, NARROW = {"min-width": "300px", "max-width": "340px"}, {"min-width": "200px", "max-width": "240px"}


# the component ---------------------------------------------------------------------------------
@solara.component
def HeatGrid(table: HeatTable, picked: str | None, on_pick):
    """The grid of buttons: one per cell, coloured by its value, its value and interval written on it."""
    corner = " · ".join(f"{way}: {k}" for way, k in (("down", table.rows_lever), ("across", table.cols_lever)) if k)
    with solara.v.Html(tag="div", class_="gs-heat", style_="display:grid; gap:6px; grid-template-columns:"
                       f"auto repeat({len(table.cols)}, minmax(150px, 1fr));"):
        _text(corner, 16)
        for col in table.cols:
            _text(col or table.measure.label, 18, True, class_="gs-heat-col")
        for row, line in zip(table.rows, table.grid):
            _text(row or "all cells", 18, True, class_="gs-heat-row")
            for hc in line:
                if hc is None:
                    _text("no cell", 16)
                    continue
                e = hc.estimate
                background, ink = heat_colour(math.nan if e.note else e.value)
                lines = [_text(e.note or f"{100 * e.value:.0f}%", 16 if e.note else 22, True),
                         _text(f"{hc.runs} runs" if e.note else f"95%: {100 * e.low:.0f}–{100 * e.high:.0f}", 16)]
                solara.Button(children=[solara.v.Html(tag="div", children=lines, style_="width:100%; min-width:0;")],
                              on_click=lambda c=hc.cell: on_pick(c), classes=["gs-heat-cell"],
                              attributes={"data-cell": hc.cell, "title": hc.cell},
                              style={"background-color": background, "color": ink,
                                     "border": "4px solid #000" if hc.cell == picked else "1px solid #666"})


@solara.component
def CellPanel(view: CellView):
    solara.HTML(tag="div", unsafe_innerHTML=measures_html(view) + funnel_html(view))
    with solara.Column(classes=["gs-explorer-km"]):
        solara.FigureMatplotlib(view.figure, dependencies=[str(view.sweep), view.cell, view.run.run], format="svg")
    solara.HTML(tag="div", unsafe_innerHTML=run_html(view))


@solara.component
def SweepPanel(sweep: str):
    """One sweep: the measure and the levers' choices, the grid, and the cell clicked last."""
    measure, set_measure = solara.use_state(DEFAULT_MEASURE)
    axes, set_axes = solara.use_state((None, None))
    fixed, set_fixed = solara.use_state({})
    picked, set_picked = solara.use_state(None)
    try:
        table = heat_table(sweep, measure, axes[0], axes[1], fixed)
    except TROUBLE as exc:
        return _message(exc)
    view, trouble = None, None
    try:
        view = cell_view(sweep, picked) if picked else None
    except TROUBLE as exc:
        trouble = exc
    labels = {m.label: c for c, m in MEASURES.items()}
    with solara.Column() as panel:
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select("Measure", values=list(labels), value=table.measure.label,
                          on_value=lambda label: set_measure(labels[label]), style=WIDE)
            vary = [k for k in (table.rows_lever, table.cols_lever, *table.fixed) if k]
            if len(vary) > 2:
                solara.Select("Down", values=vary, value=table.rows_lever, style=NARROW,
                              on_value=lambda k: set_axes((k, table.cols_lever if k != table.cols_lever else None)))
                solara.Select("Across", values=vary, value=table.cols_lever, style=NARROW,
                              on_value=lambda k: set_axes((table.rows_lever if k != table.rows_lever else None, k)))
            for k, value in table.fixed.items():
                solara.Select(f"{k} fixed at", values=table.choices[k], value=value, style=NARROW,
                              on_value=lambda v, k=k: set_fixed({**table.fixed, k: v}))
        same = ", ".join(f"{k}={v}" for k, v in table.same.items())
        _text(f"{table.measure.words}. Each cell: the share of its runs, in %, and its 95% Wilson interval."
              + (f" Every cell: {same}." if same else ""), 18, class_="gs-explorer-words")
        HeatGrid(table, picked, set_picked)
        solara.HTML(tag="div", unsafe_innerHTML=legend_html(table.measure))
        if trouble is not None:
            _message(f"{picked}: {trouble}")
        if view is not None:
            CellPanel(view)
    return panel


@solara.component
def SweepExplorer(root: str | Path = "results"):
    """Pick a sweep (the newest in ``root`` first, or any folder typed in), see one measure over
    two levers, click a cell for its curves, its funnel and its run 0."""
    rescans, set_rescans = solara.use_state(0)
    found = solara.use_memo(lambda: find_sweeps(root), [str(root), rescans])
    names = {_name(p, root): str(p) for p in found}
    chosen, set_chosen = solara.use_state("")
    chosen = chosen or (str(found[0]) if found else "")  # the newest until one is chosen
    typed, set_typed = solara.use_state("")

    def type_path(text: str | None) -> None:  # a sweep, or a results folder: its newest sweep
        set_typed(text or "")
        there = find_sweeps(text.strip()) if text and text.strip() else []
        set_chosen(str(there[0]) if there else (text or "").strip() or chosen)

    with solara.v.Html(tag="div", attributes={"id": "gs-explorer"}, class_="gs-explorer") as page:
        _text("Explore a sweep: one measure over two levers; click a cell for its curves, its funnel and one run",
              22, True)
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select("Sweep", values=list(names), value=next((n for n, p in names.items() if p == chosen), None),
                          on_value=lambda n: [set_chosen(names[n]), set_typed("")],
                          style={"min-width": "420px", "max-width": "560px"})
            solara.InputText("Or another sweep folder (Enter)", value=typed, on_value=type_path,
                             style={"min-width": "360px", "max-width": "480px"})
            solara.Button("Look again", on_click=lambda: set_rescans(rescans + 1), style={"font-size": "16px"})
        if chosen:
            SweepPanel(chosen).key(chosen)  # a new sweep starts with its own choices and no cell picked
        else:
            _message(f"No finished sweep in {root}: run one first, e.g. guarantee-sim -m experiment=headline")
    return page


def _name(path: Path, root: str | Path) -> str:
    """A sweep as the select lists it: its path inside the results root (which ``find_sweeps`` searched)."""
    inside = path.resolve().relative_to(Path(root).expanduser().resolve())
    return path.resolve().name if inside == Path(".") else str(inside)
