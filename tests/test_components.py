"""Delays, statistics, trigger rules and the commission's decision rules."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from guarantee_sim.model.breaches import BreachKind
from guarantee_sim.model.commission import DECISION_RULES
from guarantee_sim.model.delays import parse_delay
from guarantee_sim.errors import ConfigError
from guarantee_sim.analysis.stats import km_median, wilson
from guarantee_sim.model.triggers import Finding, build_rule, build_tiers

U = np.array([0.001, 0.1, 0.37, 0.5, 0.8, 0.999])


@pytest.mark.parametrize(
    "spec,dist",
    [
        (4.0, stats.uniform(4.0, 0.0)),
        ({"dist": "exponential", "mean": 3.0}, stats.expon(scale=3.0)),
        ({"dist": "lognormal", "median": 7.0, "sigma": 0.6}, stats.lognorm(0.6, scale=7.0)),
        ({"dist": "gamma", "mean": 14.0, "shape": 4.0}, stats.gamma(4.0, scale=3.5)),
        ({"dist": "uniform", "low": 2.0, "high": 30.0}, stats.uniform(2.0, 28.0)),
    ],
)
def test_delays_are_inverse_cdfs_of_their_distributions(spec, dist):
    delay = parse_delay(spec, "d")
    expected = np.full(len(U), 4.0) if isinstance(spec, float) else dist.ppf(U)
    np.testing.assert_allclose([delay.from_uniform(u) for u in U], expected, rtol=1e-9)
    np.testing.assert_allclose(delay.from_uniforms(U), expected, rtol=1e-9)
    if not isinstance(spec, float):
        assert math.isclose(delay.mean, dist.mean(), rel_tol=1e-9)


@pytest.mark.parametrize("bad", [-1, {"dist": "exponential", "mean": -2}, {"dist": "uniform", "low": 5, "high": 1}, "soon", True])
def test_bad_delays_are_rejected(bad):
    with pytest.raises(ConfigError):
        parse_delay(bad, "x")


def test_wilson_matches_the_textbook_formula():
    k, n, z = 37, 120, stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    _, lo, hi = wilson(k, n)
    assert math.isclose(lo, centre - half, rel_tol=1e-9) and math.isclose(hi, centre + half, rel_tol=1e-9)


def test_km_median_without_censoring_is_the_sample_median_and_censoring_pushes_it_out():
    days = np.arange(1.0, 102.0)
    est, lo, hi = km_median(days, 365)
    assert est == 51.0 and lo < 51 < hi
    censored = np.concatenate([days, np.full(100, np.nan)])
    assert km_median(censored, 365)[0] == 101.0
    assert math.isnan(km_median(np.concatenate([days[:10], np.full(100, np.nan)]), 365)[0])


def finding(day, severity=2.0, kind=BreachKind.ARTILLERY, force=False):
    return Finding(day + 5, day, kind, severity, True, False, force)


def brute_force_count_window(days, k, w):
    days = sorted(days)
    return any(days[i + k - 1] - days[i] <= w for i in range(len(days) - k + 1))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 365), max_size=25), st.integers(1, 5), st.floats(1, 60), st.randoms())
def test_count_window_fires_as_defined_in_any_order(days, k, w, rnd):
    rule = build_rule({"rule": "count_window", "params": {"k": k, "window": w}}, "trigger")
    order = list(days)
    rnd.shuffle(order)
    fired = [rule.observe(finding(d)) for d in order]
    assert (fired[-1] if fired else False) == brute_force_count_window(days, k, w)
    assert fired == sorted(fired), "once fired, a rule stays fired"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 365), st.floats(0.5, 5)), max_size=25), st.floats(1, 20), st.floats(1, 60))
def test_cumulative_severity_matches_brute_force(events, threshold, window):
    rule = build_rule({"rule": "cumulative_severity", "params": {"threshold": threshold, "window": window}}, "trigger")
    fired = False
    for d, s in events:
        fired = rule.observe(finding(d, s))
    expected = any(math.fsum(s for d, s in events if d0 <= d <= d0 + window) >= threshold for d0, _ in events)
    assert fired == expected


def test_composition_and_trip_wire():
    any_of = build_rule({"rule": "any_of", "params": {"rules": [{"rule": "armed_attack"}, {"rule": "force_attacked"}]}}, "t")
    assert not any_of.observe(finding(1.0))
    assert any_of.observe(finding(2.0, force=True))
    all_of = build_rule(
        {"rule": "all_of", "params": {"rules": [{"rule": "armed_attack"}, {"rule": "count_window", "params": {"k": 2}}]}}, "t"
    )
    assert not all_of.observe(finding(1.0)) and not all_of.observe(finding(2.0))
    assert all_of.observe(finding(3.0, 5.0, BreachKind.ARMED_ATTACK))


def test_graduated_tiers_cover_types_once():
    tiers = build_tiers(
        "graduated",
        {"tiers": [{"types": ["diplomatic"], "rule": "any_attributed"}, {"types": ["military"], "rule": "armed_attack"}]},
        "trigger",
    )
    assert [t.types for t in tiers] == [("diplomatic",), ("military",)]
    with pytest.raises(ConfigError, match="two tiers"):
        build_tiers("graduated", {"tiers": [{"types": ["economic"], "rule": "any_attributed"}] * 2}, "trigger")
    with pytest.raises(ConfigError, match="trigger.params.tiers\\[0\\].types"):
        build_tiers("graduated", {"tiers": [{"types": ["naval"], "rule": "any_attributed"}]}, "trigger")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=15), st.data())
def test_stricter_decision_rules_attribute_less(votes, data):
    v = np.array(votes)
    lead = data.draw(st.integers(0, len(votes) - 1))
    rules = dict(DECISION_RULES.items())
    decide = {name: cls.decide(v, lead, 2 / 3) for name, cls in rules.items()}
    assert decide["consensus"] == decide["unanimity"] == v.all()
    assert decide["consensus"] <= decide["qualified_majority"] <= decide["simple_majority"]
    assert decide["lead_nation"] == v[lead]
    share = data.draw(st.sampled_from([0.0, 0.5, 0.6, 2 / 3, 0.75, 1.0]))
    for cls in rules.values():  # one finding's decision is the same as in a batch of findings
        assert cls.decide(v, lead, share) == bool(cls.decide_many(v[None, :], lead, share)[0])


def test_binomial_quantile_is_scipys_binomial_ppf():
    """The monitoring's fast inverse CDF for thinned counts gives scipy.stats.binom.ppf's answers."""
    from guarantee_sim.model.binomial import binomial_quantile

    rng = np.random.default_rng(11)
    m = 20_000
    n = np.concatenate([rng.integers(1, 40, m // 2), rng.integers(40, 5000, m // 2)])
    p = rng.choice([0.01, 0.05, 0.3, 0.45, 0.5, 0.9, 0.95, 0.99, 1.0], m)
    p[::7] = rng.uniform(0.001, 1.0, len(p[::7]))
    f0 = (1.0 - p) ** n  # the monitoring conditions on at least one detection
    q = f0 + rng.uniform(1e-9, 1 - 1e-9, m) * (1.0 - f0)
    np.testing.assert_array_equal(binomial_quantile(q, n, p), stats.binom.ppf(q, n, p).astype(np.int64))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3000), st.floats(0.001, 1.0), st.floats(1e-6, 1 - 1e-6))
def test_binomial_quantile_is_the_smallest_k_reaching_q(n, p, q):
    from scipy import special

    from guarantee_sim.model.binomial import binomial_quantile

    k = int(binomial_quantile(np.array([q]), np.array([n]), np.array([p]))[0])
    assert 0 <= k <= n
    assert special.bdtr(k, n, p) >= q
    assert k == 0 or special.bdtr(k - 1, n, p) < q


def test_a_budapest_like_design_deploys_no_force_and_its_scripted_violator_escalates_as_without_one():
    """The 1994 memorandum deployed no force: the design has none whatever force.deployed says, so a
    scripted pattern meets the hazard of no force (multiplier 1), as under force.deployed=false."""
    from guarantee_sim.model.force import MultinationalForce
    from guarantee_sim.model.streams import RunStreams
    from guarantee_sim.scenario.compose import load_scenario

    budapest = load_scenario(["commitments=budapest_like", "force.deployed=true"])
    paris = load_scenario(["commitments=paris_2026"])
    assert not budapest.force_deployed and paris.force_deployed
    assert MultinationalForce(budapest, RunStreams(0)).hazard_multiplier == 1.0
    assert MultinationalForce(paris, RunStreams(0)).hazard_multiplier < 1.0
