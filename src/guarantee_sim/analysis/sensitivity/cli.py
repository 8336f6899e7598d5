"""``guarantee-sim-sensitivity``: which assumptions drive the answer, and where support fails.

    guarantee-sim-sensitivity                                  # the default study (Paris design)
    guarantee-sim-sensitivity experiment=sensitivity_analytic  # the closed-form special case
    guarantee-sim-sensitivity breach=hybrid study.n=64         # any scenario, smaller design

One study samples the continuous levers of ``conf/sensitivity/<preset>.yaml`` (ranges from the
"Lever ranges" table of docs/parameters.md) with a Sobol' or Latin hypercube design, runs
``study.replicates`` replications of the model at every sample point (the same run seeds at
every point: common random numbers), and reports

- Sobol' first-order and total indices (``scipy.stats.sobol_indices``) with bootstrap intervals
  (``scipy.stats.bootstrap``) for the activation probability and the median days to activation;
- the lever regions where binding support fails, found by a CART tree (``discovery.py``).

The method, and why the model's noise is handled by replicate means, is in docs/sensitivity.md.
Every input is checked before Hydra creates the output folder: bad input ends with one line on
stderr, exit code 2 and nothing written.
"""

from __future__ import annotations

import copy
import json
import math
import multiprocessing as mp
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import numpy as np
import pandas as pd
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from guarantee_sim.scenario.compose import CONFIG_MODULE
from guarantee_sim.scenario.schema import GuaranteeConfig
from guarantee_sim.errors import ConfigError
from guarantee_sim.runs.provenance import write_atomic as _write_atomic

PROG = "guarantee-sim-sensitivity"
MARKER = "study.json"
KIND = "guarantee_sim.analysis.sensitivity"

OUTCOMES = {
    "activation_probability": ("P(binding support activates within the horizon)", "share of runs"),
    "median_days_to_activation": ("median days to activation (Kaplan-Meier; the horizon where not reached)", "days"),
}
DESIGNS = ("sobol", "lhs")
# below this share of A and B points away from the most common value, indices are not estimated:
# a handful of points carries all the variance and the estimators swing far outside [0, 1]
MIN_VARYING_SHARE = 0.05
SCALES = ("linear", "log")
AMONG = ("all", "attacked")


# schema ---------------------------------------------------------------------------------------
@dataclass
class LeverSpec:
    """One continuous lever: a key (or keys set together) and its plausible range."""

    key: Any = MISSING  # a key as typed on the command line, or a list of keys with the same range
    low: float = MISSING
    high: float = MISSING
    scale: str = "linear"  # linear (uniform) | log (log-uniform, for rates spanning >= 10x)
    label: str = ""
    unit: str = ""
    breach: Optional[str] = None  # the lever exists only under this breach pattern


@dataclass
class DiscoverySpec:
    among: str = "all"  # all runs | attacked: only runs with an armed attack
    late_days: Optional[float] = None  # also fail when activation comes later than this (days)
    max_depth: int = 3
    min_leaf_share: float = 0.05
    min_density: float = 0.5


@dataclass
class StudyConfig:
    name: str = "sensitivity"
    question: str = ""
    design: str = "sobol"  # sobol | lhs
    n: int = 256  # base sample size; the study runs n * (levers + 2) points
    replicates: int = 32  # runs per sample point (the same seeds at every point of a Saltelli row)
    bootstrap: int = 999  # bootstrap resamples for the index intervals
    confidence: float = 0.95
    noise_points: int = 32  # points re-run with fresh seeds to measure the seed noise
    support_type: Optional[str] = None  # null: binding support pooled (activation); or one type, e.g. military
    # name -> LeverSpec fields; a plain mapping so that `+study.levers.<name>={key: ..., low: ..., high: ...}`
    # adds a lever and `~study.levers.<name>` drops one (checked in levers_from_study)
    levers: Dict[str, Any] = field(default_factory=dict)
    discovery: DiscoverySpec = field(default_factory=DiscoverySpec)


@dataclass
class SensitivityConfig(GuaranteeConfig):
    study: StudyConfig = field(default_factory=StudyConfig)


ConfigStore.instance().store(name="guarantee_sim_sensitivity_schema", node=SensitivityConfig)


# levers ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lever:
    name: str
    keys: tuple[str, ...]
    low: float
    high: float
    scale: str = "linear"
    label: str = ""
    unit: str = ""
    breach: str | None = None

    @property
    def key(self) -> str:
        return self.keys[0] if len(self.keys) == 1 else "[" + ", ".join(self.keys) + "]"

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map [0, 1) to the lever's range (uniform, or log-uniform)."""
        u = np.asarray(u, dtype=float)
        if self.scale == "log":
            lo, hi = math.log(self.low), math.log(self.high)
            return np.exp(lo + u * (hi - lo))
        return self.low + u * (self.high - self.low)


def levers_from_study(levers: dict, breach_pattern: str | None = None) -> list[Lever]:
    """The study's levers that apply under the selected breach pattern, checked."""
    out = []
    fields = [f.name for f in LeverSpec.__dataclass_fields__.values()]
    for name, spec in levers.items():
        where = f"study.levers.{name}"
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise ConfigError(where, f"expected a mapping, got {spec!r}", "{key: ..., low: ..., high: ...}")
        unknown = sorted(set(spec) - set(fields))
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}", "unknown key", ", ".join(fields))
        keys = spec.get("key")
        keys = [keys] if isinstance(keys, str) else list(keys or [])
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ConfigError(f"{where}.key", f"expected a key or a list of keys, got {spec.get('key')!r}",
                              "a key as typed on the command line, e.g. commission.attribution_probability")
        if spec.get("breach") is not None and breach_pattern is not None and spec["breach"] != breach_pattern:
            continue
        low, high = spec.get("low"), spec.get("high")
        for k, v in (("low", low), ("high", high)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
                raise ConfigError(f"{where}.{k}", f"expected a number, got {v!r}", "a number")
        if not low < high:
            raise ConfigError(f"{where}.high", f"must exceed low ({low}), got {high}", f"a number > {low}")
        scale = spec.get("scale") or "linear"
        if scale not in SCALES:
            raise ConfigError(f"{where}.scale", f"unknown value {scale!r}", ", ".join(SCALES))
        if scale == "log" and low <= 0:
            raise ConfigError(f"{where}.low", f"a log-scale lever needs low > 0, got {low}", "a number > 0")
        for k in ("label", "unit", "breach"):
            if spec.get(k) is not None and not isinstance(spec[k], str):
                raise ConfigError(f"{where}.{k}", f"expected a string, got {spec[k]!r}", "a string")
        out.append(Lever(name, tuple(keys), float(low), float(high), scale,
                         spec.get("label") or name.replace("_", " "), spec.get("unit") or "", spec.get("breach")))
    return out


def _walk(config: dict, key: str):
    """(parent mapping, last part) of a dotted key in a plain config; KeyError if absent."""
    parts = key.split(".")
    node = config
    for p in parts[:-1]:
        if not isinstance(node, dict) or p not in node:
            raise KeyError(p)
        node = node[p]
    if not isinstance(node, dict) or parts[-1] not in node:
        raise KeyError(parts[-1])
    return node, parts[-1]


def set_levers(config: dict, levers: list[Lever], values) -> dict:
    """A copy of a plain scenario config with the levers set to ``values``."""
    c = copy.deepcopy(config)
    for lever, v in zip(levers, values):
        for key in lever.keys:
            parent, last = _walk(c, key)
            parent[last] = float(v)
    return c


def check_levers(config: dict, levers: list[Lever]) -> None:
    """Every lever names a numeric key of this scenario, and both ends of its range pass the checks."""
    from guarantee_sim.scenario.build import build_scenario

    if not levers:
        raise ConfigError("study.levers", "no lever applies to this scenario",
                          "at least one lever (see conf/sensitivity/ and docs/parameters.md, Lever ranges)")
    seen: dict[str, str] = {}
    for lever in levers:
        for key in lever.keys:
            if key in seen:
                raise ConfigError(f"study.levers.{lever.name}.key", f"{key} is already varied by lever {seen[key]!r}",
                                  "each key in one lever only")
            seen[key] = lever.name
            try:
                parent, last = _walk(config, key)
            except KeyError:
                raise ConfigError(f"study.levers.{lever.name}.key", f"{key} is not a key of this scenario",
                                  _lever_hint(config, key)) from None
            value = parent[last]
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not numeric and not (isinstance(value, dict) and "dist" in value):
                raise ConfigError(f"study.levers.{lever.name}.key", f"{key} is not numeric (it is {value!r})",
                                  "a probability, rate, share or delay key")
    for end, v in (("low", [lv.low for lv in levers]), ("high", [lv.high for lv in levers])):
        try:
            build_scenario(set_levers(config, levers, v))
        except ConfigError as err:
            name = next((lv.name for lv in levers if err.key in lv.keys or any(err.key.startswith(k + ".") for k in lv.keys)), None)
            if name is None:
                raise
            raise ConfigError(f"study.levers.{name}.{end}", f"{err.problem}", err.allowed) from None


def _lever_hint(config: dict, key: str) -> str:
    parts = key.split(".")
    node = config
    for p in parts[:-1]:
        if isinstance(node, dict) and p in node:
            node = node[p]
        else:
            break
    keys = sorted(str(k) for k in node) if isinstance(node, dict) else []
    hint = ", ".join(keys[:20]) if keys else "a key of the composed scenario"
    return hint + " (a lever of another breach pattern needs `breach: <pattern>`; pick a lever preset with sensitivity=<preset>)"


# designs ---------------------------------------------------------------------------------------
def sample_design(levers: list[Lever], n: int, design: str = "sobol", rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Two independent (n, d) samples A and B of the levers (scrambled Sobol' or Latin hypercube).

    As in ``scipy.stats.sobol_indices``, A and B are the two halves of one 2d-dimensional
    sequence, which keeps them independent and each of them low-discrepancy.
    """
    from scipy.stats import qmc

    d = len(levers)
    rng = np.random.default_rng(rng)
    if n < 2 or n & (n - 1):
        raise ConfigError("study.n", f"must be a power of 2 (scipy's Sobol' estimator needs it), got {n}", "2, 4, 8, ..., 256, 512, ...")
    if design == "sobol":
        u = qmc.Sobol(d=2 * d, scramble=True, rng=rng).random(n)
    elif design == "lhs":
        u = qmc.LatinHypercube(d=2 * d, rng=rng).random(n)
    else:
        raise ConfigError("study.design", f"unknown value {design!r}", ", ".join(DESIGNS))
    A = np.column_stack([lv.from_unit(u[:, i]) for i, lv in enumerate(levers)]) if d else np.empty((n, 0))
    B = np.column_stack([lv.from_unit(u[:, d + i]) for i, lv in enumerate(levers)]) if d else np.empty((n, 0))
    return A, B


def saltelli_points(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All points to evaluate: A, B, then AB_i (A with column i taken from B) for each lever i.

    Returns the points (n * (d + 2), d), each point's block ("A", "B", "AB") and, for AB points,
    the lever index taken from B (-1 otherwise).
    """
    n, d = A.shape
    blocks = [A, B]
    for i in range(d):
        ab = A.copy()
        ab[:, i] = B[:, i]
        blocks.append(ab)
    X = np.vstack(blocks)
    block = np.array(["A"] * n + ["B"] * n + ["AB"] * (n * d))
    swapped = np.concatenate([np.full(2 * n, -1), np.repeat(np.arange(d), n)])
    return X, block, swapped


def split_blocks(y: np.ndarray, n: int, d: int) -> dict:
    """The outputs of ``saltelli_points`` as ``sobol_indices``'s dict: f_A (1, n), f_B (1, n), f_AB (d, 1, n)."""
    y = np.asarray(y, dtype=float)
    return {"f_A": y[:n][None, :], "f_B": y[n:2 * n][None, :], "f_AB": y[2 * n:].reshape(d, 1, n)}


# indices ---------------------------------------------------------------------------------------
def _indices(f: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
    """scipy's estimate (Saltelli 2010) from precomputed outputs: (S1, ST), one value per lever."""
    from scipy.stats import sobol_indices

    res = sobol_indices(func=f, n=n)
    return np.atleast_1d(res.first_order).ravel(), np.atleast_1d(res.total_order).ravel()


def saltelli_2010(f_A: np.ndarray, f_B: np.ndarray, f_AB: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The estimators ``scipy.stats.sobol_indices`` uses, over the last axis, for any sample size.

    f_A, f_B: (..., n); f_AB: (d, ..., n). Centred on the mean of A and B as scipy does. scipy
    refuses sizes that are not powers of 2, which bootstrap resamples and jackknife leave-one-out
    samples are not; a test checks this equals scipy's estimate on the full sample.
    """
    mean = np.mean([f_A, f_B], axis=(0, -1))[..., None]
    f_A, f_B, f_AB = f_A - mean, f_B - mean, f_AB - mean
    var = np.var([f_A, f_B], axis=(0, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = np.mean(f_B * (f_AB - f_A), axis=-1) / var
        st = 0.5 * np.mean((f_A - f_AB) ** 2, axis=-1) / var
    return s1, st


def varying_share(y: np.ndarray) -> float:
    """Share of the outputs that differ from the most common output."""
    if len(y) == 0:
        return 0.0
    _, counts = np.unique(np.asarray(y, dtype=float), return_counts=True)
    return 1.0 - counts.max() / len(y)


def sobol_table(y: np.ndarray, n: int, names: list[str], n_resamples: int = 999, confidence: float = 0.95,
                rng=None, outcome: str = "y") -> pd.DataFrame:
    """First-order and total indices of one outcome with bootstrap (BCa) intervals.

    ``y`` holds the outputs at ``saltelli_points`` in order. The point estimates are
    ``scipy.stats.sobol_indices`` on the precomputed outputs; the intervals resample the n base
    rows (each row with its A, B and AB outputs) with ``scipy.stats.bootstrap`` (BCa; percentile
    where BCa is undefined; a single value where every resample agrees, e.g. an index that is
    exactly 0). An output that (nearly) does not vary has no variance to share out: where fewer
    than ``MIN_VARYING_SHARE`` of the A and B outputs differ from the most common value, the
    indices are NaN (e.g. a median reached at only 3% of the points).
    """
    from scipy import stats

    d = len(names)
    y = np.asarray(y, dtype=float)
    cols = ["outcome", "lever", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]
    if len(y) != n * (d + 2):
        raise ValueError(f"{outcome}: expected n * (d + 2) = {n * (d + 2)} outputs, got {len(y)}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{outcome}: outputs must be finite")
    f = split_blocks(y, n, d)
    if varying_share(y[: 2 * n]) < MIN_VARYING_SHARE or float(np.var(y[: 2 * n])) <= 1e-15:
        return pd.DataFrame([[outcome, nm] + [math.nan] * 6 for nm in names], columns=cols)
    s1, st = _indices(f, n)
    fa, fb, fab = f["f_A"][0], f["f_B"][0], f["f_AB"][:, 0, :]

    def statistic(idx, axis=-1):
        idx = np.asarray(idx, dtype=np.intp)
        a, b = saltelli_2010(fa[idx], fb[idx], fab[:, idx])
        return np.concatenate([a, b], axis=0)

    with warnings.catch_warnings():
        # BCa is undefined where every resample gives the same value (e.g. an inert lever's 0)
        warnings.filterwarnings("ignore", category=stats.DegenerateDataWarning)
        warnings.filterwarnings("ignore", message="invalid value encountered", category=RuntimeWarning)
        warnings.filterwarnings("ignore", message="divide by zero", category=RuntimeWarning)
        boot = stats.bootstrap((np.arange(n),), statistic, n_resamples=n_resamples, vectorized=True, batch=100,
                               confidence_level=confidence, method="BCa", rng=np.random.default_rng(rng))
    low = np.array(boot.confidence_interval.low, dtype=float)
    high = np.array(boot.confidence_interval.high, dtype=float)
    dist = np.asarray(boot.bootstrap_distribution, dtype=float)
    point = np.concatenate([s1, st])
    alpha = (1 - confidence) / 2
    for j in range(2 * d):
        col = dist[j][np.isfinite(dist[j])]
        if len(col) == 0 or np.ptp(col) == 0:
            low[j] = high[j] = col[0] if len(col) else point[j]
        elif not (np.isfinite(low[j]) and np.isfinite(high[j])):
            low[j], high[j] = np.quantile(col, [alpha, 1 - alpha])
    rows = [[outcome, nm, s1[i], low[i], high[i], st[i], low[d + i], high[d + i]] for i, nm in enumerate(names)]
    return pd.DataFrame(rows, columns=cols)


# the model at the sample points -------------------------------------------------------------------
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
    """Runs the model at sample points; picklable, so each worker process receives it once.

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
        return point_outcomes(rows, self.horizon, self.among, self.late_days, self.support_type)

    def chunk(self, values: np.ndarray, blocks: np.ndarray) -> list[tuple]:
        return [self.point(v, int(b)) for v, b in zip(values, blocks)]


def seed_blocks(root_seed: int, blocks: int, replicates: int) -> np.ndarray:
    """(blocks, R) run seeds: block b holds runs b*R .. b*R+R-1 of the root seed (prefix-stable)."""
    from guarantee_sim.runs.runner import run_seeds

    return np.array(run_seeds(root_seed, blocks * replicates), dtype=np.int64).reshape(blocks, replicates)


_EVALUATOR: Evaluator | None = None


def _init_worker(evaluator: Evaluator) -> None:
    global _EVALUATOR
    _EVALUATOR = evaluator


def _work(values: np.ndarray, blocks: np.ndarray) -> list[tuple]:
    return _EVALUATOR.chunk(values, blocks)


POINT_COLUMNS = ["activation_probability", "median_days_to_activation", "median_reached", "runs_considered", "runs_failed"]


def evaluate(evaluator: Evaluator, values: np.ndarray, blocks: np.ndarray, workers: int = 1,
             progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Outcomes at each point (row of ``values``) with the seeds of its block, in order.

    One process pool serves the whole study; points go out in chunks and come back in order,
    and every point's seeds are fixed in the parent, so the result is the same for any number
    of workers.
    """
    values = np.asarray(values, dtype=float)
    blocks = np.asarray(blocks, dtype=np.int64)
    total = len(values)
    chunk = max(1, min(32, total // max(1, workers * 24)))
    starts = range(0, total, chunk)
    results: list = []
    if workers <= 1:
        for s in starts:
            results.extend(evaluator.chunk(values[s:s + chunk], blocks[s:s + chunk]))
            if progress:
                progress(len(results), total)
    else:
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(evaluator,)) as pool:
            futures = [pool.submit(_work, values[s:s + chunk], blocks[s:s + chunk]) for s in starts]
            for fut in futures:
                results.extend(fut.result())
                if progress:
                    progress(len(results), total)
    df = pd.DataFrame(results, columns=POINT_COLUMNS)
    df["median_reached"] = df["median_reached"].astype(bool)
    return df


# the study ----------------------------------------------------------------------------------------
@dataclass
class StudyResult:
    sample: pd.DataFrame
    indices: pd.DataFrame
    discovery: Any  # discovery.Discovery
    levers: list[Lever]
    meta: dict


def scenario_part(config: dict) -> dict:
    """The plain scenario config: the study block and Hydra's node removed."""
    return {k: v for k, v in config.items() if k not in ("study", "hydra")}


def check_study(config: dict) -> tuple[dict, list[Lever]]:
    """Check a composed study config (plain dict); return the scenario part and the active levers."""
    from guarantee_sim.scenario.build import build_scenario

    study = config.get("study") or {}
    base = scenario_part(config)
    scenario = build_scenario(base)
    design = study.get("design")
    if design not in DESIGNS:
        raise ConfigError("study.design", f"unknown value {design!r}", ", ".join(DESIGNS))
    for key, lo in (("n", 2), ("replicates", 1), ("bootstrap", 100), ("noise_points", 0)):
        v = study.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ConfigError(f"study.{key}", f"must be a whole number >= {lo}, got {v!r}", f"{lo}, {lo + 1}, ...")
    n = study["n"]
    if n & (n - 1):
        raise ConfigError("study.n", f"must be a power of 2 (scipy's Sobol' estimator needs it), got {n}", "2, 4, 8, ..., 256, 512, ...")
    conf = study.get("confidence")
    if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0.5 <= conf < 1:
        raise ConfigError("study.confidence", f"must lie in [0.5, 1), got {conf!r}", "e.g. 0.95")
    from guarantee_sim.model.triggers import SUPPORT_TYPES

    st = study.get("support_type")
    if st is not None and st not in SUPPORT_TYPES:
        raise ConfigError("study.support_type", f"unknown value {st!r}", "null, " + ", ".join(SUPPORT_TYPES))
    disc = study.get("discovery") or {}
    if disc.get("among") not in AMONG:
        raise ConfigError("study.discovery.among", f"unknown value {disc.get('among')!r}", ", ".join(AMONG))
    late = disc.get("late_days")
    if late is not None and (isinstance(late, bool) or not isinstance(late, (int, float)) or late < 0):
        raise ConfigError("study.discovery.late_days", f"must be a number of days >= 0 or null, got {late!r}", "null, 0, 30, ...")
    for key, lo, hi in (("min_leaf_share", 0.0, 0.5), ("min_density", 0.0, 1.0)):
        v = disc.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo < v <= hi:
            raise ConfigError(f"study.discovery.{key}", f"must lie in ({lo}, {hi}], got {v!r}", f"a number in ({lo}, {hi}]")
    depth = disc.get("max_depth")
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 6:
        raise ConfigError("study.discovery.max_depth", f"must be a whole number in 1..6, got {depth!r}", "1, 2, 3, 4, 5, 6")
    levers = levers_from_study(study.get("levers") or {}, scenario.labels.get("breach"))
    check_levers(base, levers)
    return base, levers


def run_study(config: dict, workers: int | None = None, log: Callable[[str], None] | None = None) -> StudyResult:
    """Run a study from a composed, resolved config (plain dict with a ``study`` block)."""
    from guarantee_sim.analysis.discovery import find_failure_rules, rule_text
    from guarantee_sim.scenario.build import build_scenario

    from guarantee_sim.runs.provenance import git_commit, now

    t0, cpu0, started = time.perf_counter(), _cpu_seconds(), now()
    log = log or (lambda s: None)
    base, levers = check_study(config)
    study = config["study"]
    scenario = build_scenario(base)
    n, R, d = study["n"], study["replicates"], len(levers)
    seed = int(base.get("seed", 0))
    workers = int(base.get("workers", 1) if workers is None else workers)
    A, B = sample_design(levers, n, study["design"], rng=np.random.SeedSequence([seed, 1]))
    X, block, swapped = saltelli_points(A, B)
    rows = np.tile(np.arange(n), d + 2)
    n_check = min(study["noise_points"], n)
    # row j's points share seed block j; the noise check re-runs A's first rows with fresh blocks
    seeds = seed_blocks(seed, n + n_check, R)
    disc = study["discovery"]
    support_type = study.get("support_type")
    evaluator = Evaluator(base, levers, seeds, scenario.horizon, disc["among"], disc["late_days"], support_type)
    values = np.vstack([X, A[:n_check]])
    blocks = np.concatenate([rows, n + np.arange(n_check)])
    log(f"{len(X):,} sample points ({study['design']}, n={n}, {d} levers) x {R} runs"
        + (f" + {n_check} noise-check points" if n_check else "") + f", {workers} worker(s)")
    step = max(1, len(values) // 10)
    marks = {"next": step}

    def progress(done, total):
        if done >= marks["next"] or done == total:
            log(f"  {done:,}/{total:,} points ({time.perf_counter() - t0:.0f} s)")
            marks["next"] = done + step

    evaluated = evaluate(evaluator, values, blocks, workers, progress)
    points, check = evaluated.iloc[: len(X)].reset_index(drop=True), evaluated.iloc[len(X):].reset_index(drop=True)
    t_runs = time.perf_counter() - t0

    sample = pd.DataFrame(X, columns=[lv.name for lv in levers])
    sample.insert(0, "point", np.arange(len(X)))
    sample.insert(1, "block", block)
    sample.insert(2, "swapped", [levers[i].name if i >= 0 else "" for i in swapped])
    sample.insert(3, "row", rows)
    for col in POINT_COLUMNS:
        sample[col] = points[col].to_numpy()

    rng = np.random.SeedSequence([seed, 2])
    names = [lv.name for lv in levers]
    tables, noise = [], {}
    for k, outcome in enumerate(OUTCOMES):
        y = sample[outcome].to_numpy(dtype=float)
        tables.append(sobol_table(y, n, names, study["bootstrap"], study["confidence"], rng.spawn(1)[0], outcome))
        var = float(np.var(y[: 2 * n]))
        if n_check:
            diff = y[:n_check] - check[outcome].to_numpy(dtype=float)
            noise_var = float(np.mean(diff ** 2) / 2)
            noise[outcome] = {"noise_variance": noise_var, "output_variance": var,
                              "noise_share": noise_var / var if var > 0 else math.nan}
        else:
            noise[outcome] = {"noise_variance": math.nan, "output_variance": var, "noise_share": math.nan}
    indices = pd.concat(tables, ignore_index=True)
    labels = {lv.name: lv.label for lv in levers}
    indices.insert(2, "label", indices["lever"].map(labels))
    indices.insert(3, "key", indices["lever"].map({lv.name: lv.key for lv in levers}))
    indices["rank"] = indices.groupby("outcome")["ST"].rank(ascending=False, method="first")

    result = find_failure_rules(sample[names], sample["runs_failed"].to_numpy(), sample["runs_considered"].to_numpy(),
                                disc["max_depth"], disc["min_leaf_share"], disc["min_density"], seed)
    what, among = failure_words(disc, support_type)
    units = {lv.name: lv.unit for lv in levers}
    for r in result.rules:
        r.text = rule_text(r, labels, units, what, among)
    meta = {
        "kind": KIND,
        "version": 1,
        "name": study.get("name", "sensitivity"),
        "question": study.get("question", ""),
        "design": study["design"],
        "n": n,
        "replicates": R,
        "points": int(len(X)),
        "noise_points": n_check,
        "runs": int((len(X) + n_check) * R),
        "seed": seed,
        "workers": workers,
        "horizon": scenario.horizon,
        "scenario": scenario.labels,
        "levers": [{"name": lv.name, "key": list(lv.keys), "low": lv.low, "high": lv.high, "scale": lv.scale,
                    "label": lv.label, "unit": lv.unit} for lv in levers],
        "support_type": support_type,
        "outcomes": {k: {"label": outcome_label(k, support_type), "unit": v[1]} for k, v in OUTCOMES.items()},
        "noise": noise,
        "median_reached_share": float(sample["median_reached"].mean()),
        "discovery": {"among": disc["among"], "late_days": disc["late_days"], "what": what, "of": among,
                      "failure_rate": result.failure_rate, "max_depth": disc["max_depth"],
                      "min_leaf_share": disc["min_leaf_share"], "min_density": disc["min_density"]},
        "started": started,
        "git_commit": git_commit(),
        "seconds_runs": t_runs,
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": _cpu_seconds() - cpu0,
    }
    return StudyResult(sample, indices, result, levers, meta)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the workers), user + system."""
    try:
        import resource
    except ImportError:  # not on Windows
        return math.nan
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def outcome_label(outcome: str, support_type: str | None = None) -> str:
    label = OUTCOMES[outcome][0]
    return label if support_type is None else label.replace("binding support", f"binding {support_type} support").replace(
        "days to activation", f"days to {support_type} activation")


def failure_words(disc: dict, support_type: str | None = None) -> tuple[str, str]:
    """(what fails, among which runs) in words, for the rules."""
    late = disc.get("late_days")
    support = "binding support" if support_type is None else f"binding {support_type} support"
    if disc.get("among") == "attacked":
        what = f"{support} fails to activate" + (f" within {late:g} days of the attack" if late is not None else " within the horizon")
        return what, "runs with an armed attack"
    what = f"{support} fails to activate" + (f" within {late:g} days of the ceasefire" if late is not None else " within the horizon")
    return what, "runs"


# output ---------------------------------------------------------------------------------------------
def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def format_indices(indices: pd.DataFrame, outcome: str, top: int | None = None) -> str:
    """The levers of one outcome ranked by total index, with their intervals, as text."""
    t = indices[indices["outcome"] == outcome].sort_values("ST", ascending=False, na_position="last")
    if top:
        t = t.head(top)
    if t["ST"].isna().all():
        return f"n/a: the outcome varies at fewer than {MIN_VARYING_SHARE:.0%} of the points, so no index is estimated"
    lines = [f"{'lever':<34}{'total index ST (95% CI)':<28}first-order S1 (95% CI)"]
    for _, r in t.iterrows():
        if math.isnan(r["ST"]):
            lines.append(f"{r['label'][:33]:<34}n/a (the outcome varies at < {MIN_VARYING_SHARE:.0%} of the points)")
            continue
        st = f"{r['ST']:.3f} ({r['ST_low']:.3f} to {r['ST_high']:.3f})"
        s1 = f"{r['S1']:.3f} ({r['S1_low']:.3f} to {r['S1_high']:.3f})"
        lines.append(f"{r['label'][:33]:<34}{st:<28}{s1}")
    return "\n".join(lines)


def format_study(res: StudyResult) -> str:
    from guarantee_sim.analysis.discovery import describe

    m = res.meta
    lines = [
        f"Sensitivity study '{m['name']}': {m['points']:,} sample points x {m['replicates']} runs "
        f"({m['design']}, n={m['n']}, {len(res.levers)} levers), scenario "
        + ", ".join(f"{k}={v}" for k, v in m["scenario"].items()),
        "Exploratory: indices rank the assumptions within the ranges of docs/parameters.md; they do not predict.",
    ]
    if m["question"]:
        lines.append(f"Question: {m['question']}")
    for outcome, (label, unit) in OUTCOMES.items():
        label = outcome_label(outcome, m.get("support_type"))
        nz = m["noise"][outcome]
        lines += ["", f"{label} [{unit}]"]
        if outcome == "median_days_to_activation":
            lines.append(f"  the median is reached within the horizon at {m['median_reached_share']:.0%} of the points"
                         " (elsewhere it counts as the horizon)")
            if m["median_reached_share"] < 0.5 and not res.indices.loc[res.indices["outcome"] == outcome, "ST"].isna().all():
                lines.append("  caution: at most points fewer than half the runs activate, so these indices say mostly what"
                             " lets activation reach one half at all; read the activation probability first")
        if nz["noise_share"] is not None and not (isinstance(nz["noise_share"], float) and math.isnan(nz["noise_share"])):
            lines.append(f"  seed noise: {nz['noise_share']:.1%} of the output variance (replicate means of {m['replicates']} runs)")
        lines.append(format_indices(res.indices, outcome))
    what, among = m["discovery"]["what"], m["discovery"]["of"]
    labels = {lv.name: lv.label for lv in res.levers}
    units = {lv.name: lv.unit for lv in res.levers}
    lines += ["", "Where binding support fails (CART scenario discovery):",
              describe(res.discovery, labels, units, what, among)]
    lines += ["", f"Time: {m['seconds']:.0f} s wall, {m['cpu_seconds']:.0f} s CPU, {m['workers']} worker(s) "
                  f"({m['runs']:,} runs)"]
    return "\n".join(lines)


def write_study(res: StudyResult, out: Path, resolved_yaml: str | None = None) -> dict:
    """Write the study's tables, figures and marker into ``out``; return the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from guarantee_sim.analysis.discovery import rules_frame
    from guarantee_sim.present.sensitivity_plots import plot_failure_region, plot_sobol_indices

    out.mkdir(parents=True, exist_ok=True)
    files = {}

    def put(name, write):
        _write_atomic(out / name, write)
        files[name] = name

    put("sample.parquet", lambda p: res.sample.to_parquet(p, index=False))
    put("indices.csv", lambda p: res.indices.to_csv(p, index=False))
    records = _clean(res.indices.to_dict(orient="records"))
    put("indices.json", lambda p: Path(p).write_text(json.dumps(records, indent=2, ensure_ascii=False)))
    rules = rules_frame(res.discovery)
    put("rules.csv", lambda p: rules.to_csv(p, index=False))
    payload = _clean({"failure_rate": res.discovery.failure_rate, "failures": res.discovery.failures,
                      "runs": res.discovery.runs, "min_density": res.discovery.min_density,
                      "importances": res.discovery.importances, "rules": [r.as_dict() for r in res.discovery.rules]})
    put("rules.json", lambda p: Path(p).write_text(json.dumps(payload, indent=2, ensure_ascii=False)))
    text = format_study(res)
    put("summary.txt", lambda p: Path(p).write_text(text + "\n"))
    for outcome in OUTCOMES:
        fig = plot_sobol_indices(res.indices, outcome, res.meta)
        for ext in ("png", "svg"):
            put(f"sobol_{outcome}.{ext}", lambda p, fig=fig, ext=ext: fig.savefig(p, format=ext, dpi=150, bbox_inches="tight"))
        plt.close(fig)
    fig = plot_failure_region(res.sample, res.discovery, res.levers, res.meta)
    if fig is not None:
        for ext in ("png", "svg"):
            put(f"discovery.{ext}", lambda p, fig=fig, ext=ext: fig.savefig(p, format=ext, dpi=150, bbox_inches="tight"))
        plt.close(fig)
    if resolved_yaml is not None:
        put("config.yaml", lambda p: Path(p).write_text(resolved_yaml))
    from guarantee_sim.runs.provenance import record

    prov = record(res.meta["seed"], res.meta["started"], res.meta["runs"], {"study": res.meta["name"]})
    put("provenance.json", lambda p: Path(p).write_text(json.dumps(_clean(prov), indent=2)))
    meta = dict(res.meta, files=sorted(files) + [MARKER])
    put(MARKER, lambda p: Path(p).write_text(json.dumps(_clean(meta), indent=2, ensure_ascii=False)))
    return files


# reading a study back (for the report) ----------------------------------------------------------------
def is_study(folder: Path | str) -> bool:
    """Does ``folder`` hold a finished sensitivity study (its ``study.json`` marker)?"""
    p = Path(folder) / MARKER
    if not p.is_file():
        return False
    try:
        return json.loads(p.read_text()).get("kind") == KIND
    except (OSError, ValueError):
        return False


def find_studies(results: Path | str) -> list[Path]:
    """Every sensitivity study folder under ``results`` (newest last)."""
    return sorted((p.parent for p in Path(results).rglob(MARKER) if is_study(p.parent)), key=lambda p: p.name)


def report_markdown(folder: Path | str, top: int = 8, relative_to: Path | str | None = None) -> str:
    """A Markdown section for the report: the ranked levers with intervals, the rules, the figures.

    Figure links are relative to the study folder, or to ``relative_to`` (the report's folder).
    """
    import os

    folder = Path(folder)
    link = (lambda name: Path(os.path.relpath(folder / name, relative_to)).as_posix()) if relative_to else (lambda name: name)
    meta = json.loads((folder / MARKER).read_text())
    indices = pd.read_csv(folder / "indices.csv")
    rules = pd.read_csv(folder / "rules.csv")
    sc = ", ".join(f"{k}={v}" for k, v in meta["scenario"].items())
    lines = [f"## Which assumptions matter: sensitivity study '{meta['name']}'", ""]
    if meta.get("question"):
        lines += [f"*Question.* {meta['question']}", ""]
    lines += [f"Scenario {sc}; {len(meta['levers'])} levers over their plausible ranges (docs/parameters.md, "
              f"Lever ranges); {meta['design']} design, n = {meta['n']}, {meta['points']:,} points × "
              f"{meta['replicates']} runs (common random numbers); 95% bootstrap intervals.", ""]
    for outcome, info in meta["outcomes"].items():
        nz = meta["noise"][outcome]
        lines += [f"### {info['label']}", ""]
        t = indices[indices["outcome"] == outcome].sort_values("ST", ascending=False).head(top)
        if t["ST"].isna().all():
            lines += [f"The outcome varies at fewer than {MIN_VARYING_SHARE:.0%} of the points: its indices are not "
                      "estimated." + (f" (The median is reached at only {meta['median_reached_share']:.0%} of them.)"
                                      if outcome == "median_days_to_activation" else ""), ""]
            continue
        lines += ["| rank | lever | key | total index ST (95% CI) | first-order S1 (95% CI) |", "|---|---|---|---|---|"]
        for i, (_, r) in enumerate(t.iterrows(), 1):
            lines.append(f"| {i} | {r['label']} | `{r['key']}` | {r['ST']:.3f} ({r['ST_low']:.3f}–{r['ST_high']:.3f}) "
                         f"| {r['S1']:.3f} ({r['S1_low']:.3f}–{r['S1_high']:.3f}) |")
        share = nz.get("noise_share")
        if share is not None:
            lines += ["", f"Seed noise: {share:.1%} of the output variance."]
        if outcome == "median_days_to_activation":
            lines.append(f"The median is reached within the horizon at {meta['median_reached_share']:.0%} of the points "
                         "(elsewhere it counts as the horizon).")
            if meta["median_reached_share"] < 0.5:
                lines.append("At most points fewer than half the runs activate, so these indices say mostly what lets "
                             "activation reach one half at all: read the activation probability first.")
        png = f"sobol_{outcome}.png"
        if (folder / png).exists():
            lines += ["", f"![{info['label']}]({link(png)})"]
        lines.append("")
    disc = meta["discovery"]
    lines += ["### Where binding support fails", "",
              f"Overall, {disc['what']} in {disc['failure_rate']:.0%} of {disc['of']}. "
              f"CART regions with a failure density of at least {disc['min_density']:.0%}:", ""]
    regions = rules[rules["failure_region"]]
    if regions.empty:
        lines.append("- none in this sample")
    for _, r in regions.iterrows():
        lines.append(f"- {r['text']}")
    if (folder / "discovery.png").exists():
        lines += ["", f"![failure regions]({link('discovery.png')})"]
    return "\n".join(lines) + "\n"


# command line ------------------------------------------------------------------------------------------
def compose_study(overrides: tuple[str, ...] | list[str] = ()):
    """Compose the study config as the command line would (``conf/sensitivity.yaml``)."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    overrides = list(overrides)
    try:
        if GlobalHydra.instance().is_initialized():
            return compose("sensitivity", overrides=overrides)
        with initialize_config_module(CONFIG_MODULE, version_base="1.3"):
            return compose("sensitivity", overrides=overrides)
    except Exception as exc:
        raise _explain(exc, overrides) from None


def _explain(exc: BaseException, overrides: list[str]) -> ConfigError:
    import re

    from guarantee_sim.scenario.hydra_errors import explain

    text = str(exc)
    m = re.search(r"Could not override '(study\.[^']+)'", text) or re.search(r"Key '([^']+)' not in '(StudyConfig|DiscoverySpec|LeverSpec)'", text)
    if m:
        return _unknown_study_key(m.group(1), overrides)
    if re.search(r"Error merging override ", text):
        return explain(exc, overrides)
    scenario_overrides = [o for o in overrides if not o.lstrip("+~").startswith(("study", "sensitivity"))]
    return explain(exc, scenario_overrides)


def _unknown_study_key(key: str, overrides: list[str]) -> ConfigError:
    """Name the unknown part of a study key and what is allowed there."""
    parts = key.split(".")
    if len(parts) >= 3 and parts[1] == "levers":
        if len(parts) >= 4:
            fields = [f.name for f in LeverSpec.__dataclass_fields__.values()]
            if parts[3] not in fields:
                return ConfigError(".".join(parts[:4]), "unknown key", ", ".join(fields))
        try:
            names = sorted(compose_study([o for o in overrides if not o.lstrip("+~").startswith("study")]).study.levers)
        except ConfigError:
            names = []
        return ConfigError(".".join(parts[:3]), f"unknown lever {parts[2]!r}",
                           ", ".join(names) + " (add one with +study.levers.<name>={key: ..., low: ..., high: ...})")
    if len(parts) >= 3 and parts[1] == "discovery":
        return ConfigError(".".join(parts[:3]), "unknown key",
                           ", ".join(f.name for f in DiscoverySpec.__dataclass_fields__.values()))
    return ConfigError(".".join(parts[:2]), "unknown key",
                       ", ".join(f.name for f in StudyConfig.__dataclass_fields__.values()))


def _job_overrides(argv: list[str]) -> list[list[str]]:
    """The overrides of every job the command line asks for (sweeps expanded)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra._internal.utils import get_args_parser
    from hydra.core.override_parser.overrides_parser import OverridesParser

    args, _ = get_args_parser().parse_known_args(argv)
    ours = [o for o in args.overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]
    if not args.multirun:
        return [ours]
    parsed = OverridesParser.create().parse_overrides(ours)
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def check_command_line(argv: list[str]) -> None:
    """Compose and check every job of the command line; raise ConfigError on the first bad one."""
    from omegaconf import OmegaConf

    try:
        jobs = _job_overrides(argv)
    except Exception as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ConfigError("", f"cannot parse the command line: {first.strip()}") from None
    for overrides in jobs:
        cfg = compose_study(tuple(overrides))
        check_study(OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True))


def _app_main(cfg) -> None:
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    out = Path(HydraConfig.get().runtime.output_dir)
    config = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    res = run_study(config, log=lambda s: print(s, flush=True))
    resolved = OmegaConf.to_yaml(cfg, resolve=True)
    write_study(res, out, resolved)
    print()
    print(format_study(res))
    print(f"\nWritten to {out}")


def main(argv: list[str] | None = None) -> None:
    import hydra

    argv = sys.argv[1:] if argv is None else argv
    from guarantee_sim.runs.cli import exit_on_bad_input

    exit_on_bad_input(argv, PROG, check_command_line)
    sys.argv = [sys.argv[0]] + argv
    hydra.main(config_path="pkg://guarantee_sim.conf", config_name="sensitivity", version_base="1.3")(_app_main)()


if __name__ == "__main__":
    main()
