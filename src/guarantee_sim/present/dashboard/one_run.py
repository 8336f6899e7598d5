"""One run told step by step: why it stands where it does (always on screen), its timeline, the
support arriving against the levels that count, the chain so far, the decisive events pinned
above the routine ones, and the coalition's states with their reasons.

Each panel is a function from the model to HTML (testable without a browser); ``RunPanels``
lays them out for a 1280x720 projector: the why sentence, the timeline, the support chart and
the chain fit above the fold.
"""

from __future__ import annotations

import html
import math

import solara

from guarantee_sim.model.agents import SupportStatus
from guarantee_sim.model.triggers import SUPPORT_TYPES
from guarantee_sim.present.dashboard.charts import capacity_html, timeline_html
from guarantee_sim.present.narrative import (REGIME_ORDER, chain, stage_text, state_header, story,
                                             support_text, why)

STATUS_COLOURS = {
    SupportStatus.NOT_COMMITTED: "#f4f4f4",
    SupportStatus.COMMITTED: "#aab2bd",
    SupportStatus.DECIDING: "#f0a202",
    SupportStatus.APPROVED: "#5b9bd5",
    SupportStatus.DELIVERING: "#2e8b57",
    SupportStatus.DECLINED: "#d1495b",
}


def why_text(model) -> str:
    """The one sentence that says why the run stands where it does (as ``explain`` prints it)."""
    if not model.event_log:
        return "Nothing has happened yet: press Step or Play."
    return why(model)


def in_time_text(model) -> str:
    """The headline measure for this run, in words: was military support in time after an attack?"""
    u, r = model.ukraine, model.response
    if u.offensive_day is None:
        when = "so far" if model.running else "within the horizon"
        return f"No armed attack {when}: Ukraine is protected in this run (no attack, or support in time)."
    deadline = u.offensive_day + u.holding_time
    need = f"EUR {model.spec.military_support_needed:g} bn a year"
    if math.isnan(r.military_needed_day):
        if model.running and model.day < deadline:
            return (f"Armed attack on day {u.offensive_day:.0f}; Ukraine can hold until day {deadline:.0f}. Military "
                    f"support has not reached the {need} it needs yet.")
        return (f"Armed attack on day {u.offensive_day:.0f}; military support never reached the {need} Ukraine needs"
                + (" so far" if model.running else " within the horizon") + ": not in time.")
    verdict = "in time" if r.military_needed_day <= deadline else "not in time"
    return (f"Armed attack on day {u.offensive_day:.0f}; military support reached the {need} Ukraine needs on day "
            f"{r.military_needed_day:.0f}, and Ukraine could hold until day {deadline:.0f}: {verdict}.")


def _id(name: str, ids: bool) -> str:
    return f' id="{name}"' if ids else ""


def why_html(model, ids: bool = True) -> str:
    """``ids``: False where the panel is shown twice on one page (two designs side by side)."""
    error = f'<div class="gs-error">{html.escape(model.error)}</div>' if model.error else ""
    return (f'<div{_id("gs-why-panel", ids)}>{error}<div class="gs-day">Day {model.day:.0f} of {model.horizon:g}: '
            f'<span{_id("gs-stage", ids)}>{html.escape(stage_text(model))}</span></div>'
            f'<div class="gs-why"{_id("gs-why", ids)}>{html.escape(why_text(model))}</div>'
            f'<div class="gs-in-time"{_id("gs-in-time", ids)}>{html.escape(in_time_text(model))}</div></div>')


def funnel_html(model, ids: bool = True) -> str:
    """The chain breach -> support of this run, one link a line, the next link to reach outlined."""
    steps = chain(model)
    last = max((i for i, s in enumerate(steps) if s.reached), default=-1)
    boxes = []
    for i, s in enumerate(steps):
        cls = "gs-step" + (" gs-reached" if s.reached else "") + (" gs-next" if i == last + 1 else "")
        tick = "✔" if s.reached else "→" if i == last + 1 else "·"
        boxes.append(f'<div class="{cls}" data-reached="{str(s.reached).lower()}"><span class="gs-tick-mark">{tick}</span>'
                     f'<b>{html.escape(s.label)}</b>: {html.escape(s.detail)}</div>')
    return (f'<div{_id("gs-funnel", ids)} class="gs-funnel"><div class="gs-panel-title">The chain so far</div>'
            f'{"".join(boxes)}</div>')


def events_html(model, limit: int = 200) -> str:
    """The decisive events (attack, trigger, invocation, consultation, activations) pinned first,
    then everything, newest first."""
    decisive = story(model, brief=True)
    everything = story(model)[-limit:]
    pinned = "".join(f'<div class="gs-decisive">Day {math.floor(d)}: {html.escape(t)}</div>' for d, _, t in decisive)
    if not pinned:
        pinned = '<div class="gs-note">No decisive event yet (an armed attack, a trigger, an activation).</div>'
    rest = "".join(f"<div>Day {math.floor(d)}: {html.escape(t)}</div>" for d, _, t in reversed(everything))
    if not rest:
        rest = f'<div class="gs-note">Day {model.day:.0f}: nothing has happened yet. Press Step or Play.</div>'
    return ('<div id="gs-narrative" class="gs-events">'
            f'<div class="gs-panel-title">Decisive events</div><div id="gs-decisive">{pinned}</div>'
            f'<div class="gs-panel-title">Everything that happened (newest first)</div>'
            f'<div class="gs-scroll">{rest}</div></div>')


def _regime_label(model, regime: str) -> str:
    r = model.spec.regimes.get(regime)
    if r is None:
        return regime.replace("_", " ")
    return f"{regime.replace('_', ' ')} (approval ~{r.delay.mean:.0f} days, passes {r.approval_probability:.0%})"


def coalition_html(model) -> str:
    """The coalition's states as tiles, one row per legal regime, a stripe per support type; hover
    a tile for its commitments and reasons in type a projector shows."""
    regimes = [r for r in REGIME_ORDER if any(a.profile.regime == r for a in model.coalition)]
    regimes += sorted({a.profile.regime for a in model.coalition} - set(regimes))
    rows = []
    for regime in regimes:
        tiles = []
        for a in (a for a in model.coalition if a.profile.regime == regime):
            stripes = "".join(f'<span style="flex:1; background:{STATUS_COLOURS[a.status[t]]}; border-right:1px solid #fff;">'
                              "</span>" for t in SUPPORT_TYPES)
            tip = [html.escape(state_header(model, a))] + [
                f"<b>{t}</b>: {html.escape(support_text(model, a, t))}" for t in SUPPORT_TYPES
                if a.status[t] is not SupportStatus.NOT_COMMITTED]
            flag = "*" if a.waits_for_us() else ""
            tiles.append(f'<div class="gs-state" data-state="{html.escape(a.name)}"><div class="gs-iso">{a.profile.iso}{flag}'
                         f'</div><div class="gs-stripes">{stripes}</div><span class="gs-tip">{"<br>".join(tip)}</span></div>')
        rows.append(f'<div class="gs-regime">{html.escape(_regime_label(model, regime))}</div>'
                    f'<div class="gs-tiles">{"".join(tiles)}</div>')
    legend = "".join(f'<span style="margin-right:12px;"><span class="gs-swatch" style="background:{c};"></span>{s.value}</span>'
                     for s, c in STATUS_COLOURS.items())
    return ('<div id="gs-coalition"><div class="gs-panel-title">The coalition, by legal regime</div>'
            + "".join(rows)
            + f'<div style="margin-top:6px;">{legend}</div>'
            '<div class="gs-note">Stripes, left to right: ' + ", ".join(SUPPORT_TYPES)
            + ". * waits for the United States. Hover a state for its reasons.</div></div>")


@solara.component
def RunPanels(model, version: int):
    """The run's panels, laid out for a projector (``version`` changes when the model steps)."""
    del version  # only a dependency: the model object itself is mutated in place
    with model.lock:  # one consistent day, even while Play steps the run
        why, timeline, capacity, funnel, events, coalition = (
            why_html(model), timeline_html(model), capacity_html(model), funnel_html(model), events_html(model),
            coalition_html(model))
    with solara.Column(classes=["gs-page"], style={"width": "100%", "gap": "4px"}):
        solara.HTML(tag="div", unsafe_innerHTML=why)
        with solara.Row(classes=["gs-row"], style={"width": "100%"}):
            with solara.Column(classes=["gs-grow"], style={"flex": "3 1 0"}):
                solara.HTML(tag="div", unsafe_innerHTML=timeline)
                solara.HTML(tag="div", unsafe_innerHTML=capacity)
            with solara.Column(classes=["gs-grow"], style={"flex": "2 1 0"}):
                solara.HTML(tag="div", unsafe_innerHTML=funnel)
                solara.HTML(tag="div", unsafe_innerHTML=events)
        solara.HTML(tag="div", unsafe_innerHTML=coalition)
        solara.HTML(tag="div", unsafe_innerHTML=(
            f'<div class="gs-note">The same run in a terminal (run 0 of seed {model.root_seed}):</div>'
            f'<code id="gs-command" class="gs-code">{html.escape(model.command)}</code>'))
