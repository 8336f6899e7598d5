"""The result store of one cell (one scenario): batches on disk, resumable, checked, written atomically.

A cell's runs are computed in batches of ``batch_size`` consecutive runs; each finished batch
is a parquet file under ``batches/`` written through a temporary file, flushed to the disk and
renamed, so a killed job leaves only complete batches behind. Started again, the cell reads the
batches it has and computes the rest; the rows are the same because run i's seed depends only on
the root seed and i. ``summary.json`` is written last and marks the cell complete.

A cell has an identity (``cell.json``): a hash of its resolved config, the run settings that
change its rows (seed, runs, batch size; precision and the cap with ``runs=auto``) and the code
version. A folder holding another identity is refused, never resumed or overwritten; each batch
carries the identity too and is checked (rows, runs, seeds, a digest of its rows) before it is
used, and a damaged or foreign batch is computed again. A lock keeps a second process out.
Layout and rules: ``docs/results-store.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import socket
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from guarantee_sim.analysis.stats import SUMMARY_COLUMNS, measure_counts, summarize, summary_csv, wilson
from guarantee_sim.errors import ConfigError, say
from guarantee_sim.runs.executors import parse as parse_executor
from guarantee_sim.runs.provenance import (
    code_version,
    describe_code,
    now,
    record,
    json_writer,
    write_all,
    write_json,
)
from guarantee_sim.runs.runner import run_range, run_seeds
from guarantee_sim.runs.tables import (
    Damaged,
    check_stored,
    columns_of,
    parquet_writer,
    read_checked,
    remember,
    stacked_parquet_writer,
    write_parquet,
)
from guarantee_sim.scenario.schema import RUN_SETTINGS

STORE_FORMAT = 2  # 1: the fingerprint of the config alone (before the store had an identity)
IN_MEMORY_ROWS = 100_000  # a cell of more runs is never held whole (its batches are streamed into runs.parquet)


@dataclass(frozen=True)
class CellPlan:
    """How many runs: a fixed number, or ``auto`` until the Wilson half-width of ``precision_on``
    (a measure of the summary) reaches ``precision``."""

    runs: int | None  # None means auto
    seed: int
    batch_size: int
    precision: float
    max_runs: int
    workers: int = 1
    executor: str = "local"  # where the runs go (runs/executors.py); the rows do not depend on it
    precision_on: str = "protected_probability"

    @property
    def cap(self) -> int:
        return self.max_runs if self.runs is None else self.runs

    def row_settings(self) -> dict:
        """The run settings the rows depend on (the number of workers is not one of them)."""
        out = {"seed": self.seed, "runs": "auto" if self.runs is None else self.runs, "batch_size": self.batch_size}
        if self.runs is None:
            out.update(precision=self.precision, max_runs=self.max_runs, precision_on=self.precision_on)
        return out


def config_hash(config: dict) -> str:
    """The resolved config without the run settings (the identity has the ones that matter) and Hydra's node."""
    keep = {k: v for k, v in config.items() if k not in (*RUN_SETTINGS, "hydra")}
    return hashlib.sha1(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Identity:
    """What a stored result is: its config, the run settings that change its rows, the code version."""

    config: str
    run: dict
    code: dict
    format: int = STORE_FORMAT
    reused_from: list = field(default_factory=list, compare=False)  # code versions accepted with --reuse

    @property
    def fingerprint(self) -> str:
        text = json.dumps({"format": self.format, "config": self.config, "run": self.run, "code": self.code},
                          sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()

    def to_json(self) -> dict:
        out = {"format": self.format, "config": self.config, "run": self.run, "code": self.code}
        if self.reused_from:
            out["reused_from"] = self.reused_from
        return out

    def accepted(self) -> set[str]:
        """The fingerprints its stored files may carry: its own, and those of the code versions it
        was reused from (``--reuse``)."""
        return {self.fingerprint} | {Identity(self.config, self.run, code).fingerprint for code in self.reused_from}

    @classmethod
    def from_json(cls, data) -> Identity | None:
        if not isinstance(data, dict) or data.get("format") != STORE_FORMAT:
            return None
        try:
            return cls(str(data["config"]), dict(data["run"]), dict(data["code"]), STORE_FORMAT,
                       list(data.get("reused_from") or []))
        except (KeyError, TypeError, ValueError):
            return None


def differences(stored: Identity | None, wanted: Identity, parts=("run", "code", "config")) -> list[str]:
    """What differs between a stored identity and the one a command asks for, in words."""
    if stored is None:
        return ["it was written by an older version of the result store"]
    out = []
    if "run" in parts and stored.run != wanted.run:
        for k in sorted(set(stored.run) | set(wanted.run)):
            if stored.run.get(k) != wanted.run.get(k):
                out.append(f"{k} {stored.run.get(k, 'unset')} (this command: {wanted.run.get(k, 'unset')})")
    if "code" in parts and stored.code != wanted.code:
        out.append(f"computed by {describe_code(stored.code)} (this is {describe_code(wanted.code)})")
    if "config" in parts and stored.config != wanted.config:
        out.append("another scenario config under the same name (another preset, roster or config file)")
    return out


class StoreRefused(ConfigError):
    """A store that holds other results than a command asks for, or that another process holds."""


def refusal(store: Path, diffs: list[str], key: str = "hydra.sweep.dir", code_only: bool = False,
            cell: str | None = None) -> StoreRefused:
    """The one-line refusal: which folder (and cell), what differs, how to start afresh or reuse."""
    where = Path(store).as_posix().rstrip("/")
    fresh = f"{key}={where}-2 (a fresh folder), or delete {where}"
    if code_only:
        fresh += ", or add --reuse to keep its results as they are (cell.json records it)"
    of = f" (cell {cell})" if cell else ""
    return StoreRefused(key, f"{where} holds other results{of}: " + "; ".join(diffs), fresh)


def read_json(path: Path):
    """A JSON file's data, or None when it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def stored_identity(cell_dir: Path) -> tuple[bool, Identity | None]:
    """(whether the cell has a ``cell.json``, its identity or None when it is of another format)."""
    meta = read_json(Path(cell_dir) / "cell.json")
    if meta is None:
        return (Path(cell_dir) / "cell.json").exists(), None
    return True, Identity.from_json(meta.get("identity"))


# locks ------------------------------------------------------------------------------------------

class Lock:
    """An exclusive lock on a store folder (``<folder>/.lock``), taken at once or refused.

    An ``flock``-style lock (the ``filelock`` package): the system releases it when its process ends,
    however it ends, so a killed sweep never leaves its folder locked. ``.lock.json`` says who holds it.
    """

    def __init__(self, folder: Path, key: str, what: str):
        from filelock import FileLock

        self.folder, self.key, self.what = Path(folder), key, what
        self.lock = FileLock(str(self.folder / ".lock"), timeout=0)

    def __enter__(self) -> Lock:
        from filelock import Timeout

        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire()
        except Timeout:
            holder = read_json(self.folder / ".lock.json") or {}
            who = f" (process {holder.get('pid')} on {holder.get('host')}, since {holder.get('since')})" if holder else ""
            raise StoreRefused(self.key, f"{self.folder.as_posix()} is in use by another guarantee-sim{who}",
                               f"wait until it has finished, or another {self.key}") from None
        except OSError as exc:
            raise StoreRefused(self.key, f"cannot lock {self.folder.as_posix()}: {exc.strerror or exc}",
                               "a file system with file locks (docs/results-store.md)") from None
        write_json(self.folder / ".lock.json", {"pid": os.getpid(), "host": socket.gethostname(), "since": now(),
                                                "what": self.what}, durable=False)  # a note, not a result
        return self

    def __exit__(self, *exc) -> None:
        try:
            (self.folder / ".lock.json").unlink(missing_ok=True)
        finally:
            self.lock.release()


# one cell -----------------------------------------------------------------------------------------

def half_width(k: int, n: int) -> float:
    if n == 0:
        return math.inf
    _, lo, hi = wilson(k, n)
    return (hi - lo) / 2


def precision_of(measure: str, seen: dict[str, list[int]]) -> float:
    """The Wilson half-width of ``measure`` over the rows counted so far (``measure_counts`` added
    up batch by batch; infinite with no trial: a cell without an attack has no response share to
    make precise)."""
    return half_width(*seen[measure])


class Progress:
    """A tqdm bar on a terminal; one line per cell otherwise."""

    def __init__(self, label: str, total: int, bar: bool = True):
        self.label, self.total = label, total
        self.bar = None
        if bar and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="run", leave=False, file=sys.stderr)

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def check_cell(cell_dir: Path, wanted: Identity, key: str, reuse: bool = False, store: Path | None = None) -> Identity | None:
    """The identity a cell folder will keep, or ``StoreRefused`` when it holds other results.

    With ``reuse``, results computed by another code version (and otherwise the same) are kept as
    they are; their ``cell.json`` records the version they came from."""
    exists, stored = stored_identity(cell_dir)
    if not exists:
        return None
    diffs = differences(stored, wanted)
    if not diffs:
        return stored
    if reuse and stored is not None and not differences(stored, wanted, ("run", "config")):
        return Identity(wanted.config, wanted.run, wanted.code, STORE_FORMAT,
                        [*stored.reused_from, stored.code])
    only_code = stored is not None and not differences(stored, wanted, ("run", "config"))
    cell_dir = Path(cell_dir)
    store = cell_dir if store is None else Path(store)
    raise refusal(store, diffs, key, only_code, cell_dir.name if store != cell_dir else None)


def _complete(cell_dir: Path, accepted: set[str]) -> tuple[pd.DataFrame, dict] | None:
    """A complete cell's rows and summary, if its ``runs.parquet`` and ``summary.json`` are sound."""
    summary = read_json(cell_dir / "summary.json")
    if not isinstance(summary, dict) or not (cell_dir / "runs.parquet").exists():
        return None
    try:
        if isinstance(summary.get("runs"), int) and summary["runs"] > IN_MEMORY_ROWS:
            df, rows = None, check_stored(cell_dir / "runs.parquet", accepted)
        else:
            df = read_checked(cell_dir / "runs.parquet", accepted)
            rows = len(df)
    except Damaged:
        return None
    return (df, _nan(summary)) if rows == summary.get("runs") else None


def _nan(value):
    """A stored summary as computed: JSON's nulls back to NaN (``provenance.clean`` wrote NaN as null)."""
    if isinstance(value, dict):
        return {k: _nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan(v) for v in value]
    return float("nan") if value is None else value


def run_cell(scenario, cell_dir: Path, plan: CellPlan, config: dict, config_yaml: str, label: str, levers: dict,
             key: str = "hydra.sweep.dir", reuse: bool = False, bar: bool = True) -> tuple[pd.DataFrame | None, dict, str]:
    """Compute (or finish, or reuse) one cell; return its rows (None for a cell of more than
    ``IN_MEMORY_ROWS`` runs: they are in its runs.parquet), its summary and a one-line report
    (``bar``: a progress bar on a terminal; a sweep's cells report one line each instead).

    ``StoreRefused`` (naming ``key``, the setting that chose the folder) when the folder holds
    another cell's results or another process is writing it."""
    cell_dir = Path(cell_dir)
    store = cell_dir.parent if key == "hydra.sweep.dir" else cell_dir
    wanted = Identity(config_hash(config), plan.row_settings(), code_version())
    check_cell(cell_dir, wanted, key, reuse, store)  # before anything is written
    with Lock(cell_dir, key, f"cell {label}"):
        kept = check_cell(cell_dir, wanted, key, reuse, store) or wanted  # again: another process may have been first
        return _run_locked(scenario, cell_dir, plan, kept, config_yaml, label, levers, bar)


def _run_locked(scenario, cell_dir: Path, plan: CellPlan, ident: Identity, config_yaml: str, label: str,
                levers: dict, bar: bool = True) -> tuple[pd.DataFrame | None, dict, str]:
    started = now()
    clock = time.perf_counter()
    fp, accepted = ident.fingerprint, ident.accepted()
    write_json(cell_dir / "cell.json", {"label": label, "levers": levers, "fingerprint": fp,
                                        "identity": ident.to_json()})
    done = _complete(cell_dir, accepted)
    if done is not None:
        df, summary = done
        return df, summary, f"{label}: complete, skipped ({summary['runs']} runs)"
    for stale in ("summary.json", "runs.parquet"):  # an incomplete or damaged cell: its tables are made again
        (cell_dir / stale).unlink(missing_ok=True)
    frames, paths, computed, resumed, seen = [], [], 0, 0, defaultdict(lambda: [0, 0])
    single = plan.cap <= plan.batch_size  # a cell of one batch resumes from nothing: its rows are its runs.parquet
    batches = cell_dir / "batches"
    if not single:
        batches.mkdir(exist_ok=True)
    keep = plan.cap <= IN_MEMORY_ROWS  # else its batches are read back one at a time (or one column of all)
    executor = parse_executor(plan.executor)
    progress = Progress(label, plan.cap, bar)
    start = 0
    try:
        while start < plan.cap:
            stop = min(start + plan.batch_size, plan.cap)
            seeds = run_seeds(plan.seed, stop, start)  # this batch's seeds only
            path = batches / f"runs-{start:07d}-{stop:07d}.parquet"
            batch = None
            if path.exists():
                try:
                    batch = read_checked(path, accepted, start, seeds)
                    resumed += 1
                except Damaged as why:
                    say(f"{label}: stored batch {path.name} not used ({why}); computed again", sys.stderr)
                    path.unlink(missing_ok=True)
            if batch is None:
                batch = run_range(scenario, seeds, start, plan.workers, executor=executor,
                                  folder=cell_dir / ".submitit")
                if not single:
                    write_parquet(path, batch, {"fingerprint": fp, "first": start})
                computed += 1
            if keep:
                frames.append(batch)
            paths.append(path)
            for measure, (k, n) in measure_counts(batch).items():
                seen[measure][0] += k
                seen[measure][1] += n
            progress.advance(stop - start)
            start = stop
            if plan.runs is None and precision_of(plan.precision_on, seen) <= plan.precision:
                break
    finally:
        progress.close()
        shutil.rmtree(cell_dir / ".submitit", ignore_errors=True)  # its jobs' logs: the rows are stored

    meta = {"fingerprint": fp, "first": 0}
    df = pd.concat(frames, ignore_index=True) if keep else None
    summary = summarize(df if keep else columns_of(paths, SUMMARY_COLUMNS), scenario.horizon)
    n = summary["runs"]
    summary.update(
        nothing_binding=math.fsum(scenario.committed_binding.values()) <= 0,
        scenario=scenario.labels,
        levers=levers,
        seed=plan.seed,
        runs_requested="auto" if plan.runs is None else plan.runs,
    )
    if plan.runs is None:
        hw = precision_of(plan.precision_on, seen)
        summary.update(precision_target=plan.precision, precision_on=plan.precision_on,
                       half_width=hw if math.isfinite(hw) else None, precision_reached=hw <= plan.precision)
    runs = parquet_writer(df, meta) if keep else stacked_parquet_writer(paths, meta)
    write_all([  # summary.json last: it marks the cell complete
        (cell_dir / "runs.parquet", runs),
        (cell_dir / "summary.csv", lambda p: Path(p).write_text(summary_csv(summary))),
        (cell_dir / "config.yaml", lambda p: Path(p).write_text(config_yaml)),
        (cell_dir / "provenance.json", json_writer(record(plan.seed, started, n, {"cell": label, "levers": levers}))),
        (cell_dir / "summary.json", json_writer(summary)),
    ])
    if df is not None:
        remember(cell_dir / "runs.parquet", fp, df)
    p, a, t = summary["activation_probability"], summary["attack_probability"], summary["support_in_time_given_attack"]
    in_time = "—" if t["estimate"] is None or math.isnan(t["estimate"]) else \
        f"{t['estimate']:.3f} [{t['low']:.3f}, {t['high']:.3f}]"
    pooled = ("nothing binding, by construction" if summary["nothing_binding"]
              else f"{p['estimate']:.3f} [{p['low']:.3f}, {p['high']:.3f}]")
    line = (
        f"{label}: {n} runs ({computed} batches computed, {resumed} resumed) in {time.perf_counter() - clock:.1f} s;"
        f" P(attack) {a['estimate']:.3f} [{a['low']:.3f}, {a['high']:.3f}];"
        f" P(in time | attack) {in_time}; P(pooled activation) {pooled}"
    )
    if plan.runs is None:
        hw = "undefined (no run had an attack)" if summary["half_width"] is None else f"{summary['half_width']:.4f}"
        line += f", half-width of {plan.precision_on} {hw}" + ("" if summary["precision_reached"] else " (cap reached)")
    return df, summary, line


# a sweep's folder ---------------------------------------------------------------------------------

def restamp(cell_dir: Path, ident: Identity) -> None:
    """Keep a cell's results under a new code version (``--reuse``); ``cell.json`` records the old one."""
    meta = read_json(cell_dir / "cell.json") or {}
    write_json(cell_dir / "cell.json", {**meta, "fingerprint": ident.fingerprint, "identity": ident.to_json()})


def stored_folder_check(folder: Path, run: dict, config: str, reuse: bool = False) -> None:
    """A single run's folder chosen by hand (``hydra.run.dir``): refused when it holds another
    result; with ``reuse``, one of another code version is kept (and recorded)."""
    wanted = Identity(config, run, code_version())
    kept = check_cell(folder, wanted, "hydra.run.dir", reuse)
    if kept is not None and kept.reused_from != stored_identity(folder)[1].reused_from:
        restamp(Path(folder), kept)
