"""Sobol' first-order and total indices of one outcome, with bootstrap intervals, from the outputs
at Saltelli's points; the estimator is scipy's, re-applied to resamples of any size.

Where each output is the mean of R replicate runs and the runs are kept (``runs``), the replicate
noise is taken out of the estimates: the squared and product means the estimators are built on
are replaced by their unbiased U-statistic forms (``noise_terms``), and the variance by the
variance less the mean noise variance. Without this a weak lever's total index carries a positive
bias of about mean(|dP|(1 - |dP|)) / (2 R V) that the bootstrap over rows does not see.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

# below this share of A and B points away from the most common value, indices are not estimated:
# a handful of points carries all the variance and the estimators swing far outside [0, 1]
MIN_VARYING_SHARE = 0.05
# a lever that changes fewer runs than this across the whole sample (0/1 outcomes) has no bootstrap
# interval worth the name (a few rows carry it); its interval is [0, the bound those runs allow]
MIN_CHANGED_RUNS = 30


def split_blocks(y: np.ndarray, n: int, d: int) -> dict:
    """The outputs of ``saltelli_points`` as ``sobol_indices``'s dict: f_A (1, n), f_B (1, n), f_AB (d, 1, n)."""
    y = np.asarray(y, dtype=float)
    return {"f_A": y[:n][None, :], "f_B": y[n:2 * n][None, :], "f_AB": y[2 * n:].reshape(d, 1, n)}


def _indices(f: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
    """scipy's estimate (Saltelli 2010) from precomputed outputs: (S1, ST), one value per lever."""
    from scipy.stats import sobol_indices

    res = sobol_indices(func=f, n=n)
    return np.atleast_1d(res.first_order).ravel(), np.atleast_1d(res.total_order).ravel()


def saltelli_2010(f_A: np.ndarray, f_B: np.ndarray, f_AB: np.ndarray, noise: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The estimators ``scipy.stats.sobol_indices`` uses, over the last axis, for any sample size.

    f_A, f_B: (..., n); f_AB: (d, ..., n). Centred on the mean of A and B as scipy does. scipy
    refuses sizes that are not powers of 2, which bootstrap resamples and jackknife leave-one-out
    samples are not; a test checks this equals scipy's estimate on the full sample. ``noise``
    (``noise_terms``, same shapes) takes the replicate noise out of each mean.
    """
    mean = np.mean([f_A, f_B], axis=(0, -1))[..., None]
    f_A, f_B, f_AB = f_A - mean, f_B - mean, f_AB - mean
    var = np.var([f_A, f_B], axis=(0, -1))
    prod, square = f_B * (f_AB - f_A), (f_A - f_AB) ** 2
    if noise is not None:
        var = var - np.mean([noise["var_A"], noise["var_B"]], axis=(0, -1))
        prod, square = prod - noise["cov_B_diff"], square - noise["var_diff"]
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = np.mean(prod, axis=-1) / var
        st = 0.5 * np.mean(square, axis=-1) / var
    return s1, st


def noise_terms(runs: np.ndarray, n: int, d: int) -> dict:
    """The replicate noise in each term of the estimators, from the runs at each point.

    ``runs``: (n (d + 2), R) per-run values in the order of ``saltelli_points``, the runs of one
    Saltelli row on the same seeds. For the mean of R paired runs, E[mean(x) mean(y)] =
    E[x] E[y] + cov(x, y) / R, so subtracting the sample covariance / R (ddof 1) from each product
    of means leaves an unbiased estimate of the product of expectations (a U-statistic over pairs
    of distinct runs): ``var_A``/``var_B`` for the output variance, ``var_diff`` for the total
    index's (f_A - f_ABi)^2, ``cov_B_diff`` for the first-order index's f_B (f_ABi - f_A).
    ``changed``: per lever, the runs whose value differs between A and AB_i.
    """
    runs = np.asarray(runs, dtype=float)
    R = runs.shape[1]
    a, b, ab = runs[:n], runs[n:2 * n], runs[2 * n:].reshape(d, n, R)
    diff = ab - a[None]  # f_ABi - f_A, run by run
    centred = diff - diff.mean(axis=-1, keepdims=True)
    return {
        "var_A": a.var(axis=-1, ddof=1) / R,
        "var_B": b.var(axis=-1, ddof=1) / R,
        "var_diff": diff.var(axis=-1, ddof=1) / R,
        "cov_B_diff": np.einsum("nr,dnr->dn", b - b.mean(axis=-1, keepdims=True), centred) / (R - 1) / R,
        "changed": (diff != 0).sum(axis=(1, 2)),
    }


def varying_share(y: np.ndarray) -> float:
    """Share of the outputs that differ from the most common output."""
    if len(y) == 0:
        return 0.0
    _, counts = np.unique(np.asarray(y, dtype=float), return_counts=True)
    return 1.0 - counts.max() / len(y)


def changed_runs_bound(changed: int, total: int, variance: float, confidence: float) -> float:
    """An upper bound on a lever's total index from the runs it changes (0/1 outcomes).

    A lever's effect at a point, |dP|, is at most the probability that it changes a run, so its
    total index E[dP^2] / (2V) is at most P(changed) / (2V); P(changed) is bounded above by the
    Clopper-Pearson limit of ``changed`` of ``total`` paired runs.
    """
    from scipy import stats

    if changed >= total:
        return math.inf
    upper = float(stats.beta.ppf(1 - (1 - confidence) / 2, changed + 1, total - changed))
    return upper / (2 * variance) if variance > 0 else math.inf


def sobol_table(y: np.ndarray, n: int, names: list[str], n_resamples: int = 999, confidence: float = 0.95,
                rng=None, outcome: str = "y", runs: np.ndarray | None = None) -> pd.DataFrame:
    """First-order and total indices of one outcome with bootstrap (BCa) intervals.

    ``y`` holds the outputs at ``saltelli_points`` in order. The point estimates are
    ``scipy.stats.sobol_indices`` on the precomputed outputs, or, given the ``runs`` whose means
    ``y`` are (R >= 2), the same estimators with the replicate noise taken out (``noise_terms``).
    The intervals resample the n base rows (each row with its A, B and AB outputs and runs) with
    ``scipy.stats.bootstrap`` (BCa; percentile where BCa is undefined; a single value where every
    resample agrees, e.g. an index that is exactly 0). For 0/1 runs, a lever that changes fewer than
    ``MIN_CHANGED_RUNS`` runs gets [0, ``changed_runs_bound``] for both indices: a few rows carry
    it, and the bootstrap over rows cannot see how rare they are. An output that (nearly) does not
    vary has no variance to share out: where fewer than ``MIN_VARYING_SHARE`` of the A and B outputs
    differ from the most common value, the indices are NaN (e.g. a median reached at only 3% of the
    points).
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
    fa, fb, fab = f["f_A"][0], f["f_B"][0], f["f_AB"][:, 0, :]
    noise = None
    if runs is not None and np.shape(runs)[1] >= 2:
        runs = np.asarray(runs, dtype=float)
        if not np.allclose(runs.mean(axis=1), y):
            raise ValueError(f"{outcome}: the outputs are not the means of the runs given")
        noise = noise_terms(runs, n, d)
        s1, st = saltelli_2010(fa, fb, fab, noise)
    else:
        s1, st = _indices(f, n)
    rows_noise = None if noise is None else {k: v for k, v in noise.items() if k != "changed"}

    def statistic(idx, axis=-1):
        idx = np.asarray(idx, dtype=np.intp)
        part = None if rows_noise is None else {k: v[..., idx] for k, v in rows_noise.items()}
        a, b = saltelli_2010(fa[idx], fb[idx], fab[:, idx], part)
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
    if noise is not None and np.isin(runs, (0.0, 1.0)).all():
        variance = float(np.var(y[: 2 * n]) - np.mean([noise["var_A"], noise["var_B"]]))
        for i in np.nonzero(noise["changed"] < MIN_CHANGED_RUNS)[0]:
            bound = changed_runs_bound(int(noise["changed"][i]), n * runs.shape[1], variance, confidence)
            low[i] = low[d + i] = 0.0
            high[i] = high[d + i] = float(np.nanmax([bound, high[d + i]]))
    rows = [[outcome, nm, s1[i], low[i], high[i], st[i], low[d + i], high[d + i]] for i, nm in enumerate(names)]
    return pd.DataFrame(rows, columns=cols)
