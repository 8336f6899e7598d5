"""Mesa agents: coalition states (the United States among them), Ukraine and the ceasefire violator.

Agents decide; the model (``model.py``) orchestrates time. Each decision reads its own
random stream position (state × support type), so a lever that changes one decision never
reshuffles another.
"""

from __future__ import annotations

import enum

import mesa
import numpy as np
from scipy import special

from guarantee_sim.model.breaches import Breach, BreachKind, BreachPlan
from guarantee_sim.model.events import Reason
from guarantee_sim.model.triggers import SUPPORT_TYPES

TYPE_INDEX = {t: i for i, t in enumerate(SUPPORT_TYPES)}
WIDTH = len(SUPPORT_TYPES)  # one entry per state and support type: state i's type k at ``i * WIDTH + k``


RECONSIDERED = (Reason.NO_FOLLOW_THROUGH, Reason.APPROVAL_REFUSED, Reason.GAVE_UP)  # not a UN veto


class SupportStatus(enum.Enum):
    """Where one state's commitment of one support type stands."""

    NOT_COMMITTED = "not committed"
    COMMITTED = "committed"
    DECIDING = "deciding"
    APPROVED = "approved"
    DELIVERING = "delivering"
    DECLINED = "declined"


# the members as plain names for the hot paths: an enum member's lookup on its class costs about
# ten times a global's (Python 3.11)
COMMITTED, DECIDING, APPROVED, DELIVERING, DECLINED = (
    SupportStatus.COMMITTED, SupportStatus.DECIDING, SupportStatus.APPROVED, SupportStatus.DELIVERING,
    SupportStatus.DECLINED)
NO_FOLLOW_THROUGH = Reason.NO_FOLLOW_THROUGH


def joining_thresholds(scenario, streams) -> list[float]:
    """Granovetter thresholds: fixed where the roster sets one, else normal, clipped to [0, 1]."""
    n = len(scenario.states)
    if not scenario.cascade:
        return [0.0] * n
    u = streams.uniforms("threshold").span(0, n)
    drawn = np.clip(scenario.threshold_mean + scenario.threshold_sd * special.ndtri(u), 0.0, 1.0)
    at, fixed = fixed_thresholds(scenario)
    drawn[at] = fixed
    return drawn.tolist()


def fixed_thresholds(scenario) -> tuple[np.ndarray, np.ndarray]:
    """The states whose threshold the roster fixes, and those thresholds (the same in every run of
    the scenario, so worked out once)."""
    found = scenario.memo.get("fixed_thresholds")
    if found is None:
        at = [i for i, p in enumerate(scenario.states) if p.threshold is not None]
        found = scenario.memo["fixed_thresholds"] = (
            np.array(at, np.intp), np.array([scenario.states[i].threshold for i in at], float))
    return found


def coalition_streams(streams, n_states: int) -> tuple:
    """The states' decision streams (follow-through, approval delay, approval, delivery delay):
    state i's draw for support type k sits at row i, column k (reviews read further rows: each
    stream draws two rounds' worth at its first use)."""
    return tuple(streams.uniforms(name, WIDTH, block=2 * n_states * WIDTH)
                 for name in ("follow_through", "approval_delay", "approval_pass", "delivery_delay"))


def initial_status(profile) -> dict:
    return {t: SupportStatus.COMMITTED if profile.capacity[t] > 0 else SupportStatus.NOT_COMMITTED for t in SUPPORT_TYPES}


class CoalitionState(mesa.Agent):
    """A coalition member: its legal regime, commitments, joining threshold and conditionality."""

    def __init__(self, model, profile, index: int, threshold: float, streams: tuple, initial_status: dict):
        super().__init__(model)
        self.profile = profile
        self.index = index
        self.name = profile.name
        self.threshold = threshold
        self._u_follow, self._u_delay, self._u_pass, self._u_deliver = streams
        self.status = dict(initial_status)
        self.reason: dict[str, Reason] = {}  # why each commitment stands where it does (recorded runs)
        self.reason_code: dict[str, Reason] = {}  # why each declined commitment was declined (every run)
        self._procedure = model.spec.procedures[index]
        self._regime = model.spec.regime_of[index]
        self._binding = model.spec.binding[index]
        self.approved_day: dict[str, float] = {}
        self.delivery_day: dict[str, float] = {}
        self.wait_since: dict[str, float] = {}

    def binding(self, stype: str) -> bool:
        return self._binding[stype]

    def asked(self, stype: str) -> bool:
        """The coalition asks about ``stype``: False if the state declines outright (a UN veto);
        True if it has a commitment of ``stype`` to decide on."""
        if self.status[stype] is not COMMITTED:
            return False
        if stype == "diplomatic" and self.model.spec.unsc_referral:
            self._decline(stype, Reason.UNSC_VETO)
            return False
        return True

    def settle(self, stype: str, willing: bool) -> None:
        """The state's decision on ``stype`` (taken on its political term, ``CoalitionResponse``):
        willing, or declined for want of follow-through."""
        if willing:
            self.status[stype] = DECIDING
            if self.model.recording:
                self.reason[stype] = Reason.WILLING
        else:
            self._decline(stype, NO_FOLLOW_THROUGH)

    def waits_for_us(self) -> bool:
        """Does this state act only once the United States acts?"""
        return self.profile.us_conditional and self.model.spec.honour_us_conditionality and not self.profile.is_us

    def ready(self, stype: str, acting_share: float, us_acting: bool) -> bool:
        """Has the state's joining threshold and US conditionality been met?"""
        if not us_acting and self.waits_for_us():
            self._explain(stype, Reason.WAITS_FOR_US)
            return False
        if acting_share + 1e-12 < self.threshold:
            self._explain(stype, Reason.WAITS_FOR_PEERS)
            return False
        return True

    def procedure(self, stype: str) -> str:
        """The procedure that decides this state's ``stype`` support (see ``scenario.procedure``)."""
        return self._procedure[stype]

    def approval(self, stype: str) -> tuple[float, bool]:
        """(delay in days, approved?) under the state's procedure for ``stype``."""
        regime = self._regime[stype]
        k = TYPE_INDEX[stype]
        response = self.model.response
        row = self.index + response.round.item(self.index * WIDTH + k) * len(response.coalition)
        delay = regime.delay.from_uniform(self._u_delay(row, k))
        return delay, self._u_pass(row, k) < regime.approval_probability

    def delivery_delay(self, stype: str) -> float:
        delay = self.model.spec.support[stype].delivery_delay
        return delay.from_uniform(self._u_deliver(self.index, TYPE_INDEX[stype]))

    def _explain(self, stype: str, why: Reason) -> None:
        """Keep why (recorded runs only; the hot paths check first, sparing the reason's lookup)."""
        if self.model.recording:
            self.reason[stype] = why

    def _decline(self, stype: str, why: Reason) -> None:
        self.status[stype] = DECLINED
        self.reason_code[stype] = why
        if self.model.recording:
            self.reason[stype] = why

    def decline(self, stype: str, why: Reason) -> None:
        self._decline(stype, why)

    def approve(self, stype: str, day: float) -> None:
        self.status[stype] = APPROVED
        self.approved_day[stype] = day
        if self.model.recording:
            self.reason[stype] = Reason.APPROVED

    def deliver(self, stype: str, day: float) -> None:
        self.status[stype] = DELIVERING
        self.delivery_day[stype] = day
        if self.model.recording:
            self.reason[stype] = Reason.DELIVERING

    @property
    def acting(self) -> bool:
        return any(v in (SupportStatus.APPROVED, SupportStatus.DELIVERING) for v in self.status.values())


class Ukraine(mesa.Agent):
    """Reports the breaches it suffers, invokes the guarantees, and holds the line meanwhile.

    Defensive capacity grows with ongoing support (defence packages, financing, depot access,
    fortifications) and is drawn down by attacks; it sets how long Ukraine can hold against a
    major offensive before coalition military support must arrive.
    """

    def __init__(self, model):
        super().__init__(model)
        self._u_report = model.streams.uniforms("ukraine_report")
        self._u_delay = model.streams.uniforms("ukraine_report_delay")
        self._u_invoke = model.streams.uniforms("invocation")
        self.damage = 0.0
        self.offensive_day: float | None = None
        self.holding_time: float | None = None

    def report_day(self, breach: Breach) -> float | None:
        s = self.model.spec
        if self._u_report(breach.index) >= s.ukraine_recall:
            return None
        return breach.day + s.ukraine_report_delay.from_uniform(self._u_delay(breach.index))

    def report_days(self, days: np.ndarray, n: int) -> np.ndarray:
        """Vectorised ``report_day`` for incidents ``0 .. n-1`` (inf where Ukraine does not report)."""
        s = self.model.spec
        reported = self._u_report.span(0, n) < s.ukraine_recall
        delays = s.ukraine_report_delay.from_uniforms(self._u_delay.span(0, n))
        return np.where(reported, days + delays, np.inf)

    def invocation_delay(self, tier: int) -> float:
        return self.model.spec.invocation_delay.from_uniform(self._u_invoke(tier))

    def holding_time_at(self, day: float, damage: float) -> float:
        """How long Ukraine can hold against an offensive on ``day``, after ``damage`` so far:
        its defensive capacity (grown with support, worn down by attacks) in days."""
        s = self.model.spec
        return s.holding_days * max(0.0, s.initial_capacity + s.support_growth * day - damage)

    def suffer(self, breach: Breach) -> None:
        if breach.kind is BreachKind.ARMED_ATTACK and self.offensive_day is None:
            self.offensive_day = breach.day
            self.holding_time = self.holding_time_at(breach.day, self.damage)
        s = self.model.spec
        if breach.severity >= s.damage_min_severity:  # low-level fire does not wear the defence down
            self.damage += s.damage_per_severity * breach.severity


class Violator(mesa.Agent):
    """The ceasefire violator: its breach pattern is a strategy object from the registry."""

    def __init__(self, model, pattern):
        super().__init__(model)
        self.pattern = pattern
        self.strategic = pattern.classifier["strategic"]

    @property
    def resolve_belief(self) -> float:
        """The strategic violator's belief that binding military support would follow (NaN for scripted ones)."""
        return self.pattern.belief if self.strategic else float("nan")

    def plan(self) -> BreachPlan:
        planned = self.pattern.plan()
        return planned if isinstance(planned, BreachPlan) else BreachPlan.of(planned)

    def act(self, breach: Breach) -> tuple[bool, Breach | None]:
        """Carry out (or call off) a planned incident; adaptive patterns then plan the next."""
        if not self.pattern.adaptive:
            return True, None
        happens = self.pattern.allows(breach)
        return happens, self.pattern.next_after(breach)

    def learn_finding(self, breach: Breach | None, attributed: bool, day: float) -> None:
        self.pattern.observe_finding(breach, attributed, day)

    def learn_activation(self, day: float) -> None:
        self.pattern.observe_activation(day)
