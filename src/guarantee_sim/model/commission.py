"""The special commission: investigates referred incidents, attributes them, and decides by a rule.

Attribution has two parts. The investigation's evidence is conclusive with a probability
that falls with the incident's deniability and is lower when only Ukraine reported it; then
each member agrees with a probability that depends on whether the evidence is conclusive,
and the decision rule (a registry entry) aggregates the votes. Votes are drawn per incident
and member whatever the rule, so a stricter rule can only remove findings, never add them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import binom

from guarantee_sim.model.registry import Registry

DECISION_RULES: Registry[type["DecisionRule"]] = Registry("decision rule")


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
    def pass_probability(cls, p_agree, members, qualified_share):
        need = math.ceil(qualified_share * members - 1e-9)
        return float(binom.sf(need - 1, members, p_agree))


@DECISION_RULES.register("simple_majority")
class SimpleMajority(DecisionRule):
    """More than half of the members agree."""

    @staticmethod
    def decide_many(votes, lead_index, qualified_share):
        return np.count_nonzero(votes, axis=1) * 2 > votes.shape[1]

    @classmethod
    def pass_probability(cls, p_agree, members, qualified_share):
        return float(binom.sf(members // 2, members, p_agree))


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
class Referral:
    """An incident referred to the commission: a real breach or a false alarm."""

    day: float
    breach: object
    false_alarm: bool
    monitoring_evidence: bool
    index: int


class SpecialCommission:
    """Model component: investigation time, attribution and the members' decision."""

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
        base = scenario.attribution_probability
        if scenario.intelligence_sharing and any(s.monitoring for s in scenario.states):
            base = min(1.0, base + scenario.intelligence_attribution_boost)
        self.base_attribution = base
        self.open_investigations = 0

    def investigation_time(self, referral: Referral) -> float:
        u_inv, _, _ = self._u[referral.false_alarm]
        return self.s.investigation_time.from_uniform(u_inv(referral.index))

    def evidence_probabilities(self, deniability: np.ndarray, monitoring_evidence: np.ndarray) -> np.ndarray:
        """Vectorised ``evidence_probability`` for real incidents."""
        q = self.base_attribution * (1.0 - deniability)
        return np.where(monitoring_evidence, q, q * self.s.ukraine_evidence_weight)

    def false_alarm_evidence(self) -> float:
        """The chance that the evidence about an incident that never happened looks conclusive."""
        return self.base_attribution * self.s.false_alarm_attribution

    def evidence_probability(self, referral: Referral) -> float:
        if referral.false_alarm:
            return self.false_alarm_evidence()
        q = self.base_attribution * (1.0 - referral.breach.deniability)
        return q if referral.monitoring_evidence else q * self.s.ukraine_evidence_weight

    def investigate_all(self, false_alarm: bool, idx: np.ndarray, evidence: np.ndarray) -> tuple:
        """Vectorised: (investigation days, conclusive, attributed) of many referrals at once.

        Reads the same stream positions as ``investigation_time`` and ``attribute``, so both
        give the same findings.
        """
        u_inv, u_ev, u_votes = self._u[false_alarm]
        n = int(idx.max()) + 1 if len(idx) else 0
        days = self.s.investigation_time.from_uniforms(u_inv.span(0, n)[idx]) if n else np.empty(0)
        conclusive = u_ev.span(0, n)[idx] < evidence if n else np.zeros(0, bool)
        if not self.members:
            return days, conclusive, conclusive
        m = len(self.members)
        votes_u = u_votes.matrix(n)[idx, :m]
        p_agree = np.where(conclusive, self.s.agree_if_conclusive, self.s.agree_if_inconclusive)
        attributed = self.s.decision_rule.decide_many(votes_u < p_agree[:, None], self.lead_index, self.s.qualified_share)
        return days, conclusive, np.asarray(attributed, dtype=bool)

    def attribute(self, referral: Referral) -> tuple[bool, bool]:
        """(conclusive evidence, attributed by the decision rule)."""
        _, u_ev, u_votes = self._u[referral.false_alarm]
        conclusive = u_ev(referral.index) < self.evidence_probability(referral)
        if not self.members:
            return conclusive, conclusive
        p_agree = self.s.agree_if_conclusive if conclusive else self.s.agree_if_inconclusive
        votes = u_votes.block(referral.index, len(self.members)) < p_agree
        return conclusive, self.s.decision_rule.decide(votes, self.lead_index, self.s.qualified_share)
