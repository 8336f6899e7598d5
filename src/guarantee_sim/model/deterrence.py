"""Deterrence: a ceasefire violator that reads the guarantee before it breaks the ceasefire.

``breach=strategic``. At decision points (a Poisson process) the violator chooses a rung of an
escalation ladder — comply, a deniable probe, an overt limited strike, an incursion, a full
offensive — by weighing each rung's gain against its expected cost. The cost depends on what it
believes the coalition would do: how likely binding military support is to follow (its belief
about the coalition's *resolve*), how fast it would come (against Ukraine's holding window), and
whether a multinational force stands in the way (a trip-wire). The belief starts from what the
design shows before any breach (which support is binding, the US role, the trigger rule, the
commission's rule, the force) and learns from the run: probes the commission answers in time
raise it, probes left unanswered lower it (Beta–Binomial). It reads the commission's evidence rule as
the commission applies it, so it knows that an overt offensive cannot be denied.

Grounding: Fearon 1997 (tying hands: binding, public commitments make threats credible);
Schelling 1966 and Reiter & Poast 2021 (trip-wire forces); Huth 1988 (extended deterrence works
through the defender's capability and resolve as the challenger perceives them); Leeds 2003 and
Johnson & Leeds 2011 (defensive alliances deter); Sechser & Fuhrmann (credibility of threats).
Every parameter is an assumption [E]; values and ranges: docs/parameters.md.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from guarantee_sim.model.breaches import (
    BREACH_PATTERNS,
    OVERT_DENIABILITY,
    Breach,
    BreachKind,
    BreachPattern,
)
from guarantee_sim.model.registry import param

# the escalation ladder: rung -> the incident it is (rung 0, complying, is none)
LADDER = (None, BreachKind.HYBRID, BreachKind.DRONE_MISSILE, BreachKind.GROUND_INCURSION, BreachKind.ARMED_ATTACK)
# how high on the ladder an incident of each kind stands (for every violator, scripted or not)
RUNG_OF_KIND = {
    BreachKind.SMALL_ARMS: 1, BreachKind.HYBRID: 1, BreachKind.ARTILLERY: 2, BreachKind.DRONE_MISSILE: 2,
    BreachKind.GROUND_INCURSION: 3, BreachKind.ARMED_ATTACK: 4,
}
# the share of the response's full cost each rung risks (a probe risks little, an offensive all) [E]
STAKE = (0.0, 0.05, 0.15, 0.5, 1.0)


@dataclass(frozen=True)
class DesignView:
    """What a violator can see of the guarantee before any breach (all public)."""

    resolve: float  # prior belief that binding military support follows a fired trigger
    vigilance: float  # prior belief that the commission names a probe in time
    named: tuple[float, ...]  # per rung: how much likelier than a probe the commission names it in time
    speedup: tuple[float, ...]  # per rung: how much faster than a probe's the investigation of it is
    certain: tuple[bool, ...]  # per rung: the trigger needs no finding (the overt-attack path)
    covered: tuple[bool, ...]  # per rung: a trigger tier that includes military support fires on it
    tripwire: float  # the force's trip-wire weight on rungs 3-4 (0 without a deployed force)
    delay: float  # days the chain adds besides the investigation and the procedures: invocation, consultation, delivery
    expected: np.ndarray  # per military contributor: the capacity it would bring once the response comes, over Ukraine's need
    procedure: np.ndarray  # per military contributor: the mean delay of its national procedure (days)
    investigation: float  # expected days of the commission's investigation
    window: float  # Ukraine's holding window (days): support later than this comes too late


def design_view(model, discretionary_weight: float, decisive_capacity: float, expected_attribution: float,
                expected_investigation: float, timely_days: float) -> DesignView:
    """The violator's reading of the scenario (``model.spec``): what the statement and the deployments
    make public, and how evidence works (the commission's rule: a bigger, less deniable act gives
    more and faster evidence). What they do not — how good one look is, how fast the commission
    works — the violator assumes (``expected_attribution``, ``expected_investigation``) and learns."""
    s, commission, force = model.spec, model.commission, model.force
    mil = s.support.get("military")
    binding = s.committed_binding.get("military", 0.0)
    discretionary = s.committed.get("military", 0.0) - binding
    follow = mil.follow_through if mil is not None else 0.0
    # absolute capacity, not a share of the design's own promises: promising more never looks weaker
    weight = (binding + discretionary_weight * discretionary) / decisive_capacity if decisive_capacity > 0 else 1.0
    resolve = follow * min(1.0, weight)

    members = len(commission.members)
    passes = ({c: s.decision_rule.pass_probability(p, members, s.qualified_share)
               for c, p in ((True, s.agree_if_conclusive), (False, s.agree_if_inconclusive))}
              if members else {True: 1.0, False: 0.0})
    # the commission's own evidence rule (commission.py) with the violator's guess of its quality:
    # a bigger, less deniable act gives more, and faster, evidence; the violator knows what it does
    timely = [0.0]
    speedup = [1.0]
    for kind in LADDER[1:]:
        looks = 1.0 + s.evidence_scale * max(kind.default_severity - 1.0, 0.0)
        conclusive = 1.0 - (1.0 - expected_attribution * (1.0 - kind.default_deniability)) ** looks
        speedup.append(max(1.0, looks * (1.0 - kind.default_deniability)))
        in_time = (1.0 - math.exp(-timely_days * speedup[-1] / expected_investigation)
                   if expected_investigation > 0 else 1.0)
        timely.append((conclusive * passes[True] + (1.0 - conclusive) * passes[False]) * in_time)
    named = tuple(t / timely[1] if timely[1] > 0 else 0.0 for t in timely)
    # an overt armed attack goes to the trigger without the commission where the design says so
    certain = tuple(bool(s.overt_attack_path and kind is BreachKind.ARMED_ATTACK
                         and kind.default_deniability < OVERT_DENIABILITY) for kind in LADDER)

    covered = [False]
    for kind in LADDER[1:]:
        keys, sev = np.array([kind.key], dtype=object), np.array([kind.default_severity])
        hits = (False, True) if force.deployed and kind.default_severity >= force.TRIP_WIRE_SEVERITY else (False,)
        covered.append(any(bool(tier.rule.cares(keys, sev, np.array([hit]))[0])
                           for tier in s.tiers if "military" in tier.types for hit in hits))

    # what would arrive, and when, once the response comes: each contributor's capacity x its
    # parliament's approval chance (discretionary ones weighted down), as a share of the absolute
    # level Ukraine needs; a design's own promises are no yardstick (promising more would look
    # slower). Follow-through is in ``resolve`` (whether the response comes) and not again here:
    # the cost would then grow with its square, where the capacity that arrives grows with it once
    need = s.military_support_needed / s.military_unit if s.military_unit > 0 else 0.0
    expected, procedure = [], []
    for p, r, b in zip(s.states, s.regime_of, s.binding):
        if p.capacity.get("military", 0) > 0 and r.get("military") is not None:
            regime = r["military"]
            expected.append(p.capacity["military"] * regime.approval_probability
                            * (1.0 if b.get("military") else discretionary_weight) / need if need > 0 else 1.0)
            procedure.append(regime.delay.mean)
    delay = ((s.invocation_delay.mean if s.require_invocation else 0.0)
             + (s.consultation_delay.mean if s.require_consultation else 0.0)
             + (mil.delivery_delay.mean if mil is not None else 0.0))
    return DesignView(resolve, timely[1], named, tuple(speedup), certain, tuple(covered), 0.0, delay,
                      np.array(expected), np.array(procedure), expected_investigation,
                      s.holding_days * s.initial_capacity)


class Belief:
    """A Beta belief about a probability, updated by weighted successes and failures."""

    def __init__(self, prior: float, strength: float):
        prior = min(max(prior, 1e-6), 1 - 1e-6)
        self.alpha, self.beta = prior * strength, (1.0 - prior) * strength

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def sd(self) -> float:
        a, b = self.alpha, self.beta
        return math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))

    def update(self, success: bool, weight: float) -> None:
        if success:
            self.alpha += weight
        else:
            self.beta += weight


@BREACH_PATTERNS.register("strategic")
class StrategicViolator(BreachPattern):
    """Chooses a rung of the escalation ladder at each decision point by expected utility [E]."""

    classifier = {"adaptive": True, "deniable": True, "escalating": True, "aggregated": False, "strategic": True}

    @dataclass(frozen=True)
    class Params:
        decision_interval: float = param(14.0, "days", "mean days between the violator's decision points")
        gain_offensive: float = param(0.5, "non-negative", "median gain of a full offensive (utility units)")
        motivation_sd: float = param(0.8, "non-negative", "spread (log scale) of the offensive's gain across runs")
        gain_incursion: float = param(0.06, "non-negative", "gain of an incursion")
        gain_strike: float = param(0.03, "non-negative", "gain of an overt limited strike")
        gain_probe: float = param(0.02, "non-negative", "gain of a deniable probe")
        war_cost: float = param(0.4, "non-negative", "cost of an offensive whatever the guarantee")
        cost_scale: float = param(2.0, "non-negative", "cost of a certain, timely military response to an offensive")
        risk_attitude: float = param(0.5, None, "weight on the belief's spread (> 0 cautious, < 0 risk-seeking)")
        prior_strength: float = param(10.0, "positive", "pseudo-observations behind the prior belief")
        learning_rate: float = param(1.0, "non-negative", "weight of one observed response (0: no learning)")
        timely_days: float = param(21.0, "days", "a probe attributed within this many days counts as answered")
        expected_attribution: float = param(0.5, "probability", "its prior: one look at an act with no deniability is conclusive")
        expected_investigation: float = param(14.0, "days", "its prior: the commission's investigation time (mean)")
        tripwire: float = param(0.3, "probability", "chance a deployed force (at full size) drags its contributors in")
        discretionary_weight: float = param(0.3, "probability", "how much non-binding military support counts (resolve, capacity in time)")
        decisive_capacity: float = param(100.0, "non-negative", "military capacity (roster units) it takes as a decisive response")
        rationality: float = param(10.0, "non-negative", "logit choice sharpness (0: rungs chosen at random)")
        fixed_belief: float = param(-1.0, None, "if in [0, 1]: the resolve belief, fixed (no design, no learning)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        p = self.params
        self.motivation = p.gain_offensive * math.exp(p.motivation_sd * self.rng.standard_normal())
        self.view: DesignView | None = None
        self.vigilance: Belief | None = None  # does the commission name a probe in time?
        self.resolve: Belief | None = None  # does binding military support follow a fired trigger?
        self.rung = 0  # the rung chosen last
        self.max_rung = 0
        self.attacked = False
        self._probes: list[Breach] = []  # committed probes not yet answered or timed out
        self._speed_n = self._speed_sum = 0.0
        self._speeds: tuple[float, tuple[float, ...]] | None = None  # (investigation, speeds) last computed

    # what the violator sees --------------------------------------------------------------------
    def read_design(self, model) -> None:
        p, s = self.params, model.spec
        view = s.memo.get("design_view")  # the same for every run of the scenario
        if view is None:
            view = design_view(model, p.discretionary_weight, p.decisive_capacity, p.expected_attribution,
                               p.expected_investigation, p.timely_days)
            contributors = sum(profile.force_troops for profile in s.states)
            drag = p.tripwire * min(1.0, contributors / s.force_min_troops) if model.force.deployed and s.force_min_troops > 0 else 0.0
            if s.us_role == "none":  # a force without the US behind it drags its contributors in less
                drag *= 1.0 - s.force_us_backstop_share
            view = s.memo["design_view"] = dataclasses.replace(view, tripwire=drag)
        self.view = view
        fixed = 0.0 <= p.fixed_belief <= 1.0
        self.vigilance = Belief(1.0 if fixed else view.vigilance, p.prior_strength)
        self.resolve = Belief(p.fixed_belief if fixed else view.resolve, p.prior_strength)
        self._speed_n, self._speed_sum = p.prior_strength, p.prior_strength * view.investigation
        self._speeds = s.memo.get("prior_speeds")  # what the prior belief expects: the same in every run
        if self._speeds is None:
            self.speeds()
            s.memo["prior_speeds"] = self._speeds

    @property
    def learning(self) -> bool:
        return self.params.learning_rate > 0 and not 0.0 <= self.params.fixed_belief <= 1.0

    @property
    def investigation(self) -> float:
        """The commission's speed as the violator believes it (days)."""
        return self._speed_sum / self._speed_n

    def named(self, rung: int) -> float:
        """The chance it gives the act of ``rung`` to be named in time (or to need no finding)."""
        return 1.0 if self.view.certain[rung] else min(1.0, self.vigilance.mean * self.view.named[rung])

    @property
    def belief(self) -> float:
        """The violator's belief that binding military support would follow a full offensive."""
        return self.named(len(LADDER) - 1) * self.resolve.mean

    def _probe_outcome(self, answered: bool, days: float) -> None:
        w = self.params.learning_rate
        self.vigilance.update(answered, w)
        self._speed_n += w
        self._speed_sum += w * days

    def observe_finding(self, breach: Breach | None, attributed: bool, day: float) -> None:
        if not self.learning or breach is None or not attributed or day - breach.day > self.params.timely_days:
            return
        if any(b is breach for b in self._probes):
            self._probes = [b for b in self._probes if b is not breach]
            self._probe_outcome(True, day - breach.day)

    def observe_response(self, approved: bool, weight: float) -> None:
        """A binding military commitment approved (or refused, declined) after a fired trigger."""
        if self.learning:
            self.resolve.update(approved, self.params.learning_rate * weight)

    def observe_activation(self, day: float) -> None:
        if self.learning:
            self.resolve.update(True, self.params.learning_rate)

    def _time_out(self, day: float) -> None:
        """Probes left unanswered past ``timely_days`` count against the commission's vigilance."""
        timely = self.params.timely_days
        late = sum(day - b.day > timely for b in self._probes)
        self._probes = [b for b in self._probes if day - b.day <= timely]
        for _ in range(late):
            self._probe_outcome(False, timely)

    # deciding ------------------------------------------------------------------------------
    def utilities(self) -> np.ndarray:
        """Expected utility of each rung under the current beliefs."""
        return np.array(self._utilities())

    def _utilities(self) -> list[float]:
        """``utilities`` as floats: a decision point weighs five rungs, too few for array operations
        to pay for themselves (the same operations, in the same order, as one rung at a time)."""
        p, v = self.params, self.view
        resolve = min(1.0, max(0.0, self.resolve.mean + p.risk_attitude * self.resolve.sd))
        vigilance = self.vigilance.mean
        gains = (0.0, p.gain_probe, p.gain_strike, p.gain_incursion, self.motivation)
        out = []
        for r, speed in enumerate(self.speeds()):
            named = 1.0 if v.certain[r] else min(1.0, vigilance * v.named[r])  # as ``named(r)``
            responds = named * resolve if v.covered[r] else 0.0
            drag = v.tripwire if r >= 3 else 0.0
            risk = 1.0 - (1.0 - responds) * (1.0 - drag)
            out.append(gains[r] - (p.war_cost if r == 4 else 0.0) - p.cost_scale * STAKE[r] * risk * speed)
        return out

    def speeds(self) -> tuple[float, ...]:
        """Per rung, the share of Ukraine's need it expects the response to bring in time: each
        contributor discounted by ``window / (window + investigation + delays + its procedure)``
        (Huth 1988: capability to act in time). More states, faster procedures or a faster
        commission only raise it. Recomputed only when the believed investigation time changes."""
        if self._speeds is None or self._speeds[0] != self.investigation:
            v, inv = self.view, self.investigation
            if v.window <= 0:
                out = (0.0,) * len(LADDER)
            else:
                days = [0.0 if v.certain[r] else inv * v.speedup[1] / v.speedup[r] for r in range(len(LADDER))]
                before = np.array([v.window + d + v.delay for d in days])  # the same sums as rung by rung
                share = (v.window / (before[:, None] + v.procedure[None, :])) @ v.expected
                out = tuple(min(1.0, x) for x in share.tolist())
            self._speeds = (inv, out)
        return self._speeds[1]

    @property
    def motivated(self) -> bool:
        """Would this violator launch the offensive if nothing followed it (no guarantee)?"""
        p = self.params
        return self.motivation - p.war_cost > max(0.0, p.gain_probe, p.gain_strike, p.gain_incursion)

    def choose(self) -> int:
        """A rung by the logit rule: ``exp`` on the rungs' array (numpy's own, as it always was), the
        rest in floats; the first rung whose cumulative probability exceeds the draw is what
        ``searchsorted(..., side="right")`` finds."""
        u = self._utilities()
        top, k = max(u), self.params.rationality
        weights = np.exp(np.array([k * (x - top) for x in u]))
        total = np.add.reduce(weights).item()  # ``weights.sum()``: numpy's order of additions
        draw, cum = self.rng.random(), 0.0
        for rung, w in enumerate(weights.tolist()):
            cum += w / total
            if cum > draw:
                return rung
        return len(LADDER) - 1

    def plan(self) -> list[Breach]:
        return []

    def next_decision(self, after: float) -> float | None:
        """The next decision point after ``after`` (None once at war or past the horizon)."""
        if self.attacked or self.params.decision_interval <= 0:
            return None
        t = after + self.rng.exponential(self.params.decision_interval)
        return t if t <= self.horizon else None

    def decide(self, day: float) -> Breach | None:
        """Choose a rung now; the incident it means (None: comply)."""
        if self.learning:
            self._time_out(day)
        self.rung = self.choose()
        self.max_rung = max(self.max_rung, self.rung)
        kind = LADDER[self.rung]
        if kind is None:
            return None
        breach = self._incident(day, kind)
        if kind is BreachKind.ARMED_ATTACK:
            self.attacked = True
        elif self.learning:
            self._probes.append(breach)
        return breach

    @property
    def deterred(self) -> bool:
        return self.motivated and not self.attacked

    @deterred.setter
    def deterred(self, value) -> None:  # the base class sets a default; this violator's is derived
        pass
