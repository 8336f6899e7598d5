"""Trigger rules: when do the commission's attributed findings oblige the coalition to decide?

Each rule is a small class in ``TRIGGER_RULES`` that watches attributed findings one at a
time and says when it has fired. Rules compose (``any_of``, ``all_of``); ``graduated`` gives
each support type its own rule (tier 1 diplomatic, tier 2 economic, tier 3 military,
intelligence and logistical). Every rule is monotone: more attributed findings never make it
fire later.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from guarantee_sim.model.breaches import BreachKind
from guarantee_sim.errors import ConfigError
from guarantee_sim.model.registry import Registry, build_params, param

SUPPORT_TYPES = ("military", "intelligence", "logistical", "diplomatic", "economic")

TRIGGER_RULES: Registry[type["TriggerRule"]] = Registry("trigger rule")


@dataclass(slots=True)
class Finding:
    """The commission's conclusion about one referred incident (real or a false alarm); or, on the
    overt-attack path (``overt``), an overt armed attack as the coalition sees it when it is referred.
    ``severity`` is what the rules weigh: for aggregated fire, scaled by its count."""

    day: float
    breach_day: float
    kind: BreachKind
    severity: float
    attributed: bool
    false_alarm: bool
    targets_force: bool = False
    breach: Any = None
    overt: bool = False


class TriggerRule:
    name = "rule"
    Params: type

    def __init__(self, params, key: str):
        self.params = params
        self.key = key

    def observe(self, finding: Finding) -> bool:
        """Take one attributed finding; return True once the rule has fired."""
        raise NotImplementedError

    def cares(self, kinds: np.ndarray, severity: np.ndarray, targets_force: np.ndarray) -> np.ndarray:
        """Which findings could change this rule (vectorised; by breach kind key, severity, trip-wire).

        A finding the rule does not care about neither fires it nor changes its state, so a
        compiled run may leave it out. Default: every finding matters.
        """
        return np.ones(len(kinds), dtype=bool)

    def fresh(self) -> "TriggerRule":
        """A copy with no history, for a new run."""
        return type(self)(self.params, self.key)

    def describe(self) -> str:
        return self.name


MAX_NESTING = 8  # any_of / all_of sub-rules inside sub-rules, at most this deep


def build_rule(spec: Any, key: str) -> TriggerRule:
    """``{rule: name, params: {...}}`` → a rule, with one-line errors naming the key."""
    if key.count(".params.rules[") > MAX_NESTING:
        raise ConfigError(key, f"sub-rules nested more than {MAX_NESTING} deep",
                          f"any_of / all_of nested at most {MAX_NESTING} deep")
    if not isinstance(spec, dict):
        raise ConfigError(key, f"expected {{rule: ..., params: ...}}, got {spec!r}")
    extra = sorted(set(spec) - {"rule", "params"})
    if extra:
        raise ConfigError(f"{key}.{extra[0]}", "unknown key", "rule, params")
    cls = TRIGGER_RULES.get(spec.get("rule"), f"{key}.rule")
    params = build_params(cls.Params, spec.get("params"), f"{key}.params")
    return cls(params, key)


@TRIGGER_RULES.register("any_attributed")
class AnyAttributed(TriggerRule):
    """Any attributed breach of severity at least ``min_severity``."""

    @dataclass(frozen=True)
    class Params:
        min_severity: float = param(0.0, "non-negative")

    def observe(self, finding: Finding) -> bool:
        return finding.severity >= self.params.min_severity

    def cares(self, kinds, severity, targets_force):
        return severity >= self.params.min_severity

    def describe(self) -> str:
        return f"any attributed breach of severity >= {self.params.min_severity:g}"


@TRIGGER_RULES.register("count_window")
class CountWindow(TriggerRule):
    """``k`` attributed breaches within ``window`` days (by the day they happened)."""

    @dataclass(frozen=True)
    class Params:
        k: int = param(3, "positive")
        window: float = param(30.0, "days")
        min_severity: float = param(0.0, "non-negative")

    def __init__(self, params, key):
        super().__init__(params, key)
        self._days: list[float] = []

    def observe(self, finding: Finding) -> bool:
        if finding.severity < self.params.min_severity:
            return False
        bisect.insort(self._days, finding.breach_day)
        d, k, w = self._days, self.params.k, self.params.window
        return any(d[i + k - 1] - d[i] <= w for i in range(len(d) - k + 1))

    def cares(self, kinds, severity, targets_force):
        return severity >= self.params.min_severity

    def describe(self) -> str:
        return f"{self.params.k} attributed breaches within {self.params.window:g} days"


@TRIGGER_RULES.register("cumulative_severity")
class CumulativeSeverity(TriggerRule):
    """Attributed severity summed over any ``window`` days reaches ``threshold``."""

    @dataclass(frozen=True)
    class Params:
        threshold: float = param(10.0, "positive")
        window: float = param(30.0, "days")

    def __init__(self, params, key):
        super().__init__(params, key)
        self._events: list[tuple[float, float]] = []

    def observe(self, finding: Finding) -> bool:
        bisect.insort(self._events, (finding.breach_day, finding.severity))
        ev, w = self._events, self.params.window
        j = 0
        for i, (day, _) in enumerate(ev):
            while day - ev[j][0] > w:
                j += 1
            if math.fsum(sev for _, sev in ev[j : i + 1]) >= self.params.threshold:  # exact, no drift
                return True
        return False

    def describe(self) -> str:
        return f"attributed severity >= {self.params.threshold:g} within {self.params.window:g} days"


@TRIGGER_RULES.register("armed_attack")
class ArmedAttack(TriggerRule):
    """Only renewed armed conflict: the statement's own wording."""

    @dataclass(frozen=True)
    class Params:
        kinds: list = param(["armed_attack"], None, "breach kinds that count as armed attack")

        def __post_init__(self):
            for k in self.kinds:
                BreachKind.parse(k, "trigger.params.kinds")

    def observe(self, finding: Finding) -> bool:
        return finding.kind.key in self.params.kinds

    def cares(self, kinds, severity, targets_force):
        return np.isin(kinds, self.params.kinds)

    def describe(self) -> str:
        return "an attributed armed attack (" + ", ".join(self.params.kinds) + ")"


@TRIGGER_RULES.register("force_attacked")
class ForceAttacked(TriggerRule):
    """Trip-wire: an attributed attack on the multinational force."""

    @dataclass(frozen=True)
    class Params:
        pass

    def observe(self, finding: Finding) -> bool:
        return finding.targets_force

    def cares(self, kinds, severity, targets_force):
        return np.asarray(targets_force, dtype=bool)

    def describe(self) -> str:
        return "an attributed attack on the multinational force"


class _Composite(TriggerRule):
    @dataclass(frozen=True)
    class Params:
        rules: list = param([], None, "sub-rules, each {rule: ..., params: ...}")

    def __init__(self, params, key):
        super().__init__(params, key)
        if not params.rules:
            raise ConfigError(f"{key}.params.rules", "needs at least one sub-rule", ", ".join(TRIGGER_RULES.names()))
        self.rules = [
            r if isinstance(r, TriggerRule) else build_rule(r, f"{key}.params.rules[{i}]")
            for i, r in enumerate(params.rules)
        ]
        self.fired = [False] * len(self.rules)

    def fresh(self):
        clone = type(self).__new__(type(self))
        clone.params, clone.key = self.params, self.key
        clone.rules = [r.fresh() for r in self.rules]
        clone.fired = [False] * len(self.rules)
        return clone

    def cares(self, kinds, severity, targets_force):
        return np.logical_or.reduce([r.cares(kinds, severity, targets_force) for r in self.rules])

    def _observe_all(self, finding: Finding) -> None:
        for i, rule in enumerate(self.rules):
            if not self.fired[i] and rule.observe(finding):
                self.fired[i] = True


@TRIGGER_RULES.register("any_of")
class AnyOf(_Composite):
    def observe(self, finding: Finding) -> bool:
        self._observe_all(finding)
        return any(self.fired)

    def describe(self) -> str:
        return "any of: " + "; ".join(r.describe() for r in self.rules)


@TRIGGER_RULES.register("all_of")
class AllOf(_Composite):
    def observe(self, finding: Finding) -> bool:
        self._observe_all(finding)
        return all(self.fired)

    def describe(self) -> str:
        return "all of: " + "; ".join(r.describe() for r in self.rules)


@dataclass(frozen=True)
class Tier:
    types: tuple[str, ...]
    rule: TriggerRule


def build_tiers(rule_name: str, params: Any, key: str) -> list[Tier]:
    """A plain rule covers every support type; ``graduated`` gives each tier its own rule."""
    if rule_name != "graduated":
        return [Tier(SUPPORT_TYPES, build_rule({"rule": rule_name, "params": params}, key))]
    if not isinstance(params, dict) or set(params) - {"tiers"}:
        bad = sorted(set(params or {}) - {"tiers"}) if isinstance(params, dict) else []
        raise ConfigError(f"{key}.params" + (f".{bad[0]}" if bad else ""), "unknown key", "tiers")
    tiers, seen = [], set()
    for i, tier in enumerate(params.get("tiers") or []):
        tkey = f"{key}.params.tiers[{i}]"
        if not isinstance(tier, dict):
            raise ConfigError(tkey, f"expected {{types: [...], rule: ..., params: ...}}, got {tier!r}")
        types = tier.get("types") or []
        for t in types:
            if t not in SUPPORT_TYPES:
                raise ConfigError(f"{tkey}.types", f"unknown support type {t!r}", ", ".join(SUPPORT_TYPES))
            if t in seen:
                raise ConfigError(f"{tkey}.types", f"support type {t!r} is in two tiers")
            seen.add(t)
        rule = build_rule({k: v for k, v in tier.items() if k != "types"}, tkey)
        tiers.append(Tier(tuple(types), rule))
    if not tiers:
        raise ConfigError(f"{key}.params.tiers", "needs at least one tier")
    return tiers
