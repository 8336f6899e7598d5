"""Metamorphic tests with common random numbers, on the non-adaptive breach patterns.

Run i of both scenarios shares its seed and every decision reads its own stream position, so
the comparisons hold run by run, not only on average.
"""

import pytest

from guarantee_sim.model.breaches import BREACH_PATTERNS
from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.runs.runner import run_replications

pytestmark = pytest.mark.main_line  # made from rows, equal on both lines: see pyproject.toml

NON_ADAPTIVE = [n for n, cls in BREACH_PATTERNS.items() if not cls.classifier["adaptive"] and not n.startswith("test_")]
RUNS = 150
KINDS = ("small_arms", "artillery", "drone_missile", "hybrid", "ground_incursion", "armed_attack")
BASE = ("trigger=count_window", "monitoring.false_alarm_rate=0.003")


def activated(overrides, runs=RUNS):
    return run_replications(load_scenario(tuple(overrides)), runs, seed=99)["activated"].to_numpy()


def assert_never_lowers(low, high):
    lost = low & ~high
    assert not lost.any(), f"runs {list(lost.nonzero()[0])} activated only under the weaker lever"
    return int(high.sum() - low.sum())


def test_non_adaptive_patterns_are_the_registered_ones():
    assert set(NON_ADAPTIVE) == {"compliant", "poisson", "sporadic", "chronic", "salami", "hybrid", "surge_offensive",
                                 "deniable_incursion"}  # issue 13: the deniable incursion (model/escalation.py)


@pytest.mark.parametrize("pattern", [p for p in NON_ADAPTIVE if p != "compliant"])
def test_more_detection_never_lowers_activation(pattern):
    runs = 60 if pattern in ("chronic", "surge_offensive") else RUNS
    low = activated((f"breach={pattern}", *BASE, *(f"monitoring.detection.{k}=0.3" for k in KINDS)), runs)
    high = activated((f"breach={pattern}", *BASE, *(f"monitoring.detection.{k}=0.95" for k in KINDS)), runs)
    assert_never_lowers(low, high)


@pytest.mark.parametrize("pattern", [p for p in NON_ADAPTIVE if p != "compliant"])
def test_more_attribution_never_lowers_activation(pattern):
    runs = 60 if pattern in ("chronic", "surge_offensive") else RUNS
    low = activated((f"breach={pattern}", *BASE, "commission.attribution_probability=0.4"), runs)
    high = activated((f"breach={pattern}", *BASE, "commission.attribution_probability=0.95"), runs)
    assert_never_lowers(low, high)


@pytest.mark.parametrize("pattern", ["sporadic", "salami", "hybrid", "poisson"])
def test_more_follow_through_never_lowers_activation(pattern):
    types = ("military", "intelligence", "logistical", "diplomatic", "economic")
    low = activated((f"breach={pattern}", *BASE, *(f"commitments.types.{t}.follow_through=0.4" for t in types)))
    high = activated((f"breach={pattern}", *BASE, *(f"commitments.types.{t}.follow_through=0.9" for t in types)))
    assert_never_lowers(low, high)


@pytest.mark.parametrize("pattern", ["sporadic", "salami", "hybrid", "poisson"])
def test_unanimity_never_activates_more_than_simple_majority(pattern):
    unanimity = activated((f"breach={pattern}", *BASE, "commission.decision_rule=unanimity"))
    majority = activated((f"breach={pattern}", *BASE, "commission.decision_rule=simple_majority"))
    assert_never_lowers(unanimity, majority)


def test_the_comparisons_are_not_vacuous():
    """On the default pattern each lever moves the count, so the checks above could fail."""
    base = ("breach=sporadic", *BASE)
    gains = [
        assert_never_lowers(
            activated((*base, *(f"monitoring.detection.{k}=0.3" for k in KINDS))),
            activated((*base, *(f"monitoring.detection.{k}=0.95" for k in KINDS))),
        ),
        assert_never_lowers(
            activated((*base, "commission.attribution_probability=0.4")),
            activated((*base, "commission.attribution_probability=0.95")),
        ),
        assert_never_lowers(
            activated((*base, "commission.decision_rule=unanimity")),
            activated((*base, "commission.decision_rule=simple_majority")),
        ),
    ]
    assert all(g > 0 for g in gains), gains


@pytest.mark.parametrize("trigger", ["any_attributed", "count_window", "graduated", "armed_attack"])
def test_compliant_without_false_alarms_never_activates(trigger):
    df = run_replications(
        load_scenario(("breach=compliant", f"trigger={trigger}", "monitoring.false_alarm_rate=0")), 300, seed=5
    )
    assert not df["activated"].any()
    assert (df["stage"] == "no_breach").all()
    assert df["n_breaches"].sum() == 0
