"""Sobol' first-order and total indices of one outcome, with bootstrap intervals, from the outputs
at Saltelli's points; the estimator is scipy's, re-applied to resamples of any size."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

# below this share of A and B points away from the most common value, indices are not estimated:
# a handful of points carries all the variance and the estimators swing far outside [0, 1]
MIN_VARYING_SHARE = 0.05


def split_blocks(y: np.ndarray, n: int, d: int) -> dict:
    """The outputs of ``saltelli_points`` as ``sobol_indices``'s dict: f_A (1, n), f_B (1, n), f_AB (d, 1, n)."""
    y = np.asarray(y, dtype=float)
    return {"f_A": y[:n][None, :], "f_B": y[n:2 * n][None, :], "f_AB": y[2 * n:].reshape(d, 1, n)}


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
