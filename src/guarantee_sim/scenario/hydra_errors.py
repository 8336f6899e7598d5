"""Hydra's composition errors, retold as one-line ``ConfigError``s that name the key and what is allowed."""

from __future__ import annotations

import re

from guarantee_sim.errors import ConfigError

_TYPE_WORDS = {"Float": "a number", "Integer": "a whole number", "Boolean": "true or false", "String": "a string"}


def _parent_keys(path: list[str], overrides: list[str]) -> tuple[str, list[str]]:
    """The deepest existing prefix of ``path`` and its keys, composed without the bad override."""
    from omegaconf import DictConfig

    from guarantee_sim.scenario.compose import compose_config

    bad = ".".join(path)
    cfg = compose_config([o for o in overrides if not o.lstrip("+~").startswith(bad)])
    node, walked = cfg, []
    for part in path:
        if isinstance(node, DictConfig) and part in node:
            node, walked = node[part], walked + [part]
        else:
            break
    keys = sorted(str(k) for k in node.keys()) if isinstance(node, DictConfig) else []
    return ".".join(walked + [path[len(walked)]]), keys


def explain(exc: BaseException, overrides: list[str]) -> ConfigError:
    if isinstance(exc, ConfigError):
        return exc
    text = str(exc)
    m = re.search(r"Could not find '([^']+)/([^']+)'", text)
    if m:
        group, option = m.groups()
        options = re.search(r"Available options in '[^']+':\s*(.*?)\s*(Config search path|$)", text, re.S)
        allowed = ", ".join(options.group(1).split()) if options else None
        return ConfigError(group, f"unknown option {option!r}", allowed)
    if re.search(r"\b(study|sensitivity)\b", text) and any("sensitivity" in o for o in overrides):
        return ConfigError("experiment", "this preset is a sensitivity study", "run it with guarantee-sim-sensitivity")
    m = re.search(r"Could not override '([^']+)'", text)
    if m:
        path = m.group(1).split(".")
        try:
            key, keys = _parent_keys(path, overrides)
        except Exception:
            key, keys = m.group(1), []
        what = "unknown state" if key.startswith("coalition.states.") and key.count(".") == 2 else "unknown key"
        if key.startswith("coalition.states.") and key.count(".") == 3:  # roster entries list only non-defaults
            import dataclasses

            from guarantee_sim.scenario.schema import StateSpec

            keys = [f.name for f in dataclasses.fields(StateSpec)]
        return ConfigError(key, f"{what} {key.rsplit('.', 1)[-1]!r}", ", ".join(keys) or None)
    m = re.search(r"Error merging override (\S+?)=(.*)", text)
    if m:
        key, value = m.groups()
        cause = str(exc.__cause__ or "")
        t = re.search(r"converted to (\w+)", cause)
        allowed = _TYPE_WORDS.get(t.group(1), t.group(1)) if t else None
        return ConfigError(key, f"bad value {value!r}", allowed)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return ConfigError("", first)
