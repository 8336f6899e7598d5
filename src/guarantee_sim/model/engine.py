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

from guarantee_sim.model.agents import CoalitionState, Ukraine, Violator, coalition_streams, joining_thresholds
from guarantee_sim.model.breaches import KINDS, OVERT_DENIABILITY, Breach, BreachKind, BreachPlan
from guarantee_sim.model.commission import Referral, SpecialCommission
from guarantee_sim.model.coordination import CoordinationCell
from guarantee_sim.model.deterrence import RUNG_OF_KIND
from guarantee_sim.model.escalation import war_fire
from guarantee_sim.model.events import Event, EventKind, Reason, events_frame
from guarantee_sim.model.force import MultinationalForce
from guarantee_sim.model.monitoring import MonitoringMechanism
from guarantee_sim.model.outcomes import Stage
from guarantee_sim.model.response import CoalitionResponse
from guarantee_sim.model.screening import CompiledScreening, CountedWhenRead
from guarantee_sim.model.streams import RunStreams
from guarantee_sim.model.triggers import SUPPORT_TYPES, Finding

DECISION_EVENTS = ("trigger", "invoked", "decide", "approval", "eu_package", "delivery")


class GuaranteeModel(mesa.Model):
    """One replication of one scenario.

    Args:
        scenario: a checked ``Scenario``; default: composed from ``overrides`` and the levers.
        overrides: Hydra overrides such as ``["breach=hybrid"]``, or a mapping of keys to values.
        coalition, commitments, breach, trigger, monitoring, experiment, horizon, levers: Mesa-style
            keyword levers (presets by name, the horizon, ``levers`` a mapping of dotted keys), so
            that ``mesa.batch_run(GuaranteeModel, parameters={"breach": [...]}, ...)`` sweeps them.
        seed / rng: the run's seed (``rng`` as Mesa's tools pass it: an int, a numpy Generator or
            SeedSequence); ``self.seed`` is the integer used, drawn afresh when neither is given.
        collect: keep a Mesa DataCollector updated on each ``step()``; ``step()`` advances one day, or
            more under ``mesa.batch_run`` when its ``max_steps`` would stop short of the horizon.
        record: keep the run's event record (``self.event_log``; ``self.events`` as a table).
        compiled: screen every planned incident at day 0 in one vectorised pass and feed only
            the attributed findings to the trigger (default: whenever the breach pattern is not
            adaptive and no event record is kept). Same stream positions, same outcomes as the
            incident-by-incident path; a test holds the two equal.
    """

    n_findings = CountedWhenRead()  # a compiled run's count of findings is worked out when read

    def __init__(
        self,
        scenario=None,
        overrides: tuple[str, ...] | list[str] | None = None,
        seed: int | None = None,
        rng: int | None = None,
        collect: bool = True,
        record: bool = False,
        compiled: bool | None = None,
        *, coalition: str | None = None, commitments: str | None = None, breach: str | None = None,
        trigger: str | None = None, monitoring: str | None = None, experiment: str | None = None,
        horizon: float | None = None, levers: dict | None = None,
    ):
        from guarantee_sim.scenario.compose import batch_run_day_step, model_inputs

        named = dict(coalition=coalition, commitments=commitments, breach=breach, trigger=trigger,
                     monitoring=monitoring, experiment=experiment, horizon=horizon)
        scenario, seed = model_inputs(scenario, overrides, {**(levers or {}), **named}, seed, rng)
        super().__init__(rng=seed)
        self.day_step = batch_run_day_step(scenario.horizon)
        self.spec = s = scenario  # not "scenario": mesa 3.5 owns Model.scenario
        self.seed = seed
        self.streams = RunStreams(seed)
        self.horizon = s.horizon
        self.day = 0.0
        self.recording = record
        self.event_log: list[Event] = []
        self._queue: list = []
        self._seq = count()
        self._pending_decisions = 0

        thresholds = joining_thresholds(s, self.streams)
        streams, status = coalition_streams(self.streams, len(s.states)), s.initial_status
        self.coalition = [CoalitionState(self, p, i, float(thresholds[i]), streams, status[i]) for i, p in enumerate(s.states)]
        self.ukraine = Ukraine(self)
        self.force = MultinationalForce(s, self.streams)
        pattern = s.breach_pattern(s.breach_params, s.horizon, self.streams.rng("breaches"), self.force.hazard_multiplier)
        self.violator = Violator(self, pattern)
        self.compiled = (not record and not pattern.adaptive) if compiled is None else compiled
        if self.compiled and pattern.adaptive:
            raise ValueError("an adaptive breach pattern reacts to each finding: it cannot run compiled")
        self.screening: CompiledScreening | None = None
        self.monitoring = MonitoringMechanism(s, self.streams, pattern.coverage)
        members = [a.name for a in self.coalition if a.profile.commission_seat]
        self.commission = SpecialCommission(s, self.streams, members)
        self.coordination = CoordinationCell(s, self.streams)
        self.tiers = [tier.rule.fresh() for tier in s.tiers]
        self.response = CoalitionResponse(self)
        if self.violator.strategic:
            pattern.read_design(self)

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
        self.trigger_day: dict[str, float] = {}
        self.trigger_false_alarm: dict[int, bool] = {}
        self.tier_fired = [False] * len(self.tiers)
        self.war: range | None = None  # the war's incidents (their indices), once an armed attack began it
        self._overt_fed: set[int] = set()  # overt attacks the trigger saw when referred (overt-attack path)
        self._screened: dict[int, tuple] = {}  # incident -> what the commission will find, screened in bulk

        self._plan()
        self.datacollector = None
        if collect:
            self.datacollector = mesa.DataCollector(
                model_reporters={
                    "seed": "seed",  # the seed used (mesa.batch_run's own column may say None)
                    "day": "day",
                    "activated": lambda m: not math.isnan(m.activation_day),
                    "breaches": "n_breaches",
                    "detected": "n_detected",
                    "attributed": "n_attributed",
                    "states_acting": lambda m: sum(a.acting for a in m.coalition),
                    "binding_share": lambda m: m.response.binding_share(),
                    "activation_day": "activation_day",
                    "stage": lambda m: m.stage().value,
                }
            )  # collected after each step, so the last record is the state at the horizon

    @property
    def activation_day(self) -> float:
        return self.response.activation_day

    @property
    def events(self):
        """The event record as a DataFrame (one row per event; columns: ``events.COLUMNS``)."""
        return events_frame(self.event_log)

    def record(self, event: Event) -> None:
        """Keep one event (callers check ``self.recording`` first, so batch runs build none)."""
        self.event_log.append(event)

    # scheduling -----------------------------------------------------------------------------
    def schedule(self, day: float, kind: str, handler: Callable, *args: Any) -> None:
        if kind in DECISION_EVENTS:
            self._pending_decisions += 1
        heapq.heappush(self._queue, (day, next(self._seq), kind, handler, args))

    def _advance(self, until: float) -> None:
        q, screening = self._queue, self.screening
        while True:
            next_event = q[0][0] if q else math.inf
            next_finding = screening.next_day() if screening is not None else math.inf
            if min(next_event, next_finding) > until:
                break
            if next_finding <= next_event:
                self._feed_trigger(*screening.pop())
                if all(self.tier_fired):
                    screening.stop()
                continue
            day, _, kind, handler, args = heapq.heappop(q)
            if kind in DECISION_EVENTS:
                self._pending_decisions -= 1
            handler(day, *args)
        if screening is not None:
            screening.sync(self, until)

    def step(self) -> None:
        """Advance one day (interactive use and ``mesa.batch_run``)."""
        if not self.running:
            return
        self.day = min(self.day + self.day_step, self.horizon)
        self._advance(self.day)
        if self.day >= self.horizon:
            self._end()
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def run(self) -> dict:
        """Run to the horizon, event to event, and return the outcome row."""
        self._advance(self.horizon)
        self.day = self.horizon
        self._end()
        return self.outcome()

    def _end(self) -> None:
        self.running = False
        if self.recording:
            self.record(Event(self.horizon, EventKind.HORIZON, count=self._pending_decisions))

    # breaches and the monitoring -------------------------------------------------------------
    def _plan(self) -> None:
        plan = self.violator.plan().sorted()
        targets = self.force.targeted(plan)
        self._next_index = len(plan)
        if self.compiled:
            self.screening = CompiledScreening(self, plan, targets)
            return
        if self.violator.strategic:
            self._next_decision(0.0)
        planned = list(plan)
        for b, hit in zip(planned, targets.tolist()):
            b.targets_force = hit
        if self.violator.pattern.adaptive:
            observations = [None] * len(planned)
        else:
            seen, observations = self._observe(plan, 0)
            self._screen(plan, np.arange(len(plan)), seen)
        for b, obs in zip(planned, observations):
            self.schedule(b.day, "breach", self._on_breach, b, obs)
        alarms = self.monitoring.false_alarms(self.horizon)
        inv, conclusive, attributed = self.commission.investigate_false_alarms(len(alarms))
        for fa, t, c, a in zip(alarms, inv.tolist(), conclusive.tolist(), attributed.tolist()):
            ref = Referral(fa.report_day, fa, True, True, fa.index, t, c, a)
            self.schedule(fa.report_day, "referral", self._on_referral, ref)

    def _observe(self, plan: BreachPlan, first: int) -> tuple[np.ndarray, list[tuple[bool, int, float]]]:
        """The monitoring's look at a plan's incidents, numbered from ``first``, straight from its
        arrays: whether each was seen (for ``_screen``), and per incident (detected, violations
        detected, report day) for ``_on_breach``."""
        seen, n_seen, report_days = self.monitoring.observe_arrays(plan, np.arange(first, first + len(plan)))
        return seen, list(zip(seen.tolist(), n_seen.tolist(), report_days.tolist()))

    def _screen(self, plan: BreachPlan, index: np.ndarray, seen: np.ndarray) -> None:
        """What the commission would find on each incident if referred, worked out in bulk (each
        incident reads its own stream positions, so the findings are those of one at a time)."""
        found = self.commission.investigate(index, plan.severity, plan.deniability, plan.count, plan.mutual, seen)
        self._screened.update(zip(index.tolist(), zip(*(a.tolist() for a in found))))

    def overt(self, kind: np.ndarray, deniability: np.ndarray) -> np.ndarray:
        """Which incidents (kinds as positions in ``KINDS``) are overt armed attacks the design lets
        Ukraine and the coalition act on before the commission's finding."""
        if not self.spec.overt_attack_path:
            return np.zeros(len(kind), bool)
        return (kind == KINDS.index(BreachKind.ARMED_ATTACK)) & (deniability < OVERT_DENIABILITY)

    def _start_war(self, attack: Breach) -> None:
        """The first armed attack begins the war: daily fire at war intensity to the horizon (its own
        stream; its incidents are numbered after every incident known so far)."""
        s = self.spec
        war = war_fire(attack.day, self.horizon, self.streams.rng("war"), s.war_daily_violations, s.war_days, s.war_period)
        first = self._next_index
        self.war = range(first, first + len(war))
        self._next_index += len(war)
        planned = list(war)
        for b, i, hit in zip(planned, self.war, self.force.targeted(war, offset=first).tolist()):
            b.index, b.targets_force = i, hit
        seen, observations = self._observe(war, first)
        self._screen(war, np.arange(first, first + len(war)), seen)
        for b, obs in zip(planned, observations):
            self.schedule(b.day, "breach", self._on_breach, b, obs)

    def _next_decision(self, after: float) -> None:
        day = self.violator.pattern.next_decision(after)
        if day is not None:
            self.schedule(day, "violator", self._on_violator_decides)

    def _on_violator_decides(self, day: float) -> None:
        """The strategic violator weighs the ladder; what it chooses happens now."""
        pattern = self.violator.pattern
        breach = pattern.decide(day)
        if self.recording:
            self.record(Event(day, EventKind.CHOICE, count=pattern.rung, share=pattern.belief,
                              due=pattern.investigation))
        if breach is not None:
            breach.index = self._next_index
            self._next_index += 1
            breach.targets_force = self.force.is_targeted(breach)
            self._on_breach(day, breach, None)
        self._next_decision(day)

    def _on_breach(self, day: float, breach: Breach, obs: tuple[bool, int, float] | None) -> None:
        """An incident happens (or is called off); ``obs``: what the monitoring saw of it, planned with
        it (``_observe``), or None to look now (an incident the violator chose on the way)."""
        happens, nxt = self.violator.act(breach)
        if nxt is not None:
            nxt.index = self._next_index
            self._next_index += 1
            nxt.targets_force = self.force.is_targeted(nxt)
            self.schedule(nxt.day, "breach", self._on_breach, nxt, None)
        if not happens:
            return
        if obs is None:
            o = self.monitoring.observe([breach])[0]
            obs = o.detected, o.n_detected, o.report_day
        detected, n_detected, report_day = obs
        self.n_breaches += breach.count
        self.n_incidents += 1
        self.breaches_by_kind[breach.kind] += breach.count
        self.ukraine.suffer(breach)
        incident = None
        if self.recording:
            war = self.war is not None and breach.index in self.war
            incident = {"incident": breach.index, "breach": breach.kind.key, "count": breach.count,
                        "targets_force": breach.targets_force}
            self.record(Event(day, EventKind.BREACH, Reason.WAR if war else None, severity=breach.severity, **incident))
        if breach.kind is BreachKind.ARMED_ATTACK and self.war is None:
            self._start_war(breach)
        referral_day = math.inf
        if detected:
            self.n_detected += n_detected
            referral_day = report_day
            if self.recording:
                self.record(Event(day, EventKind.DETECTION, Reason.SEEN, seen=n_detected, due=report_day, **incident))
        ua_day = self.ukraine.report_day(breach)
        if ua_day is not None:
            self.n_reported_by_ukraine += breach.count
            referral_day = min(referral_day, ua_day)
            if not detected and self.recording:
                self.record(Event(day, EventKind.DETECTION, Reason.UKRAINE_REPORT, seen=0, due=ua_day, **incident))
        if referral_day < math.inf:
            found = self._screened.get(breach.index)
            if found is None:  # an incident planned on the way (adaptive and strategic violators)
                found = self.commission.investigate_one(breach.index, breach, bool(detected))
            ref = Referral(referral_day, breach, False, bool(detected), breach.index, *found)
            self.schedule(referral_day, "referral", self._on_referral, ref)
        elif not detected and self.recording:
            self.record(Event(day, EventKind.DETECTION, Reason.UNREPORTED, seen=0, **incident))

    # the special commission ----------------------------------------------------------------
    def _on_referral(self, day: float, ref: Referral) -> None:
        if ref.false_alarm:
            self.n_false_alarms += 1
        else:
            self.n_referred_real += 1
        if self.recording:
            b = ref.breach
            self.record(Event(day, EventKind.REFERRAL, incident=ref.index, breach=b.kind.key, breach_day=b.day,
                              false_alarm=ref.false_alarm, monitoring_evidence=ref.monitoring_evidence))
        self.schedule(day + ref.investigation, "finding", self._on_finding, ref)
        b = ref.breach
        if (self.spec.overt_attack_path and not ref.false_alarm and b.kind is BreachKind.ARMED_ATTACK
                and b.deniability < OVERT_DENIABILITY):  # as ``overt``
            # the overt-attack path: Ukraine invokes and the coalition consults on what all can see
            self._overt_fed.add(ref.index)
            self._feed_trigger(day, Finding(day, b.day, b.kind, b.trigger_severity, True, False, b.targets_force, b,
                                            overt=True))

    def _on_finding(self, day: float, ref: Referral) -> None:
        conclusive, attributed = ref.conclusive, ref.attributed
        self.n_findings += 1
        b = ref.breach
        real = None if ref.false_alarm else b
        war = real is not None and self.war is not None and ref.index in self.war
        if not war:  # a violator at war no longer probes the coalition's answers
            self.violator.learn_finding(real, attributed, day)
        severity = b.severity if ref.false_alarm else b.trigger_severity
        if self.recording:
            why = None if attributed else (Reason.BOTH_SIDES if ref.both_sides else
                                           Reason.INCONCLUSIVE if not conclusive else Reason.MEMBERS_SPLIT)
            self.record(Event(day, EventKind.FINDING, why, incident=ref.index, breach=b.kind.key, breach_day=b.day,
                              severity=severity, false_alarm=ref.false_alarm, conclusive=bool(conclusive),
                              attributed=bool(attributed)))
        if not attributed:
            return
        self.n_attributed += 1
        if ref.index in self._overt_fed and not ref.false_alarm:
            return  # the trigger has seen this attack already
        finding = Finding(day, b.day, b.kind, severity, True, ref.false_alarm, getattr(b, "targets_force", False), real)
        self._feed_trigger(day, finding)

    def _feed_trigger(self, day: float, finding: Finding) -> None:
        """An attributed finding reaches every tier's rule that has not fired yet; a new armed
        attack makes the states that declined decide again."""
        if finding.kind is BreachKind.ARMED_ATTACK and not finding.false_alarm:
            self.response.reconsider(day)
        for i, rule in enumerate(self.tiers):
            if not self.tier_fired[i] and rule.observe(finding):
                self.tier_fired[i] = True
                self.trigger_false_alarm[i] = finding.false_alarm
                for t in self.spec.tiers[i].types:
                    self.trigger_day[t] = day
                if self.recording:
                    self.record(Event(day, EventKind.TRIGGER, Reason.OVERT_ATTACK if finding.overt else None, tier=i,
                                      false_alarm=finding.false_alarm))
                self.schedule(day, "trigger", self._on_trigger, i)

    # from trigger to decisions ----------------------------------------------------------------
    def _on_trigger(self, day: float, tier: int) -> None:
        if self.spec.require_invocation:
            self.schedule(day + self.ukraine.invocation_delay(tier), "invoked", self._on_invoked, tier)
        else:
            self._on_invoked(day, tier, invoked=False)

    def _on_invoked(self, day: float, tier: int, invoked: bool = True) -> None:
        if invoked and self.recording:
            self.record(Event(day, EventKind.INVOCATION, tier=tier))
        if self.spec.require_consultation:
            self.schedule(day + self.coordination.consultation_delay(tier), "decide", self._on_decide, tier)
        else:
            self._on_decide(day, tier, consulted=False)

    def _on_decide(self, day: float, tier: int, consulted: bool = True) -> None:
        if consulted and self.recording:
            self.record(Event(day, EventKind.CONSULTATION, tier=tier))
        self.response.decide(day, [t for t in self.spec.tiers[tier].types if self.response.committed[t] > 0])

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
        if not math.isnan(self.response.activation_day):
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
        r = self.response
        activated = not math.isnan(r.activation_day)
        offensive = self.ukraine.offensive_day
        committed_total = math.fsum(r.committed.values())  # exact: the same on every Python
        row = {
            "seed": self.seed,
            "activated": activated,
            "activation_day": r.activation_day,
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
            row[f"activation_day_{t}"] = r.activation_day_type.get(t, nan)
        for t in SUPPORT_TYPES:
            row[f"trigger_day_{t}"] = self.trigger_day.get(t, nan)
        row.update(
            states_activated=r.n_states_delivering,
            capacity_share=math.fsum(r.delivering_capacity.values()) / committed_total if committed_total else 0.0,
            support_in_time=(None if offensive is None
                             else bool(r.military_needed_day <= offensive + self.ukraine.holding_time)),
            military_support_day=r.military_needed_day,
            military_delivered=r.military_delivered(),
            false_activation=bool(activated and any(self.trigger_false_alarm.values())),
            deterred=bool(self.violator.pattern.deterred),
            max_escalation=max((RUNG_OF_KIND[k] for k, n in self.breaches_by_kind.items() if n), default=0),
            resolve_belief=self.violator.resolve_belief,
            offensive_day=nan if offensive is None else offensive,
            holding_time=nan if self.ukraine.holding_time is None else self.ukraine.holding_time,
            force_deployed=self.force.deployed,
        )
        return row
