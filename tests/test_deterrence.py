"""Deterrence: the strategic violator's stylised facts, its learning, and its analytic reduction.

Each fact is a paired difference on common seeds (run i of both scenarios shares its seed, so
the violator's motivation is the same) with a 95% BCa bootstrap interval that must exclude 0;
a companion check switches the mechanism off and shows the same test would then fail.
"""

import dataclasses
import itertools
import math

import numpy as np
import pytest
from scipy import stats

from guarantee_sim.analysis.stats import protected as stats_protected
from guarantee_sim.model.engine import GuaranteeModel
from guarantee_sim.runs.runner import run_replications, run_seeds
from guarantee_sim.runs.sweep import paired_difference
from guarantee_sim.scenario.compose import load_scenario

pytestmark = pytest.mark.slow  # statistical facts on rows: run on the main Python/Mesa line (rows are the same on both: test_cross_version.py)

RUNS, SEED = 1500, 2026


def rows(*overrides, runs=RUNS):
    return run_replications(load_scenario(("breach=strategic", *overrides)), runs, SEED)


def attacked(df):
    return df["offensive_day"].notna().astype(float)


def higher(a, b, column=attacked) -> dict:
    """a's measure minus b's, paired run by run, with its 95% interval."""
    return paired_difference(column(a), column(b), seed=1)


@pytest.fixture(scope="module")
def designs():
    return {d: rows(f"commitments={d}") for d in ("budapest_like", "paris_2026", "article5_like", "bilateral_only")}


def test_an_empty_guarantee_invites_more_attacks_than_paris_and_paris_more_than_article5(designs):
    d1 = higher(designs["budapest_like"], designs["paris_2026"])
    d2 = higher(designs["paris_2026"], designs["article5_like"])
    assert d1["low"] > 0, d1
    assert d2["low"] > 0, d2


def protected(df):
    return stats_protected(df).astype(float)


def test_designs_order_on_protection_article5_paris_bilateral_budapest(designs):
    """P(protected) — no attack, or military support in time — falls from a collective
    Article-5-like guarantee to Paris, to the bilateral agreements alone (no force, fewer
    committed states), to Budapest (measured +0.06 [+0.05, +0.08], +0.05 [+0.04, +0.06] and
    +0.55 [+0.52, +0.57] at seed 2026, 1,500 runs); and the bilateral agreements alone invite
    more attacks than Paris (+0.06 [+0.05, +0.08])."""
    order = ("article5_like", "paris_2026", "bilateral_only", "budapest_like")
    for better, worse in itertools.pairwise(order):
        d = higher(designs[better], designs[worse], protected)
        assert d["low"] > 0, (better, worse, d)
    d = higher(designs["bilateral_only"], designs["paris_2026"])
    assert d["low"] > 0, d


def test_companion_bilateral_agreements_with_the_force_and_no_thresholds_would_beat_paris(designs):
    """bilateral_only as it once was (the coalition's force kept, every joining threshold 0,
    nobody waiting for the US) protects more often than Paris (+0.04 [+0.03, +0.06]): the
    ordering test above would fail on it."""
    old = rows("commitments=bilateral_only", "commitments.multinational_force=true",
               "commitments.cascade=false", "commitments.honour_us_conditionality=false")
    d = higher(old, designs["paris_2026"], protected)
    assert d["low"] > 0, d


def test_companion_with_a_costless_response_the_designs_do_not_differ():
    """If the coalition's response cost the violator nothing, no design could deter: the
    ordering test above would fail (the difference is exactly 0)."""
    a = rows("commitments=budapest_like", "breach.params.cost_scale=0", "breach.params.tripwire=0", runs=300)
    b = rows("commitments=paris_2026", "breach.params.cost_scale=0", "breach.params.tripwire=0", runs=300)
    d = higher(a, b)
    assert d["low"] <= 0 <= d["high"], d


def test_a_trigger_that_also_answers_probes_invites_no_more_offensives(designs):
    """any_attributed answers probes as well as an armed attack: it must not make the offensive
    likelier than armed_attack (measured −0.001 [−0.004, +0.003] under Paris). The violator knows
    an overt offensive cannot be denied whether or not it has probed."""
    d = higher(rows("trigger=any_attributed"), designs["paris_2026"])  # the default trigger: armed_attack
    assert d["low"] <= 0, d


def test_companion_a_violator_that_thinks_evidence_flat_is_invited_by_the_stricter_trigger():
    """With one look per act whatever its size (commission.evidence_scale=0) the violator thinks
    its offensive is named in time in well under half the cases unless its probes taught it
    otherwise; deterring the probes then raises P(attack) (+0.009 [+0.003, +0.016]): the test
    above would fail."""
    flat = "commission.evidence_scale=0"
    d = higher(rows("trigger=any_attributed", flat), rows("trigger=armed_attack", flat))
    assert d["low"] > 0, d


def test_a_binding_us_deters_more_even_at_a_high_activation_share():
    """Promising more never invites an attack: the violator times the response by when military
    support at Ukraine's need would arrive (absolute), not by a share of the design's own promises,
    which a binding US with a slow Congress used to make look later (+0.32 [+0.30, +0.35] at
    share 0.8, +0.005 [+0.002, +0.009] at the default 0.5). Measured −0.019 [−0.028, −0.013] at both."""
    share = "commitments.activation_share=0.8"
    d = higher(rows("commitments.us_role=binding", share), rows(share))
    assert d["high"] < 0, d


def test_companion_with_a_costless_response_a_binding_us_changes_nothing():
    a = rows("commitments.us_role=binding", "breach.params.cost_scale=0", "breach.params.tripwire=0", runs=300)
    b = rows("breach.params.cost_scale=0", "breach.params.tripwire=0", runs=300)
    d = higher(a, b)
    assert d["high"] >= 0, d


def test_removing_the_multinational_force_raises_the_chance_of_attack(designs):
    d = higher(rows("force.deployed=false"), designs["paris_2026"])
    assert d["low"] > 0, d


def test_companion_a_force_that_is_no_trip_wire_changes_nothing():
    d = higher(rows("force.deployed=false", "breach.params.tripwire=0", runs=300),
               rows("breach.params.tripwire=0", runs=300))
    assert d["low"] <= 0 <= d["high"], d


def test_binding_military_support_deters(designs):
    d = higher(designs["budapest_like"], rows("commitments=budapest_like", "commitments.types.military.binding=true"))
    assert d["low"] > 0, d


def test_more_reliable_military_support_deters(designs):
    d = higher(designs["paris_2026"], rows("commitments.types.military.follow_through=0.75"))
    assert d["low"] > 0, d


def offensive_cost_weight(follow: float, design: str = "budapest_like", old_reading: bool = False) -> float:
    """``resolve x speed`` of the offensive as the violator first reads the design (its expected
    cost over ``cost_scale``, before the trip-wire). ``old_reading``: each contributor's expected
    capacity carries follow-through as well, as it did until December 2026."""
    scenario = load_scenario(("breach=strategic", f"commitments={design}",
                              f"commitments.types.military.follow_through={follow}"))
    pattern = GuaranteeModel(scenario, seed=1, collect=False).violator.pattern
    if old_reading:
        pattern.view = dataclasses.replace(pattern.view, expected=pattern.view.expected * follow)
        pattern._speeds = None
    return pattern.view.resolve * pattern.speeds()[-1]


def test_the_expected_cost_grows_with_follow_through_once():
    """The capacity that arrives grows with follow-through once (states that follow through
    together, or each alone): so does the violator's expected cost. Halving it halves the cost
    under budapest_like, whose expected capacity in time stays below Ukraine's need (so the cap on
    it does not hide a second factor), and under Paris."""
    for design in ("budapest_like", "paris_2026"):
        ratio = offensive_cost_weight(0.25, design) / offensive_cost_weight(0.5, design)
        assert ratio == pytest.approx(0.5, rel=1e-9), (design, ratio)


def test_companion_follow_through_counted_twice_makes_the_cost_quadratic():
    """With follow-through in the expected capacity as well (the old reading) halving it quarters
    the cost: the test above would fail."""
    ratio = offensive_cost_weight(0.25, old_reading=True) / offensive_cost_weight(0.5, old_reading=True)
    assert ratio == pytest.approx(0.25, rel=1e-9), ratio


NEVER = ("commission.attribution_probability=0",)  # inconclusive evidence almost never passes the rule


def belief(df):
    return df["resolve_belief"]


def escalation(df):
    return df["max_escalation"].astype(float)


def test_unanswered_probes_lower_the_belief_and_the_violator_climbs_higher(designs):
    never = rows(*NEVER)
    d_belief = higher(never, designs["paris_2026"], belief)
    d_rung = higher(never, designs["paris_2026"], escalation)
    assert d_belief["high"] < 0, d_belief
    assert d_rung["low"] > 0, d_rung
    prior = rows(*NEVER, "breach.params.learning_rate=0", runs=300)["resolve_belief"]
    assert never["resolve_belief"].mean() < prior.mean()  # it fell from where it started


def test_companion_without_learning_unanswered_probes_change_nothing():
    d = higher(rows(*NEVER, "breach.params.learning_rate=0", runs=300),
               rows("breach.params.learning_rate=0", runs=300), belief)
    assert d["low"] <= 0 <= d["high"], d


def deterred(df):
    return df["deterred"].astype(float)


def test_a_fast_commission_makes_the_violator_stand_down_more_often_than_a_slow_one():
    fast = rows("commission.investigation_time={dist: gamma, mean: 3, shape: 4}")
    slow = rows("commission.investigation_time={dist: gamma, mean: 40, shape: 4}")
    d = higher(fast, slow, deterred)
    assert d["low"] > 0, d


def test_deterred_means_motivated_and_no_attack(designs):
    df = designs["paris_2026"]
    assert not (df["deterred"] & df["offensive_day"].notna()).any()
    assert 0.05 < df["deterred"].mean() < 0.95


def gain_for_attack_share(share: float, *fixed: str) -> float:
    """The offensive's gain at which a violator with a fixed belief attacks within the horizon in
    ``share`` of runs: its utility is linear in the gain, so the logit weight can be solved for."""
    model = GuaranteeModel(load_scenario(("breach=strategic", *fixed)), seed=1, collect=False)
    pattern, horizon = model.violator.pattern, model.spec.horizon
    p = -math.log(1 - share) * pattern.params.decision_interval / horizon  # per decision point
    u = pattern.utilities()
    rest = np.log(np.exp(pattern.params.rationality * u[:-1]).sum()) / pattern.params.rationality
    return float(pattern.params.gain_offensive + rest + math.log(p / (1 - p)) / pattern.params.rationality - u[-1])


def test_with_a_fixed_belief_the_offensive_hazard_is_constant_and_its_days_exponential():
    """Learning off, one motivation for all runs: every decision point launches the offensive
    with the same probability, so offensive days are exponential (truncated at the horizon). The
    gain is set so that about 70% of runs attack, where a 1.5x wrong rate is told apart."""
    belief = ("breach.params.fixed_belief=0.3", "breach.params.motivation_sd=0")
    gain = gain_for_attack_share(0.7, *belief)
    scenario = load_scenario(("breach=strategic", *belief, f"breach.params.gain_offensive={gain!r}"))
    model = GuaranteeModel(scenario, seed=1, collect=False)
    pattern = model.violator.pattern
    u = pattern.utilities()
    w = np.exp(pattern.params.rationality * (u - u.max()))
    rate = (w[-1] / w.sum()) / pattern.params.decision_interval
    assert 1 - math.exp(-rate * scenario.horizon) == pytest.approx(0.7)
    df = run_replications(scenario, 2000, 5)
    days = df["offensive_day"].dropna().to_numpy()
    h = scenario.horizon

    def cdf(x, r=rate):
        return (1 - np.exp(-r * x)) / (1 - math.exp(-r * h))

    assert stats.kstest(days, cdf).pvalue > 0.01
    assert stats.kstest(days, lambda x: cdf(x, 1.5 * rate)).pvalue < 0.01  # a wrong rate is rejected
    ci = stats.binomtest(len(days), len(df)).proportion_ci(0.99)
    assert ci.low <= 1 - math.exp(-rate * h) <= ci.high


def test_the_belief_over_time_is_in_the_event_record():
    model = GuaranteeModel(load_scenario(("breach=strategic",)), seed=run_seeds(3, 1)[0], collect=False, record=True)
    row = model.run()
    choices = model.events[model.events["kind"] == "choice"]
    assert len(choices) > 5
    assert choices["count"].between(0, 4).all() and choices["share"].between(0, 1).all()
    assert choices["share"].nunique() > 1  # it learns as the run goes
    assert row["resolve_belief"] == model.violator.resolve_belief
    assert choices["count"].max() == row["max_escalation"]  # its incidents are its choices


def test_strategic_rows_do_not_depend_on_workers():
    scenario = load_scenario(("breach=strategic", "trigger=any_attributed"))
    serial = run_replications(scenario, 60, 9, workers=1)
    parallel = run_replications(scenario, 60, 9, workers=2, chunk_size=7)
    import pandas as pd

    pd.testing.assert_frame_equal(serial, parallel)


def test_dropping_the_us_backstop_invites_more_attacks(designs):
    """Resolve is read from absolute capacity, not from the share of the design's own promises:
    a design with fewer promises does not look more resolute for it."""
    d = higher(rows("commitments=no_us_backstop"), designs["paris_2026"])
    assert d["low"] > 0, d
