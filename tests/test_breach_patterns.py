"""Each breach pattern against its own description, and against a scripted coalition."""

from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from guarantee_sim.model.breaches import BREACH_PATTERNS, Breach, BreachKind, BreachPattern, BreachPlan
from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.model.registry import param
from guarantee_sim.runs.runner import run_replications
from guarantee_sim.analysis.stats import wilson

H = 365.0


def pattern(name, hazard=1.0, seed=1, **params):
    cls = BREACH_PATTERNS.get(name, "breach.pattern")
    defaults = cls.Params()
    p = type(defaults)(**{**vars(defaults), **params}) if params else defaults
    return cls(p, H, np.random.default_rng(seed), hazard)


def test_every_pattern_is_classified():
    for name, cls in BREACH_PATTERNS.items():
        assert set(cls.classifier) == {"adaptive", "deniable", "escalating", "aggregated", "strategic"}, name


def test_compliant_plans_nothing():
    assert len(pattern("compliant").plan()) == 0


def test_a_breach_plan_holds_the_incidents_it_was_given_and_sorts_them_stably():
    incidents = [Breach(5.0, BreachKind.HYBRID, 2.0, 0.7), Breach(1.0, BreachKind.ARMED_ATTACK, 5.0, 0.0),
                 Breach(5.0, BreachKind.ARTILLERY, 2.0, 0.2, count=40)]
    plan = BreachPlan.of(incidents)
    assert [(b.day, b.kind, b.severity, b.deniability, b.count) for b in plan] == [
        (b.day, b.kind, b.severity, b.deniability, b.count) for b in incidents]
    ordered = plan.sorted()
    assert [b.kind for b in ordered] == [BreachKind.ARMED_ATTACK, BreachKind.HYBRID, BreachKind.ARTILLERY]
    assert [b.index for b in ordered] == [0, 1, 2]
    assert list(ordered.keys()) == ["armed_attack", "hybrid", "artillery"]
    assert len(BreachPlan.concat(plan, BreachPlan.empty(), plan)) == 6


def test_daily_fire_is_one_artillery_and_one_small_arms_incident_a_day():
    fire = BreachPlan.daily_fire(np.array([0.5, 1.5, 2.5]), np.array([10, 4, 0]), np.array([3, 4, 0]))
    assert [(b.day, b.kind, b.count) for b in fire] == [
        (0.5, BreachKind.ARTILLERY, 3), (0.5, BreachKind.SMALL_ARMS, 7), (1.5, BreachKind.ARTILLERY, 4)]
    assert all(b.severity == b.kind.default_severity and b.deniability == b.kind.default_deniability for b in fire)


def test_a_days_explosions_are_the_binomial_quantile_of_one_uniform():
    """The split of a day's fire reads one uniform a day and inverts scipy's binomial CDF, so it does
    not depend on numpy's binomial sampler (which changed between numpy 2.4 and 2.5); counts of 0,
    of a few and of a war's week are split alike. Its mean and spread are the binomial's."""
    from guarantee_sim.model.breaches import explosions_of

    counts = np.array([0, 1, 7, 1100, 1100, 2049, 140_000] * 300)
    got = explosions_of(np.random.default_rng(5), counts, 0.3)
    u = np.random.default_rng(5).random(len(counts))
    np.testing.assert_array_equal(got, stats.binom.ppf(u, counts, 0.3).astype(np.int64))
    assert np.all(got <= counts) and np.all(got[counts == 0] == 0)
    days = explosions_of(np.random.default_rng(1), np.full(20_000, 1100), 0.3)  # 20,000 days of 1,100
    mean, var = 1100 * 0.3, 1100 * 0.3 * 0.7
    assert abs(days.mean() - mean) < 3.3 * np.sqrt(var / len(days))  # 1-in-1,000 bands (a share of 0.31
    assert abs(days.var() - var) < 3.3 * var * np.sqrt(2 / len(days))  # is about 100 bands off the mean)


def test_sporadic_counts_match_rates_and_reassurance_scales_escalation():
    counts = {k: 0 for k in BreachKind}
    n = 400
    for seed in range(n):
        for b in pattern("sporadic", hazard=0.4, seed=seed).plan():
            counts[b.kind] += 1
    rates = pattern("sporadic").params.rates
    for kind in BreachKind:
        expected = rates[kind.key] * H * n * (0.4 if kind.key in ("ground_incursion", "armed_attack") else 1.0)
        lo, hi = stats.poisson.ppf([0.0005, 0.9995], expected)
        assert lo <= counts[kind] <= hi, (kind, counts[kind], expected)


def test_chronic_fire_is_aggregated_per_kind_and_day():
    plan = pattern("chronic", truce_half_life=0.0, escalation_rate=0.0).plan()
    days = [b.day for b in plan]
    assert len(plan) <= 2 * 365 and len(set(zip(days, [b.kind for b in plan]))) == len(plan)
    total = sum(b.count for b in plan)
    assert abs(total / 365 - 1100) < 1100 * 0.01
    explosions = sum(b.count for b in plan if b.kind is BreachKind.ARTILLERY)
    assert abs(explosions / total - 0.5) < 0.01


def test_chronic_detection_is_thinned_binomially():
    df = run_replications(load_scenario(("breach=chronic", "breach.params.escalation_rate=0")), 5, seed=1)
    s = load_scenario(("breach=chronic",))
    p_small = s.detection[BreachKind.SMALL_ARMS] + s.intelligence_detection_boost
    p_art = s.detection[BreachKind.ARTILLERY] + s.intelligence_detection_boost
    expected = (df["n_breaches_small_arms"] * p_small + df["n_breaches_artillery"] * p_art).sum()
    assert abs(df["n_detected"].sum() / expected - 1) < 0.01


def test_salami_severity_rises_and_reassurance_slows_it():
    plain = pattern("salami", seed=3).plan()
    sev = [b.severity for b in plain]
    assert sev == sorted(sev) and sev[-1] > sev[0]
    slowed = pattern("salami", hazard=0.4, seed=3).plan()
    assert max(b.severity for b in slowed) < max(sev)


def test_hybrid_is_deniable_and_restricts_coverage():
    p = pattern("hybrid")
    plan = p.plan()
    assert all(b.deniability == 0.8 for b in plan) and p.coverage == 0.7
    assert {b.kind for b in plan} <= {BreachKind.HYBRID, BreachKind.DRONE_MISSILE}


def test_surge_then_offensive():
    hits = 0
    for seed in range(200):
        plan = pattern("surge_offensive", seed=seed).plan()
        attacks = [b for b in plan if b.kind is BreachKind.ARMED_ATTACK]
        if not attacks:
            continue
        hits += 1
        day = attacks[0].day
        before = [b.count for b in plan if day - 3 <= b.day < day]
        quiet = [b.count for b in plan if b.day < 50]
        assert sum(before) / 3 > 2.5 * sum(quiet) / 50
        assert max(b.day for b in plan) == day
    est, lo, hi = wilson(hits, 200, 0.999)
    assert lo <= 0.8 <= hi


class ScriptedCoalition:
    """Plays the model's side against an adaptive pattern: answers chosen incidents in time."""

    def __init__(self, probe, answer):
        self.probe, self.answer = probe, answer

    def play(self):
        history, nxt = [], self.probe.plan()[0]
        while nxt is not None:
            if self.probe.allows(nxt):
                history.append(nxt)
                if self.answer(nxt):
                    self.probe.observe_finding(nxt, True, nxt.day + 5)
            nxt = self.probe.next_after(nxt)
        return history


def test_adaptive_probe_escalates_while_unanswered():
    probe = pattern("adaptive_probe", seed=4)
    history = ScriptedCoalition(probe, answer=lambda b: False).play()
    levels = [b.severity for b in history]
    assert levels == sorted(levels) and levels[-1] == 5.0
    assert probe.launched_attack and not probe.deterred


def test_adaptive_probe_stands_down_after_timely_attributed_response():
    probe = pattern("adaptive_probe", seed=4)
    history = ScriptedCoalition(probe, answer=lambda b: True).play()
    assert max(b.severity for b in history) == 1.0
    assert probe.deterred and probe.stand_downs >= 1
    gaps = np.diff([b.day for b in history])
    assert gaps.min() >= probe.params.pause_days - 5


def test_adaptive_probe_ignores_late_responses():
    probe = pattern("adaptive_probe", seed=4)
    probe.plan()
    probe.observe_finding(Breach(0.0, BreachKind.SMALL_ARMS, 1, 0), True, day=100.0)
    assert probe.stand_downs == 0


@BREACH_PATTERNS.register("test_single_attack")
class SingleAttack(BreachPattern):
    """A test pattern that joins through the registry alone: one armed attack on a set day."""

    @dataclass(frozen=True)
    class Params:
        day: float = param(30.0, "days")

    def plan(self):
        return [self._incident(self.params.day, BreachKind.ARMED_ATTACK)]


def test_a_new_pattern_joins_through_the_registry_only():
    df = run_replications(
        load_scenario(("breach=compliant", "breach.pattern=test_single_attack", "+breach.params.day=40.0", "trigger=armed_attack")),
        50,
        1,
    )
    assert (df["n_breaches_armed_attack"] == 1).all()
    assert (df["offensive_day"] == 40.0).all()
    assert df["activated"].any() and (df["trigger_day"].dropna() > 40).all()


@pytest.mark.slow
def test_salami_attacks_follow_the_forces_reassurance_by_degree_not_by_a_threshold():
    """Each run has its own pace: P(attack) under salami rises from the full force (Paris) through
    the force without its US backstop to no force (Budapest), each strictly between 0 and 1 where
    the force is deployed, and the ordering holds on paired runs (common seeds, 95% BCa)."""
    from guarantee_sim import simulate
    from guarantee_sim.analysis.stats import wilson
    from guarantee_sim.runs.sweep import paired_difference

    attack = {d: simulate([f"commitments={d}", "breach=salami", "trigger=armed_attack"], runs=400, seed=5)
              ["offensive_day"].notna().astype(float) for d in ("paris_2026", "no_us_backstop", "budapest_like")}
    for d in ("paris_2026", "no_us_backstop"):
        _, lo, hi = wilson(int(attack[d].sum()), len(attack[d]))
        assert 0 < lo and hi < 1, (d, lo, hi)
    for more, less in (("no_us_backstop", "paris_2026"), ("budapest_like", "no_us_backstop")):
        d = paired_difference(attack[more], attack[less])
        assert d["low"] > 0, (more, less, d)


@pytest.mark.slow
def test_companion_one_pace_for_all_runs_is_a_threshold():
    from guarantee_sim import simulate

    one = {d: simulate([f"commitments={d}", "breach=salami", "trigger=armed_attack", "breach.params.step_days_sd=0"],
                       runs=200, seed=5)["offensive_day"].notna().mean() for d in ("paris_2026", "no_us_backstop")}
    # all or nothing: never with the full force; without the US backstop whenever an incident falls
    # after the day the one clock reaches an armed attack (day 327; rate 0.1 a day)
    assert one["paris_2026"] == 0.0 and one["no_us_backstop"] > 0.95, one
