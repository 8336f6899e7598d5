"""The model at the sample points: each point's runs reduced to the study's outcomes, with run
seeds fixed in the parent so that the result is the same for any number of workers."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

from guarantee_sim.analysis.sensitivity.levers import Lever, set_levers

OUTCOMES = {  # the pooled measure (the secondary one; per support type with ``support_type``)
    "activation_probability": ("P(pooled binding support activates within the horizon; the secondary measure)",
                               "share of runs"),
    "median_days_to_activation": ("median days to pooled activation (Kaplan-Meier; the horizon where not reached)", "days"),
}
_OF_TYPE = {  # the same measures for one support type's binding support
    "activation_probability": "P(binding {} support activates within the horizon)",
    "median_days_to_activation": "median days to {} activation (Kaplan-Meier; the horizon where not reached)",
}


def point_outcomes(rows: list[dict], horizon: float, among: str = "all", late_days: float | None = None,
                   support_type: str | None = None) -> tuple:
    """One sample point's outcomes from its runs' rows (binding support pooled, or one type's).

    (activation probability, median days to activation, median reached?, runs considered for
    discovery, failed runs among them). The Kaplan-Meier median is the horizon where it is not
    reached (the median is then beyond the horizon; docs/sensitivity.md).
    """
    from guarantee_sim.analysis.stats import km_median

    column = "activation_day" if support_type is None else f"activation_day_{support_type}"
    days = np.array([r[column] for r in rows], dtype=float)
    activated = ~np.isnan(days)
    p = float(activated.mean()) if len(rows) else math.nan
    med = km_median(days, horizon)[0] if len(rows) else math.nan
    reached = not math.isnan(med)
    if not reached:
        med = float(horizon)
    if among == "attacked":
        start = np.array([np.nan if r.get("offensive_day") is None else r["offensive_day"] for r in rows], dtype=float)
        considered = ~np.isnan(start)
    else:
        start = np.zeros(len(rows))
        considered = np.ones(len(rows), dtype=bool)
    ok = activated.copy()
    if late_days is not None:
        with np.errstate(invalid="ignore"):
            ok &= (days - start) <= late_days
    failed = considered & ~ok
    return p, float(med), reached, int(considered.sum()), int(failed.sum())


class Evaluator:
    """Runs the model at sample points; picklable, so it travels to the worker processes with each
    chunk of points.

    ``seeds`` is a (blocks, R) array of run seeds: a point evaluated with block b runs the R
    seeds of row b. Points of one Saltelli row share a block (common random numbers inside the
    row); rows use different blocks.
    """

    def __init__(self, base: dict, levers: list[Lever], seeds, horizon: float,
                 among: str = "all", late_days: float | None = None, support_type: str | None = None):
        self.base, self.levers = base, levers
        self.seeds = np.asarray(seeds, dtype=np.int64)
        self.horizon, self.among, self.late_days, self.support_type = horizon, among, late_days, support_type

    def point(self, values, block: int = 0) -> tuple:
        from guarantee_sim.runs.runner import run_one
        from guarantee_sim.scenario.build import build_scenario

        scenario = build_scenario(set_levers(self.base, self.levers, values))
        rows = [run_one(scenario, int(s)) for s in self.seeds[block]]
        column = "activation_day" if self.support_type is None else f"activation_day_{self.support_type}"
        activated = "".join("0" if math.isnan(r[column]) else "1" for r in rows)  # run by run, for the noise terms
        return (*point_outcomes(rows, self.horizon, self.among, self.late_days, self.support_type), activated)

    def chunk(self, values: np.ndarray, blocks: np.ndarray) -> list[tuple]:
        return [self.point(v, int(b)) for v, b in zip(values, blocks)]


def seed_blocks(root_seed: int, blocks: int, replicates: int) -> np.ndarray:
    """(blocks, R) run seeds: block b holds runs b*R .. b*R+R-1 of the root seed (prefix-stable)."""
    from guarantee_sim.runs.runner import run_seeds

    return np.array(run_seeds(root_seed, blocks * replicates), dtype=np.int64).reshape(blocks, replicates)


POINT_COLUMNS = ["activation_probability", "median_days_to_activation", "median_reached", "runs_considered", "runs_failed",
                 "activated_runs"]  # activated_runs: "0"/"1" per run of the point's seed block, in run order


def run_matrix(activated_runs) -> np.ndarray:
    """(points, R) 0/1 array from the ``activated_runs`` strings."""
    return np.array([[c == "1" for c in s] for s in activated_runs], dtype=float)


def evaluate(evaluator: Evaluator, values: np.ndarray, blocks: np.ndarray, workers: int = 1,
             progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Outcomes at each point (row of ``values``) with the seeds of its block, in order.

    The runner's process pool (``runner.worker_pool``, shared with sweeps) serves the whole
    study; points go out in chunks, each with the evaluator, and come back in order, and every
    point's seeds are fixed in the parent, so the result is the same for any number of workers.
    """
    from guarantee_sim.runs.runner import parallel_workers

    values = np.asarray(values, dtype=float)
    blocks = np.asarray(blocks, dtype=np.int64)
    workers = parallel_workers(workers)  # 1, with one warning, where no worker process can start
    total = len(values)
    chunk = max(1, min(32, total // max(1, workers * 24)))
    starts = range(0, total, chunk)
    if workers <= 1:
        parts = (evaluator.chunk(values[s:s + chunk], blocks[s:s + chunk]) for s in starts)
    else:
        from guarantee_sim.runs.runner import worker_pool

        pool = worker_pool(workers)
        futures = [pool.submit(evaluator.chunk, values[s:s + chunk], blocks[s:s + chunk]) for s in starts]
        parts = (fut.result() for fut in futures)
    results: list = []
    for part in parts:
        results.extend(part)
        if progress:
            progress(len(results), total)
    df = pd.DataFrame(results, columns=POINT_COLUMNS)
    df["median_reached"] = df["median_reached"].astype(bool)
    return df


def outcome_label(outcome: str, support_type: str | None = None) -> str:
    return OUTCOMES[outcome][0] if support_type is None else _OF_TYPE[outcome].format(support_type)
