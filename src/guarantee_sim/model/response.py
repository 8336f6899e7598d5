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
from collections.abc import Callable

import numpy as np
from scipy import special

from guarantee_sim.model.agents import (
    COMMITTED,
    DECIDING,
    DECLINED,
    NO_FOLLOW_THROUGH,
    RECONSIDERED,
    TYPE_INDEX,
    WIDTH,
    CoalitionState,
)
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
        # the states' political terms, one entry per state and support type (state i's type k at
        # ``i * WIDTH + k``, as in the follow-through stream): the term each decision rests on, the
        # review round whose draw it took last, and which declined commitments a review asks again
        # (declined, gave up or refused; not a UN veto)
        size = len(self.coalition) * WIDTH
        self.latent = np.zeros(size)
        self.round = np.zeros(size, dtype=np.int64)
        self.declined = np.zeros(size, dtype=bool)
        self._refused: set[int] = set()  # positions declined by a refusal or giving up (few)
        self._u_follow = model.streams.uniforms("follow_through", WIDTH)
        self._watched = model.violator.strategic  # does the violator watch binding military decisions?
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

    def _follows(self, own, k):
        """``follows`` for support type ``k`` (or one type per term: an array of type indices)."""
        if self.shock is None:
            self._draw_common_factor()
        return self._weight * own + self._common[k] < self._cut[k]

    def _draw_common_factor(self) -> None:
        """The common factor, drawn at the first decision (its own stream: when does not matter),
        and each type's terms of ``follows``, worked out once a run."""
        rho = self.spec.follow_through_correlation
        shock = special.ndtri(self.model.streams.uniforms("political", WIDTH).span(0, WIDTH))
        self.shock = dict(zip(SUPPORT_TYPES, shock.tolist()))
        self._weight = math.sqrt(1.0 - rho)
        self._common = math.sqrt(rho) * shock
        self._cut = np.array([float(special.ndtri(self.spec.support[t].follow_through)) if t in self.spec.support
                              else math.nan for t in SUPPORT_TYPES])

    def fresh_terms(self, round_: int, at: np.ndarray) -> np.ndarray:
        """The states' fresh political terms in review round ``round_`` (standard normal; round 0: the
        first decision) at positions ``at``: state i's draw for type k at ``(round_ * n + i) * WIDTH + k``."""
        size = len(self.latent)
        return special.ndtri(self._u_follow.span(round_ * size, size)[at])

    def binding_share(self) -> float:
        if self.total_binding <= 0:
            return 0.0
        return math.fsum(self.delivering_binding.values()) / self.total_binding  # exact: the same on every Python

    # the consultation's outcome ----------------------------------------------------------------
    def decide(self, day: float, types: list[str]) -> None:
        """Every state considers each support type of the fired tier; the willing wait their turn."""
        m = self.model
        for t in types:
            # only states still holding a commitment of ``t`` can move, unless ``t`` was decided before
            considered = (self.coalition if t in self.decided_types
                          else [st for st in self.coalition if st.status[t] is COMMITTED])
            self.decided_types.append(t)
            asked = [st for st in considered if st.asked(t)]
            if asked:
                k = TYPE_INDEX[t]
                at = np.array([st.index * WIDTH + k for st in asked])
                terms = self.latent[at] = self.fresh_terms(0, at)
                for state, willing in zip(asked, self._follows(terms, k).tolist()):
                    state.settle(t, willing)
            for state in considered:
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
        if self.waiting_for_us or any(self.waiting.values()) or self.declined.any():
            self._review_due = True
            self.model.schedule(day + self.spec.review_days, "review", self._on_review)

    def _after_decision(self, day: float, state: CoalitionState, t: str) -> None:
        status = state.status[t]
        if status is DECIDING:
            self._wait(day, state, t)
        elif status is DECLINED:
            if state.reason_code.get(t) in RECONSIDERED:
                self._may_decide_again(state, t)
            self._seen(state, t, False)
            m = self.model
            if m.recording:
                m.record(Event(day, DECISION, state.reason[t], state=state.name, support=t))

    def _wait(self, day: float, state: CoalitionState, t: str) -> None:
        """A willing state waits for its joining conditions (or for the EU package)."""
        state.wait_since[t] = day
        if state.procedure(t) == "eu_package":
            self.waiting_for_eu.append((state, t))
        else:
            heapq.heappush(self.waiting[t], (state.threshold, state.index, state))

    # decisions that can change ------------------------------------------------------------------
    def _may_decide_again(self, state: CoalitionState, t: str) -> None:
        """The next review asks the state again (rewording a refusal or giving up if it declines)."""
        at = state.index * WIDTH + TYPE_INDEX[t]
        self.declined[at] = True
        if state.reason_code.get(t) is NO_FOLLOW_THROUGH:
            self._refused.discard(at)
        else:
            self._refused.add(at)

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
        asked = self.declined.nonzero()[0]
        if len(asked):
            w = self.spec.reconsider_weight
            terms = math.sqrt(1.0 - w) * self.latent[asked] + math.sqrt(w) * self.fresh_terms(self.rounds, asked)
            self.latent[asked] = terms
            self.round[asked] = self.rounds
            willing = self._follows(terms, asked % WIDTH)
            joining = asked[willing]
            self.declined[joining] = False
            joining = joining.tolist()
            if m.recording:
                again = asked[~willing].tolist()
            else:  # only a refusal or giving up needs rewording: the others declined for this reason already
                again = sorted(self._refused.difference(joining))
            coalition = self.coalition
            for at in again:  # declined again: now for want of follow-through
                coalition[at // WIDTH].settle(SUPPORT_TYPES[at % WIDTH], False)
            self._refused.clear()
            by_type: dict[int, list[int]] = {}
            for at in joining:
                by_type.setdefault(at % WIDTH, []).append(at // WIDTH)
            for t in self.decided_types:  # in the order the types were decided, then by state
                for i in by_type.get(TYPE_INDEX[t], ()):
                    coalition[i].settle(t, True)
                    self._wait(day, coalition[i], t)
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
        """States waiting since ``since`` or earlier give up; each queue keeps the others in its order."""
        m = self.model
        gave_up = []
        for t, heap in self.waiting.items():
            tired = [entry[2].wait_since.get(t, day) <= since for entry in heap]
            if True in tired:
                gave_up += [(entry[2], t) for entry, out in zip(heap, tired) if out]
                kept = [entry for entry, out in zip(heap, tired) if not out]
                heapq.heapify(kept)
                self.waiting[t] = kept
        tired = [st.wait_since.get(t, day) <= since for st, t in self.waiting_for_us]
        if True in tired:
            gave_up += [entry for entry, out in zip(self.waiting_for_us, tired) if out]
            self.waiting_for_us = [entry for entry, out in zip(self.waiting_for_us, tired) if not out]
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
        waiting = self.waiting
        again = True
        while again:
            again = False
            us_acting = self.us_acting
            if us_acting and self.waiting_for_us:
                for state, t in self.waiting_for_us:
                    heapq.heappush(waiting[t], (state.threshold, state.index, state))
                self.waiting_for_us = []
                changed = None
            if self.eu_package_adopted and self.waiting_for_eu:
                for state, t in self.waiting_for_eu:
                    self._approve(day, state, t)
                self.waiting_for_eu = []
                again = True
                changed = None
            for t in waiting if changed is None else (changed,):
                heap = waiting[t]
                if not heap:
                    continue
                share = self.acting_share(t)
                bar = share + 1e-12
                while heap and heap[0][0] <= bar:
                    state = heapq.heappop(heap)[2]
                    # its threshold is met (the queue's order), so once the US acts it is ready
                    if not us_acting and not state.ready(t, share, us_acting):
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
        if self._watched and stype == "military" and state.binding(stype):
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
