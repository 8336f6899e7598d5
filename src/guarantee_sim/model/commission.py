"""The special commission: investigates referred incidents, attributes them, and decides by a rule.

Attribution follows evidence. The investigation's evidence is conclusive with a probability
that falls with the incident's deniability, rises with its scale (a bigger act gives more
independent looks; a day's fire, one per violation weighted by ``evidence_per_violation``) and
is lower when only Ukraine reported it; overt, large acts are also investigated faster. In mutual
fire the commission may find violations by both sides. Then each member agrees with a probability
that depends on whether the evidence is conclusive, and the decision rule (a registry entry)
aggregates the votes. Votes are drawn per incident and member whatever the rule, so a stricter
rule can only remove findings, never add them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from guarantee_sim.model.binomial import binomial_quantile
from guarantee_sim.model.registry import Registry

DECISION_RULES: Registry[type["DecisionRule"]] = Registry("decision rule")


@functools.lru_cache(maxsize=256)
def binomial_sf(k: int, n: int, p: float) -> float:
    """``P(Binomial(n, p) > k)``, remembered: the same few votes are asked about in every run."""
    from scipy.stats import binom  # at first use: scipy.stats costs 0.4 s at import

    return float(binom.sf(k, n, p))


class DecisionRule:
    """``decide_many`` takes a (incidents × members) array of votes; ``decide`` one row."""

    name = "rule"

    @classmethod
    def decide(cls, votes: np.ndarray, lead_index: int, qualified_share: float) -> bool:
        return bool(cls.decide_many(np.asarray(votes)[None, :], lead_index, qualified_share)[0])

    @staticmethod
    def decide_many(votes: np.ndarray, lead_index: int, qualified_share: float) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def pass_probability(cls, p_agree: float, members: int, qualified_share: float) -> float:
        """The chance the rule attributes when each member agrees with ``p_agree`` (what a violator
        can work out from the statement). Rules without a closed form: 4,000 fixed draws."""
        votes = np.random.default_rng(0).random((4000, members)) < p_agree
        return float(np.mean(cls.decide_many(votes, 0, qualified_share)))


@DECISION_RULES.register("consensus")
class Consensus(DecisionRule):
    """Every member agrees (unanimity)."""

    @staticmethod
    def decide_many(votes, lead_index, qualified_share):
        return votes.all(axis=1)

    @classmethod
    def pass_probability(cls, p_agree, members, qualified_share):
        return p_agree**members


@DECISION_RULES.register("unanimity")
class Unanimity(Consensus):
    """Another name for consensus."""


@DECISION_RULES.register("qualified_majority")
class QualifiedMajority(DecisionRule):
    """At least ``qualified_share`` of the members agree."""

    @staticmethod
    def decide_many(votes, lead_index, qualified_share):
        return np.count_nonzero(votes, axis=1) >= qualified_share * votes.shape[1] - 1e-9

    @classmethod
    def decide(cls, votes, lead_index, qualified_share):  # one finding at a time (the event path)
        return bool(np.count_nonzero(votes) >= qualified_share * len(votes) - 1e-9)

    @classmethod
    def pass_probability(cls, p_agree, members, qualified_share):
        return binomial_sf(math.ceil(qualified_share * members - 1e-9) - 1, members, p_agree)


@DECISION_RULES.register("simple_majority")
class SimpleMajority(DecisionRule):
    """More than half of the members agree."""

    @staticmethod
    def decide_many(votes, lead_index, qualified_share):
        return np.count_nonzero(votes, axis=1) * 2 > votes.shape[1]

    @classmethod
    def decide(cls, votes, lead_index, qualified_share):
        return bool(np.count_nonzero(votes) * 2 > len(votes))

    @classmethod
    def pass_probability(cls, p_agree, members, qualified_share):
        return binomial_sf(members // 2, members, p_agree)


@DECISION_RULES.register("lead_nation")
class LeadNation(DecisionRule):
    """The lead nation's view decides."""

    @staticmethod
    def decide_many(votes, lead_index, qualified_share):
        return votes[:, lead_index]

    @classmethod
    def pass_probability(cls, p_agree, members, qualified_share):
        return p_agree


@dataclass(slots=True)
class Investigations:
    """How long investigations take, worked out when asked: each from its own uniform and its
    evidence's speed-up (a batch run needs only the days of attributed findings)."""

    delay: object  # the investigation time (``delays.Delay``)
    u: np.ndarray
    speed: np.ndarray | float = 1.0

    def days(self, which=slice(None)) -> np.ndarray:
        """The days of investigations ``which`` (positions, a mask or a slice): element by element
        those of all of them at once."""
        speed = self.speed[which] if isinstance(self.speed, np.ndarray) else self.speed
        return self.delay.from_uniforms(self.u[which]) / speed


@dataclass(slots=True)
class Referral:
    """An incident referred to the commission: a real breach or a false alarm, with what its
    investigation will find (drawn when referred, from the incident's own stream positions)."""

    day: float
    breach: object
    false_alarm: bool
    monitoring_evidence: bool
    index: int
    investigation: float = 0.0
    conclusive: bool = False
    attributed: bool = False
    both_sides: bool = False


class SpecialCommission:
    """Model component: investigation time, attribution by evidence, and the members' decision.

    Evidence (docs/model.md 7.5): each "look" at an incident is conclusive with
    ``c = q (1 - deniability)`` (times Ukraine's evidence weight when only Ukraine reported it);
    a single incident gives ``1 + evidence_scale (severity - 1)`` looks, a day's aggregated fire
    ``evidence_per_violation`` looks per violation by the violator; the evidence is conclusive with
    ``1 - (1 - c)^looks`` and the investigation takes its drawn time divided by
    ``max(1, looks (1 - deniability))``. In mutual fire Ukraine fires a binomial share; the
    commission then finds "violations by both sides" with probability Ukraine's share of the day.
    """

    def __init__(self, scenario, streams, members: list[str]):
        self.s = scenario
        self.members = members
        # the lead's vote counts only under the lead_nation rule, where the scenario checked its seat
        self.lead_index = members.index(scenario.commission_lead) if scenario.commission_lead in members else 0
        width = max(len(members), 1)
        self._u = {
            False: (streams.uniforms("investigation"), streams.uniforms("evidence"), streams.uniforms("votes", width)),
            True: (
                streams.uniforms("fa/investigation"),
                streams.uniforms("fa/evidence"),
                streams.uniforms("fa/votes", width),
            ),
        }
        self._u_split, self._u_both = streams.uniforms("ukraine_fire"), streams.uniforms("both_sides")
        base = scenario.attribution_probability
        if scenario.intelligence_sharing and any(s.monitoring for s in scenario.states):
            base = min(1.0, base + scenario.intelligence_attribution_boost)
        self.base_attribution = base
        self.open_investigations = 0

    def false_alarm_evidence(self) -> float:
        """The chance that the evidence about an incident that never happened looks conclusive."""
        return self.base_attribution * self.s.false_alarm_attribution

    def evidence(self, severity, deniability, count, mutual, monitoring_evidence, n_ukraine) -> tuple:
        """(chance the evidence is conclusive, investigation speed-up) of real incidents (arrays)."""
        s = self.s
        aggregated = (count > 1) | mutual
        looks = np.where(aggregated, s.evidence_per_violation * (count - n_ukraine),
                         1.0 + s.evidence_scale * np.maximum(severity - 1.0, 0.0))
        c = self.base_attribution * (1.0 - deniability)
        c = np.where(monitoring_evidence, c, c * s.ukraine_evidence_weight)
        return 1.0 - (1.0 - c) ** looks, np.maximum(1.0, looks * (1.0 - deniability))

    def _take(self, stream, idx: np.ndarray) -> np.ndarray:
        n = int(idx.max()) + 1 if len(idx) else 0
        return stream.span(0, n)[idx] if n else np.empty(0)

    def investigate(self, idx: np.ndarray, severity, deniability, count, mutual, monitoring_evidence) -> tuple:
        """(investigation days, conclusive, attributed, both sides) of real incidents ``idx`` (each
        reads its own stream positions, so one at a time or all at once give the same findings)."""
        inv, conclusive, attributed, both = self.screen(idx, severity, deniability, count, mutual, monitoring_evidence)
        return inv.days(), conclusive, attributed, both

    def screen(self, idx: np.ndarray, severity, deniability, count, mutual, monitoring_evidence) -> tuple:
        """``investigate`` with the days as ``Investigations``, to be worked out where needed."""
        count, mutual = np.asarray(count, np.int64), np.asarray(mutual, bool)
        n_ukraine = np.zeros(len(idx), np.int64)
        both = np.zeros(len(idx), bool)
        if mutual.any() and self.s.ukraine_share > 0:  # (without mutual fire the streams are not read)
            m = np.flatnonzero(mutual)
            n_ukraine[m] = binomial_quantile(self._take(self._u_split, idx[m]), count[m],
                                             np.full(len(m), self.s.ukraine_share))
            both[m] = (n_ukraine[m] > 0) & (self._take(self._u_both, idx[m]) * count[m] < n_ukraine[m])
        evidence, speed = self.evidence(np.asarray(severity, float), np.asarray(deniability, float), count, mutual,
                                        np.asarray(monitoring_evidence, bool), n_ukraine)
        inv, conclusive, attributed = self._decide(False, idx, evidence)
        inv.speed = speed
        return inv, conclusive, attributed & ~both, both

    def investigate_one(self, i: int, b, monitoring_evidence: bool) -> tuple:
        """``investigate`` for one single (not aggregated) incident, the violator's choice of the
        moment (adaptive and strategic violators; their runs never compare with a bulk screening)."""
        s = self.s
        if b.mutual or b.count > 1:
            one = dict(severity=[b.severity], deniability=[b.deniability], count=[b.count], mutual=[b.mutual])
            return tuple(a[0] for a in self.investigate(np.array([i]), monitoring_evidence=[monitoring_evidence], **one))
        looks = 1.0 + s.evidence_scale * max(b.severity - 1.0, 0.0)
        c = self.base_attribution * (1.0 - b.deniability) * (1.0 if monitoring_evidence else s.ukraine_evidence_weight)
        u_inv, u_ev, u_votes = self._u[False]
        days = s.investigation_time.from_uniform(u_inv(i)) / max(1.0, looks * (1.0 - b.deniability))
        conclusive = u_ev(i) < 1.0 - (1.0 - c) ** looks
        if not self.members:
            return days, conclusive, conclusive, False
        p_agree = s.agree_if_conclusive if conclusive else s.agree_if_inconclusive
        votes = u_votes.block(i, len(self.members)) < p_agree
        return days, conclusive, s.decision_rule.decide(votes, self.lead_index, s.qualified_share), False

    def investigate_false_alarms(self, n: int) -> tuple:
        """(investigation days, conclusive, attributed) of false alarms ``0 .. n-1``."""
        inv, conclusive, attributed = self.screen_false_alarms(n)
        return inv.days(), conclusive, attributed

    def screen_false_alarms(self, n: int) -> tuple:
        """``investigate_false_alarms`` with the days as ``Investigations``."""
        return self._decide(True, np.arange(n), np.full(n, self.false_alarm_evidence()))

    def _decide(self, false_alarm: bool, idx: np.ndarray, evidence: np.ndarray) -> tuple:
        u_inv, u_ev, u_votes = self._u[false_alarm]
        n = int(idx.max()) + 1 if len(idx) else 0
        inv = Investigations(self.s.investigation_time, u_inv.span(0, n)[idx] if n else np.empty(0))
        conclusive = u_ev.span(0, n)[idx] < evidence if n else np.zeros(0, bool)
        if not self.members:
            return inv, conclusive, conclusive
        m = len(self.members)
        votes_u = u_votes.matrix(n)[idx, :m]
        p_agree = np.where(conclusive, self.s.agree_if_conclusive, self.s.agree_if_inconclusive)
        attributed = self.s.decision_rule.decide_many(votes_u < p_agree[:, None], self.lead_index, self.s.qualified_share)
        return inv, conclusive, np.asarray(attributed, dtype=bool)
