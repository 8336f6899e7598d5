"""The dashboard's two pictures of one run, in HTML so their type stays large on a projector and
every mark has a tooltip a lecture hall can read: the timeline (the chain's events on lanes, from
``timeline.mark`` and ``timeline.MARKS``, as the report's figure draws them) and the support that
arrives against the levels that count.

Marks are placed in percent of the horizon, type is set in CSS pixels: the pictures fill their
panel at any width without shrinking the text. Dense lanes (daily fire, a war) are drawn one mark
per lane and day-bucket, the tooltip saying how many events it holds.
"""

from __future__ import annotations

import html
import math
from collections import Counter

from guarantee_sim.model.events import EventKind
from guarantee_sim.present.narrative import BREACH_WORDS, sentence
from guarantee_sim.present.style import BREACH_COLOURS
from guarantee_sim.present.timeline import LANES, MARKS, mark

GLYPHS = {  # matplotlib marker -> (filled, open) glyph
    "o": ("●", "○"), "s": ("■", "□"), "d": ("◆", "◇"), "D": ("◆", "◇"), "*": ("★", "☆"), "|": ("│", "│"),
    ">": ("▶", "▷"), "^": ("▲", "△"), "v": ("▼", "▽"), "x": ("✕", "✕"), "P": ("✚", "✚"),
}
BUCKETS = 120  # marks per lane at most
DECISIVE = ("trigger", "overt_trigger", "needed", "attributed")  # drawn above their neighbours


def _pct(day: float, horizon: float) -> float:
    return 100.0 * min(max(day, 0.0), horizon) / horizon if horizon > 0 else 0.0


def _tip(lines: list[str], more: int) -> str:
    text = "<br>".join(html.escape(t) for t in lines)
    if more:
        text += f"<br><i>and {more} more on these days</i>"
    return f'<span class="gs-tip">{text}</span>'


def timeline_html(model) -> str:
    """The run so far on the chain's lanes, with the days that matter drawn across them."""
    horizon = float(model.horizon)
    width = horizon / BUCKETS
    cells: dict[tuple[str, int, str], list] = {}
    for e in model.event_log:
        m = mark(e)
        lane = MARKS[m][0]
        if lane is None:
            continue
        style = e.breach if m == "breach" else m
        cells.setdefault((lane, int(e.day // width), style), []).append((e, m))
    rows = []
    for lane in LANES:
        marks = []
        for (ln, bucket, style), items in sorted(cells.items(), key=lambda kv: kv[0][1]):
            if ln != lane:
                continue
            e, m = items[0]
            _, marker, colour, filled, _ = MARKS[m]
            glyph = GLYPHS.get(marker, ("●", "○"))[0 if filled else 1]
            if m == "breach":
                colour = BREACH_COLOURS.get(e.breach, colour)
            size = 22 if m in ("trigger", "overt_trigger") else 18
            if m == "breach" and e.severity is not None:
                size = 14 + 3 * int(e.severity)
            lines = [f"Day {math.floor(x.day)}: {sentence(x, model)}" for x, _ in items[:3]]
            on_top = " z-index:3;" if m in DECISIVE else ""
            marks.append(f'<span class="gs-mark" data-mark="{m}" style="left:{_pct(e.day, horizon):.2f}%; color:{colour};'
                         f' font-size:{size}px;{on_top}">{glyph}{_tip(lines, len(items) - 3 if len(items) > 3 else 0)}</span>')
        rows.append(f'<div class="gs-lane"><div class="gs-lane-label">{lane}</div>'
                    f'<div class="gs-lane-plot">{"".join(marks)}</div></div>')
    lines = _day_lines(model)
    rules = "".join(f'<div class="gs-rule" style="left:{_pct(day, horizon):.2f}%; border-left:{css};"></div>'
                    for day, css, _ in lines)
    step = 50 if horizon <= 400 else 100 if horizon <= 800 else 365
    ticks = "".join(f'<span class="gs-tick" style="left:{_pct(d, horizon):.2f}%;">{d}</span>'
                    for d in range(0, int(horizon) + 1, step))
    kinds = Counter(e.breach for e in model.event_log if e.kind is EventKind.BREACH)
    legend = [f'<span><span style="color:{BREACH_COLOURS.get(k, "#7f3b08")}">●</span> {html.escape(BREACH_WORDS[k])} '
              f'({n})</span>' for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])]
    legend += [f'<span><span class="gs-key" style="border-left:{css};"></span>{html.escape(label)}</span>'
               for _, css, label in lines]
    return (f'<div id="gs-timeline"><div class="gs-lanes">{"".join(rows)}'
            f'<div class="gs-rules">{rules}</div></div>'
            f'<div class="gs-axis"><div class="gs-lane-label"></div><div class="gs-lane-plot">{ticks}</div></div>'
            f'<div class="gs-axis-title">days since the ceasefire (hover a mark for what happened)</div>'
            f'<div class="gs-legend">{"".join(legend)}</div></div>')


def _day_lines(model) -> list[tuple[float, str, str]]:
    """The days that matter, as (day, CSS border, legend text)."""
    out = []
    r, u = model.response, model.ukraine
    if u.offensive_day is not None:
        out.append((u.offensive_day, "3px solid #b2182b", f"armed attack, day {u.offensive_day:.0f}"))
        if u.holding_time is not None and math.isfinite(u.holding_time):
            deadline = u.offensive_day + u.holding_time
            out.append((deadline, "3px dashed #b2182b", f"Ukraine can hold until day {deadline:.0f}"))
    trigger = min(model.trigger_day.values(), default=math.nan)
    if not math.isnan(trigger):
        out.append((trigger, "2px dashed #000", f"trigger fires, day {trigger:.0f}"))
    if not math.isnan(r.military_needed_day):
        out.append((r.military_needed_day, "3px solid #1b7837", f"military support reaches the need, day {r.military_needed_day:.0f}"))
    if model.running:
        out.append((model.day, "2px dotted #444", f"today, day {model.day:.0f}"))
    return out


def arrivals(model) -> list[tuple[float, float, float]]:
    """(day, military delivered in EUR bn a year, share of committed binding capacity delivering)
    after each delivery so far, starting from (0, 0, 0): what ``response`` sums, read from the record."""
    r, s = model.response, model.spec
    states = {a.name: a for a in model.coalition}
    military = binding = 0.0
    out = [(0.0, 0.0, 0.0)]
    for e in model.event_log:
        if e.kind is not EventKind.DELIVERY or e.state is None:
            continue
        state = states[e.state]
        cap = state.profile.capacity[e.support]
        if e.support == "military":
            military += cap * s.military_unit
        if state.binding(e.support):
            binding += cap
        out.append((e.day, military, binding / r.total_binding if r.total_binding > 0 else 0.0))
    return out


def _step_path(points: list[tuple[float, float]], until: float, horizon: float, top: float) -> str:
    """An SVG path of a step function on a 0..100 box (y up to ``top``)."""
    def xy(day, value):
        return f"{_pct(day, horizon):.2f},{100 - 100 * min(value, top) / top:.2f}"
    path = [f"M{xy(0, 0)}"]
    last = 0.0
    for day, value in points:
        path += [f"L{xy(day, last)}", f"L{xy(day, value)}"]
        last = value
    path.append(f"L{xy(until, last)}")
    return " ".join(path)


def _chart(title: str, points, level: float, level_text: str, top: float, unit, model, css_id: str | None) -> str:
    horizon = float(model.horizon)
    until = model.day if model.running else horizon
    level_y = 100 - 100 * min(level, top) / top
    marks = "".join(f'<line x1="{_pct(day, horizon):.2f}" x2="{_pct(day, horizon):.2f}" y1="0" y2="100" '
                    f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}" vector-effect="non-scaling-stroke"/>'
                    for day, colour, dash in _attack_marks(model))
    now = points[-1][1] if points else 0.0
    named = f' id="{css_id}"' if css_id else ""
    return (f'<div class="gs-chart"{named}><div class="gs-chart-title">{html.escape(title)}: '
            f'<b>{unit(now)}</b> now</div>'
            '<div class="gs-chart-box"><svg viewBox="0 0 100 100" preserveAspectRatio="none" width="100%" height="100%">'
            '<rect x="0" y="0" width="100" height="100" fill="#fafafa" stroke="#999" vector-effect="non-scaling-stroke"/>'
            f'{marks}<line x1="0" x2="100" y1="{level_y:.2f}" y2="{level_y:.2f}" stroke="#444" stroke-width="2" '
            'stroke-dasharray="6 4" vector-effect="non-scaling-stroke"/>'
            f'<path d="{_step_path(points, until, horizon, top)}" fill="none" stroke="#1b7837" stroke-width="3" '
            'vector-effect="non-scaling-stroke"/></svg>'
            f'<span class="gs-level" style="top:{max(level_y - 12, 0):.1f}%;">{html.escape(level_text)}</span></div>'
            f'<div class="gs-chart-axis"><span>day 0</span><span>day {horizon:g}</span></div></div>')


def _attack_marks(model) -> list[tuple[float, str, str]]:
    u = model.ukraine
    if u.offensive_day is None:
        return []
    out = [(u.offensive_day, "#b2182b", "0")]
    if u.holding_time is not None and math.isfinite(u.holding_time):
        out.append((u.offensive_day + u.holding_time, "#b2182b", "5 4"))
    return out


def capacity_html(model, ids: bool = True) -> str:
    """Military support delivered against Ukraine's need (the headline's level), and the binding
    capacity delivering against the activation share; the attack and how long Ukraine can hold
    drawn across both (red), so "in time" can be read off the picture."""
    points = arrivals(model)
    need = float(model.spec.military_support_needed)
    share = float(model.spec.activation_share)
    top_m = max(need * 1.5, max((p[1] for p in points), default=0.0) * 1.1, 1e-9)
    military = _chart("Military support delivered", [(d, m) for d, m, _ in points], need,
                      f"Ukraine's need: EUR {need:g} bn a year", top_m, lambda v: f"EUR {v:.1f} bn a year", model,
                      "gs-capacity-military" if ids else None)
    binding = _chart("Binding capacity delivering", [(d, b) for d, _, b in points], share,
                     f"activation: {share:.0%} of committed", 1.0, lambda v: f"{v:.0%}", model,
                     "gs-capacity-binding" if ids else None)
    named = ' id="gs-capacity"' if ids else ""
    return f'<div{named} class="gs-capacity">{military}{binding}</div>'
