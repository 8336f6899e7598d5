"""Compiled runs: every planned incident and false alarm screened at day 0 in array passes.

For a non-adaptive breach pattern nothing the coalition does changes what the violator does,
so detection, reports, investigations and findings can be computed for the whole plan at
once. Each incident reads the same stream positions as on the event-by-event path, so the
numbers are the same; only the attributed findings that some trigger rule can use are fed to
the engine, in the order the event path would see them (a test holds the two paths equal).
"""

from __future__ import annotations

import numpy as np

from guarantee_sim.model.breaches import KINDS, BreachKind, BreachPlan
from guarantee_sim.model.escalation import war_fire
from guarantee_sim.model.triggers import Finding


class CountedWhenRead:
    """A model's counter that a compiled run may set to a function, called when the counter is
    read: ``n_findings``, which no outcome needs, and which needs the investigation time of every
    finding the commission did not attribute (about 170 a run over the headline study's cells, each
    an inverse gamma function: a few percent of a run's time)."""

    def __set_name__(self, owner, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, model, owner=None):
        if model is None:
            return self
        value = model.__dict__[self.slot]
        if callable(value):
            value = model.__dict__[self.slot] = value()
        return value

    def __set__(self, model, value) -> None:
        model.__dict__[self.slot] = value


class CompiledScreening:
    """The screened plan of one run: the trigger feed, and the counters by the day they happen."""

    def __init__(self, model, plan: BreachPlan, targets: np.ndarray):
        monitoring, commission, ukraine, s = model.monitoring, model.commission, model.ukraine, model.spec
        # the first armed attack, and Ukraine's holding time then, from the damage of earlier incidents;
        # the war that follows it (incidents after the plan's, as the event path numbers them)
        attacks = np.flatnonzero(plan.kind == KINDS.index(BreachKind.ARMED_ATTACK))
        self.offensive = None
        if len(attacks):
            first = int(attacks[0])
            before = plan.severity[:first]
            damage = 0.0
            for severity in before[before >= s.damage_min_severity].tolist():  # as Ukraine.suffer adds it up
                damage += s.damage_per_severity * severity  # (not sum(): Python 3.12's is compensated, 3.11's not)
            self.offensive = (float(plan.day[first]), ukraine.holding_time_at(float(plan.day[first]), damage))
            war = war_fire(float(plan.day[first]), model.horizon, model.streams.rng("war"), s.war_daily_violations,
                           s.war_days, s.war_period)
            model.war = range(len(plan), len(plan) + len(war))
            if len(war):
                targets = np.concatenate([targets, model.force.targeted(war, offset=len(plan))])
                plan = BreachPlan.concat(plan, war)
        n = len(plan)
        days, counts = plan.day, plan.count
        detected, n_detected, report_day = monitoring.observe_arrays(plan)
        ua_day = ukraine.report_days(days, n)
        referral = np.minimum(np.where(detected, report_day, np.inf), ua_day)
        referred = np.flatnonzero(np.isfinite(referral))
        referred_day = referral[referred]
        inv, _, attributed, _ = commission.screen(referred, plan.severity[referred], plan.deniability[referred],
                                                  counts[referred], plan.mutual[referred], detected[referred])
        # the days of attributed findings now (the trigger's feed); of the others when a count of
        # findings is asked for (``findings_by``), which a batch run never does
        finding_day = np.full(len(referred), np.nan)
        finding_day[attributed] = referred_day[attributed] + inv.days(attributed)

        alarms = monitoring.false_alarms(model.horizon)
        fa_report = np.array([fa.report_day for fa in alarms])
        fa_inv, _, fa_attributed = commission.screen_false_alarms(len(alarms))
        fa_finding_day = np.full(len(alarms), np.nan)
        fa_finding_day[fa_attributed] = fa_report[fa_attributed] + fa_inv.days(fa_attributed)
        self._unattributed = ((referred_day, inv, attributed, finding_day),
                              (fa_report, fa_inv, fa_attributed, fa_finding_day))
        self._findings: np.ndarray | None = None

        # what the counters count, by the day it happens; summed up to a day by sync()
        self.tally = {
            "days": days, "counts": counts, "kind": plan.kind,
            "detected": np.where(detected, n_detected, 0), "ukraine": np.isfinite(ua_day),
            "referred": referred_day, "false_alarms": fa_report,
            "attributed": np.concatenate([finding_day[attributed], fa_finding_day[fa_attributed]]),
        }

        def useful(kinds, severity, force) -> np.ndarray:
            """Findings some rule can use, and armed attacks (each makes the coalition decide again)."""
            attack = np.asarray(kinds == BreachKind.ARMED_ATTACK.key, dtype=bool)
            return np.logical_or.reduce([attack, *(rule.cares(kinds, severity, force) for rule in model.tiers)])

        # the overt-attack path: an overt armed attack reaches the trigger when it is referred
        is_overt = model.overt(plan.kind[referred], plan.deniability[referred])
        overt = referred[is_overt]
        severity, keys = plan.trigger_severity(), plan.keys()
        commission_fed = attributed & ~is_overt
        real = referred[commission_fed]
        keep = useful(keys[real], severity[real], targets[real])
        overt_keep = useful(keys[overt], severity[overt], targets[overt])
        fa_hit = np.flatnonzero(fa_attributed)
        fa_keep = np.zeros(0, bool)
        if len(fa_hit):
            fa_keep = useful(np.array([alarms[j].kind.key for j in fa_hit], dtype=object),
                             np.array([alarms[j].severity for j in fa_hit]), np.zeros(len(fa_hit), bool))
        day = np.concatenate([finding_day[commission_fed][keep], fa_finding_day[fa_hit[fa_keep]] if len(fa_hit) else [],
                              referral[overt][overt_keep]])
        # source 0: a finding on a real incident, 1: on a false alarm, 2: an overt attack, referred
        source = np.repeat([0, 1, 2], [int(keep.sum()), int(fa_keep.sum()), int(overt_keep.sum())])
        index = np.concatenate([real[keep], fa_hit[fa_keep], overt[overt_keep]]).astype(np.int64)
        order = np.lexsort((index, source, day))
        self.feed = list(zip(day[order].tolist(), source[order].tolist(), index[order].tolist()))
        self.pos = 0
        self._stopped = False
        self._plan, self._targets, self._alarms, self._severity = plan, targets, alarms, severity

    def next_day(self) -> float:
        return self.feed[self.pos][0] if self.pos < len(self.feed) else np.inf

    def pop(self) -> tuple[float, Finding]:
        """The next attributed finding, as the trigger sees it."""
        day, source, i = self.feed[self.pos]
        self.pos += 1
        if source == 1:
            b = self._alarms[i]
            return day, Finding(day, b.day, b.kind, b.severity, True, True, False, None)
        b = self._plan.breach(i)
        hit = b.targets_force = bool(self._targets[i])
        return day, Finding(day, b.day, b.kind, float(self._severity[i]), True, False, hit, b, overt=source == 2)

    def stop(self) -> None:
        """Every tier has fired: later findings change no rule, only armed attacks still matter (the
        coalition decides again on each); the counts come from the tally."""
        if self._stopped:
            return
        self._stopped = True
        attack = list(KINDS).index(BreachKind.ARMED_ATTACK)
        self.feed = self.feed[:self.pos] + [f for f in self.feed[self.pos:]
                                            if f[1] != 1 and self._plan.kind[f[2]] == attack]

    def findings_by(self, day: float) -> int:
        """The findings made by ``day``, attributed or not (the days of those not attributed worked
        out at the first count)."""
        if self._findings is None:
            parts = []
            for referred_on, inv, attributed, finding_day in self._unattributed:
                rest = ~attributed
                finding_day[rest] = referred_on[rest] + inv.days(rest)
                parts.append(finding_day)
            self._findings, self._unattributed = np.concatenate(parts), None
        return int(np.count_nonzero(self._findings <= day))

    def sync(self, model, day: float) -> None:
        """Set the model's counters to their values at ``day``."""
        t = self.tally
        happened = t["days"] <= day
        counts = t["counts"][happened]
        model.n_incidents = int(np.count_nonzero(happened))
        model.n_breaches = int(counts.sum())
        model.n_detected = int(t["detected"][happened].sum())
        model.n_reported_by_ukraine = int(counts[t["ukraine"][happened]].sum())
        model.n_referred_real = int(np.count_nonzero(t["referred"] <= day))
        model.n_false_alarms = int(np.count_nonzero(t["false_alarms"] <= day))
        model.n_findings = lambda: self.findings_by(day)  # counted when read (``CountedWhenRead``)
        model.n_attributed = int(np.count_nonzero(t["attributed"] <= day))
        by_kind = np.bincount(t["kind"][happened], weights=counts, minlength=len(KINDS))
        for kind, n in zip(KINDS, by_kind.tolist()):
            model.breaches_by_kind[kind] = int(n)
        if self.offensive is not None and self.offensive[0] <= day and model.ukraine.offensive_day is None:
            model.ukraine.offensive_day, model.ukraine.holding_time = self.offensive
