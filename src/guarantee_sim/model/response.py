"""The coalition's response to a fired trigger: who is asked, who joins when, and when binding
support counts as activated.

States decide (``agents.CoalitionState``); this component owns what they decide about: the
capacity acting per support type, the states waiting for their joining conditions
(Granovetter thresholds, US conditionality, the EU package) and the activation rule. The
engine hands it each consultation's outcome and the events that fall due.
"""

from __future__ import annotations

import heapq
import math
from typing import Callable

from guarantee_sim.model.agents import CoalitionState, SupportStatus
from guarantee_sim.model.events import Event, EventKind, Reason
from guarantee_sim.model.triggers import SUPPORT_TYPES

DECISION = EventKind.DECISION


class CoalitionResponse:
    """Model component: the cascade from a consultation to deliveries and activation."""

    def __init__(self, model):
        self.model = model
        s = self.spec = model.spec
        self.coalition = model.coalition
        self.committed = s.committed
        self.committed_binding = s.committed_binding
        self.total_binding = sum(self.committed_binding.values())
        self.approved_capacity = dict.fromkeys(SUPPORT_TYPES, 0.0)
        self.delivering_capacity = dict.fromkeys(SUPPORT_TYPES, 0.0)
        self.delivering_binding = dict.fromkeys(SUPPORT_TYPES, 0.0)
        self.decided_types: list[str] = []
        # willing states whose conditions do not hold yet, by support type, lowest threshold first
        self.waiting: dict[str, list] = {t: [] for t in SUPPORT_TYPES}
        self.waiting_for_us: list[tuple[CoalitionState, str]] = []
        self.waiting_for_eu: list[tuple[CoalitionState, str]] = []
        self._batches: dict[tuple[str, float, str], list] = {}  # approvals, deliveries falling due together
        self.eu_package_adopted = False
        self.us = next((a for a in self.coalition if a.profile.is_us), None)
        self.us_acting = False  # has the United States approved any support yet?
        self.n_states_delivering = 0
        self.activation_day_type: dict[str, float] = {}
        self.activation_day: float = math.nan

    # measures ---------------------------------------------------------------------------------
    def acting_share(self, stype: str) -> float:
        c = self.committed[stype]
        return self.approved_capacity[stype] / c if c > 0 else 0.0

    def binding_share(self) -> float:
        if self.total_binding <= 0:
            return 0.0
        return math.fsum(self.delivering_binding.values()) / self.total_binding  # exact: the same on every Python

    # the consultation's outcome ----------------------------------------------------------------
    def decide(self, day: float, types: list[str]) -> None:
        """Every state considers each support type of the fired tier; the willing wait their turn."""
        m = self.model
        for t in types:
            self.decided_types.append(t)
            for state in self.coalition:
                state.consider(t)
                if state.status[t] is SupportStatus.DECIDING:
                    if state.procedure(t) == "eu_package":
                        self.waiting_for_eu.append((state, t))
                    else:
                        heapq.heappush(self.waiting[t], (state.threshold, state.index, state))
                elif state.status[t] is SupportStatus.DECLINED:
                    self._seen(state, t, False)
                    if m.recording:
                        m.record(Event(day, DECISION, state.reason[t], state=state.name, support=t))
        s = self.spec
        if "economic" in types and s.eu_sanctions and any(a.profile.eu for a in self.coalition):
            u = m.streams.uniforms("eu_package")
            delay = s.eu_package_delay.from_uniform(u(0))
            if u(1) < s.eu_veto_probability:
                delay += s.eu_veto_delay.from_uniform(u(2))
                if m.recording:
                    m.record(Event(day, DECISION, Reason.EU_PACKAGE_HELD_UP, support="economic"))
            m.schedule(day + delay, "eu_package", self._on_eu_package)
        self.cascade(day)

    def cascade(self, day: float, changed: str | None = None) -> None:
        """Start the approval of every willing state whose conditions now hold.

        States are asked in order of their joining threshold, so only those that could be
        ready are asked at all; an adopted EU package approves its members at once. After a
        cascade no waiting state is ready, so when one approval has only raised ``changed``'s
        acting share, only that type's queue needs asking.
        """
        m = self.model
        again = True
        while again:
            again = False
            us_acting = self.us_acting
            if us_acting and self.waiting_for_us:
                for state, t in self.waiting_for_us:
                    heapq.heappush(self.waiting[t], (state.threshold, state.index, state))
                self.waiting_for_us = []
                changed = None
            if self.eu_package_adopted and self.waiting_for_eu:
                for state, t in self.waiting_for_eu:
                    self._approve(day, state, t)
                self.waiting_for_eu = []
                again = True
                changed = None
            for t in self.waiting if changed is None else (changed,):
                heap = self.waiting[t]
                share = self.acting_share(t)
                while heap and heap[0][0] <= share + 1e-12:
                    state = heapq.heappop(heap)[2]
                    if not state.ready(t, share, us_acting):
                        self.waiting_for_us.append((state, t))
                        if m.recording:
                            m.record(Event(day, DECISION, Reason.WAITS_FOR_US, state=state.name, support=t))
                        continue
                    delay, ok = state.approval(t)
                    if m.recording:
                        m.record(Event(day, DECISION, Reason.PROCEDURE_STARTED, state=state.name, support=t,
                                       procedure=state.procedure(t), due=day + delay, threshold=state.threshold,
                                       share=share))
                    self._together("approval", day + delay, t, (state, ok), self._on_approvals)

    def _seen(self, state: CoalitionState, stype: str, approved: bool) -> None:
        """The violator watches binding military decisions (each weighted by its share of the capacity)."""
        if stype == "military" and self.model.violator.strategic and state.binding(stype):
            total = self.committed_binding["military"]
            if total > 0:
                self.model.violator.pattern.observe_response(approved, state.profile.capacity[stype] / total)

    # approvals and deliveries -------------------------------------------------------------------
    def _together(self, kind: str, day: float, stype: str, item, handler: Callable) -> None:
        """Approvals (deliveries) of one support type that fall due on the same day are one event.

        With fixed procedure delays whole groups of states decide on the same day; handling
        them together (one cascade, one activation check) gives the same days and outcomes as
        one event per state, at a fraction of the cost.
        """
        batch = self._batches.get((kind, day, stype))
        if batch is None:
            batch = self._batches[kind, day, stype] = []
            self.model.schedule(day, kind, handler, stype, batch)
        batch.append(item)

    def _on_approvals(self, day: float, stype: str, batch: list) -> None:
        del self._batches["approval", day, stype]
        approved = False
        for state, ok in batch:
            if ok:
                self._approve(day, state, stype)
                approved = True
                continue
            state.decline(stype, Reason.APPROVAL_REFUSED)
            self._seen(state, stype, False)
            if self.model.recording:
                self.model.record(Event(day, DECISION, Reason.APPROVAL_REFUSED, state=state.name, support=stype,
                                        procedure=state.procedure(stype)))
        if approved:
            self.cascade(day, stype)

    def _approve(self, day: float, state: CoalitionState, stype: str) -> None:
        state.approve(stype, day)
        self._seen(state, stype, True)
        if state is self.us:
            self.us_acting = True
        self.approved_capacity[stype] += state.profile.capacity[stype]
        if self.model.recording:
            self.model.record(Event(day, EventKind.APPROVAL, Reason.APPROVED, state=state.name, support=stype,
                                    procedure=state.procedure(stype)))
        self._together("delivery", day + state.delivery_delay(stype), stype, state, self._on_deliveries)

    def _on_eu_package(self, day: float) -> None:
        self.eu_package_adopted = True
        if self.model.recording:
            self.model.record(Event(day, EventKind.APPROVAL, Reason.EU_PACKAGE, support="economic"))
        self.cascade(day)

    def _on_deliveries(self, day: float, stype: str, batch: list) -> None:
        del self._batches["delivery", day, stype]
        m = self.model
        for state in batch:
            if not state.delivery_day:
                self.n_states_delivering += 1
            state.deliver(stype, day)
            cap = state.profile.capacity[stype]
            self.delivering_capacity[stype] += cap
            if state.binding(stype):
                self.delivering_binding[stype] += cap
            if m.recording:
                m.record(Event(day, EventKind.DELIVERY, Reason.DELIVERING, state=state.name, support=stype))
        self._check_activation(day, stype)

    def _check_activation(self, day: float, stype: str) -> None:
        """The activation rule: states holding ``activation_share`` of the committed binding
        capacity (of one type; of all types) are delivering."""
        m, s = self.model, self.spec
        cb = self.committed_binding[stype]
        if stype not in self.activation_day_type and cb > 0 and self.delivering_binding[stype] >= s.activation_share * cb - 1e-9:
            self.activation_day_type[stype] = day
            if m.recording:
                m.record(Event(day, EventKind.ACTIVATION, support=stype, share=self.delivering_binding[stype] / cb))
        if math.isnan(self.activation_day) and self.total_binding > 0 and self.binding_share() >= s.activation_share - 1e-9:
            self.activation_day = day
            if m.recording:
                m.record(Event(day, EventKind.ACTIVATION, share=self.binding_share()))
            m.violator.learn_activation(day)
