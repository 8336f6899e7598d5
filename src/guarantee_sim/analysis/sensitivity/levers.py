"""The study's continuous levers: each a config key (or keys set together) with its plausible range,
checked against the composed scenario before any run, and set at a sample point."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from guarantee_sim.analysis.sensitivity.schema import SCALES, LeverSpec
from guarantee_sim.errors import ConfigError


@dataclass(frozen=True)
class Lever:
    name: str
    keys: tuple[str, ...]
    low: float
    high: float
    scale: str = "linear"
    label: str = ""
    unit: str = ""
    breach: str | None = None

    @property
    def key(self) -> str:
        return self.keys[0] if len(self.keys) == 1 else "[" + ", ".join(self.keys) + "]"

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map [0, 1) to the lever's range (uniform, or log-uniform)."""
        u = np.asarray(u, dtype=float)
        if self.scale == "log":
            lo, hi = math.log(self.low), math.log(self.high)
            return np.exp(lo + u * (hi - lo))
        return self.low + u * (self.high - self.low)


def levers_from_study(levers: dict, breach_pattern: str | None = None) -> list[Lever]:
    """The study's levers that apply under the selected breach pattern, checked."""
    out = []
    fields = [f.name for f in LeverSpec.__dataclass_fields__.values()]
    for name, spec in levers.items():
        where = f"study.levers.{name}"
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise ConfigError(where, f"expected a mapping, got {spec!r}", "{key: ..., low: ..., high: ...}")
        unknown = sorted(set(spec) - set(fields))
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}", "unknown key", ", ".join(fields))
        keys = spec.get("key")
        keys = [keys] if isinstance(keys, str) else list(keys or [])
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ConfigError(f"{where}.key", f"expected a key or a list of keys, got {spec.get('key')!r}",
                              "a key as typed on the command line, e.g. commission.attribution_probability")
        if spec.get("breach") is not None and breach_pattern is not None and spec["breach"] != breach_pattern:
            continue
        if breach_pattern is not None and spec.get("unless_breach") == breach_pattern:
            continue
        low, high = spec.get("low"), spec.get("high")
        for k, v in (("low", low), ("high", high)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
                raise ConfigError(f"{where}.{k}", f"expected a number, got {v!r}", "a number")
        if not low < high:
            raise ConfigError(f"{where}.high", f"must exceed low ({low}), got {high}", f"a number > {low}")
        scale = spec.get("scale") or "linear"
        if scale not in SCALES:
            raise ConfigError(f"{where}.scale", f"unknown value {scale!r}", ", ".join(SCALES))
        if scale == "log" and low <= 0:
            raise ConfigError(f"{where}.low", f"a log-scale lever needs low > 0, got {low}", "a number > 0")
        for k in ("label", "unit", "breach"):
            if spec.get(k) is not None and not isinstance(spec[k], str):
                raise ConfigError(f"{where}.{k}", f"expected a string, got {spec[k]!r}", "a string")
        out.append(Lever(name, tuple(keys), float(low), float(high), scale,
                         spec.get("label") or name.replace("_", " "), spec.get("unit") or "", spec.get("breach")))
    return out


def _walk(config: dict, key: str):
    """(parent mapping, last part) of a dotted key in a plain config; KeyError if absent."""
    parts = key.split(".")
    node = config
    for p in parts[:-1]:
        if not isinstance(node, dict) or p not in node:
            raise KeyError(p)
        node = node[p]
    if not isinstance(node, dict) or parts[-1] not in node:
        raise KeyError(parts[-1])
    return node, parts[-1]


def set_levers(config: dict, levers: list[Lever], values) -> dict:
    """A copy of a plain scenario config with the levers set to ``values``."""
    c = copy.deepcopy(config)
    for lever, v in zip(levers, values):
        for key in lever.keys:
            parent, last = _walk(c, key)
            parent[last] = float(v)
    return c


def check_levers(config: dict, levers: list[Lever]) -> None:
    """Every lever names a numeric key of this scenario, and both ends of its range pass the checks."""
    from guarantee_sim.scenario.build import build_scenario

    if not levers:
        raise ConfigError("study.levers", "no lever applies to this scenario",
                          "at least one lever (see conf/sensitivity/ and docs/parameters.md, Lever ranges)")
    seen: dict[str, str] = {}
    for lever in levers:
        for key in lever.keys:
            if key in seen:
                raise ConfigError(f"study.levers.{lever.name}.key", f"{key} is already varied by lever {seen[key]!r}",
                                  "each key in one lever only")
            seen[key] = lever.name
            try:
                parent, last = _walk(config, key)
            except KeyError:
                raise ConfigError(f"study.levers.{lever.name}.key", f"{key} is not a key of this scenario",
                                  _lever_hint(config, key)) from None
            value = parent[last]
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not numeric and not (isinstance(value, dict) and "dist" in value):
                raise ConfigError(f"study.levers.{lever.name}.key", f"{key} is not numeric (it is {value!r})",
                                  "a probability, rate, share or delay key")
    for end, v in (("low", [lv.low for lv in levers]), ("high", [lv.high for lv in levers])):
        try:
            build_scenario(set_levers(config, levers, v))
        except ConfigError as err:
            name = next((lv.name for lv in levers if err.key in lv.keys or any(err.key.startswith(k + ".") for k in lv.keys)), None)
            if name is None:
                raise
            raise ConfigError(f"study.levers.{name}.{end}", f"{err.problem}", err.allowed) from None


def _lever_hint(config: dict, key: str) -> str:
    parts = key.split(".")
    node = config
    for p in parts[:-1]:
        if isinstance(node, dict) and p in node:
            node = node[p]
        else:
            break
    keys = sorted(str(k) for k in node) if isinstance(node, dict) else []
    hint = ", ".join(keys[:20]) if keys else "a key of the composed scenario"
    return hint + " (a lever of another breach pattern needs `breach: <pattern>`; pick a lever preset with sensitivity=<preset>)"
