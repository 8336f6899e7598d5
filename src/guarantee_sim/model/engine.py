"""GuaranteeModel: how post-ceasefire security guarantees for Ukraine activate, or fail to.

Built on the Coalition of the Willing's Paris statement of 6 January 2026: political and legal
guarantees that come into force after a ceasefire, a US-led monitoring and verification
mechanism, a special commission that investigates breaches, national legal procedures, a
multinational force, a coordination cell in Paris, and binding commitments to military,
intelligence, logistical, diplomatic and economic support if armed conflict resumes.
Defaults and their sources: docs/parameters.md; the model in ODD form: docs/model.md.
Exploratory, not predictive.

Time is continuous (days since the ceasefire, day 0) and event-driven: a quiet day costs
nothing. ``run()`` jumps from event to event; ``step()`` advances one day for Mesa tools and
interactive use. Both process the same events in the same order, so they give the same outcome.
"""

from __future__ import annotations

import heapq
import math
from itertools import count
from typing import Any, Callable

import mesa
import numpy as np

from guarantee_sim.model.agents import CoalitionState, SupportStatus, Ukraine, Violator, coalition_streams, joining_thresholds
from guarantee_sim.model.breaches import KINDS, Breach, BreachKind, BreachPlan
from guarantee_sim.model.commission import Referral, SpecialCommission
from guarantee_sim.model.coordination import CoordinationCell
from guarantee_sim.model.force import MultinationalForce
from guarantee_sim.model.monitoring import MonitoringMechanism
from guarantee_sim.model.outcomes import Stage
from guarantee_sim.model.streams import RunStreams
from guarantee_sim.model.triggers import SUPPORT_TYPES, Finding

DECISION_EVENTS = ("trigger", "invoked", "decide", "approval", "eu_package", "delivery")

# plain-language names of the breach kinds, for the narrated story only
PLAIN_KIND = {
    BreachKind.SMALL_ARMS: "small-arms fire",
    BreachKind.ARTILLERY: "artillery fire",
    BreachKind.DRONE_MISSILE: "drone or missile strike",
    BreachKind.HYBRID: "sabotage or cyber attack",
    BreachKind.GROUND_INCURSION: "ground incursion",
    BreachKind.ARMED_ATTACK: "armed attack (major offensive)",
}


def plain(text: str) -> str:
    """``notify_parliament`` -> ``notify parliament`` (story text only)."""
    return text.replace("_", " ")


class GuaranteeModel(mesa.Model):
    """One replication of one scenario.

    Args:
        scenario: a checked ``Scenario``; default: composed from ``overrides``.
        overrides: Hydra overrides such as ``["breach=hybrid"]`` (used when no scenario is given).
        seed / rng: the run's integer seed (``rng`` is accepted for Mesa's tools).
        collect: keep a Mesa DataCollector updated on each ``step()``.
        narrate: keep a plain-language log of the run (``self.story``).
        compiled: screen every planned incident at day 0 in one vectorised pass and feed only
            the attributed findings to the trigger (default: whenever the breach pattern is not
            adaptive and the run is not narrated). Same stream positions, same outcomes as the
            incident-by-incident path; a test holds the two equal.
    """

    def __init__(
        self,
        scenario=None,
        overrides: tuple[str, ...] | list[str] | None = None,
        seed: int | None = None,
        rng: int | None = None,
        collect: bool = True,
        narrate: bool = False,
        compiled: bool | None = None,
    ):
        if seed is None:
            seed = rng if isinstance(rng, (int, np.integer)) else int(np.random.SeedSequence().entropy % 2**63)
        seed = int(seed)
        super().__init__(rng=seed)
        if scenario is None:
            from guarantee_sim.scenario.compose import load_scenario

            scenario = load_scenario(tuple(overrides or ()))
        self.spec = s = scenario  # not "scenario": mesa 3.5 owns Model.scenario
        self.seed = seed
        self.streams = RunStreams(seed)
        self.horizon = s.horizon
        self.day = 0.0
        self.narrate = narrate
        self.story: list[tuple[float, str, str]] = []
        self._queue: list = []
        self._seq = count()
        self._pending_decisions = 0

        thresholds = joining_thresholds(s, self.streams)
        streams, status = coalition_streams(self.streams), s.initial_status
        self.coalition = [CoalitionState(self, p, i, float(thresholds[i]), streams, status[i]) for i, p in enumerate(s.states)]
        self.us = next((a for a in self.coalition if a.profile.is_us), None)
        self.us_acting = False  # has the United States approved any support yet?
        self.ukraine = Ukraine(self)
        self.force = MultinationalForce(s, self.streams)
        pattern = s.breach_pattern(s.breach_params, s.horizon, self.streams.rng("breaches"), self.force.hazard_multiplier)
        self.violator = Violator(self, pattern)
        self.compiled = (not narrate and not pattern.adaptive) if compiled is None else compiled
        if self.compiled and pattern.adaptive:
            raise ValueError("an adaptive breach pattern reacts to each finding: it cannot run compiled")
        self._feed: list | None = None  # compiled runs: attributed findings in time order
        self._feed_pos = 0
        self.monitoring = MonitoringMechanism(s, self.streams, pattern.coverage)
        members = [a.name for a in self.coalition if a.profile.commission_seat]
        self.commission = SpecialCommission(s, self.streams, members)
        self.coordination = CoordinationCell(s, self.streams)
        self.tiers = [tier.rule.fresh() for tier in s.tiers]

        # capacity bookkeeping per support type
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

        # outcomes
        self.n_breaches = 0
        self.n_incidents = 0
        self.breaches_by_kind = dict.fromkeys(BreachKind, 0)
        self.n_detected = 0
        self.n_reported_by_ukraine = 0
        self.n_referred_real = 0
        self.n_findings = 0
        self.n_attributed = 0
        self.n_false_alarms = 0
        self.n_states_delivering = 0
        self.trigger_day: dict[str, float] = {}
        self.trigger_false_alarm: dict[int, bool] = {}
        self.activation_day_type: dict[str, float] = {}
        self.activation_day: float = math.nan
        self.tier_fired = [False] * len(self.tiers)

        self._plan()
        self.datacollector = None
        if collect:
            self.datacollector = mesa.DataCollector(
                model_reporters={
                    "day": "day",
                    "breaches": "n_breaches",
                    "detected": "n_detected",
                    "attributed": "n_attributed",
                    "states_acting": lambda m: sum(a.acting for a in m.coalition),
                    "binding_share": lambda m: m.binding_share(),
                    "activation_day": "activation_day",
                    "stage": lambda m: m.stage().value,
                }
            )  # collected after each step, so the last record is the state at the horizon

    # scheduling -----------------------------------------------------------------------------
    def _at(self, day: float, kind: str, handler: Callable, *args: Any) -> None:
        if kind in DECISION_EVENTS:
            self._pending_decisions += 1
        heapq.heappush(self._queue, (day, next(self._seq), kind, handler, args))

    def _advance(self, until: float) -> None:
        q, feed = self._queue, self._feed
        while True:
            next_event = q[0][0] if q else math.inf
            next_finding = feed[self._feed_pos][0] if feed and self._feed_pos < len(feed) else math.inf
            if min(next_event, next_finding) > until:
                break
            if next_finding <= next_event:
                self._consume_finding()
                continue
            day, _, kind, handler, args = heapq.heappop(q)
            if kind in DECISION_EVENTS:
                self._pending_decisions -= 1
            handler(day, *args)
        if self.compiled:
            self._sync_counts(until)

    def step(self) -> None:
        """Advance one day (interactive use and ``mesa.batch_run``)."""
        if not self.running:
            return
        self.day = min(self.day + 1.0, self.horizon)
        self._advance(self.day)
        if self.day >= self.horizon:
            self.running = False
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def run(self) -> dict:
        """Run to the horizon, event to event, and return the outcome row."""
        self._advance(self.horizon)
        self.day = self.horizon
        self.running = False
        return self.outcome()

    def note(self, day: float, kind: str, text: str) -> None:
        if self.narrate:
            self.story.append((day, kind, text))

    # breaches and the monitoring -------------------------------------------------------------
    def _plan(self) -> None:
        plan = self.violator.plan().sorted()
        targets = self.force.targeted(plan)
        self._next_index = len(plan)
        if self.compiled:
            self._compile(plan, targets)
            return
        planned = list(plan)
        for b, hit in zip(planned, targets.tolist()):
            b.targets_force = hit
        adaptive = self.violator.pattern.adaptive
        observations = [None] * len(planned) if adaptive else self.monitoring.observe(planned)
        for b, obs in zip(planned, observations):
            self._at(b.day, "breach", self._on_breach, b, obs)
        for fa in self.monitoring.false_alarms(self.horizon):
            ref = Referral(fa.report_day, fa, True, True, fa.index)
            self._at(fa.report_day, "referral", self._on_referral, ref)

    def _on_breach(self, day: float, breach: Breach, obs) -> None:
        happens, nxt = self.violator.act(breach)
        if nxt is not None:
            nxt.index = self._next_index
            self._next_index += 1
            nxt.targets_force = self.force.is_targeted(nxt)
            self._at(nxt.day, "breach", self._on_breach, nxt, None)
        if not happens:
            return
        if obs is None:
            obs = self.monitoring.observe([breach])[0]
        self.n_breaches += breach.count
        self.n_incidents += 1
        self.breaches_by_kind[breach.kind] += breach.count
        self.ukraine.suffer(breach)
        what = PLAIN_KIND[breach.kind] + (f" ({breach.count} violations)" if breach.count > 1 else "")
        if breach.targets_force:
            what += " hitting the multinational force"
        self.note(day, "breach", f"breach: {what}, severity {breach.severity:.1f}")
        referral_day = math.inf
        if obs.detected:
            self.n_detected += obs.n_detected
            referral_day = obs.report_day
            seen = f" ({obs.n_detected} of {breach.count} seen)" if breach.count > 1 else ""
            self.note(day, "detection", f"{what} detected by the monitoring mechanism{seen}; report due day {obs.report_day:.1f}")
        ua_day = self.ukraine.report_day(breach)
        if ua_day is not None:
            self.n_reported_by_ukraine += breach.count
            referral_day = min(referral_day, ua_day)
            if not obs.detected:
                self.note(day, "detection", f"{what} missed by the monitoring mechanism; Ukraine reports it on day {ua_day:.1f}")
        if referral_day < math.inf:
            self._at(referral_day, "referral", self._on_referral, Referral(referral_day, breach, False, obs.detected, breach.index))
        elif not obs.detected:
            self.note(day, "detection", f"{what} goes unreported: missed by the monitoring mechanism, not reported by Ukraine")

    # the compiled pipeline (non-adaptive patterns) ----------------------------------------------
    def _compile(self, plan: BreachPlan, targets: np.ndarray) -> None:
        """Screen every planned incident and false alarm at once; keep what the run needs by day.

        Each incident reads the same stream positions as on the incident-by-incident path, so
        detection, reports, investigations and findings are the same numbers.
        """
        n = len(plan)
        days, counts = plan.day, plan.count
        detected, n_detected, report_day = self.monitoring.observe_arrays(plan)
        ua_day = self.ukraine.report_days(days, n)
        referral = np.minimum(np.where(detected, report_day, np.inf), ua_day)
        referred = np.flatnonzero(np.isfinite(referral))
        evidence = self.commission.evidence_probabilities(plan.deniability[referred], detected[referred])
        inv, _, attributed = self.commission.investigate_all(False, referred, evidence)
        finding_day = referral[referred] + inv

        alarms = self.monitoring.false_alarms(self.horizon)
        fa_report = np.array([fa.report_day for fa in alarms])
        fa_evidence = np.full(len(alarms), self.commission.base_attribution * self.spec.false_alarm_attribution)
        fa_inv, _, fa_attributed = self.commission.investigate_all(True, np.arange(len(alarms)), fa_evidence)
        fa_finding_day = fa_report + fa_inv if len(alarms) else np.empty(0)

        # what the counters count, by the day it happens; summed up to a day by _sync_counts
        self._tally = {
            "days": days, "counts": counts, "kind": plan.kind,
            "detected": np.where(detected, n_detected, 0), "ukraine": np.isfinite(ua_day),
            "referred": referral[referred], "false_alarms": fa_report,
            "findings": np.concatenate([finding_day, fa_finding_day]),
            "attributed": np.concatenate([finding_day[attributed], fa_finding_day[fa_attributed]]),
        }

        # Ukraine's holding time at the first armed attack, from the damage of earlier incidents
        attacks = np.flatnonzero(plan.kind == KINDS.index(BreachKind.ARMED_ATTACK))
        self._offensive = None
        if len(attacks):
            first = int(attacks[0])
            s = self.spec
            before = plan.severity[:first]
            damage = s.damage_per_severity * sum(before[before >= s.damage_min_severity].tolist())
            capacity = max(0.0, s.initial_capacity + s.support_growth * days[first] - damage)
            self._offensive = (float(days[first]), s.holding_days * capacity)

        # the attributed findings some trigger rule could use, in the order the incident-by-incident
        # path would see them (a finding no rule cares about changes no rule: leaving it out is exact)
        def useful(kinds, severity, force) -> np.ndarray:
            return np.logical_or.reduce([rule.cares(kinds, severity, force) for rule in self.tiers])

        real = referred[attributed]
        keep = useful(plan.keys()[real], plan.severity[real], targets[real])
        fa_hit = np.flatnonzero(fa_attributed)
        fa_keep = np.zeros(0, bool)
        if len(fa_hit):
            fa_keep = useful(np.array([alarms[j].kind.key for j in fa_hit], dtype=object),
                             np.array([alarms[j].severity for j in fa_hit]), np.zeros(len(fa_hit), bool))
        day = np.concatenate([finding_day[attributed][keep], fa_finding_day[fa_hit[fa_keep]] if len(fa_hit) else []])
        source = np.repeat([0, 1], [int(keep.sum()), int(fa_keep.sum())])  # 1: a false alarm
        index = np.concatenate([real[keep], fa_hit[fa_keep]]).astype(np.int64)
        order = np.lexsort((index, source, day))
        self._feed = list(zip(day[order].tolist(), source[order].tolist(), index[order].tolist()))
        self._planned, self._targets, self._alarms = plan, targets, alarms

    def _consume_finding(self) -> None:
        day, is_false_alarm, i = self._feed[self._feed_pos]
        self._feed_pos += 1
        if is_false_alarm:
            b, real, hit = self._alarms[i], None, False
        else:
            b = real = self._planned.breach(i)
            hit = b.targets_force = bool(self._targets[i])
        self._feed_trigger(day, Finding(day, b.day, b.kind, b.severity, True, bool(is_false_alarm), hit, real))
        if all(self.tier_fired):
            self._feed_pos = len(self._feed)  # later findings change no outcome; counts come from _tally

    def _sync_counts(self, day: float) -> None:
        """Set the counters to their values at ``day`` (compiled runs keep no per-incident events)."""
        t = self._tally
        happened = t["days"] <= day
        counts = t["counts"][happened]
        self.n_incidents = int(np.count_nonzero(happened))
        self.n_breaches = int(counts.sum())
        self.n_detected = int(t["detected"][happened].sum())
        self.n_reported_by_ukraine = int(counts[t["ukraine"][happened]].sum())
        self.n_referred_real = int(np.count_nonzero(t["referred"] <= day))
        self.n_false_alarms = int(np.count_nonzero(t["false_alarms"] <= day))
        self.n_findings = int(np.count_nonzero(t["findings"] <= day))
        self.n_attributed = int(np.count_nonzero(t["attributed"] <= day))
        by_kind = np.bincount(t["kind"][happened], weights=counts, minlength=len(KINDS))
        for kind, n in zip(KINDS, by_kind.tolist()):
            self.breaches_by_kind[kind] = int(n)
        if self._offensive is not None and self._offensive[0] <= day and self.ukraine.offensive_day is None:
            self.ukraine.offensive_day, self.ukraine.holding_time = self._offensive

    # the special commission ----------------------------------------------------------------
    def _on_referral(self, day: float, ref: Referral) -> None:
        if ref.false_alarm:
            self.n_false_alarms += 1
            self.note(day, "referral", f"false alarm: the monitoring mechanism reports {PLAIN_KIND[ref.breach.kind]} on day "
                      f"{ref.breach.day:.1f} that did not happen; referred to the special commission")
        else:
            self.n_referred_real += 1
            src = "with monitoring evidence" if ref.monitoring_evidence else "on Ukraine's report alone (no monitoring evidence)"
            self.note(day, "referral", f"the day-{ref.breach.day:.1f} {PLAIN_KIND[ref.breach.kind]} referred to the special "
                      f"commission {src}")
        self._at(day + self.commission.investigation_time(ref), "finding", self._on_finding, ref)

    def _on_finding(self, day: float, ref: Referral) -> None:
        conclusive, attributed = self.commission.attribute(ref)
        self.n_findings += 1
        b = ref.breach
        real = None if ref.false_alarm else b
        self.violator.learn_finding(real, attributed, day)
        label = PLAIN_KIND[b.kind]
        if not attributed:
            why = ("the evidence is inconclusive" if not conclusive
                   else f"the evidence is conclusive but the members split ({plain(self.spec.decision_rule.name)} rule)")
            self.note(day, "finding", f"commission cannot attribute the day-{b.day:.1f} {label}: {why}"
                      + (" (it was a false alarm)" if ref.false_alarm else ""))
            return
        self.n_attributed += 1
        self.note(day, "finding", f"commission attributes the day-{b.day:.1f} {label} to the violator"
                  + (" (it was a false alarm)" if ref.false_alarm else "")
                  + ("" if conclusive else " although the evidence is inconclusive"))
        finding = Finding(day, b.day, b.kind, b.severity, True, ref.false_alarm, getattr(b, "targets_force", False), real)
        self._feed_trigger(day, finding)

    def _feed_trigger(self, day: float, finding: Finding) -> None:
        """An attributed finding reaches every tier's rule that has not fired yet."""
        for i, rule in enumerate(self.tiers):
            if not self.tier_fired[i] and rule.observe(finding):
                self.tier_fired[i] = True
                self.trigger_false_alarm[i] = finding.false_alarm
                for t in self.spec.tiers[i].types:
                    self.trigger_day[t] = day
                self.note(day, "trigger", f"trigger fires on {rule.describe()}: the coalition must now decide on "
                          f"{', '.join(self.spec.tiers[i].types)} support")
                self._at(day, "trigger", self._on_trigger, i)

    # from trigger to decisions ----------------------------------------------------------------
    def _on_trigger(self, day: float, tier: int) -> None:
        if self.spec.require_invocation:
            self._at(day + self.ukraine.invocation_delay(tier), "invoked", self._on_invoked, tier)
        else:
            self._on_invoked(day, tier, invoked=False)

    def _on_invoked(self, day: float, tier: int, invoked: bool = True) -> None:
        if invoked:
            self.note(day, "invocation", "Ukraine formally invokes the guarantees")
        if self.spec.require_consultation:
            self._at(day + self.coordination.consultation_delay(tier), "decide", self._on_decide, tier)
        else:
            self._on_decide(day, tier, consulted=False)

    def _on_decide(self, day: float, tier: int, consulted: bool = True) -> None:
        if consulted:
            self.note(day, "consultation", "the coordination cell in Paris completes the consultation round; each state decides")
        types = [t for t in self.spec.tiers[tier].types if self.committed[t] > 0]
        for t in types:
            self.decided_types.append(t)
            for state in self.coalition:
                state.consider(t)
                if state.status[t] is SupportStatus.DECIDING:
                    if state.procedure(t) == "eu_package":
                        self.waiting_for_eu.append((state, t))
                    else:
                        heapq.heappush(self.waiting[t], (state.threshold, state.index, state))
                elif self.narrate and state.status[t] is SupportStatus.DECLINED:
                    self.note(day, "decision", f"{state.name} declines {t} support: {state.reason[t]}")
        s = self.spec
        if "economic" in types and s.eu_sanctions and any(a.profile.eu for a in self.coalition):
            u = self.streams.uniforms("eu_package")
            delay = s.eu_package_delay.from_uniform(u(0))
            if u(1) < s.eu_veto_probability:
                delay += s.eu_veto_delay.from_uniform(u(2))
                self.note(day, "decision", "an EU member outside the coalition holds up the sanctions package")
            self._at(day + delay, "eu_package", self._on_eu_package)
        self._cascade(day)

    def acting_share(self, stype: str) -> float:
        c = self.committed[stype]
        return self.approved_capacity[stype] / c if c > 0 else 0.0

    def binding_share(self) -> float:
        if self.total_binding <= 0:
            return 0.0
        return sum(self.delivering_binding.values()) / self.total_binding

    def _cascade(self, day: float, changed: str | None = None) -> None:
        """Start the approval of every willing state whose conditions now hold.

        States are asked in order of their joining threshold, so only those that could be
        ready are asked at all; an adopted EU package approves its members at once. After a
        cascade no waiting state is ready, so when one approval has only raised ``changed``'s
        acting share, only that type's queue needs asking.
        """
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
                        if self.narrate:
                            self.note(day, "decision", f"{state.name} is willing to give {t} support but waits for the "
                                      "United States to act")
                        continue
                    delay, ok = state.approval(t)
                    if self.narrate:
                        why = (f"threshold {state.threshold:.0%} met: {share:.0%} of the coalition's {t} capacity acts"
                               if state.threshold > 0 else "acts first: threshold 0%")
                        if state.profile.us_conditional and self.spec.honour_us_conditionality and not state.profile.is_us:
                            why += "; the United States is acting"
                        self.note(day, "decision", f"{state.name} starts its {plain(state.procedure(t))} procedure for {t} "
                                  f"support ({why}); decision due day {day + delay:.1f}")
                    self._together("approval", day + delay, t, (state, ok), self._on_approvals)

    def _together(self, kind: str, day: float, stype: str, item, handler: Callable) -> None:
        """Approvals (deliveries) of one support type that fall due on the same day are one event.

        With fixed procedure delays whole groups of states decide on the same day; handling
        them together (one cascade, one activation check) gives the same days and outcomes as
        one event per state, at a fraction of the cost.
        """
        batch = self._batches.get((kind, day, stype))
        if batch is None:
            batch = self._batches[kind, day, stype] = []
            self._at(day, kind, handler, stype, batch)
        batch.append(item)

    def _on_approvals(self, day: float, stype: str, batch: list) -> None:
        del self._batches["approval", day, stype]
        approved = False
        for state, ok in batch:
            if ok:
                self._approve(day, state, stype)
                approved = True
                continue
            state.decline(stype, f"{state.procedure(stype).replace('_', ' ')} approval refused")
            self.note(day, "decision", f"{state.name}: {plain(state.procedure(stype))} approval of {stype} support refused")
        if approved:
            self._cascade(day, stype)

    def _approve(self, day: float, state: CoalitionState, stype: str) -> None:
        state.approve(stype, day)
        if state is self.us:
            self.us_acting = True
        self.approved_capacity[stype] += state.profile.capacity[stype]
        if self.narrate:
            self.note(day, "approval", f"{state.name} approves {stype} support ({plain(state.procedure(stype))} procedure)")
        self._together("delivery", day + state.delivery_delay(stype), stype, state, self._on_deliveries)

    def _on_eu_package(self, day: float) -> None:
        self.eu_package_adopted = True
        self.note(day, "approval", "the EU adopts the sanctions package: its members' economic support is approved")
        self._cascade(day)

    def _on_deliveries(self, day: float, stype: str, batch: list) -> None:
        del self._batches["delivery", day, stype]
        for state in batch:
            if not state.delivery_day:
                self.n_states_delivering += 1
            state.deliver(stype, day)
            cap = state.profile.capacity[stype]
            self.delivering_capacity[stype] += cap
            if state.binding(stype):
                self.delivering_binding[stype] += cap
            if self.narrate:
                self.note(day, "delivery", f"{state.name} begins delivering {stype} support")
        s = self.spec
        cb = self.committed_binding[stype]
        if stype not in self.activation_day_type and cb > 0 and self.delivering_binding[stype] >= s.activation_share * cb - 1e-9:
            self.activation_day_type[stype] = day
            self.note(day, "activation", f"binding {stype} support activated")
        if math.isnan(self.activation_day) and self.total_binding > 0 and self.binding_share() >= s.activation_share - 1e-9:
            self.activation_day = day
            self.note(day, "activation", "binding support activated")
            self.violator.learn_activation(day)

    def scheduled(self) -> list[tuple[float, str, tuple]]:
        """What is still due, in order: (day, event kind, arguments); approvals are listed one per
        state as ``(state, support type, approved?)`` and deliveries as ``(state, support type)``."""
        out = []
        for day, _, kind, _, args in sorted(self._queue, key=lambda e: (e[0], e[1])):
            if kind == "approval":
                out += [(day, kind, (state, args[0], ok)) for state, ok in args[1]]
            elif kind == "delivery":
                out += [(day, kind, (state, args[0])) for state in args[1]]
            else:
                out.append((day, kind, args))
        return out

    # outcome ------------------------------------------------------------------------------
    def stage(self) -> Stage:
        if not math.isnan(self.activation_day):
            return Stage.ACTIVATED
        if self.trigger_day:
            return Stage.PENDING_AT_HORIZON if self._pending_decisions > 0 else Stage.NOT_APPROVED
        if self.n_attributed:
            return Stage.BELOW_TRIGGER
        if self.n_referred_real:
            return Stage.UNATTRIBUTED
        if self.n_breaches:
            return Stage.UNDETECTED
        return Stage.NO_BREACH

    def outcome(self) -> dict:
        """The run's row (see ``outcomes.COLUMNS``)."""
        nan = math.nan
        activated = not math.isnan(self.activation_day)
        offensive = self.ukraine.offensive_day
        military = self.activation_day_type.get("military", nan)
        committed_total = sum(self.committed.values())
        row = {
            "seed": self.seed,
            "activated": activated,
            "activation_day": self.activation_day,
            "trigger_day": min(self.trigger_day.values(), default=nan),
            "stage": self.stage().value,
            "n_breaches": self.n_breaches,
            "n_incidents": self.n_incidents,
            "n_detected": self.n_detected,
            "n_reported_by_ukraine": self.n_reported_by_ukraine,
            "n_attributed": self.n_attributed,
            "n_false_alarms": self.n_false_alarms,
        }
        for kind in BreachKind:
            row[f"n_breaches_{kind.key}"] = self.breaches_by_kind[kind]
        for t in SUPPORT_TYPES:
            row[f"activation_day_{t}"] = self.activation_day_type.get(t, nan)
        for t in SUPPORT_TYPES:
            row[f"trigger_day_{t}"] = self.trigger_day.get(t, nan)
        row.update(
            states_activated=self.n_states_delivering,
            capacity_share=sum(self.delivering_capacity.values()) / committed_total if committed_total else 0.0,
            support_in_time=(None if offensive is None else bool(military <= offensive + self.ukraine.holding_time)),
            false_activation=bool(activated and any(self.trigger_false_alarm.values())),
            deterred=bool(self.violator.pattern.deterred),
            offensive_day=nan if offensive is None else offensive,
            holding_time=nan if self.ukraine.holding_time is None else self.ukraine.holding_time,
            force_deployed=self.force.deployed,
        )
        return row
