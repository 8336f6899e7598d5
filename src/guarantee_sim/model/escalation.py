"""Escalation: the adaptive prober, the deniable incursion that may turn overt, and the war that
follows an armed attack.

``war_fire`` is what happens after the first armed attack of a run, whatever the pattern: fire at
war intensity, aggregated per period (a week), for ``breach.war_days`` after the attack, drawn from
its own stream (``war``), so that no other draw moves. ``deniable_incursion`` makes deniability a property of how a breach is carried
out ("little green men", Crimea 2014), not only of its kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from guarantee_sim.model.breaches import (
    BREACH_PATTERNS,
    Breach,
    BreachKind,
    BreachPattern,
    BreachPlan,
    Salami,
    explosions_of,
)
from guarantee_sim.model.registry import param

WAR_EXPLOSION_SHARE = 0.5  # as the SMM's count of explosions among violations [S]


def war_fire(attack_day: float, horizon: float, rng: np.random.Generator, daily_violations: float,
             days: float, period: float) -> BreachPlan:
    """Hostilities after an armed attack: for ``days`` after it (at most to the horizon), the fire of
    each ``period`` days — Poisson(``daily_violations`` × period) violations — aggregated into an
    artillery and a small-arms incident at the middle of the period, overt and by the violator (not
    mutual). Nothing when ``daily_violations`` or ``days`` is 0."""
    if daily_violations <= 0 or days <= 0 or period <= 0:
        return BreachPlan.empty()
    end = min(horizon, attack_day + days)
    times = attack_day + (np.arange(math.ceil(days / period)) + 0.5) * period
    times = times[times <= end]
    counts = rng.poisson(daily_violations * period, len(times))
    explosions = explosions_of(rng, counts, WAR_EXPLOSION_SHARE)
    return BreachPlan.daily_fire(times, counts, explosions, mutual=False)


@BREACH_PATTERNS.register("deniable_incursion")
class DeniableIncursion(BreachPattern):
    """A deniable incursion ("little green men") that may escalate into an overt armed attack.

    Crimea 2014 [S]: troops without insignia from 27 February, annexation 18 March (20 days),
    Russian troops acknowledged in April; fighting in Donbas from April. Ground incursions at
    ``incursion_rate`` a day for ``incursion_days`` with deniability ``deniability``; from
    ``fire_after`` days after it, mutual low-level fire at ``daily_violations`` a day; with
    probability ``escalation_probability`` × h an armed attack of deniability
    ``escalation_deniability`` (0: overt) some days after the incursion.
    """

    classifier = {"adaptive": False, "deniable": True, "escalating": True, "aggregated": True, "strategic": False}

    @dataclass(frozen=True)
    class Params:
        start_low: float = param(30.0, "days", "earliest day the deniable operation starts")
        start_high: float = param(120.0, "days")
        incursion_days: float = param(20.0, "days", "length of the deniable incursion [S: Crimea 2014]")
        incursion_rate: float = param(0.25, "per day", "deniable ground incursions a day during it")
        deniability: float = param(0.9, "probability", "deniability of the incursion's incidents")
        daily_violations: float = param(0.0, "non-negative", "mutual low-level fire a day after it")
        fire_after: float = param(30.0, "days", "days from the incursion's end to that fire")
        escalation_probability: float = param(0.5, "probability", "it turns into an armed attack (before h)")
        escalation_delay_low: float = param(30.0, "days", "days after the incursion's end")
        escalation_delay_high: float = param(150.0, "days")
        escalation_deniability: float = param(0.0, "probability", "0: an overt armed attack")

    def plan(self) -> BreachPlan:
        p, rng = self.params, self.rng
        start = rng.uniform(p.start_low, max(p.start_low, p.start_high))
        end = min(start + p.incursion_days, self.horizon)
        incursions = BreachPlan.at(self._poisson_times(p.incursion_rate, start, end), BreachKind.GROUND_INCURSION,
                                   deniability=p.deniability)
        days = np.arange(math.ceil(end + p.fire_after), math.ceil(self.horizon))
        counts = rng.poisson(p.daily_violations, len(days))
        explosions = explosions_of(rng, counts, 0.5)
        keep = (days + 0.5 <= self.horizon) & (counts > 0)
        fire = BreachPlan.daily_fire(days[keep] + 0.5, counts[keep], explosions[keep])
        u = rng.random()
        delay = rng.uniform(p.escalation_delay_low, max(p.escalation_delay_low, p.escalation_delay_high))
        launches = u < p.escalation_probability * self.hazard
        self.deterred = bool(u < p.escalation_probability) and not launches
        attack_day = end + delay
        if launches and attack_day <= self.horizon:
            attack = BreachPlan.at([attack_day], BreachKind.ARMED_ATTACK, deniability=p.escalation_deniability)
            # the pattern's own fire stops when the war begins (war_fire takes over)
            fire = BreachPlan(*(getattr(fire, f)[fire.day < attack_day] for f in BreachPlan._FIELDS))
            return BreachPlan.concat(incursions, fire, attack)
        return BreachPlan.concat(incursions, fire)


@BREACH_PATTERNS.register("adaptive_probe")
class AdaptiveProbe(BreachPattern):
    """Escalates while unanswered; stands down after a timely attributed response [E].

    Each unanswered incident (no attributed finding within ``timely_days``) raises the next
    incident's severity by one step; a timely attributed finding or an activation pauses the
    probing for ``pause_days`` and lowers the level. Reaching level 5 is an armed attack.
    """

    classifier = {"adaptive": True, "deniable": False, "escalating": True, "aggregated": False, "strategic": False}

    @dataclass(frozen=True)
    class Params:
        rate: float = param(0.1, "per day", "probing incidents per day")
        timely_days: float = param(21.0, "days", "a response within this many days counts as timely")
        escalate_after: int = param(2, "positive", "unanswered incidents per escalation step")
        pause_days: float = param(60.0, "days")

    _ladder = Salami._ladder

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.level = 1
        self.unanswered = 0
        self.paused_until = -1.0
        self.stand_downs = 0
        self.launched_attack = False
        self._open: list[Breach] = []

    def _next(self, after: float) -> Breach | None:
        rate = self.params.rate * (self.hazard if self.level >= 4 else 1.0)
        if rate <= 0:
            return None
        t = max(after, self.paused_until) + self.rng.exponential(1 / rate)
        if t > self.horizon:
            return None
        return self._incident(t, self._ladder[self.level - 1])

    def plan(self) -> list[Breach]:
        first = self._next(0.0)
        return [first] if first else []

    def next_after(self, breach: Breach) -> Breach | None:
        if not self.allows(breach):
            return self._next(breach.day)
        # an earlier incident still unanswered after timely_days counts against the coalition
        still_open = []
        for b in self._open:
            if breach.day - b.day > self.params.timely_days:
                self.unanswered += 1
            else:
                still_open.append(b)
        self._open = still_open + [breach]
        if breach.kind is BreachKind.ARMED_ATTACK:
            self.launched_attack = True
            self.deterred = False
        if self.unanswered >= self.params.escalate_after and self.level < 5:
            self.level += 1
            self.unanswered = 0
        return self._next(breach.day)

    def allows(self, breach: Breach) -> bool:
        return breach.day >= self.paused_until

    def _stand_down(self, day: float) -> None:
        self.paused_until = day + self.params.pause_days
        self.level = max(1, self.level - 1)
        self.unanswered = 0
        self._open = []
        self.stand_downs += 1
        if not self.launched_attack:
            self.deterred = True

    def observe_finding(self, breach: Breach | None, attributed: bool, day: float) -> None:
        if breach is None or not attributed:
            return
        if day - breach.day <= self.params.timely_days:
            self._stand_down(day)

    def observe_activation(self, day: float) -> None:
        self._stand_down(day)
