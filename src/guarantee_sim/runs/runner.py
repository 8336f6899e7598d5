"""Replications: per-run seeds drawn in the parent, runs executed serially or in worker processes;
and the library's calls, ``run`` (a built scenario) and ``simulate`` (overrides, a mapping or keywords).

Run i's seed depends only on the root seed and i, so the rows are identical whatever the
number of workers or the chunk size, and run i of two scenarios shares its seed (common
random numbers for paired comparisons). Where no worker process can start (inside a daemonic
process, or when the main module cannot be re-imported) the runs go serially, with one warning.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing as mp
import os
import sys
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pandas as pd

from guarantee_sim.errors import ConfigError, first_line
from guarantee_sim.model.outcomes import COLUMN_KINDS, COLUMNS
from guarantee_sim.model.streams import seed_sequence_words, uint64_pairs

# a runs table: the outcome row's columns, then what survival tools need (``to_frame``)
TABLE_COLUMNS = [*COLUMNS, "horizon", "event"]


def run_seeds(root_seed: int, runs: int, start: int = 0) -> list[int]:
    """Seeds of runs ``start .. runs-1`` derived from the root seed (prefix-stable).

    Derived for those runs only (a batch of a million-run cell costs a batch's worth), equal to
    ``SeedSequence(root_seed).generate_state(runs, np.uint64)[start:] >> 1``.
    """
    n = max(int(runs) - int(start), 0)
    if n == 0:
        return []
    pool = np.random.SeedSequence(int(root_seed)).pool.astype(np.uint32)
    state = uint64_pairs(seed_sequence_words(pool, 2 * int(start), 2 * n))
    return [int(s) for s in state >> np.uint64(1)]


def available_cpus() -> int:
    """The CPUs this process may use (its affinity mask where the system has one)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def release(model) -> None:
    """Let a finished model be garbage-collected (mesa 3.3 keeps every model alive otherwise)."""
    ids = getattr(sys.modules["mesa"].Agent, "_ids", None)  # imported by the model
    if ids is not None:
        ids.pop(model, None)


def run_one(scenario, seed: int) -> dict:
    from guarantee_sim.model.engine import GuaranteeModel

    model = GuaranteeModel(scenario, seed=seed, collect=False)
    row = model.run()
    release(model)
    # Drop what the finished model holds: its agents, components and queued events refer back to
    # it, and such cycles wait for the cyclic garbage collector, whose passes over the young
    # objects took about a fifth of a sweep's time. Without them the run is freed at once.
    model.__dict__.clear()
    return row


def _run_chunk(scenario, first_run: int, seeds: list[int]) -> list[dict]:
    rows = []
    for offset, seed in enumerate(seeds):
        row = run_one(scenario, seed)
        row["run"] = first_run + offset
        rows.append(row)
    return rows


_NUMPY_TYPES = {"int": np.int64, "float": np.float64, "bool": np.bool_}


def to_frame(rows: list[dict], horizon: float | None = None) -> pd.DataFrame:
    """The runs table: the outcome row's columns, typed as ``outcomes.COLUMN_KINDS`` says, then
    (given the horizon) what survival tools need: ``horizon`` and ``event`` (activation observed
    within the horizon; False: censored at it)."""
    columns = {}
    for name, kind in COLUMN_KINDS.items():
        values = [row[name] for row in rows]
        if kind == "bool or NA":
            columns[name] = pd.array(values, dtype="boolean")
        elif kind == "text":
            columns[name] = values  # typed as pandas types strings
        else:
            columns[name] = np.array(values, dtype=_NUMPY_TYPES[kind])
    if horizon is not None:
        columns["horizon"] = np.full(len(rows), float(horizon))
        columns["event"] = ~np.isnan(columns["activation_day"])
    return pd.DataFrame(columns, copy=False)


_POOL: dict = {}


class SerialFallbackWarning(RuntimeWarning):
    """Worker processes cannot be started here; the runs go serially (the rows are the same)."""


_WARNED: set[str] = set()


def _serial_reason() -> str | None:
    """Why worker processes cannot be started from this process, or None.

    A daemonic process (a worker of EMA Workbench's MultiprocessingEvaluator, of multiprocessing.Pool)
    may not have children; a spawned worker re-imports the main module, which a script read from
    standard input (``python - < script.py``) does not have as a file.
    """
    if mp.current_process().daemon:
        return "this is a daemonic process (a pool's worker), which may not start processes of its own"
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file is not None and not os.path.exists(main_file):
        return f"the main module ({main_file}) cannot be re-imported by a worker process"
    return None


def _warn_serial(reason: str, workers: int) -> None:
    if reason not in _WARNED:  # once per reason and process: 200 calls give one warning
        _WARNED.add(reason)
        warnings.warn(f"workers={workers}: {reason}; running serially (the rows are the same)",
                      SerialFallbackWarning, stacklevel=4)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """One spawn-safe process pool per worker count, kept for the life of the process.

    Starting workers costs about a second (imports), so cells and batches of a sweep share them.
    """
    pool = _POOL.get(workers)
    if pool is None:
        pool = _POOL[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
        atexit.register(pool.shutdown, cancel_futures=True)
    return pool


def parallel_workers(workers: int) -> int:
    """The worker processes to use: at most the CPUs, and 1 (with one warning) where none can start."""
    workers = min(int(workers), available_cpus())  # more processes than CPUs only wait for each other
    if workers > 1:
        reason = _serial_reason()
        if reason:
            _warn_serial(reason, workers)
            return 1
    return workers


def run_range(scenario, seeds: list[int], start: int, workers: int = 1, chunk_size: int | None = None,
              executor=None, folder=None) -> pd.DataFrame:
    """Rows of runs ``start .. start + len(seeds) - 1``, in run order, serially or in the pool; or, with
    ``executor`` (``executors.Executor``: Dask, submitit), in ``workers`` shards there (``folder``:
    submitit's logs)."""
    runs = len(seeds)
    if executor is not None and executor.kind != "local" and runs:
        from guarantee_sim.runs.executors import run_shards, shards

        tasks = [(scenario, start + a, seeds[a:b]) for a, b in shards(runs, workers)]
        parts = run_shards(executor, _run_chunk, tasks, workers, folder)
        return to_frame([row for part in parts for row in part], scenario.horizon)
    workers = parallel_workers(workers)
    if workers <= 1 or runs < 2:
        return to_frame(_run_chunk(scenario, start, seeds), scenario.horizon)
    chunk = chunk_size or max(1, math.ceil(runs / (workers * 4)))
    pool = worker_pool(workers)
    try:
        futures = [pool.submit(_run_chunk, scenario, start + s, seeds[s : s + chunk]) for s in range(0, runs, chunk)]
        rows = [row for f in futures for row in f.result()]
    except BrokenProcessPool as err:  # a worker could not start or died: drop the pool, finish serially
        _POOL.pop(workers, None)
        pool.shutdown(wait=False, cancel_futures=True)
        _warn_serial(f"the worker processes failed ({first_line(err)})", workers)
        rows = _run_chunk(scenario, start, seeds)
    return to_frame(rows, scenario.horizon)


def run_replications(scenario, runs: int, seed: int, workers: int = 1, chunk_size: int | None = None) -> pd.DataFrame:
    """One row per run, in run order; identical for any ``workers`` and ``chunk_size``."""
    return run_range(scenario, run_seeds(seed, runs), 0, workers, chunk_size)


def _setting(value, unit: str, key: str) -> int:
    """A run setting given in Python, checked as on the command line (one line naming the key)."""
    from guarantee_sim.model.registry import UNITS

    if isinstance(value, np.integer):
        value = int(value)
    checked = UNITS[unit].check(value, key)
    if checked == "auto":
        raise ConfigError(key, "a Python call needs a number of runs (runs=auto is for the command line)",
                          "1, 2, 3, ...")
    return int(checked)


def run(scenario, runs: int = 200, seed: int = 0, workers: int = 1) -> pd.DataFrame:
    """The runs of a built scenario (``load_scenario``): one row per run, the same rows as the
    command line's ``runs.parquet`` for the same scenario, runs and seed, whatever ``workers``."""
    from guarantee_sim.scenario.build import Scenario

    if not isinstance(scenario, Scenario):
        raise ConfigError("scenario", f"expected a Scenario, got {type(scenario).__name__}",
                          "guarantee_sim.load_scenario(...) (or simulate(...) for overrides)")
    return run_replications(scenario, _setting(runs, "runs", "runs"), _setting(seed, "seed", "seed"),
                            _setting(workers, "workers", "workers"))


def simulate(
    overrides=(),
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    executor: str | None = None,
    **levers,
) -> pd.DataFrame:
    """Run one scenario's replications and return one row per run (the command line's rows).

    ``overrides``: a list of the command line's overrides (``["breach=hybrid", "trigger=armed_attack"]``)
    or a mapping (``{"breach": "hybrid", "commission.attribution_probability": 0.6}``); ``levers``: keys
    as keywords (``breach="hybrid", horizon=180``). ``runs``, ``seed``, ``workers`` and ``executor``
    default to the config's values; ``executor="dask"`` (or ``"dask:<scheduler>"``,
    ``"submitit:slurm"``) runs ``workers`` shards there, with the rows of ``workers=1``. The config is
    composed once per set of presets and kept: repeated calls pay for their runs, not for Hydra. A
    caller's own Hydra app is left alone.
    """
    from guarantee_sim.runs.executors import parse as parse_executor
    from guarantee_sim.scenario.compose import load_scenario, run_settings

    scenario = load_scenario(overrides, **levers)
    if runs is None or seed is None or workers is None or executor is None:
        config = run_settings(overrides, **levers)  # as composed (cached) and given
        runs = config["runs"] if runs is None else runs
        seed = config["seed"] if seed is None else seed
        workers = config["workers"] if workers is None else workers
        executor = config["executor"] if executor is None else executor
    if chunk_size is not None:
        _setting(chunk_size, "count", "chunk_size")
    spec = parse_executor(executor)
    runs, seed = _setting(runs, "runs", "runs"), _setting(seed, "seed", "seed")
    workers = _setting(workers, "workers", "workers")
    if spec.kind == "local":
        return run_replications(scenario, runs, seed, workers, chunk_size)
    with tempfile.TemporaryDirectory(prefix="guarantee-sim-") as folder:  # submitit's logs: the rows are returned
        return run_range(scenario, run_seeds(seed, runs), 0, workers, executor=spec, folder=Path(folder))
