"""Sweep-level tables: every cell of a Hydra multirun gathered into one store.

``SweepAggregator`` is a Hydra callback: when the launcher (basic, joblib, submitit) has run
every cell, it reads the cells the command asked for (its manifest, ``expected_cells``; never
whatever else is in the folder) and writes, in the sweep folder, ``sweep_runs.parquet`` (one row
per run, the cell's levers as columns), ``sweep_summary.csv`` and ``.json`` (one row per cell) and
``sweep.json`` (provenance), or none of them: a missing, incomplete or foreign cell stops the
tables with one line and a non-zero exit. Cells share their run seeds (common random numbers), so
each cell is also compared, run by run, with its baseline cell.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig
from scipy import stats

from guarantee_sim.analysis.stats import protected
from guarantee_sim.model.outcomes import STAGES
from guarantee_sim.runs.provenance import code_version, describe_code, git_commit, now, record, write_atomic, write_json
from guarantee_sim.runs.store import (STORE_FORMAT, Identity, Lock, restamp, differences,
                                      read_json, refusal, stored_identity)
from guarantee_sim.runs.tables import Damaged, read_cell_rows
from guarantee_sim.scenario.schema import NOT_LEVERS, cell_name  # NOT_LEVERS: the run settings and the preset

PROGRESS = ".progress"  # the cells finished in this launch, one line each, in the order they finished
CLAIMS = ".claims"  # the cells a job of this launch has taken, one empty file each (runs/cli.py: claim)
TABLES = ("sweep_runs.parquet", "sweep_summary.csv", "sweep_summary.json", "sweep.json")  # sweep.json last


class SweepIncomplete(Exception):
    """The sweep tables cannot be written (the message says why, in one line)."""


def sweep_jobs(task_overrides, sweeper_params=None) -> list[list[str]]:
    """Every job of a sweep, as Hydra's basic sweeper makes them: a preset's ``hydra.sweeper.params``
    followed by the command's overrides, expanded (``a=1,2 b=x,y``)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    listed = [f"{k}={v}" for k, v in (sweeper_params or {}).items()] + [str(o) for o in task_overrides]
    parsed = OverridesParser.create().parse_overrides(listed)
    return [list(job) for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def expected_cells(task_overrides, sweeper_params=None) -> dict[str, dict[str, str]]:
    """The sweep's manifest: each cell's folder name and levers, in the order Hydra launches them."""
    out: dict[str, dict[str, str]] = {}
    for job in sweep_jobs(task_overrides, sweeper_params):
        out.setdefault(cell_name(job), lever_overrides(job))
    return out


def expected_jobs(task_overrides, sweeper_params=None) -> dict[str, list[str]]:
    """Each cell's overrides as Hydra composes its job (the manifest keeps them: a job that runs
    several cells reads theirs there)."""
    out: dict[str, list[str]] = {}
    for job in sweep_jobs(task_overrides, sweeper_params):
        out.setdefault(cell_name(job), job)
    return out


def lever_overrides(task_overrides) -> dict[str, str]:
    """The levers a job sets: its task overrides, minus run settings."""
    out = {}
    for o in task_overrides:
        key, _, value = str(o).lstrip("+~").partition("=")
        if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]  # a quoted string's value (Hydra quotes it again when it expands a sweep)
        if key.split(".")[0] not in NOT_LEVERS:
            out[key] = value
    return out


def paired_difference(a: pd.Series, b: pd.Series, seed: int = 0, level: float = 0.95) -> dict:
    """P(activated | a) − P(activated | b) over paired runs, with a BCa bootstrap interval.

    Resampling pairs and taking the difference of means is resampling the per-run differences
    and taking their mean, which scipy does at half the cost.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    d = x - y
    diff = float(x.mean() - y.mean())
    if len(x) < 2 or np.all(d == d[0]):
        return {"estimate": diff, "low": diff, "high": diff}
    res = stats.bootstrap(
        (d,),
        np.mean,
        confidence_level=level,
        n_resamples=2000,
        method="BCa",
        random_state=np.random.default_rng(seed),
    )
    return {"estimate": diff, "low": float(res.confidence_interval.low), "high": float(res.confidence_interval.high)}


def _num(d, key="estimate"):
    v = d.get(key) if isinstance(d, dict) else None
    return math.nan if v is None else float(v)


def summary_row(cell: str, levers: dict, summary: dict) -> dict:
    """A cell's summary.json as one row of the sweep summary table."""
    row = {"cell": cell, **{k: str(v) for k, v in levers.items()}, "runs": summary["runs"]}
    p, m = summary["activation_probability"], summary["median_days_to_activation"]
    row.update(
        activation_probability=_num(p), activation_low=_num(p, "low"), activation_high=_num(p, "high"),
        median_days=_num(m), median_days_low=_num(m, "low"), median_days_high=_num(m, "high"),
    )
    for t, d in summary["by_support_type"].items():
        row[f"activation_probability_{t}"] = _num(d["activation_probability"])
        row[f"median_days_{t}"] = _num(d["median_days_to_activation"])
    for stage in STAGES:
        row[f"funnel_{stage}"] = summary["funnel"][stage]
    for measure in ("attack_probability", "support_in_time_given_attack", "protected_probability"):
        d = summary[measure]
        row.update({measure: _num(d), f"{measure}_low": _num(d, "low"), f"{measure}_high": _num(d, "high")})
    row["false_activation"] = _num(summary["false_activation"])
    row["nothing_binding"] = bool(summary.get("nothing_binding", False))
    if "half_width" in summary:  # runs=auto: the measure made precise and how precise it is
        hw = summary["half_width"]
        row.update(precision_on=summary.get("precision_on", "activation_probability"),
                   half_width=math.nan if hw is None else hw)
    row.update(baseline_cell="", paired_difference=math.nan, paired_low=math.nan, paired_high=math.nan)
    return row


def collect_cells(sweep_dir: Path, expected: dict[str, dict] | None = None) -> list[tuple[str, dict, pd.DataFrame]]:
    """The cells' summaries and rows: the ``expected`` ones (each must be complete and sound, else
    ``SweepIncomplete``), or without a manifest every complete cell in the folder, by name."""
    sweep_dir = Path(sweep_dir)
    if expected is None:
        names = sorted(p.parent.name for p in sweep_dir.glob("*/cell.json") if (p.parent / "summary.json").exists())
    else:
        names = list(expected)
    cells, missing = [], []
    for name in names:
        cell_dir = sweep_dir / name
        meta, summary = read_json(cell_dir / "cell.json"), read_json(cell_dir / "summary.json")
        ident = Identity.from_json((meta or {}).get("identity")) if isinstance(meta, dict) else None
        if not isinstance(summary, dict) or ident is None:
            missing.append(f"{name} (not computed)" if not cell_dir.is_dir() else f"{name} (incomplete)")
            continue
        try:
            df = read_cell_rows(cell_dir / "runs.parquet", ident.accepted())
        except Damaged as why:
            missing.append(f"{name} (runs.parquet: {why})")
            continue
        if len(df) != summary.get("runs"):
            missing.append(f"{name} (runs.parquet and summary.json disagree)")
            continue
        cells.append((name, {**summary, "_identity": ident}, df))
    if missing:
        raise SweepIncomplete(f"{len(missing)} of {len(names)} cells missing or unusable: " + ", ".join(missing[:5])
                              + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
    return cells


def baseline_of(levers: dict, cells: dict[str, dict], baseline: tuple[str, str] | None) -> str | None:
    """The cell with the same levers as ``levers`` but the baseline value of the baseline lever."""
    if baseline is None:
        return None
    key, value = baseline
    wanted = {**levers, key: value}
    for name, other in cells.items():
        if other == wanted:
            return name
    return None


def aggregate(sweep_dir: Path, baseline: tuple[str, str] | None, seed: int,
              expected: dict[str, dict] | None = None) -> tuple[pd.DataFrame, list[str]] | None:
    """Write the sweep tables; return the sweep summary and the lever keys (None: no complete cell).

    ``expected``: the manifest (``expected_cells``); the tables hold exactly its cells, which must
    share their run settings, or nothing is written (``SweepIncomplete``)."""
    sweep_dir = Path(sweep_dir)
    cells = collect_cells(sweep_dir, expected)
    if not cells:
        return None
    for part, what in (("run", "run settings"), ("code", "code versions")):
        seen = {json.dumps(getattr(s["_identity"], part), sort_keys=True) for _, s, _ in cells}
        if len(seen) > 1:  # the store refuses such cells; a cluster node with other code could still write one
            raise SweepIncomplete(f"the cells were computed with different {what}: {'; '.join(sorted(seen))}")
    lever_keys: list[str] = []
    for _, summary, _ in cells:
        for k in summary.get("levers", {}):
            if k not in lever_keys:
                lever_keys.append(k)
    frames, rows = [], []
    levers_by_cell = {name: summary.get("levers", {}) for name, summary, _ in cells}
    runs_by_cell = {name: df for name, _, df in cells}
    for name, summary, df in cells:
        levers = summary.get("levers", {})
        head = pd.DataFrame({"cell": name, **{k: levers.get(k, "") for k in lever_keys if k not in df.columns}},
                            index=df.index)
        frame = pd.concat([head, df], axis=1)
        if any(k in df.columns for k in lever_keys):  # a lever the runs carry (horizon) moves to its place
            frame = frame[["cell", *lever_keys, *(c for c in df.columns if c not in lever_keys)]]
        frames.append(frame)
        row = summary_row(name, {k: levers.get(k, "") for k in lever_keys}, summary)
        base = baseline_of(levers, levers_by_cell, baseline)
        row["baseline_cell"] = base or ""
        if base is not None and base != name:
            a, b = protected(runs_by_cell[name]), protected(runs_by_cell[base])
            n = min(len(a), len(b))  # auto-sized cells share their first n seeds
            d = paired_difference(a[:n], b[:n], seed=seed)
            row.update(paired_difference=d["estimate"], paired_low=d["low"], paired_high=d["high"])
        rows.append(row)
    table = pd.concat(frames, ignore_index=True)
    summary_table = pd.DataFrame(rows)
    try:
        write_atomic(sweep_dir / "sweep_runs.parquet", lambda p: table.to_parquet(p, index=False))
        write_atomic(sweep_dir / "sweep_summary.csv", lambda p: summary_table.to_csv(p, index=False))
        write_json(sweep_dir / "sweep_summary.json",
                   {"levers": lever_keys, "baseline": list(baseline) if baseline else None, "cells": rows})
    except BaseException:
        remove_tables(sweep_dir)  # all of them or none
        raise
    return summary_table, lever_keys


def remove_tables(sweep_dir: Path) -> None:
    """Remove the sweep tables (before a sweep starts, and when writing them failed)."""
    for name in TABLES:
        (Path(sweep_dir) / name).unlink(missing_ok=True)


def computed_by(sweep_dir: Path, names) -> tuple[str, list[str]]:
    """The git commit(s) that computed the cells, and the cells kept from another version (--reuse)."""
    commits, reused = [], []
    for name in names:
        ident = Identity.from_json((read_json(Path(sweep_dir) / name / "cell.json") or {}).get("identity"))
        if ident is None:
            continue
        code = ident.reused_from[0] if ident.reused_from else ident.code  # the version that computed it
        text = code.get("commit") or describe_code(code)
        if text not in commits:
            commits.append(text)
        if ident.reused_from:
            reused.append(name)
    return (commits[0] if len(commits) == 1 else "several: " + ", ".join(commits)) if commits else "unknown", reused


def default_baseline(task_overrides, sweeper_params=None) -> tuple[str, str] | None:
    """The first value of the first swept lever: on the command line, else in the preset's sweep."""
    listed = [f"{k}={v}" for k, v in (sweeper_params or {}).items()]
    for o in [*task_overrides, *listed]:
        key, _, value = str(o).partition("=")
        if key in NOT_LEVERS or key.startswith("hydra"):
            continue
        if "," in value and not value.lstrip().startswith(("{", "[")):
            return key, value.split(",")[0].strip()
    return None


def format_sweep(table: pd.DataFrame) -> str:
    cols = ["cell", "runs", "P(attack) [95% CI]", "P(in time | attack)", "P(protected)", "P(pooled activation) [95% CI]",
            "median days [95% CI]", "paired diff in P(protected) vs baseline [95% CI]"]
    lines = []
    for _, r in table.iterrows():
        measures = [_ci(r, m) for m in ("attack_probability", "support_in_time_given_attack", "protected_probability")]
        p = ("nothing binding, by construction" if r.get("nothing_binding", False) else
             f"{r.activation_probability:.3f} [{r.activation_low:.3f}, {r.activation_high:.3f}]")
        m = "—" if math.isnan(r.median_days) else f"{r.median_days:.0f} [{_fmt(r.median_days_low)}, {_fmt(r.median_days_high)}]"
        d = "" if math.isnan(r.paired_difference) else f"{r.paired_difference:+.3f} [{r.paired_low:+.3f}, {r.paired_high:+.3f}]"
        lines.append((r.cell, str(r.runs), *measures, p, m, d))
    widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(cols)]
    out = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    out += ["  ".join(v.ljust(w) for v, w in zip(line, widths)) for line in lines]
    return "\n".join(out)


PIVOT_MEASURE = ("protected_probability", "P(protected), in %: no armed attack, or military support at the level "
                 "Ukraine needs delivered within its holding time (95% interval)")


def format_pivot(table: pd.DataFrame, lever_keys: list[str]) -> str:
    """A sweep of two or more levers as tables: the first lever's values down, the second's across,
    one table for each combination of the others; P(protected) in percent with its interval."""
    measure, words = PIVOT_MEASURE
    rows_key, cols_key, rest = lever_keys[0], lever_keys[1], lever_keys[2:]
    rows = list(dict.fromkeys(table[rows_key]))
    cols = list(dict.fromkeys(table[cols_key]))
    out = [words]
    blocks = table.groupby(rest, sort=False) if rest else [((), table)]
    for key, block in blocks:
        key = key if isinstance(key, tuple) else (key,)
        out.append("")
        if rest:
            out.append(", ".join(f"{k}={v}" for k, v in zip(rest, key)))
        cells = {(r[rows_key], r[cols_key]): r for _, r in block.iterrows()}
        text = [[""] + cols]
        for row in rows:
            line = [row]
            for col in cols:
                r = cells.get((row, col))
                est = math.nan if r is None else r[measure]
                line.append("" if math.isnan(est) else
                            f"{100 * est:.0f} ({100 * r[f'{measure}_low']:.0f}-{100 * r[f'{measure}_high']:.0f})")
            text.append(line)
        widths = [max(len(line[i]) for line in text) for i in range(len(text[0]))]
        out += ["  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(line, widths))) for line in text]
    return "\n".join(out)


def _ci(r, measure: str) -> str:
    est = r.get(measure, math.nan)
    if est is None or math.isnan(est):
        return "—"
    return f"{est:.3f} [{r[f'{measure}_low']:.3f}, {r[f'{measure}_high']:.3f}]"


def _fmt(v) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0f}"


class SweepStore:
    """A sweep's folder: one set of run settings and one code version (``store.json``), the cells the
    command asks for (``manifest.json``) and a lock held while the sweep runs.

    ``check()`` reads only, and refuses (``StoreRefused``) a folder or cell that holds other results;
    entered (``with store:``), the store is locked, checked again, and its stale sweep tables are
    removed, so that tables exist only when the last sweep into the folder finished them."""

    KEY = "hydra.sweep.dir"

    def __init__(self, folder: Path, run: dict, cells: dict[str, dict], command: list[str], reuse: bool = False,
                 jobs: dict[str, list[str]] | None = None):
        self.folder, self.run, self.cells, self.command, self.reuse = Path(folder), run, cells, command, reuse
        self.jobs = jobs or {}
        self.lock: Lock | None = None
        self.restamps: list[tuple[Path, Identity]] = []

    def check(self) -> None:
        code = code_version()
        self.restamps = []
        stored = read_json(self.folder / "store.json")
        if stored is not None or (self.folder / "store.json").exists():
            ident = Identity.from_json({**(stored or {}), "config": ""}) if isinstance(stored, dict) else None
            self._compare(self.folder, ident, code, None)
        elif self.folder.is_dir() and any(self.folder.glob("*/cell.json")):
            raise refusal(self.folder, ["it was written by an older version of the result store"], self.KEY)
        for name in self.cells:
            exists, ident = stored_identity(self.folder / name)
            if exists:
                self._compare(self.folder / name, ident, code, name)

    def _compare(self, where: Path, stored: Identity | None, code: dict, cell: str | None) -> None:
        wanted = Identity(stored.config if stored else "", self.run, code)
        diffs = differences(stored, wanted, ("run", "code"))
        if not diffs:
            return
        only_code = stored is not None and not differences(stored, wanted, ("run",))
        if not (self.reuse and only_code):
            raise refusal(self.folder, diffs, self.KEY, only_code, cell)
        self.restamps.append((where, Identity(stored.config, self.run, code, STORE_FORMAT,
                                              [*stored.reused_from, stored.code])))

    def __enter__(self) -> SweepStore:
        self.lock = Lock(self.folder, self.KEY, "sweep").__enter__()
        try:
            self.check()  # again, under the lock: another process may have been first
            self.begin()
        except BaseException:
            self.lock.__exit__()
            raise
        return self

    def begin(self) -> None:
        for where, ident in self.restamps:
            if where == self.folder:
                continue
            restamp(where, ident)
        folder_ident = {"format": STORE_FORMAT, "run": self.run, "code": code_version()}
        reused = [i.reused_from for w, i in self.restamps if w == self.folder]
        if reused:
            folder_ident["reused_from"] = reused[0]
        elif (read_json(self.folder / "store.json") or {}).get("reused_from"):
            folder_ident["reused_from"] = read_json(self.folder / "store.json")["reused_from"]
        write_json(self.folder / "store.json", folder_ident)
        write_json(self.folder / "manifest.json", {"command": self.command, "written": now(),
                                                   "cells": [{"cell": n, "levers": lv, "overrides": self.jobs.get(n)}
                                                             for n, lv in self.cells.items()]})
        (self.folder / PROGRESS).write_text("")
        shutil.rmtree(self.folder / CLAIMS, ignore_errors=True)  # a killed launch's claims hold nothing
        (self.folder / CLAIMS).mkdir()
        remove_tables(self.folder)

    def __exit__(self, *exc) -> None:
        if self.lock is not None:
            self.lock.__exit__()
            self.lock = None

    def tables_written(self) -> bool:
        return SweepAggregator.failed is None and (self.folder / "sweep.json").exists()


class SweepAggregator(Callback):
    """Hydra callback (see conf/config.yaml): aggregate the sweep once every cell has run.

    Hydra turns a callback's exception into a warning; so every failure here is told in one line
    on stderr, leaves no table behind, and ``failed`` tells ``guarantee-sim`` to exit non-zero."""

    failed: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        self.started = now()
        SweepAggregator.failed = None

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            self._aggregate(config, sweep_dir)
        except Exception as exc:  # noqa: BLE001 - told in one line, and the exit code says it
            remove_tables(sweep_dir)
            reason = str(exc) if isinstance(exc, SweepIncomplete) else f"{type(exc).__name__}: {exc}"
            SweepAggregator.failed = " ".join(reason.split())
            print(f"guarantee-sim: error: sweep tables not written in {sweep_dir}: {SweepAggregator.failed}",
                  file=sys.stderr, flush=True)
        finally:
            (sweep_dir / PROGRESS).unlink(missing_ok=True)
            shutil.rmtree(sweep_dir / CLAIMS, ignore_errors=True)

    def _aggregate(self, config: DictConfig, sweep_dir: Path) -> None:
        from omegaconf import OmegaConf

        task = [str(o) for o in config.hydra.overrides.task]
        base = config.get("baseline")
        params = config.hydra.sweeper.get("params")
        params = OmegaConf.to_container(params, resolve=True) if params else {}
        baseline = tuple(str(base).split("=", 1)) if base else default_baseline(task, params)
        expected = expected_cells(task, params)
        result = aggregate(sweep_dir, baseline if baseline and len(baseline) == 2 else None, int(config.seed), expected)
        if result is None:
            raise SweepIncomplete("no cell to gather")
        table, lever_keys = result
        commit, reused = computed_by(sweep_dir, table["cell"])
        extra = {"cells": list(table["cell"]), "levers": lever_keys, "overrides": task, "horizon": float(config.horizon),
                 "git_commit": commit, "aggregated_by": git_commit(), "reused": reused}
        try:
            write_json(sweep_dir / "sweep.json",
                       record(int(config.seed), getattr(self, "started", now()), int(table["runs"].sum()), extra))
        except BaseException:
            remove_tables(sweep_dir)
            raise
        print(f"\nSweep of {len(table)} cells, {int(table['runs'].sum())} runs (exploratory model: read the intervals)")
        if len(lever_keys) >= 2:
            print(format_pivot(table, lever_keys))
            print("\nEvery measure of every cell, with paired differences against "
                  + (f"{baseline[0]}={baseline[1]}" if baseline else "no baseline") + ": sweep_summary.csv (and the report)")
        else:
            if baseline:
                print(f"Paired differences in P(protected) against {baseline[0]}={baseline[1]} in the same other levers (common random numbers)")
            print(format_sweep(table))
            print("— : not defined (no armed attack, so no support in time to measure; no activation, so no median day)")
        print(f"\nSweep tables: {sweep_dir}/sweep_summary.csv, sweep_runs.parquet")
