"""Many runs from the page: a batch of the current settings with its probabilities filling in as
runs finish, and two designs side by side on one seed (one run each, then a batch of each with
the paired difference).

The batch is the command line's: run k of root seed S has the seed ``run_seeds(S, ...)`` gives, so
a batch of N runs ends with the P that ``guarantee-sim <overrides> runs=N seed=S`` prints.
"""

from __future__ import annotations

import html
import shlex
from collections.abc import Iterator

import pandas as pd
import solara

from guarantee_sim.analysis.stats import MEASURE_WORDS, protected, summarize
from guarantee_sim.present.dashboard.charts import capacity_html
from guarantee_sim.present.dashboard.one_run import funnel_html, why_html
from guarantee_sim.present.dashboard.settings import DashboardModel, options, scenario_of
from guarantee_sim.runs.runner import run_range, run_seeds, to_frame

MEASURES = ("attack_probability", "support_in_time_given_attack", "protected_probability", "activation_probability")
SHORT = {"attack_probability": "P(attack)", "support_in_time_given_attack": "P(support in time | attack)",
         "protected_probability": "P(protected)", "activation_probability": "P(pooled activation)"}
CHUNK = 10  # runs between two updates of the page
MAX_RUNS = 20_000  # a page's batch; more belongs on the command line


def batches(scenario, root: int, runs: int, chunk: int = CHUNK) -> Iterator[pd.DataFrame]:
    """The batch's rows so far, after each ``chunk`` runs (run order, the command line's seeds)."""
    frames = []
    for start in range(0, runs, chunk):
        stop = min(start + chunk, runs)
        frames.append(run_range(scenario, run_seeds(root, stop, start), start))
        yield pd.concat(frames, ignore_index=True)


def measures(df: pd.DataFrame, horizon: float) -> dict:
    """Each measure as {estimate, low, high} (the 95% Wilson interval), as ``summary.json`` has them."""
    if df.empty:
        return {}
    summary = summarize(df, horizon)
    return {m: summary[m] for m in MEASURES}


def batch_command(overrides: list[str], runs: int, root: int) -> str:
    return shlex.join(["guarantee-sim", *overrides, f"runs={runs}", f"seed={root}"])


def _p(d: dict) -> str:
    est, lo, hi = d.get("estimate"), d.get("low"), d.get("high")
    if est is None or est != est:
        return "—"
    return f"{est:.1%} [{lo:.1%}, {hi:.1%}]"


def results_html(columns: dict[str, dict], css_id: str, done: str = "") -> str:
    """A table of measures (rows) by column (a batch, or two designs), each with its interval."""
    heads = "".join(f"<th>{html.escape(name)}</th>" for name in columns)
    body = "".join(
        f'<tr><td title="{html.escape(MEASURE_WORDS[m])}">{SHORT[m]}</td>'
        + "".join(f'<td class="gs-num" data-measure="{m}">{_p(col.get(m, {}))}</td>' for col in columns.values()) + "</tr>"
        for m in MEASURES)
    words = "".join(f"<div><b>{SHORT[m]}</b>: {html.escape(MEASURE_WORDS[m].split(': ', 1)[-1])}</div>" for m in MEASURES)
    return (f'<div id="{css_id}"><div class="gs-day">{html.escape(done)}</div>'
            f'<table class="gs-results"><tr><th>measure (95% interval)</th>{heads}</tr>{body}</table>'
            f'<div class="gs-note" style="margin-top:6px;">{words}</div></div>')


def paired_protection(a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """P(protected | a) − P(protected | b) over the same seeds, with its BCa bootstrap interval."""
    from guarantee_sim.runs.sweep import paired_difference

    return paired_difference(protected(a).astype(float), protected(b).astype(float))


def rows_of(scenario, root: int, runs: int) -> pd.DataFrame:
    """All of a batch at once (tests, and the comparison's second design)."""
    return to_frame([], scenario.horizon) if runs <= 0 else list(batches(scenario, root, runs, runs))[-1]



# on the page -----------------------------------------------------------------------------------


@solara.component
def BatchPanel(settings: dict):
    """N runs of the sidebar's settings, the measures and their intervals filling in as runs finish."""
    runs = solara.use_reactive(100)
    started = solara.use_reactive(0)
    result = solara.use_reactive(None)  # (rows so far, runs asked, command)

    def work(cancel):
        if not started.value:
            return
        scenario, overrides, _ = scenario_of(settings)
        n, root = min(max(int(runs.value or 1), 1), MAX_RUNS), int(settings["seed"])
        command = batch_command(overrides, n, root)
        result.set((to_frame([], scenario.horizon), n, command, scenario.horizon))
        for df in batches(scenario, root, n):
            if cancel.is_set():
                return
            result.set((df, n, command, scenario.horizon))

    solara.use_thread(work, dependencies=[started.value, tuple(sorted(settings.items()))])  # a changed setting reruns it
    with solara.Column(classes=["gs-page"]):
        solara.HTML(tag="div", unsafe_innerHTML=(
            '<div class="gs-why">How often is Ukraine protected under these settings? Run many replications of the '
            "sidebar's scenario and watch the probabilities and their 95% intervals settle.</div>"))
        with solara.Row(style={"align-items": "center", "gap": "12px"}):
            solara.InputInt(label="Runs", value=runs)
            solara.Button("Run the batch", on_click=lambda: started.set(started.value + 1), color="primary")
        if result.value is not None:
            df, n, command, horizon = result.value
            done = f"{len(df)} of {n} runs done" + ("" if len(df) < n else " (finished)")
            solara.HTML(tag="div", unsafe_innerHTML=results_html({"these settings": measures(df, horizon)},
                                                                 "gs-batch", done))
            solara.HTML(tag="div", unsafe_innerHTML=(
                '<div class="gs-note">The same batch in a terminal (it prints these numbers):</div>'
                f'<code id="gs-batch-command" class="gs-code">{html.escape(command)}</code>'))


def _other_design(current: str) -> str:
    designs = options("commitments")
    for candidate in ("budapest_like", "paris_2026", *designs):
        if candidate != current and candidate in designs:
            return candidate
    return current


@solara.component
def ComparePanel(settings: dict):
    """Two designs side by side on one seed: a run of each, then a batch of each and the paired
    difference in P(protected) (the same seeds, so the difference is the design's alone)."""
    other = solara.use_reactive(_other_design(settings["commitments"]))
    runs = solara.use_reactive(100)
    started = solara.use_reactive(0)
    result = solara.use_reactive(None)
    designs = (settings["commitments"], other.value)
    pair = solara.use_memo(lambda: [_finished({**settings, "commitments": d}) for d in designs],
                           [tuple(sorted(settings.items())), other.value])

    def work(cancel):
        if not started.value:
            return
        frames, n = [], min(max(int(runs.value or 1), 1), MAX_RUNS)
        for d in designs:
            scenario, _, _ = scenario_of({**settings, "commitments": d})
            frames.append((rows_of(scenario, int(settings["seed"]), n), scenario.horizon))
            if cancel.is_set():
                return
        result.set((frames, n))

    solara.use_thread(work, dependencies=[started.value, tuple(sorted(settings.items())), other.value])
    with solara.Column(classes=["gs-page"]):
        solara.HTML(tag="div", unsafe_innerHTML=(
            f'<div class="gs-why">The sidebar\'s design ({html.escape(designs[0])}) against another, on the same '
            f"seed ({int(settings['seed'])}): the same draws for every decision. A design with another "
            "multinational force faces another breach plan, since the force is part of what the violator "
            "weighs.</div>"))
        solara.Select(label="Compare with the design", value=other, values=options("commitments"))
        with solara.Row(classes=["gs-row"], style={"width": "100%"}):
            for d, model in zip(designs, pair):
                with solara.Column(classes=["gs-grow"]):
                    solara.HTML(tag="div", unsafe_innerHTML=(
                        f'<div class="gs-compare" data-design="{html.escape(d)}"><div class="gs-panel-title">{html.escape(d)}'
                        f"</div>{why_html(model, ids=False)}{capacity_html(model, ids=False)}{funnel_html(model, ids=False)}"
                        f'<code class="gs-code gs-compare-command">{html.escape(model.command)}</code></div>'))
        with solara.Row(style={"align-items": "center", "gap": "12px"}):
            solara.InputInt(label="Runs of each", value=runs)
            solara.Button("Run a batch of each", on_click=lambda: started.set(started.value + 1), color="primary")
        if result.value is not None:
            (a, ha), (b, hb) = result.value[0]
            diff = paired_protection(a, b)
            solara.HTML(tag="div", unsafe_innerHTML=(
                results_html({designs[0]: measures(a, ha), designs[1]: measures(b, hb)}, "gs-compare-batch",
                             f"{result.value[1]} runs of each, seeds shared")
                + f'<div class="gs-day" id="gs-paired">P(protected), {html.escape(designs[0])} − '
                  f'{html.escape(designs[1])}: {diff["estimate"]:+.1%} [{diff["low"]:+.1%}, {diff["high"]:+.1%}] '
                  "(paired over the same seeds, 95% bootstrap interval)</div>"))


def _finished(settings: dict) -> DashboardModel:
    model = DashboardModel(**settings)
    model.run()
    return model
