"""The sidebar: presets, levers with their values in the domain's units, the seed, and the run's
own buttons (Reset, Step, Play, To the end). A changed setting starts the run again at once and
brings it to the day it had reached, so the change shows without pressing anything."""

from __future__ import annotations

import time

import solara

from guarantee_sim.model.commission import DECISION_RULES
from guarantee_sim.present.dashboard.settings import (AS_DESIGNED, DEFAULT_SEED, GROUPS, LEVERS, PRESET_LABELS,
                                                      DashboardModel, defaults, options)
from guarantee_sim.scenario.build import US_ROLES

PLAY_PAUSE = 0.25  # seconds between two steps while playing
STEP_DAYS = (1, 7, 14, 30, 61, 91)


def new_run(settings: dict, day: float = 0.0) -> DashboardModel:
    """A run of ``settings`` (with its seed), brought to ``day``."""
    model = DashboardModel(**settings)
    go(model, day)
    return model


def go(model, days: float) -> None:
    """Advance the run ``days`` days in one step (step-by-step and event-to-event give the same run)."""
    with model.lock:
        if days > 0 and model.running:
            model.day_step = days
            model.step()


def initial_settings() -> dict:
    return {**defaults(), "seed": DEFAULT_SEED}


@solara.component
def Settings(settings: solara.Reactive[dict]):
    """Presets as selects, levers as sliders with their value written out, the seed as a number."""
    s = settings.value

    def put(key):
        return lambda value: settings.set({**settings.value, key: value})

    with solara.Column(classes=["gs-controls-sidebar", "gs-page"], style={"gap": "0px"}):
        solara.HTML(tag="div", unsafe_innerHTML='<div class="gs-panel-title">Scenario</div>')
        for group in GROUPS:
            solara.Select(label=PRESET_LABELS[group], value=s[group], values=options(group), on_value=put(group))
        rules = [r for r in DECISION_RULES.names() if r != "consensus"]  # consensus is another name for unanimity
        solara.Select(label="Commission decision rule", value=s["decision_rule"], values=rules, on_value=put("decision_rule"))
        solara.Select(label="US role (backstop)", value=s["us_role"], values=[AS_DESIGNED, *US_ROLES], on_value=put("us_role"))
        solara.HTML(tag="div", unsafe_innerHTML='<div class="gs-panel-title">Levers</div>')
        for lever in LEVERS:
            slider = solara.SliderInt if lever.unit == "days" else solara.SliderFloat
            value = round(s[lever.key]) if lever.unit == "days" else float(s[lever.key])
            solara.HTML(tag="div", unsafe_innerHTML=(f'<div class="gs-lever-value" data-lever="{lever.key}">'
                                                     f'{lever.label}: {lever.text(value)}</div>'))
            slider(label="", value=value, min=lever.low, max=lever.high, step=lever.step, on_value=put(lever.key),
                   thumb_label=False)
        solara.InputInt(label="Seed (run 0 of this root seed)", value=int(s["seed"]), on_value=put("seed"))
        solara.Button("Back to the defaults", on_click=lambda: settings.set({**defaults(), "seed": s["seed"]}),
                      outlined=True)


@solara.component
def RunControls(model: DashboardModel, version: int, bump, on_reset, playing: solara.Reactive[bool]):
    """Reset, Step (a number of days), Play / Pause and To the end (``version`` changes when the model steps)."""
    days = solara.use_reactive(7)

    def step():
        go(model, days.value)
        bump()

    def to_end():
        playing.set(False)
        go(model, model.horizon - model.day)
        bump()

    def play_loop(cancel):
        while playing.value and model.running and not cancel.is_set():
            go(model, days.value)
            bump()
            time.sleep(PLAY_PAUSE)
        if not model.running:
            playing.set(False)

    solara.use_thread(play_loop, dependencies=[playing.value, model])
    with solara.Row(classes=["gs-page"], style={"align-items": "center", "gap": "10px", "flex-wrap": "wrap"}):
        solara.Button("Reset", on_click=on_reset, color="primary")
        solara.Button(f"Step {days.value} days", on_click=step, disabled=not model.running)
        solara.Button("Pause" if playing.value else "Play", on_click=lambda: playing.set(not playing.value),
                      disabled=not model.running)
        solara.Button("To the end", on_click=to_end, disabled=not model.running)
        with solara.Column(style={"width": "150px"}):
            solara.Select(label="Days per step", value=days, values=list(STEP_DAYS))
