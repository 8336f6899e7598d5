"""Evidence and escalation (issue 13): attribution follows evidence, the overt-attack path, the war
after an offensive, intensity, both sides' fire, deniable incursions and the false-alarm rate.

Each statistical test runs fixed seeds, compares paired runs on common random numbers where it
compares, and has a companion showing that the same check fails when the mechanism is switched off.
Figures at these seeds are in docs/model.md (7.5, 7.6, 7.13).
"""

import math

import numpy as np
import pytest

from guarantee_sim.analysis.stats import wilson
from guarantee_sim.model.breaches import BREACH_PATTERNS, BreachKind
from guarantee_sim.model.engine import GuaranteeModel
from guarantee_sim.model.events import EventKind, Reason
from guarantee_sim.runs.runner import run_replications, run_seeds
from guarantee_sim.runs.sweep import paired_difference
from guarantee_sim.scenario.compose import load_scenario

pytestmark = pytest.mark.slow  # statistical facts on rows: run on the main Python/Mesa line (rows are the same on both: test_cross_version.py)

ATTACK = ("breach=poisson", "breach.params.kind=armed_attack", "breach.params.severity=5", "breach.params.rate=0.01",
          "breach.war_daily_violations=0")


def first_attack(*overrides, runs=600, seed=13):
    """Per run with an armed attack: (attributed?, days from the attack to the finding)."""
    scenario = load_scenario((*ATTACK, *overrides))
    out = []
    for s in run_seeds(seed, runs):
        m = GuaranteeModel(scenario, seed=s, collect=False, record=True)
        m.run()
        attack = [e for e in m.event_log if e.kind is EventKind.BREACH and e.incident == 0]
        found = [e for e in m.event_log if e.kind is EventKind.FINDING and e.incident == 0 and not e.false_alarm]
        if not attack:
            out.append(None)
        elif not found:
            out.append((False, math.nan))
        else:
            out.append((bool(found[0].attributed), found[0].day - attack[0].day))
    return out


@pytest.fixture(scope="module")
def attacks():
    return {"overt": first_attack("breach.params.deniability=0"), "deniable": first_attack("breach.params.deniability=0.9")}


def test_an_overt_armed_attack_is_attributed_within_days_and_a_deniable_one_much_less_often(attacks):
    pairs = [(o, d) for o, d in zip(attacks["overt"], attacks["deniable"]) if o is not None]
    overt = np.array([o[0] for o, _ in pairs], float)
    deniable = np.array([d[0] for _, d in pairs], float)
    _, lo, _ = wilson(int(overt.sum()), len(overt))
    assert lo >= 0.95, f"P(attributed | overt attack) {overt.mean():.3f}, 95% lower bound {lo:.3f}"  # measured 0.988
    days = np.median([o[1] for o, _ in pairs if o[0]])
    assert days <= 5.0, days  # measured 3.0 days from the attack to the finding
    d = paired_difference(overt, deniable, seed=1)  # measured 0.988 - 0.313
    assert d["low"] > 0.5, d


def test_companion_with_one_flat_look_an_overt_attack_is_not_attributed_with_near_certainty():
    """Without the scale of the evidence (one look whatever the size: the old flat probability) the
    test above would fail."""
    flat = [o for o in first_attack("breach.params.deniability=0", "commission.evidence_scale=0", runs=300) if o]
    k = sum(o[0] for o in flat)
    _, _, hi = wilson(k, len(flat))
    assert hi < 0.95, (k, len(flat))


OFFENSIVE = ("breach=surge_offensive", "breach.params.offensive_probability=1", "force.deployed=false",
             "trigger=armed_attack")


def test_the_overt_attack_path_fires_the_trigger_more_often_and_earlier():
    on = run_replications(load_scenario((*OFFENSIVE, "commitments.overt_attack_path=true")), 1000, seed=5)
    off = run_replications(load_scenario((*OFFENSIVE, "commitments.overt_attack_path=false")), 1000, seed=5)
    assert on["offensive_day"].notna().all()
    fired = paired_difference(on["trigger_day"].notna(), off["trigger_day"].notna(), seed=1)
    assert fired["low"] > 0, fired  # measured +0.015 (1.000 vs 0.985)
    both = on["trigger_day"].notna() & off["trigger_day"].notna()
    earlier = paired_difference(off["trigger_day"][both], on["trigger_day"][both], seed=1)
    assert earlier["low"] > 0, earlier  # measured 2.8 days earlier on average


def test_companion_the_overt_attack_path_does_nothing_for_a_deniable_attack():
    deniable = (*ATTACK, "breach.params.deniability=0.9", "trigger=armed_attack")
    on = run_replications(load_scenario((*deniable, "commitments.overt_attack_path=true")), 300, seed=5)
    off = run_replications(load_scenario((*deniable, "commitments.overt_attack_path=false")), 300, seed=5)
    d = paired_difference(on["trigger_day"].notna(), off["trigger_day"].notna(), seed=1)
    assert d["low"] <= 0 <= d["high"], d


def test_incidents_continue_after_every_offensive():
    scenario = load_scenario(OFFENSIVE)
    for s in run_seeds(3, 60):
        m = GuaranteeModel(scenario, seed=s, collect=False, record=True)
        row = m.run()
        after = [e for e in m.event_log if e.kind is EventKind.BREACH and e.day > row["offensive_day"]]
        assert after and all(e.reason is Reason.WAR for e in after), s


# only a week of war artillery (2 x (1 + log10 70,000) = 11.7) reaches severity 8: before the attack a
# surge day of 1,710 violations weighs 7.9 and the attack itself 5
WAR_COUNT = ("trigger=count_window", "trigger.params.min_severity=8")


def test_a_count_trigger_fires_on_the_war():
    df = run_replications(load_scenario((*OFFENSIVE, *WAR_COUNT)), 300, seed=8)
    fired = df["trigger_day"].notna()
    assert fired.mean() > 0.9, fired.mean()
    assert (df["trigger_day"][fired] > df["offensive_day"][fired]).all()


def test_companion_without_the_war_the_count_trigger_never_fires():
    df = run_replications(load_scenario((*OFFENSIVE, *WAR_COUNT, "breach.war_daily_violations=0")), 300, seed=8)
    assert df["trigger_day"].isna().all()


def chronic(daily, trigger, *more, runs=300):
    return run_replications(load_scenario(("breach=chronic", f"breach.params.daily_violations={daily}",
                                           "breach.params.escalation_rate=0", f"trigger={trigger}", *more)), runs, seed=11)


@pytest.mark.parametrize("trigger", ["count_window", "cumulative_severity"])
def test_heavier_fire_fires_count_and_severity_triggers_more_often(trigger):
    hi, lo = chronic(1100, trigger), chronic(35, trigger)
    d = paired_difference(hi["trigger_day"].notna(), lo["trigger_day"].notna(), seed=1)
    assert d["low"] > 0, d  # measured 1.00 vs 0.13 (count_window) and 1.00 vs 0.08 (cumulative_severity)


@pytest.mark.parametrize("trigger", ["count_window", "cumulative_severity"])
def test_companion_if_every_days_fire_were_conclusive_intensity_would_not_matter(trigger):
    conclusive = "commission.evidence_per_violation=1"
    hi, lo = chronic(1100, trigger, conclusive, runs=150), chronic(35, trigger, conclusive, runs=150)
    d = paired_difference(hi["trigger_day"].notna(), lo["trigger_day"].notna(), seed=1)
    assert d["low"] <= 0 <= d["high"], d


def test_both_sides_fire_and_the_commission_can_find_violations_by_both():
    def reasons(*more):
        m = GuaranteeModel(load_scenario(("breach=chronic", "horizon=120", *more)), seed=4, collect=False, record=True)
        m.run()
        return [e.reason for e in m.event_log if e.kind is EventKind.FINDING and not e.false_alarm]

    shared = reasons()
    assert Reason.BOTH_SIDES in shared
    assert Reason.BOTH_SIDES not in reasons("breach.ukraine_share=0")


def test_low_level_fire_is_harder_to_attribute_than_a_single_strike():
    """A day of 35 violations (half explosions) against one artillery strike, on the same seeds."""
    few = chronic(35, "any_attributed", "monitoring.false_alarm_rate=0", runs=200)
    strikes = run_replications(load_scenario(("breach=poisson", "breach.params.rate=0.05", "trigger=any_attributed",
                                              "monitoring.false_alarm_rate=0")), 200, seed=11)
    per_day = few["n_attributed"].sum() / few["n_incidents"].sum()
    per_strike = strikes["n_attributed"].sum() / strikes["n_incidents"].sum()
    assert per_day < per_strike / 5, (per_day, per_strike)


def test_a_deniable_incursion_can_escalate_into_an_overt_attack():
    cls = BREACH_PATTERNS.get("deniable_incursion", "breach.pattern")
    params = cls.Params(escalation_probability=1.0, escalation_delay_low=10.0, escalation_delay_high=10.0)
    plan = cls(params, 365.0, np.random.default_rng(2), 1.0).plan()
    kinds = [k for k in plan.kind.tolist()]
    incursions = plan.deniability[np.array(kinds) == list(BreachKind).index(BreachKind.GROUND_INCURSION)]
    attack = plan.deniability[np.array(kinds) == list(BreachKind).index(BreachKind.ARMED_ATTACK)]
    assert len(incursions) and (incursions == 0.9).all()
    assert len(attack) == 1 and attack[0] == 0.0
    never = cls(cls.Params(escalation_probability=0.0), 365.0, np.random.default_rng(2), 1.0).plan()
    assert BreachKind.ARMED_ATTACK not in {list(BreachKind)[k] for k in never.kind.tolist()}


def false_alarm_bound(scenario) -> float:
    """The documented most: P(trigger) <= 1 - exp(-rate x horizon x P(a false alarm is attributed)),
    P(attributed) = q x false_alarm_attribution x P(the rule passes | conclusive) (+ the inconclusive
    votes' tiny share); the bound ignores the report and investigation delays that cut the last weeks."""
    from guarantee_sim.model.engine import GuaranteeModel as M

    m = M(scenario, seed=0, collect=False)
    e = m.commission.false_alarm_evidence()
    members = len(m.commission.members)
    rule = scenario.decision_rule
    passes = (e * rule.pass_probability(scenario.agree_if_conclusive, members, scenario.qualified_share)
              + (1 - e) * rule.pass_probability(scenario.agree_if_inconclusive, members, scenario.qualified_share))
    return 1 - math.exp(-scenario.false_alarm_rate * scenario.horizon * passes)


def compliant(*more, runs=2000):
    scenario = load_scenario(("breach=compliant", "trigger=any_attributed", *more))
    return scenario, run_replications(scenario, runs, seed=21)


def test_a_compliant_ceasefire_triggers_at_most_at_the_documented_false_alarm_rate():
    scenario, df = compliant()
    bound = false_alarm_bound(scenario)  # 0.126 at the defaults
    fired = df["trigger_day"].notna()
    _, lo, _ = wilson(int(fired.sum()), len(df), 0.99)
    assert lo <= bound, (fired.mean(), bound)  # measured 0.131 (0.117 at seed 11)
    _, lo, _ = wilson(int(df["activated"].sum()), len(df), 0.99)
    assert lo <= bound, df["activated"].mean()  # documented: at most the trigger's bound (measured 0.121)
    assert (df["n_breaches"] == 0).all()
    assert df["false_activation"][df["activated"]].all()
    assert (df["n_false_alarms"][fired] > 0).all()


def test_companion_four_times_the_false_alarms_exceed_the_documented_rate():
    scenario, df = compliant(runs=1000)
    _, more = compliant("monitoring.false_alarm_rate=0.02", runs=1000)
    _, lo, _ = wilson(int(more["trigger_day"].notna().sum()), len(more), 0.99)
    assert lo > false_alarm_bound(scenario)


WARS = {"strategic": (), "adaptive_probe": ("breach.params.rate=0.3", "breach.params.escalate_after=1", "breach.params.timely_days=3"),
        "surge_offensive": (), "deniable_incursion": ()}


@pytest.mark.parametrize("pattern", list(WARS))
def test_the_war_gives_the_same_rows_recorded_or_not(pattern):
    """The war's incidents are numbered after every incident known when it begins, on both paths."""
    scenario = load_scenario((f"breach={pattern}", "force.deployed=false", "trigger=count_window", *WARS[pattern]))
    wars = 0
    for s in run_seeds(17, 12):
        plain = GuaranteeModel(scenario, seed=s, collect=False).run()
        recorded = GuaranteeModel(scenario, seed=s, collect=False, record=True).run()
        same = {k for k in plain if plain[k] == recorded[k] or (plain[k] != plain[k] and recorded[k] != recorded[k])}
        assert same == set(plain), {k: (plain[k], recorded[k]) for k in set(plain) - same}
        wars += not math.isnan(plain["offensive_day"])
    assert wars, "no run of this pattern went to war: the check is vacuous"
