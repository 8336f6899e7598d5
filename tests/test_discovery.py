"""Scenario discovery: CART boxes of failure, their coverage and density, their words, and their
stability on a fresh sample of the model."""

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from guarantee_sim.analysis.discovery import (
    Condition,
    Rule,
    describe,
    find_failure_rules,
    measure,
    reapply,
    rule_text,
    rules_frame,
)


def synthetic(n=3000, runs=20, seed=5):
    """Failure is likely (0.9) in the box a <= 0.3 and b > 0.6, unlikely (0.1) elsewhere; c is inert."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["a", "b", "c"])
    inside = (X["a"] <= 0.3) & (X["b"] > 0.6)
    p = np.where(inside, 0.9, 0.1)
    failed = rng.binomial(runs, p)
    return X, failed, np.full(n, runs), inside.to_numpy()


def test_cart_finds_the_planted_box_with_its_coverage_and_density():
    X, failed, considered, inside = synthetic()
    res = find_failure_rules(X, failed, considered, max_depth=3, min_leaf_share=0.02, min_density=0.5)
    regions = [r for r in res.rules if r.failure_region]
    assert len(regions) == 1, [r.conditions for r in regions]
    box = regions[0]
    bounds = {(c.lever, c.op): c.threshold for c in box.conditions}
    assert set(bounds) == {("a", "<="), ("b", ">")}
    assert bounds[("a", "<=")] == pytest.approx(0.3, abs=0.02)
    assert bounds[("b", ">")] == pytest.approx(0.6, abs=0.02)
    # coverage and density are the definitions, recomputed by hand on the box's points
    m = box.mask(X)
    assert box.density == pytest.approx(failed[m].sum() / considered[m].sum())
    assert box.coverage == pytest.approx(failed[m].sum() / failed.sum())
    assert box.mass == pytest.approx(considered[m].sum() / considered.sum())
    assert box.density == pytest.approx(0.9, abs=0.02)
    # the planted box (0.3 x 0.4 of the square) holds 0.9 * 0.12 / (0.9 * 0.12 + 0.1 * 0.88) of all failures
    assert box.coverage == pytest.approx(0.108 / 0.196, abs=0.03)
    assert res.failure_rate == pytest.approx(failed.sum() / considered.sum())
    assert res.importances["c"] < 0.02


def test_sibling_failure_leaves_merge_into_one_box():
    """A failure region split in two by the tree is reported once, by its parent's box."""
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.uniform(size=(4000, 2)), columns=["a", "b"])
    # failure everywhere a <= 0.5, with a different density on either side of b = 0.5
    p = np.where(X["a"] <= 0.5, np.where(X["b"] <= 0.5, 0.95, 0.7), 0.05)
    failed = rng.binomial(40, p)
    res = find_failure_rules(X, failed, np.full(len(X), 40), max_depth=2, min_leaf_share=0.05)
    regions = [r for r in res.rules if r.failure_region]
    assert len(regions) == 1
    assert [(c.lever, c.op) for c in regions[0].conditions] == [("a", "<=")]
    assert regions[0].density == pytest.approx((0.95 + 0.7) / 2, abs=0.02)


def test_measure_by_hand():
    failed = np.array([3, 0, 5, 1])
    considered = np.array([4, 4, 5, 2])
    (dens, cov, mass, f, n, pts), = measure([np.array([True, False, True, False])], failed, considered)
    assert (dens, cov, mass, f, n, pts) == (8 / 9, 8 / 9, 9 / 15, 8.0, 9.0, 2)


def test_no_failures_no_rules_and_a_plain_sentence():
    X = pd.DataFrame({"a": [0.1, 0.5, 0.9]})
    res = find_failure_rules(X, np.zeros(3), np.full(3, 10))
    assert res.rules == [] and res.failure_rate == 0
    assert "no region" in describe(res)


def test_rule_in_plain_language():
    rule = Rule([Condition("q", "<=", 0.5512), Condition("t", ">", 20.04), Condition("t", "<=", 28.0)],
                density=0.81, coverage=0.64, mass=0.2, failures=81, runs=100, points=10)
    text = rule_text(rule, {"q": "attribution probability", "t": "investigation time"}, {"q": "probability", "t": "days"})
    assert text == ("when attribution probability ≤ 0.551 and 20 < investigation time ≤ 28 days, binding support "
                    "fails to activate in 81% of runs (covers 64% of failures; 20% of runs fall in this region)")
    again = Rule.from_dict(rule.as_dict())
    assert again.conditions == rule.conditions and again.density == rule.density
    assert rules_frame(type("D", (), {"rules": [rule]})())["rule"][0] == "q <= 0.5512 and t > 20.04 and t <= 28"


def model_sample(seed, n=512, replicates=16):
    """An LHS sample of the analytic case's levers; design and run seeds from root ``seed``."""
    from guarantee_sim.analysis.sensitivity.cli import compose_study
    from guarantee_sim.analysis.sensitivity.evaluate import Evaluator, evaluate, seed_blocks
    from guarantee_sim.analysis.sensitivity.sampling import sample_design
    from guarantee_sim.analysis.sensitivity.study import check_study

    config = OmegaConf.to_container(compose_study(("experiment=sensitivity_analytic", f"seed={seed}")), resolve=True)
    base, levers = check_study(config)
    A, _ = sample_design(levers, n, "lhs", rng=np.random.SeedSequence([seed, 1]))
    points = evaluate(Evaluator(base, levers, seed_blocks(seed, n, replicates), 365.0), A, np.arange(n))
    X = pd.DataFrame(A, columns=[lv.name for lv in levers])
    return X, points["runs_failed"].to_numpy(), points["runs_considered"].to_numpy()


@pytest.mark.slow
def test_model_rules_keep_their_density_on_a_fresh_sample():
    """The analytic case's failure regions, re-applied to a fresh design with fresh run seeds,
    keep their density within 0.1 (each box holds >= 5% of the runs, ~400 of them, so the
    difference of two densities has a standard error of about 0.035)."""
    X1, f1, n1 = model_sample(seed=1)
    res = find_failure_rules(X1, f1, n1, max_depth=3, min_leaf_share=0.05, min_density=0.5)
    regions = [r for r in res.rules if r.failure_region]
    assert regions, describe(res)
    assert any(c.lever == "breach_rate" and c.op == "<=" for r in regions for c in r.conditions)
    X2, f2, n2 = model_sample(seed=2)
    fresh = reapply(regions, X2, f2, n2)
    for rule, (_, row) in zip(regions, fresh.iterrows()):
        assert row["runs"] > 0.03 * n2.sum()
        assert abs(row["density"] - rule.density) <= 0.1, (rule.conditions, rule.density, row["density"])
