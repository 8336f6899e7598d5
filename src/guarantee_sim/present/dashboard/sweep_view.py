"""A finished sweep read for the explorer: the sweeps under a results folder, one measure over two
levers as a grid, and what a click on a cell shows — its measures, its funnel, its Kaplan–Meier
curves and its run 0 told in words. Pure data: ``explorer.py`` draws it.

The tables are read by the report's loader (``report.load``), the curves drawn by
``survival_figures.plot_km``, the run re-computed as the report does it
(``report.figures.narrated_run``) and told by ``narrative``: this module only arranges them.

    from guarantee_sim.present.dashboard.sweep_view import cell_view, find_sweeps, heat_table
    table = heat_table(find_sweeps("results")[0], "support_in_time_given_attack")
"""

from __future__ import annotations

import functools
import json
import math
import shlex
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from guarantee_sim.analysis.stats import MEASURE_WORDS, table_horizon
from guarantee_sim.errors import ConfigError
from guarantee_sim.model.outcomes import STAGES, Stage
from guarantee_sim.present.narrative import (
    STAGE_LABELS,
    STAGE_MEANING,
    nothing_binding,
    story,
    why,
)
from guarantee_sim.present.plots import values_of
from guarantee_sim.present.report.figures import narrated_run
from guarantee_sim.present.report.load import Results, load, read_source
from guarantee_sim.present.style import wrapped_title
from guarantee_sim.present.survival_figures import plot_km
from guarantee_sim.runs.runner import release, run_seeds
from guarantee_sim.runs.sweep import TABLES
from guarantee_sim.scenario.schema import RUN_SETTINGS

SEARCH_DEPTH = 3  # results/sweeps/<sweep> is two levels down; one more for a course's own folders
WHERE = "a sweep folder that guarantee-sim -m ... has finished (it holds sweep.json and sweep_summary.csv)"
_lock = threading.Lock()  # Solara serves sessions from threads; the model's registries are shared


# measures ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """A per-cell measure: its sweep_summary.csv columns, its short name and its name in words."""

    column: str
    label: str
    low: str
    high: str
    words: str


MEASURES = {m.column: m for m in (
    *(Measure(c, label, f"{c}_low", f"{c}_high", MEASURE_WORDS[c]) for c, label in (
        ("protected_probability", "P(protected)"), ("support_in_time_given_attack", "P(support in time | attack)"),
        ("attack_probability", "P(attack)"))),
    Measure("activation_probability", "P(pooled activation)", "activation_low", "activation_high",
            MEASURE_WORDS["activation_probability"]))}
DEFAULT_MEASURE = "protected_probability"  # the measure the command line's own sweep table shows


@dataclass(frozen=True)
class Estimate:
    """A measure of one cell: the share, its 95% Wilson interval, and why it may have no number."""

    value: float
    low: float
    high: float
    note: str = ""  # "nothing binding, by construction" or "no attack to answer"


def estimate(row, measure: Measure) -> Estimate:
    """A sweep summary row's value of ``measure``, with the reason when the number means nothing."""
    value, low, high = (float(row[c]) for c in (measure.column, measure.low, measure.high))
    note = ""
    if measure.column == "activation_probability" and nothing_binding(row):
        note = "nothing binding, by construction"
    elif math.isnan(value):
        note = "no attack to answer" if measure.column == "support_in_time_given_attack" else "no runs"
    return Estimate(value, low, high, note)


# finding and reading sweeps ------------------------------------------------------------------
def finished(folder: Path) -> bool:
    """A sweep whose tables are all written (sweep.json comes last; a sweep that restarts removes them)."""
    return all((folder / name).is_file() for name in TABLES)


def find_sweeps(root: str | Path) -> list[Path]:
    """The finished sweeps in ``root`` (itself a sweep, or a results folder), newest first."""
    found: list[Path] = []

    def walk(folder: Path, depth: int) -> None:
        if finished(folder):
            found.append(folder)
            return
        if depth >= SEARCH_DEPTH or (folder / "cell.json").exists():
            return
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            return
        for child in children:
            walk(child, depth + 1)

    walk(Path(root).expanduser(), 0)  # a folder that is not there has no sweeps
    return sorted(found, key=lambda p: ((p / "sweep.json").stat().st_mtime, str(p)), reverse=True)


def _written(sweep_dir: str | Path) -> tuple[str, float]:
    """A finished sweep's folder and when its tables were written (the caches' key), or why it is none."""
    folder = Path(sweep_dir).expanduser()
    if not finished(folder):
        kind = read_source(folder).kind  # a one-line error for anything that is not results
        raise ConfigError("sweep", f"{folder} is a {kind} folder, not a finished sweep", WHERE)
    return str(folder.resolve()), (folder / "sweep.json").stat().st_mtime


def open_sweep(sweep_dir: str | Path) -> Results:
    """The sweep's tables as the report reads them, kept while its sweep.json is unchanged."""
    return _load(*_written(sweep_dir))


@functools.lru_cache(maxsize=4)
def _load(folder: str, written: float) -> Results:
    return load([folder])


def _cell_row(res: Results, cell: str):
    rows = res.summary[res.summary["cell"] == cell]
    if not len(rows):
        raise ConfigError("cell", f"no cell {cell!r} in this sweep", ", ".join(res.summary["cell"][:4]) + " ...")
    return rows.iloc[0]


# the heat table ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeatCell:
    """One square of the grid: which cell it is and its measure."""

    cell: str
    row: str
    col: str
    runs: int
    estimate: Estimate


@dataclass(frozen=True)
class HeatTable:
    """One measure over two levers, the sweep's other levers held at one value each."""

    sweep: Path
    measure: Measure
    rows_lever: str | None
    cols_lever: str | None
    rows: list[str]
    cols: list[str]
    grid: list[list[HeatCell | None]]  # rows x cols; None where the sweep has no such cell
    fixed: dict[str, str]  # the other levers that vary, at the value shown
    choices: dict[str, list[str]]  # ... and the values each could take
    same: dict[str, str]  # levers every cell shares

    def cells(self) -> list[HeatCell]:
        return [c for line in self.grid for c in line if c is not None]


def heat_table(sweep_dir: str | Path, measure: str = DEFAULT_MEASURE, rows: str | None = None,
               cols: str | None = None, fixed: dict[str, str] | None = None) -> HeatTable:
    """``measure`` of each cell over the first two levers the sweep varies (as the command line's own table;
    ``rows``/``cols`` choose others), the others at ``fixed`` or their first listed value (the baseline)."""
    if measure not in MEASURES:
        raise ConfigError("measure", f"unknown measure {measure!r}", ", ".join(MEASURES))
    m = MEASURES[measure]
    res = open_sweep(sweep_dir)
    vary = [k for k in res.levers if k in res.varying]
    if {rows, cols} - {None, *vary} or (rows and rows == cols):
        raise ConfigError("rows/cols", f"cannot put {rows} down and {cols} across", "two different levers of "
                          + ", ".join(vary))
    axes = [k for k in (rows, cols) if k] + [k for k in vary if k not in (rows, cols)]
    rows_lever, cols_lever = (axes + [None, None])[:2]
    others = [k for k in vary if k not in (rows_lever, cols_lever)]
    choices = {k: values_of(res.summary, k, res.order) for k in others}
    held = {k: str((fixed or {}).get(k) or choices[k][0]) for k in others}
    for k, value in held.items():
        if value not in choices[k]:
            raise ConfigError(k, f"{value!r} is not among this sweep's values", ", ".join(choices[k]))
    table = res.summary[res.summary[list(held)].eq(pd.Series(held)).all(axis=1)] if held else res.summary
    row_values = values_of(res.summary, rows_lever, res.order) if rows_lever else [""]
    col_values = values_of(res.summary, cols_lever, res.order) if cols_lever else [""]
    found = {(str(r[rows_lever]) if rows_lever else "", str(r[cols_lever]) if cols_lever else ""): r
             for _, r in table.iterrows()}
    grid = [[None if (rv, cv) not in found else
             HeatCell(found[rv, cv]["cell"], rv, cv, int(found[rv, cv]["runs"]), estimate(found[rv, cv], m))
             for cv in col_values] for rv in row_values]
    same = {k: str(res.summary[k].iloc[0]) for k in res.levers if k not in vary and len(res.summary)}
    return HeatTable(Path(sweep_dir), m, rows_lever, cols_lever, row_values, col_values, grid, held, choices, same)


# one cell ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FunnelStage:
    """The runs whose chain stopped at one stage (the ``stage`` column of runs.parquet)."""

    stage: str
    label: str
    meaning: str
    runs: int
    share: float


@dataclass(frozen=True)
class NarratedRun:
    """One stored run re-computed with its event record, and the command that tells it in a terminal."""

    run: int
    seed: int
    stage: str
    why: str
    story: list[tuple[float, str, str]]  # (day, kind, sentence), the decisive events
    command: str


@dataclass(frozen=True)
class CellView:
    """What a click on a cell shows."""

    sweep: Path
    cell: str
    levers: dict[str, str]
    runs: int
    horizon: float
    estimates: list[tuple[Measure, Estimate]]
    funnel: list[FunnelStage]
    figure: object  # the Kaplan–Meier curves (a matplotlib Figure)
    run: NarratedRun


def funnel(stages) -> list[FunnelStage]:
    """Each stage's runs and share, in the chain's order from no breach to activated."""
    counts, n = stages.value_counts(), len(stages)
    return [FunnelStage(s, STAGE_LABELS[s], STAGE_MEANING[Stage(s)],
                        int(counts.get(s, 0)), int(counts.get(s, 0)) / n if n else math.nan) for s in STAGES]


KM_SERIES = (("activation_day", "pooled binding support activated"),
             ("military_support_day", "military support at the level Ukraine needs"))


def km_figure(runs, horizon: float, title: str):
    """The report's Kaplan–Meier figure for one cell, with the day military support reached
    Ukraine's need beside the day pooled binding support activated (both censored at the horizon)."""
    frame = pd.concat([pd.DataFrame({"cell": label, "activation_day": runs[column].to_numpy(dtype=float)})
                       for column, label in KM_SERIES], ignore_index=True)
    labels = {label: label for _, label in KM_SERIES}
    fig = plot_km(frame, list(labels), horizon, labels=labels)
    fig.axes[0].set_ylabel("share of runs (Kaplan–Meier)")
    fig.set_size_inches(5.6, 3.7)  # shown 1000 px wide (CSS below): its smallest text at 16 px
    wrapped_title(fig, f"Days since the ceasefire, censored at the horizon (bands: pointwise 95%)\n{title}", 5.6)
    return fig


def explain_command(res: Results, cell: str, run: int, seed: int) -> str:
    """``guarantee-sim explain`` for a stored run: the cell's overrides as the sweep composed it (its
    manifest) without the run settings, and run ``run`` of the root seed (or the run's own seed)."""
    manifest = res.cell_source[cell].path / "manifest.json"
    entries = (json.loads(manifest.read_text()).get("cells") or []) if manifest.is_file() else []
    listed = next((e.get("overrides") for e in entries if e.get("cell") == res.cell_name[cell]), None)
    if listed is None:  # an older sweep: its levers
        listed = [f"{k}={v}" for k, v in _cell_row(res, cell)[res.levers].items()]
    keys = [str(o).lstrip("+~").split("=", 1)[0] for o in listed]
    overrides = [str(o) for o, k in zip(listed, keys) if k.split(".")[0] not in RUN_SETTINGS and not k.startswith("hydra")]
    root = res.cell_source[cell].meta.get("root_seed")  # the sweep's, as the report reads it
    tells = root is not None and run_seeds(int(root), run + 1)[run] == seed
    which = ([f"seed={root}"] + ([f"run={run}"] if run else [])) if tells else [f"run_seed={seed}"]
    return shlex.join(["guarantee-sim", "explain", *overrides, *which, "--brief"])


def cell_view(sweep_dir: str | Path, cell: str, run: int = 0) -> CellView:
    """A cell's measures, its funnel, its Kaplan–Meier curves and its run ``run`` told in words."""
    return _cell_view(*_written(sweep_dir), cell, run)


@functools.lru_cache(maxsize=16)
def _cell_view(folder: str, written: float, cell: str, run: int) -> CellView:
    res = _load(folder, written)
    row = _cell_row(res, cell)
    runs = res.runs[res.runs["cell"] == cell]
    if run not in set(runs["run"]):
        raise ConfigError("run", f"run {run} is not among the cell's runs", f"0 to {len(runs) - 1}")
    horizon = table_horizon(runs) if "horizon" in runs else res.horizon  # each cell's own
    levers = {k: str(row[k]) for k in res.levers}
    with _lock:
        model, stored = narrated_run(res, cell, run)
        told = NarratedRun(run, int(stored["seed"]), model.stage().value, why(model), story(model, brief=True),
                           explain_command(res, cell, run, int(stored["seed"])))
        release(model)
        figure = km_figure(runs, horizon, ", ".join(f"{k}={v}" for k, v in levers.items()))
    return CellView(Path(folder), cell, levers, int(row["runs"]), horizon,
                    [(m, estimate(row, m)) for m in MEASURES.values()], funnel(runs["stage"]), figure, told)
