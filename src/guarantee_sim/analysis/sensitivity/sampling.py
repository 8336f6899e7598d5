"""Where the model is evaluated: two independent low-discrepancy samples A and B of the levers and
Saltelli's AB points between them, the design that ``scipy.stats.sobol_indices`` estimates from."""

from __future__ import annotations

import numpy as np

from guarantee_sim.analysis.sensitivity.levers import Lever
from guarantee_sim.analysis.sensitivity.schema import DESIGNS
from guarantee_sim.errors import ConfigError


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
