"""The analytic special case against its closed form (docs/model.md, "The analytic special case").

With Poisson breaches at rate λ, detection p, attribution q and fixed delays d, t, c, a:
P(activated by H) = 1 − exp(−λpq(H − L)), L = d + t + c + a, and the activation day is L plus an
exponential with rate λpq, truncated at H.
"""

import math

import numpy as np
import pytest
from scipy import stats

from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.runs.runner import run_replications
from guarantee_sim.analysis.stats import wilson

pytestmark = pytest.mark.main_line  # made from rows, equal on both lines: see pyproject.toml

RUNS = 4000

# (rate λ, detection p, attribution q, report d, investigation t, consultation c, approval a, horizon H)
POINTS = [
    (0.005, 0.8, 0.7, 1.0, 14.0, 1.0, 1.0, 365.0),
    (0.02, 0.5, 0.4, 2.0, 20.0, 1.0, 3.0, 180.0),
    (0.01, 0.9, 0.5, 0.5, 7.0, 2.0, 0.0, 120.0),
]


def analytic_overrides(lam, p, q, d, t, c, a, h):
    return (
        "experiment=analytic",
        f"breach.params.rate={lam}",
        *(f"monitoring.detection.{k}={p}" for k in ("artillery",)),
        f"commission.attribution_probability={q}",
        f"monitoring.report_delay={d}",
        f"commission.investigation_time={t}",
        f"coordination.consultation_delay={c}",
        f"coalition.regimes.executive.delay={a}",
        f"horizon={h}",
    )


@pytest.mark.parametrize("point", POINTS, ids=[f"rate{p[0]}-H{p[-1]:g}" for p in POINTS])
def test_activation_probability_and_days_match_closed_form(point):
    lam, p, q, d, t, c, a, h = point
    scenario = load_scenario(analytic_overrides(*point))
    df = run_replications(scenario, RUNS, seed=2026)
    lag = d + t + c + a
    rate = lam * p * q
    expected = 1 - math.exp(-rate * (h - lag))

    k = int(df["activated"].sum())
    est, lo, hi = wilson(k, RUNS, level=0.99)
    assert hi - lo < 0.06, "interval too wide for the test to mean anything"
    assert lo <= expected <= hi, f"P={est:.4f}, 99% Wilson [{lo:.4f}, {hi:.4f}], formula {expected:.4f}"

    days = df["activation_day"].dropna().to_numpy()
    assert days.min() >= lag - 1e-9

    def truncated_shifted_exponential_cdf(x):
        return np.clip((1 - np.exp(-rate * (x - lag))) / (1 - np.exp(-rate * (h - lag))), 0, 1)

    ks = stats.kstest(days, truncated_shifted_exponential_cdf)
    assert ks.pvalue > 0.01, f"KS p={ks.pvalue:.4f}"


def test_closed_form_test_can_fail():
    """The same check rejects a model whose attribution probability is off by 0.1."""
    lam, p, q, d, t, c, a, h = POINTS[0]
    df = run_replications(load_scenario(analytic_overrides(lam, p, q + 0.1, d, t, c, a, h)), RUNS, seed=2026)
    expected = 1 - math.exp(-lam * p * q * (h - (d + t + c + a)))
    _, lo, hi = wilson(int(df["activated"].sum()), RUNS, level=0.99)
    assert not lo <= expected <= hi
