"""Ceasefire breaches and the breach patterns that generate them.

A pattern is a strategy class in ``BREACH_PATTERNS`` (Axelrod-style: a name, a ``Params``
dataclass and a ``classifier``). Non-adaptive patterns plan every incident at day 0 from
their own random stream, so the incident list never depends on any other lever; adaptive
patterns plan one incident at a time and watch the coalition's responses.

Chronic low-level fire is aggregated: one incident per kind and day carrying a ``count``
of violations, thinned binomially by the monitoring mechanism, never one event per shot.
A plan is a list of ``Breach`` objects or, cheaper for hundreds of incidents, a ``BreachPlan``
of columns.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from guarantee_sim.errors import ConfigError
from guarantee_sim.model.binomial import binomial_quantile
from guarantee_sim.model.registry import Registry, param


class BreachKind(enum.Enum):
    """Kinds of incident, with default severity (1-5) and deniability (0-1) [E]."""

    SMALL_ARMS = ("small_arms", 1.0, 0.3)
    ARTILLERY = ("artillery", 2.0, 0.2)
    DRONE_MISSILE = ("drone_missile", 3.0, 0.2)
    HYBRID = ("hybrid", 2.0, 0.7)
    GROUND_INCURSION = ("ground_incursion", 4.0, 0.1)
    ARMED_ATTACK = ("armed_attack", 5.0, 0.0)

    def __init__(self, key: str, severity: float, deniability: float):
        self.key = key
        self.default_severity = severity
        self.default_deniability = deniability

    @classmethod
    def parse(cls, value: str, key: str) -> "BreachKind":
        for kind in cls:
            if kind.key == value:
                return kind
        raise ConfigError(key, f"unknown breach kind {value!r}", ", ".join(k.key for k in cls))


KIND_KEYS = [k.key for k in BreachKind]


@dataclass(slots=True)
class Breach:
    """One incident: a single violation, or one kind's aggregated violations of one day."""

    day: float
    kind: BreachKind
    severity: float
    deniability: float
    count: int = 1
    targets_force: bool = False
    index: int = -1
    mutual: bool = False  # low-level fire in which both sides take part (a share by Ukraine)

    @property
    def trigger_severity(self) -> float:
        """What the trigger rules weigh: the severity, scaled by the count for aggregated fire."""
        if self.count <= 1:
            return self.severity  # × (1 + log10 1) = × 1
        return _scaled_one(self.severity, self.count)


KINDS = list(BreachKind)
KIND_POSITION = {k.key: i for i, k in enumerate(KINDS)}  # a kind's position in ``KINDS``, by its key
_SEVERITY = np.array([k.default_severity for k in KINDS])
_DENIABILITY = np.array([k.default_deniability for k in KINDS])
# daily fire's two incidents a day (artillery, then small arms): kind, severity and deniability by slot
_FIRE_KIND = np.array([KIND_POSITION["artillery"], KIND_POSITION["small_arms"]], np.int64)
_FIRE_SEVERITY, _FIRE_DENIABILITY = _SEVERITY[_FIRE_KIND], _DENIABILITY[_FIRE_KIND]
OVERT_DENIABILITY = 0.5  # an armed attack less deniable than this is overt [E]


@functools.lru_cache(maxsize=4096)
def _scaled_one(severity: float, count: int) -> float:
    """``scaled_severity`` of one incident (the same array operations), remembered: a war's findings
    repeat a few hundred (severity, count) pairs across runs."""
    return scaled_severity(np.array([severity]), np.array([count])).item(0)


def scaled_severity(severity: np.ndarray, count: np.ndarray) -> np.ndarray:
    """An aggregated day's severity grows with its count: × (1 + log10 n) [E] (1 violation: as is;
    10: twice; 1,000: four times), so intensity reaches the count and severity triggers."""
    return severity * (1.0 + np.log10(np.maximum(count, 1)))


@dataclass(frozen=True, eq=False)
class BreachPlan:
    """A run's planned incidents as columns: what a pattern plans, ready for array screening.

    Chronic fire plans ~700 aggregated incidents a run; the monitoring, Ukraine and the
    commission screen them in a few array operations instead of object by object. Iterating
    gives ``Breach`` objects (``index`` = position in the plan), for the incident-by-incident path.
    """

    day: np.ndarray
    kind: np.ndarray  # position in ``KINDS``
    severity: np.ndarray
    deniability: np.ndarray
    count: np.ndarray
    mutual: np.ndarray | None = None  # both sides fire (default: nowhere)

    def __post_init__(self):
        if self.mutual is None:
            object.__setattr__(self, "mutual", np.zeros(len(self.day), bool))

    @classmethod
    def of(cls, breaches: Iterable[Breach]) -> "BreachPlan":
        rows = [(b.day, KINDS.index(b.kind), b.severity, b.deniability, b.count, b.mutual) for b in breaches]
        if not rows:
            return cls.empty()
        day, kind, severity, deniability, count, mutual = zip(*rows)
        return cls(np.array(day, float), np.array(kind, np.int64), np.array(severity, float),
                   np.array(deniability, float), np.array(count, np.int64), np.array(mutual, bool))

    @classmethod
    def at(cls, times, kind: "BreachKind | np.ndarray", severity=None, deniability=None) -> "BreachPlan":
        """Single incidents at ``times``: of one kind, or of ``kind[i]`` (positions in ``KINDS``);
        the kind's default severity and deniability unless given (a number or one per incident)."""
        times = np.asarray(times, float)
        if not len(times):  # most runs' rare kinds: no incident
            return cls.empty()
        k = np.full(len(times), KIND_POSITION[kind.key], np.int64) if isinstance(kind, BreachKind) else np.asarray(kind, np.int64)
        severity = _SEVERITY[k] if severity is None else np.broadcast_to(np.asarray(severity, float), times.shape).copy()
        deniability = _DENIABILITY[k] if deniability is None else np.broadcast_to(np.asarray(deniability, float), times.shape).copy()
        return cls(times, k, severity, deniability, np.ones(len(times), np.int64))

    @classmethod
    def empty(cls) -> "BreachPlan":
        return cls(np.empty(0), np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0, np.int64))

    @classmethod
    def daily_fire(cls, times: np.ndarray, counts: np.ndarray, explosions: np.ndarray, mutual: bool = True) -> "BreachPlan":
        """Aggregated fire: each day an artillery and a small-arms incident carrying their counts
        (``mutual``: both sides fire, as along the contact line in 2015-22; war fire is not)."""
        per_day = np.column_stack([explosions, counts - explosions]).ravel()
        at = np.flatnonzero(per_day > 0)  # day ``at // 2``, artillery where ``at`` is even
        slot = at & 1
        return cls(np.asarray(times, float)[at >> 1], _FIRE_KIND[slot], _FIRE_SEVERITY[slot], _FIRE_DENIABILITY[slot],
                   per_day[at].astype(np.int64), np.full(len(at), mutual))

    @classmethod
    def concat(cls, *plans: "BreachPlan") -> "BreachPlan":
        """The plans one after another (an empty plan adds nothing: a single non-empty one is returned as is)."""
        nonempty = [p for p in plans if len(p)]
        if len(nonempty) == 1:
            return nonempty[0]
        return cls(*(np.concatenate([getattr(p, f) for p in plans]) for f in cls._FIELDS))

    _FIELDS = ("day", "kind", "severity", "deniability", "count", "mutual")

    def sorted(self) -> "BreachPlan":
        """In time order (stable: same-day incidents keep their planned order); a plan already in
        order (most patterns plan in order) is returned as is."""
        day = self.day
        if len(day) < 2 or (day[1:] >= day[:-1]).all():
            return self
        order = np.argsort(day, kind="stable")
        return BreachPlan(*(getattr(self, f)[order] for f in self._FIELDS))

    def trigger_severity(self) -> np.ndarray:
        """``Breach.trigger_severity`` of every incident."""
        return scaled_severity(self.severity, self.count)

    def keys(self) -> np.ndarray:
        """The breach kinds' keys (``"artillery"``, ...), as trigger rules read them."""
        return np.array([k.key for k in KINDS], dtype=object)[self.kind]

    def breach(self, i: int) -> Breach:
        return Breach(float(self.day[i]), KINDS[self.kind[i]], float(self.severity[i]), float(self.deniability[i]),
                      int(self.count[i]), index=int(i), mutual=bool(self.mutual[i]))

    def __len__(self) -> int:
        return len(self.day)

    def __iter__(self) -> Iterator[Breach]:
        return (self.breach(i) for i in range(len(self)))


BREACH_PATTERNS: Registry[type["BreachPattern"]] = Registry("breach pattern")


class BreachPattern:
    """Base strategy. Subclasses plan incidents; adaptive ones also react to responses."""

    name = "pattern"
    classifier: dict = {"adaptive": False, "deniable": False, "escalating": False, "aggregated": False, "strategic": False}
    Params: type

    def __init__(self, params, horizon: float, rng: np.random.Generator, hazard_multiplier: float = 1.0):
        self.params = params
        self.horizon = horizon
        self.rng = rng
        self.hazard = hazard_multiplier
        self.deterred = False

    @property
    def adaptive(self) -> bool:
        return self.classifier["adaptive"]

    @property
    def coverage(self) -> float:
        """Share of the monitoring coverage the violator leaves intact."""
        return getattr(self.params, "coverage", 1.0)

    def plan(self) -> list[Breach] | BreachPlan:
        """Incidents known at day 0 (for non-adaptive patterns: all of them), in any order."""
        return []

    def next_after(self, breach: Breach) -> Breach | None:
        """Adaptive patterns: the next attempted incident once ``breach`` has happened."""
        return None

    def allows(self, breach: Breach) -> bool:
        """Adaptive patterns may call off a planned incident (pause, deterrence)."""
        return True

    def observe_finding(self, breach: Breach | None, attributed: bool, day: float) -> None:
        """Adaptive patterns learn of the commission's findings."""

    def observe_activation(self, day: float) -> None:
        """Adaptive patterns learn that binding support has activated."""

    # helpers for subclasses -------------------------------------------------------------
    def _poisson_times(self, rate: float, start: float = 0.0, end: float | None = None, in_order: bool = True) -> np.ndarray:
        """A Poisson process's event times (``in_order=False``: as drawn, for a plan sorted as a whole)."""
        end = self.horizon if end is None else end
        if rate <= 0 or end <= start:
            return np.empty(0)
        n = self.rng.poisson(rate * (end - start))
        if n == 0:  # no draw of the times (an empty draw reads nothing)
            return np.empty(0)
        times = self.rng.uniform(start, end, n)
        return np.sort(times) if in_order and n > 1 else times

    def _incident(self, day: float, kind: BreachKind, severity=None, deniability=None, count: int = 1) -> Breach:
        return Breach(
            day=float(day),
            kind=kind,
            severity=kind.default_severity if severity is None else float(severity),
            deniability=kind.default_deniability if deniability is None else float(deniability),
            count=int(count),
        )



def _up_to(times: np.ndarray, last: float) -> int:
    """How many of the increasing ``times`` fall on or before ``last``."""
    return int(np.searchsorted(times, last, side="right"))


def _check_kinds(mapping: dict, key: str) -> None:
    for name, value in mapping.items():
        BreachKind.parse(name, f"{key}.{name}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{key}.{name}", f"expected a rate >= 0, got {value!r}", "a non-negative number")


@BREACH_PATTERNS.register("compliant")
class Compliant(BreachPattern):
    """No real breaches: what remains are the monitoring's false alarms."""

    classifier = {"adaptive": False, "deniable": False, "escalating": False, "aggregated": False, "strategic": False}

    @dataclass(frozen=True)
    class Params:
        pass


@BREACH_PATTERNS.register("poisson")
class PoissonPattern(BreachPattern):
    """One kind at a fixed rate, severity and deniability: the analytic special case."""

    @dataclass(frozen=True)
    class Params:
        rate: float = param(0.02, "per day", "incidents per day")
        kind: str = param("artillery", None, "breach kind")
        severity: float = param(2.0, "non-negative")
        deniability: float = param(0.0, "probability")

        def __post_init__(self):
            BreachKind.parse(self.kind, "breach.params.kind")

    def plan(self) -> BreachPlan:
        p = self.params
        kind = BreachKind.parse(p.kind, "breach.params.kind")
        return BreachPlan.at(self._poisson_times(p.rate), kind, p.severity, p.deniability)


@BREACH_PATTERNS.register("sporadic")
class Sporadic(BreachPattern):
    """A ceasefire that mostly holds: independent incidents of each kind at low rates [E].

    The escalation hazard (ground incursions, armed attack) is scaled by the multinational
    force's reassurance multiplier.
    """

    @dataclass(frozen=True)
    class Params:
        rates: dict = param(
            {
                "small_arms": 0.05,
                "artillery": 0.03,
                "drone_missile": 0.01,
                "hybrid": 0.01,
                "ground_incursion": 0.003,
                "armed_attack": 0.002,
            },
            "per day",
            "incidents per day by kind [E]",
        )
        escalation_kinds: list = param(["ground_incursion", "armed_attack"], None)

        def __post_init__(self):
            _check_kinds(self.rates, "breach.params.rates")
            for k in self.escalation_kinds:
                BreachKind.parse(k, "breach.params.escalation_kinds")

    def plan(self) -> BreachPlan:
        """Each kind's incidents as drawn: sorting the plan (stable) orders them as sorting each kind's
        first would (same-day incidents of one kind are alike)."""
        escalation = set(self.params.escalation_kinds)
        times = [self._poisson_times(rate * (self.hazard if name in escalation else 1.0), in_order=False)
                 for name, rate in self.params.rates.items()]
        kinds = [KIND_POSITION[name] for name in self.params.rates]  # names checked by Params
        return BreachPlan.at(np.concatenate([np.empty(0), *times]), np.repeat(kinds, [len(t) for t in times]))


def explosions_of(rng: np.random.Generator, counts: np.ndarray, share: float) -> np.ndarray:
    """How many of each day's violations are explosions: Binomial(count, share), drawn by inverting
    one uniform a day (``model/binomial.py``), so the same seed splits the fire alike on every numpy."""
    counts = np.asarray(counts, np.int64)
    return binomial_quantile(rng.random(len(counts)), counts, np.full(len(counts), float(share)))


@BREACH_PATTERNS.register("chronic")
class Chronic(BreachPattern):
    """Minsk-like low-level fire: a truce that breaks down, then daily violations in the hundreds.

    Defaults: 1,100 violations a day [S: OSCE SMM, ~400,000 in 2017], half of them explosions
    [S: SMM daily reports], truce half-life 14 days [S: Hug (SMM) 2018]. Each day gives one
    aggregated incident per kind.
    """

    classifier = {"adaptive": False, "deniable": False, "escalating": False, "aggregated": True, "strategic": False}

    @dataclass(frozen=True)
    class Params:
        daily_violations: float = param(1100.0, "non-negative", "mean violations per day once the truce has broken")
        explosion_share: float = param(0.5, "probability", "share of violations that are explosions")
        truce_half_life: float = param(14.0, "days", "half-life of the initial truce")
        escalation_rate: float = param(0.002, "per day", "rate of ground incursions and armed attacks")

    def plan(self) -> BreachPlan:
        p = self.params
        rate = math.log(2) / p.truce_half_life if p.truce_half_life > 0 else math.inf
        start = self.rng.exponential(1 / rate) if rate < math.inf else 0.0
        first = int(math.floor(start))
        days = np.arange(first, int(math.ceil(self.horizon)))
        counts = self.rng.poisson(p.daily_violations, size=len(days))
        explosions = explosions_of(self.rng, counts, p.explosion_share)
        times = days + 0.5
        if len(times):
            times[0] = max(float(first), start) + 0.5
        kept = _up_to(times, self.horizon)
        fire = BreachPlan.daily_fire(times[:kept], counts[:kept], explosions[:kept])
        rate_esc = p.escalation_rate * self.hazard
        incursions = BreachPlan.at(self._poisson_times(rate_esc / 2, start), BreachKind.GROUND_INCURSION)
        return BreachPlan.concat(fire, incursions, BreachPlan.at(self._poisson_times(rate_esc / 2, start), BreachKind.ARMED_ATTACK))


@BREACH_PATTERNS.register("salami")
class Salami(BreachPattern):
    """Slowly escalating severity: each step a little worse and a little less deniable [E]."""

    classifier = {"adaptive": False, "deniable": False, "escalating": True, "aggregated": False, "strategic": False}

    @dataclass(frozen=True)
    class Params:
        rate: float = param(0.1, "per day", "incidents per day")
        start_severity: float = param(1.0, "non-negative")
        step_days: float = param(45.0, "positive", "days per one-point rise in severity (before reassurance)")
        step_days_sd: float = param(0.3, "non-negative", "spread (log scale) of the pace across runs; 0: one clock for all")
        max_severity: float = param(5.0, "non-negative")

    _ladder = [
        BreachKind.SMALL_ARMS,
        BreachKind.ARTILLERY,
        BreachKind.DRONE_MISSILE,
        BreachKind.GROUND_INCURSION,
        BreachKind.ARMED_ATTACK,
    ]
    _ladder_positions = np.array([KIND_POSITION[k.key] for k in _ladder])

    def plan(self) -> BreachPlan:
        p = self.params
        times = self._poisson_times(p.rate)
        # each run's own pace: one clock for every run would make an armed attack certain or impossible
        # within the horizon, a threshold no violator's schedule has [E]
        pace = math.exp(p.step_days_sd * self.rng.standard_normal()) if p.step_days_sd > 0 else 1.0
        step = p.step_days * pace / max(self.hazard, 1e-9)
        severity = np.minimum(p.start_severity + times / step, p.max_severity)
        rung = np.where(severity >= 1, np.minimum(severity.astype(np.int64) - 1, 4), 0)
        return BreachPlan.at(times, self._ladder_positions[rung], severity=severity)


@BREACH_PATTERNS.register("hybrid")
class Hybrid(BreachPattern):
    """Deniable sabotage, cyber and drone incidents; the violator restricts monitoring coverage [E]."""

    classifier = {"adaptive": False, "deniable": True, "escalating": False, "aggregated": False, "strategic": False}

    @dataclass(frozen=True)
    class Params:
        rate: float = param(0.08, "per day", "incidents per day")
        hybrid_share: float = param(0.7, "probability", "share that is sabotage/cyber (the rest drones)")
        deniability: float = param(0.8, "probability", "how deniable each incident is")
        coverage: float = param(0.7, "probability", "share of monitoring coverage left intact")

    def plan(self) -> BreachPlan:
        p = self.params
        times = self._poisson_times(p.rate)
        is_hybrid = self.rng.random(len(times)) < p.hybrid_share
        kind = np.where(is_hybrid, KIND_POSITION["hybrid"], KIND_POSITION["drone_missile"])
        return BreachPlan.at(times, kind, deniability=p.deniability)


@BREACH_PATTERNS.register("surge_offensive")
class SurgeOffensive(BreachPattern):
    """Quiet managed fire, a ×3–10 surge over 3–7 days, then a major offensive.

    [S] OSCE SMM daily reports, February 2022: 870 (17 Feb), 1,566 (18 Feb), 1,710 (22 Feb)
    violations before the invasion. The offensive is launched with a probability scaled by
    the multinational force's reassurance multiplier.
    """

    classifier = {"adaptive": False, "deniable": False, "escalating": True, "aggregated": True, "strategic": False}

    @dataclass(frozen=True)
    class Params:
        daily_violations: float = param(35.0, "non-negative", "managed-ceasefire violations per day [S]")
        surge_start_low: float = param(60.0, "days")
        surge_start_high: float = param(240.0, "days")
        surge_factor_low: float = param(3.0, "positive")
        surge_factor_high: float = param(10.0, "positive")
        surge_days_low: float = param(3.0, "positive")
        surge_days_high: float = param(7.0, "positive")
        offensive_probability: float = param(0.8, "probability", "before reassurance [E]")

    def plan(self) -> BreachPlan:
        p = self.params
        rng = self.rng
        surge_start = rng.uniform(p.surge_start_low, p.surge_start_high)
        factor = rng.uniform(p.surge_factor_low, p.surge_factor_high)
        surge_days = round(rng.uniform(p.surge_days_low, p.surge_days_high))
        u = rng.random()
        launches = u < p.offensive_probability * self.hazard
        # planned, but called off by the reassurance of the monitoring, the force and the commission
        self.deterred = bool(u < p.offensive_probability) and not launches
        offensive_day = surge_start + surge_days
        days = np.arange(0, int(math.ceil(self.horizon)))
        means = np.full(len(days), float(p.daily_violations))
        means[max(math.ceil(surge_start), 0):max(math.ceil(offensive_day), 0)] = p.daily_violations * factor  # the surge's days
        counts = rng.poisson(means)
        explosions = explosions_of(rng, counts, 0.5)
        times = days + 0.5
        kept = _up_to(times, min(self.horizon, offensive_day) if launches else self.horizon)  # fire stops at the offensive
        fire = BreachPlan.daily_fire(times[:kept], counts[:kept], explosions[:kept])
        if launches and offensive_day <= self.horizon:
            return BreachPlan.concat(fire, BreachPlan.at([offensive_day], BreachKind.ARMED_ATTACK))
        return fire


# adaptive_probe and deniable_incursion: model/escalation.py (registered through model/__init__.py)
