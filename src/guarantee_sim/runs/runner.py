"""Replications: per-run seeds drawn in the parent, runs executed serially or in worker processes.

Run i's seed depends only on the root seed and i, so the rows are identical whatever the
number of workers or the chunk size, and run i of two scenarios shares its seed (common
random numbers for paired comparisons).
"""

from __future__ import annotations

import atexit
import math
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor

import mesa
import numpy as np
import pandas as pd

from guarantee_sim.errors import ConfigError
from guarantee_sim.model.outcomes import COLUMNS


# numpy's SeedSequence.generate_state (numpy/random/bit_generator.pyx): word j of the state is the
# pool's word j mod 4 mixed with INIT_B * MULT_B**j. Written out so that any range of run seeds can
# be derived on its own, without the words before it (tests/test_store.py holds it equal to numpy's).
_INIT_B, _MULT_B, _XSHIFT = 0x8B51F9DD, 0x58F38DED, 16


def _state_words(pool: np.ndarray, first: int, n: int) -> np.ndarray:
    """Words ``first .. first + n - 1`` of ``SeedSequence.generate_state`` (uint32)."""
    j = np.arange(first, first + n, dtype=np.uint64)
    power = np.ones(n, dtype=np.uint32)  # MULT_B ** j mod 2**32, by square-and-multiply on arrays
    base = np.array([_MULT_B], dtype=np.uint32)
    for bit in range(max(int(first + n).bit_length(), 1)):
        use = ((j >> np.uint64(bit)) & np.uint64(1)).astype(bool)
        power[use] *= base[0:1]
        base *= base
    hash_const = power * np.array([_INIT_B], dtype=np.uint32)
    data = pool[(j % np.uint64(len(pool))).astype(np.intp)] ^ hash_const
    data *= hash_const * np.array([_MULT_B], dtype=np.uint32)
    return data ^ (data >> np.uint32(_XSHIFT))


def run_seeds(root_seed: int, runs: int, start: int = 0) -> list[int]:
    """Seeds of runs ``start .. runs-1`` derived from the root seed (prefix-stable).

    Derived for those runs only (a batch of a million-run cell costs a batch's worth), equal to
    ``SeedSequence(root_seed).generate_state(runs, np.uint64)[start:] >> 1``.
    """
    n = max(int(runs) - int(start), 0)
    if n == 0:
        return []
    pool = np.random.SeedSequence(int(root_seed)).pool.astype(np.uint32)
    words = _state_words(pool, 2 * int(start), 2 * n).astype(np.uint64)
    state = words[0::2] | (words[1::2] << np.uint64(32))  # little-endian pairs, as numpy views them
    return [int(s) for s in state >> np.uint64(1)]


def available_cpus() -> int:
    """The CPUs this process may use (its affinity mask where the system has one)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def release(model) -> None:
    """Let a finished model be garbage-collected (mesa 3.3 keeps every model alive otherwise)."""
    ids = getattr(mesa.Agent, "_ids", None)
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


def to_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(rows, columns=COLUMNS)
    df["support_in_time"] = df["support_in_time"].astype("boolean")
    for col in ("activated", "false_activation", "deterred", "force_deployed"):
        df[col] = df[col].astype(bool)
    df["seed"] = df["seed"].astype("int64")
    return df


_POOL: dict = {}


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """One spawn-safe process pool per worker count, kept for the life of the process.

    Starting workers costs about a second (imports), so cells and batches of a sweep share them.
    """
    pool = _POOL.get(workers)
    if pool is None:
        pool = _POOL[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
        atexit.register(pool.shutdown, cancel_futures=True)
    return pool


def run_range(scenario, seeds: list[int], start: int, workers: int = 1, chunk_size: int | None = None) -> pd.DataFrame:
    """Rows of runs ``start .. start + len(seeds) - 1``, in run order, serially or in the pool."""
    runs = len(seeds)
    workers = min(workers, available_cpus())  # more processes than CPUs only wait for each other
    if workers <= 1 or runs < 2:
        return to_frame(_run_chunk(scenario, start, seeds))
    chunk = chunk_size or max(1, math.ceil(runs / (workers * 4)))
    pool = worker_pool(workers)
    futures = [pool.submit(_run_chunk, scenario, start + s, seeds[s : s + chunk]) for s in range(0, runs, chunk)]
    return to_frame([row for f in futures for row in f.result()])


def run_replications(scenario, runs: int, seed: int, workers: int = 1, chunk_size: int | None = None) -> pd.DataFrame:
    """One row per run, in run order; identical for any ``workers`` and ``chunk_size``."""
    return run_range(scenario, run_seeds(seed, runs), 0, workers, chunk_size)


def simulate(
    overrides: list[str] | tuple[str, ...] = (),
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Run one scenario's replications and return one row per run.

    ``overrides`` are the command line's (``["breach=hybrid", "trigger=armed_attack"]``);
    ``runs``, ``seed`` and ``workers`` default to the config's values.
    """
    from omegaconf import OmegaConf

    from guarantee_sim.scenario.compose import compose_config
    from guarantee_sim.scenario.build import build_scenario

    cfg = compose_config(tuple(overrides))
    scenario = build_scenario(cfg)
    plain = OmegaConf.to_container(cfg)
    runs = plain["runs"] if runs is None else runs
    if runs == "auto":
        raise ConfigError("runs", "simulate() needs a number of runs (runs=auto is for the command line)", "1, 2, 3, ...")
    seed = plain["seed"] if seed is None else seed
    workers = plain["workers"] if workers is None else workers
    return run_replications(scenario, int(runs), int(seed), int(workers), chunk_size)
