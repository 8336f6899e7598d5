"""Named registries: breach patterns, trigger rules and commission decision rules join here.

A new entry is a class decorated with ``@REGISTRY.register("name")``; the engine looks
entries up by the name a config gives and never lists them itself.

The checks of declared fields live here too, for an entry's ``Params`` and for the scenario
schema (``scenario/schema.py``) alike: a field declared with ``param(default, unit)`` is checked
by its annotation and by its unit's range in ``UNITS``; ``check_keys`` is the one unknown-key
check. Every error is a one-line ``ConfigError`` naming the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from guarantee_sim.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            entry.name = name  # type: ignore[attr-defined]
            return entry

        return add

    def get(self, name: str, key: str) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise ConfigError(key, f"unknown {self.kind} {name!r}", ", ".join(self.names())) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def items(self):
        return sorted(self._entries.items())


def unknown_key(key: str, allowed, what: str = "key") -> ConfigError:
    """The one form of an unknown-key error: ``<key>: unknown key; allowed: <sorted keys>``."""
    return ConfigError(key, f"unknown {what}", ", ".join(sorted(allowed)))


def check_keys(values: dict, allowed, key: str = "", hidden=()) -> None:
    """Raise ``unknown_key`` for the first key of ``values`` not in ``allowed``.

    ``key`` is where the mapping sits (``""``: the config's top); ``hidden`` keys are accepted but
    not listed as allowed (Hydra's own node).
    """
    unknown = sorted(set(values) - set(allowed) - set(hidden))
    if unknown:
        raise unknown_key(f"{key}.{unknown[0]}" if key else unknown[0], allowed)


def check_option(value: Any, key: str, options) -> Any:
    """``value`` if it is one of ``options``; else ``<key>: unknown value; allowed: <options>``."""
    if value not in options:
        raise ConfigError(key, f"unknown value {value!r}", ", ".join(options))
    return value


def check_fields(values: Any, cls: type, key: str, defaults: bool = False, parsers: dict | None = None,
                 what: str = "a mapping", hidden=()) -> dict:
    """A mapping checked against the dataclass ``cls``: no unknown key, each value checked by its
    field (``check_value``; a field whose unit is in ``parsers`` is parsed by it instead).

    ``defaults=True`` also fills in the fields the mapping leaves out (a field with no default is
    then a "missing value" error); otherwise only the given fields are returned. ``key`` is where
    the mapping sits (``""``: the config's top); ``hidden`` keys are let through unchecked.
    """
    values = {} if values is None and not defaults else values
    if not isinstance(values, dict):
        raise ConfigError(key, f"expected {what}, got {values!r}")
    fields = _fields(cls)
    check_keys(values, fields, key, hidden)
    out = {}
    for name, f in fields.items():
        where = f"{key}.{name}" if key else name
        if name in values:
            value = values[name]
        elif not defaults:
            continue
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            value = f.default
        if value is dataclasses.MISSING or (isinstance(value, str) and value == "???"):
            raise ConfigError(where, "missing value")
        parse = (parsers or {}).get(f.metadata.get("unit"))
        out[name] = parse(value, where) if parse else check_value(value, f, where)
    return out


@functools.lru_cache(maxsize=None)
def _fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def build_params(params_cls: type, values: Any, key: str):
    """Build a params dataclass from a mapping, with one-line errors for typos and bad types.

    Field types are checked against their annotation (``float``, ``int``, ``bool``, ``str``,
    ``list``/``dict``, ``Any``); ranges by the field's unit (``param(default, unit)``, ``UNITS``).
    """
    return params_cls(**check_fields(values, params_cls, key))


def bound(x: float) -> str:
    """A bound as people write it: 1000000 rather than 1e+06."""
    if isinstance(x, int):
        return str(x)
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


@dataclass(frozen=True)
class Unit:
    """What a numeric field's unit allows, and the words its errors use.

    Every unit has a finite upper bound: NaN and infinity are refused everywhere, and so are
    values large enough to overflow a sum or exhaust memory (``docs/results-store.md``, "Limits").
    """

    allowed: str  # what the error says is allowed
    low: float = 0.0
    high: float = math.inf
    low_open: bool = False  # low itself is not allowed
    whole: bool = False  # a whole number
    what: str = "number"  # "expected a <what>, got ..."; "<what> 2 is outside [0, 1]"
    words: tuple[str, ...] = ()  # words allowed besides numbers ("auto")
    interval: bool = False  # errors name the interval (a probability); else the bound crossed

    def check(self, value: Any, key: str) -> Any:
        """The value as an int (whole units) or a float; ``ConfigError`` when out of range."""
        if isinstance(value, str) and value in self.words:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, f"expected a {self.what}, got {value!r}", self.allowed)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(key, f"expected a finite {self.what}, got {value}", self.allowed)
        if self.whole and isinstance(value, float) and not value.is_integer():
            raise ConfigError(key, f"expected a {self.what}, got {value!r}", self.allowed)
        inside = (self.low < value if self.low_open else self.low <= value) and value <= self.high
        if not inside:
            if self.interval:
                interval = f"{'(' if self.low_open else '['}{bound(self.low)}, {bound(self.high)}]"
                raise ConfigError(key, f"{self.what} {value} is outside {interval}", self.allowed)
            if value > self.high:
                raise ConfigError(key, f"must be <= {bound(self.high)}, got {value}", self.allowed)
            raise ConfigError(key, f"must be {'>' if self.low_open else '>='} {self.low:g}, got {value}", self.allowed)
        return int(value) if self.whole else float(value)


# Upper bounds (docs/results-store.md, "Limits"): far above any value the model is meant for, low
# enough that a run stays finite in time and memory and no sum overflows.
MAX_RUNS = 1_000_000       # runs (and max_runs, batch_size) of one cell: ~30 min and ~0.3 GB of rows
MAX_WORKERS = 64           # worker processes of one cell (fewer are started on a machine with fewer CPUs)
MAX_HORIZON = 36_500.0     # days (a century): ~4 ms a default run, ~0.1 s the busiest pattern
MAX_RATE = 10.0            # events per day (100x the busiest default): ~0.4 M incidents over MAX_HORIZON
MAX_AMOUNT = 1e6           # any other amount: weights, capacities, severities, days, multipliers
MAX_TROOPS = 1e7
MAX_SEED = 2**63 - 1

# Every unit a field can declare (``param(default, unit)``), in one table.
UNITS = {
    "probability": Unit("a number in [0, 1]", high=1.0, what="probability", interval=True),
    "non-negative": Unit(f"a non-negative number, at most {bound(MAX_AMOUNT)}", high=MAX_AMOUNT),
    "positive": Unit(f"a positive number, at most {bound(MAX_AMOUNT)}", low_open=True, high=MAX_AMOUNT),
    "days": Unit(f"a non-negative number of days, at most {bound(MAX_AMOUNT)}", high=MAX_AMOUNT),
    "positive days": Unit(f"a positive number of days, at most {bound(MAX_AMOUNT)}", low_open=True, high=MAX_AMOUNT),
    "horizon": Unit(f"a positive number of days, at most {bound(MAX_HORIZON)}", low_open=True, high=MAX_HORIZON,
                    what="horizon"),
    "per day": Unit(f"a rate per day >= 0, at most {bound(MAX_RATE)}", high=MAX_RATE, what="rate"),
    "multiplier": Unit(f"a multiplier >= 0, at most {bound(MAX_AMOUNT)}", high=MAX_AMOUNT),
    "troops": Unit(f"troops >= 0, at most {bound(MAX_TROOPS)}", high=MAX_TROOPS),
    "count": Unit(f"1, 2, 3, ... (at most {MAX_RUNS})", low=1, high=MAX_RUNS, whole=True, what="whole number"),
    "runs": Unit(f"1, 2, 3, ... or auto (at most {MAX_RUNS})", low=1, high=MAX_RUNS, whole=True, what="whole number",
                 words=("auto",)),
    "workers": Unit(f"1, 2, 3, ... (at most {MAX_WORKERS})", low=1, high=MAX_WORKERS, whole=True, what="whole number"),
    "seed": Unit(f"a whole number >= 0, at most {MAX_SEED}", high=MAX_SEED, whole=True, what="seed"),
    "half-width": Unit("e.g. 0.02", high=0.5, low_open=True, what="Wilson half-width", interval=True),
}
PARSED_UNITS = ("delay",)  # checked by a parser the caller hands to check_fields (``parse_delay``)

TYPE_WORDS = {float: "a number", int: "a whole number", bool: "true, false", str: "a string"}
_ANNOTATIONS = {"float": float, "int": int, "bool": bool, "str": str, "list": list, "dict": dict}


@functools.lru_cache(maxsize=None)  # a config has a few dozen annotations, checked on every build
def _kind(annotation: Any) -> tuple[type | None, bool]:
    """The checked type of an annotation and whether it is ``Optional``."""
    text = annotation.__name__ if isinstance(annotation, type) else str(annotation).replace("typing.", "")
    optional = text.startswith("Optional[") and text.endswith("]")
    if optional:
        text = text[len("Optional["):-1]
    return _ANNOTATIONS.get(text), optional


def check_value(value: Any, f: dataclasses.Field, key: str) -> Any:
    """One field's value checked by its annotation, its options and its unit (``UNITS``; for a
    ``Dict[str, float]``, the unit of each value)."""
    kind, optional = _kind(f.type)
    if value is None and optional:
        return None
    options = f.metadata.get("options")
    if options:
        return check_option(value, key, options)
    unit = UNITS.get(f.metadata.get("unit"))
    if unit is not None and (kind is dict or str(f.type).replace("typing.", "").startswith("Dict[")):  # each value has the unit
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a mapping, got {value!r}")
        return {k: unit.check(v, f"{key}.{k}") for k, v in value.items()}
    if unit is not None and kind in (None, float, int):
        value = unit.check(value, key)
        if kind is int and isinstance(value, float):
            if not value.is_integer():
                raise ConfigError(key, f"expected a whole number, got {value!r}", TYPE_WORDS[int])
            value = int(value)
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, f"expected a number, got {value!r}", TYPE_WORDS[float])
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(key, f"expected a finite number, got {value}", "a finite number")
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ConfigError(key, f"expected a whole number, got {value!r}", TYPE_WORDS[int])
    elif kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {value!r}", TYPE_WORDS[bool])
    elif kind is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {value!r}", TYPE_WORDS[str])
    elif kind is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(key, f"expected a list, got {value!r}")
        value = list(value)
    elif kind is dict:
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a mapping, got {value!r}")
    return value


def param(default: Any, unit: str | None = None, doc: str = "", options: tuple | None = None, **more) -> Any:
    """A dataclass field carrying its unit (range checks, docs; see ``UNITS``) or its options;
    ``more`` goes into the field's metadata too."""
    if unit is not None and unit not in UNITS and unit not in PARSED_UNITS:
        raise ValueError(f"unknown unit {unit!r}; known: {', '.join([*UNITS, *PARSED_UNITS])}")
    metadata = {"unit": unit, "doc": doc, "options": options, **more}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)

