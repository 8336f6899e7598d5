"""The coalition's response to a fired trigger: who is asked, who joins when, what arrives, and
when binding support counts as activated.

States decide (``agents.CoalitionState``); this component owns what they decide about: the
capacity acting per support type, the states waiting for their joining conditions
(Granovetter thresholds on the capacity acting, US conditionality, the EU package), the
coalition's common political factor, the reviews at which refusals are revisited, the military
support delivered against what Ukraine needs, and the activation rule. The engine hands it each
consultation's outcome, each new attributed armed attack and the events that fall due.
"""

from __future__ import annotations

import heapq
import math
from typing import Callable

import numpy as np
from scipy import special

from guarantee_sim.model.agents import RECONSIDERED, TYPE_INDEX, CoalitionState, SupportStatus
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
        self.reference = s.roster_capacity  # thresholds count capacity acting against the whole roster's
        self.shock: dict[str, float] | None = None  # the common political factor per support type
        self.rounds = 0  # reviews held (each draws fresh state terms)
        self._review_due = False
        # the states' political terms, one row per state, one column per support type (``TYPE_INDEX``):
        # the term each decision rests on, the review round whose draw it took last, and which
        # declined commitments a review asks again (declined, gave up or refused; not a UN veto)
        n = len(self.coalition)
        self.latent = np.zeros((n, len(SUPPORT_TYPES)))
        self.round = np.zeros((n, len(SUPPORT_TYPES)), dtype=np.int64)
        self.declined = np.zeros((n, len(SUPPORT_TYPES)), dtype=bool)
        self._refused = np.zeros((n, len(SUPPORT_TYPES)), dtype=bool)  # declined by a refusal or giving up
        self._u_follow = model.streams.uniforms("follow_through", len(SUPPORT_TYPES))
        self.military_needed_day: float = math.nan  # delivered military capacity reached Ukraine's need

    # measures ---------------------------------------------------------------------------------
    def acting_share(self, stype: str) -> float:
        """Capacity approved (binding or not) as a share of the whole roster's: an absolute amount,
        whatever the design promises, so promising more never raises anyone's bar."""
        c = self.reference[stype]
        return self.approved_capacity[stype] / c if c > 0 else 0.0

    def military_delivered(self) -> float:
        """Military support delivered, binding or not, in EUR bn a year."""
        return self.delivering_capacity["military"] * self.spec.military_unit

    def follows(self, stype: str, own):
        """Does a state whose own political term is ``own`` (standard normal; one or an array) follow
        through on ``stype``? A one-factor model: the state's term and the coalition's common political
        factor for this support type (drawn once a run) add up with weights sqrt(1 - rho) and sqrt(rho),
        so the marginal probability is the design's follow-through whatever the correlation rho."""
        return self._follows(own, TYPE_INDEX[stype])

    def _follows(self, own, k=slice(None)):
        """``follows`` for support type ``k``, or for a whole state x type array of terms."""
        if self.shock is None:
            self._draw_common_factor()
        return self._weight * own + self._common[k] < self._cut[k]

    def _draw_common_factor(self) -> None:
        """The common factor, drawn at the first decision (its own stream: when does not matter),
        and each type's terms of ``follows``, worked out once a run."""
        rho = self.spec.follow_through_correlation
        u_common = self.model.streams.uniforms("political", len(SUPPORT_TYPES))
        self.shock = {t: float(special.ndtri(u_common(0, k))) for k, t in enumerate(SUPPORT_TYPES)}
        self._weight = math.sqrt(1.0 - rho)
        self._common = np.array([math.sqrt(rho) * self.shock[t] for t in SUPPORT_TYPES])
        self._cut = np.array([float(special.ndtri(self.spec.support[t].follow_through)) if t in self.spec.support
                              else math.nan for t in SUPPORT_TYPES])

    def fresh_terms(self, round_: int) -> np.ndarray:
        """Every state's fresh political term per support type in review round ``round_`` (standard
        normal; round 0: the first decision): state i's draw for type k at row ``i + round_ * n``."""
        n = len(self.coalition)
        width = self._u_follow.width
        return special.ndtri(self._u_follow.span(round_ * n * width, n * width)).reshape(n, width)

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
            asked = [st for st in self.coalition if st.asked(t)]
            if asked:
                k, rows = TYPE_INDEX[t], [st.index for st in asked]
                terms = self.latent[rows, k] = self.fresh_terms(0)[rows, k]
                for state, willing in zip(asked, self.follows(t, terms).tolist()):
                    state.settle(t, willing)
            for state in self.coalition:
                self._after_decision(day, state, t)
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
        self._next_review(day)

    def _next_review(self, day: float) -> None:
        """Schedule a review ``review_days`` on while someone could still change their mind."""
        if self.spec.review_days <= 0 or self._review_due:
            return
        if self.declined.any() or self.waiting_for_us or any(self.waiting.values()):
            self._review_due = True
            self.model.schedule(day + self.spec.review_days, "review", self._on_review)

    def _after_decision(self, day: float, state: CoalitionState, t: str) -> None:
        m = self.model
        if state.status[t] is SupportStatus.DECIDING:
            state.wait_since[t] = day
            if state.procedure(t) == "eu_package":
                self.waiting_for_eu.append((state, t))
            else:
                heapq.heappush(self.waiting[t], (state.threshold, state.index, state))
        elif state.status[t] is SupportStatus.DECLINED:
            if state.reason_code.get(t) in RECONSIDERED:
                self._may_decide_again(state, t)
            self._seen(state, t, False)
            if m.recording:
                m.record(Event(day, DECISION, state.reason[t], state=state.name, support=t))

    # decisions that can change ------------------------------------------------------------------
    def _may_decide_again(self, state: CoalitionState, t: str) -> None:
        k = TYPE_INDEX[t]
        self.declined[state.index, k] = True
        self._refused[state.index, k] = state.reason_code.get(t) is not Reason.NO_FOLLOW_THROUGH

    def reconsider(self, day: float) -> None:
        """The situation changed (a review, a new attributed armed attack): states that declined,
        gave up or were refused decide again, in one array pass: each state's term moves part of the
        way (``reconsider_weight``) to a fresh draw, so its stance persists but can change (the
        marginal stays N(0, 1)); the common factor stays."""
        if not self.decided_types:
            return
        self.rounds += 1
        m = self.model
        if m.recording:
            m.record(Event(day, DECISION, Reason.RECONSIDERED, count=self.rounds))
        asked = self.declined
        if asked.any():
            w = self.spec.reconsider_weight
            self.latent[asked] = math.sqrt(1.0 - w) * self.latent[asked] + math.sqrt(w) * self.fresh_terms(self.rounds)[asked]
            self.round[asked] = self.rounds
            willing = asked & self._follows(self.latent)
            self.declined = asked & ~willing
            again = self.declined & self._refused if not m.recording else self.declined
            for i, k in zip(*np.nonzero(again)):  # declined again: now for want of follow-through
                self.coalition[i].settle(SUPPORT_TYPES[k], False)
            self._refused[:] = False
            for t in self.decided_types:  # in the order the types were decided, then by state
                for i in np.flatnonzero(willing[:, TYPE_INDEX[t]]).tolist():
                    self.coalition[i].settle(t, True)
                    self._after_decision(day, self.coalition[i], t)
        self.cascade(day)
        self._next_review(day)

    def _on_review(self, day: float) -> None:
        """A periodic review: everyone who declined decides again; then states that waited past their
        patience give up (they decide again at the next review, due ``review_days`` later)."""
        self._review_due = False
        self.reconsider(day)  # before anyone gives up: those who give up now decide again at the next review
        patience = self.spec.patience_days
        if patience > 0:
            self._give_up(day, day - patience)
        self._next_review(day)

    def _give_up(self, day: float, since: float) -> None:
        m = self.model
        tired = lambda state, t: state.wait_since.get(t, day) <= since  # noqa: E731
        gave_up = [(st, t) for t, heap in self.waiting.items() for _, _, st in heap if tired(st, t)]
        gave_up += [(st, t) for st, t in self.waiting_for_us if tired(st, t)]
        if not gave_up:
            return
        for t, heap in self.waiting.items():
            kept = [entry for entry in heap if not tired(entry[2], t)]
            if len(kept) != len(heap):
                heapq.heapify(kept)
                self.waiting[t] = kept
        self.waiting_for_us = [(st, t) for st, t in self.waiting_for_us if not tired(st, t)]
        for state, t in gave_up:
            state.decline(t, Reason.GAVE_UP)
            self._may_decide_again(state, t)
            if m.recording:
                m.record(Event(day, DECISION, Reason.GAVE_UP, state=state.name, support=t))

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
            self._may_decide_again(state, stype)
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
        if (stype == "military" and math.isnan(self.military_needed_day)
                and self.military_delivered() >= self.spec.military_support_needed - 1e-9):
            self.military_needed_day = day
            if m.recording:
                m.record(Event(day, EventKind.ACTIVATION, Reason.NEEDED_LEVEL, support="military",
                               share=self.military_delivered()))
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
