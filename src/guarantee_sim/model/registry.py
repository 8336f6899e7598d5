"""Named registries: breach patterns, trigger rules and commission decision rules join here.

A new entry is a class decorated with ``@REGISTRY.register("name")``; the engine looks
entries up by the name a config gives and never lists them itself.
"""

from __future__ import annotations

import dataclasses
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


def build_params(params_cls: type, values: Any, key: str):
    """Build a params dataclass from a mapping, with one-line errors for typos and bad types.

    Field types are checked against their annotation (``float``, ``int``, ``bool``, ``str``,
    ``list``/``dict``, ``Any``); probabilities are fields whose metadata says ``unit="probability"``.
    """
    values = {} if values is None else values
    if not isinstance(values, dict):
        raise ConfigError(key, f"expected a mapping, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(params_cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", "unknown key", ", ".join(sorted(fields)))
    out = {}
    for name, f in fields.items():
        if name not in values:
            continue
        out[name] = check_value(values[name], f, f"{key}.{name}")
    return params_cls(**out)


_TYPE_NAMES = {float: "a number", int: "a whole number", bool: "true or false", str: "a string"}


def check_value(value: Any, f: dataclasses.Field, key: str) -> Any:
    kind = f.type if isinstance(f.type, type) else {"float": float, "int": int, "bool": bool, "str": str}.get(
        str(f.type)
    )
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, f"expected a number, got {value!r}")
        value = float(value)
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ConfigError(key, f"expected a whole number, got {value!r}")
    elif kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {value!r}")
    elif kind is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {value!r}")
    elif str(f.type) in ("list", "<class 'list'>"):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(key, f"expected a list, got {value!r}")
        value = list(value)
    elif str(f.type) in ("dict", "<class 'dict'>"):
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a mapping, got {value!r}")
    unit = f.metadata.get("unit")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if unit == "probability" and not 0.0 <= value <= 1.0:
        raise ConfigError(key, f"probability {value} is outside [0, 1]", "0 <= p <= 1")
    if unit in ("days", "non-negative", "per day") and value < 0:
        raise ConfigError(key, f"must be >= 0, got {value}", f"a non-negative number ({unit})")
    if unit == "positive" and value <= 0:
        raise ConfigError(key, f"must be > 0, got {value}", "a positive number")
    return value


def param(default: Any, unit: str | None = None, doc: str = "") -> Any:
    """A params field carrying its unit (for range checks and docs)."""
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"unit": unit, "doc": doc})
    return dataclasses.field(default=default, metadata={"unit": unit, "doc": doc})
