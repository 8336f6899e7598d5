"""Hydra's compose API, and its errors retold as one-line ``ConfigError``s that name the key and what is allowed.

``compose_config`` (``scenario/compose.py``) composes with ``hydra_compose`` and retells what
goes wrong with ``explain``; ``explain`` composes again, without the bad override, to list the keys
allowed where it points. Both live below ``compose.py`` so that neither imports the other.
"""

from __future__ import annotations

import dataclasses
import re

from guarantee_sim.errors import ConfigError, first_line
from guarantee_sim.model.registry import TYPE_WORDS, unknown_key
from guarantee_sim.scenario import schema  # registers the schema and its resolvers before Hydra composes

# Hydra's names for the types ("could not be converted to Float", "is not a valid bool")
_HYDRA_TYPES = {"Float": float, "Integer": int, "Boolean": bool, "bool": bool, "String": str}


def hydra_compose(overrides: tuple[str, ...] | list[str] = (), hydra: bool = False, config_name: str = "config"):
    """Compose ``conf/<config_name>.yaml`` as the command line would; Hydra's own exceptions.

    ``hydra=True`` keeps Hydra's own node (sweeper parameters, launcher).
    """
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    overrides = list(overrides)
    if GlobalHydra.instance().is_initialized():
        return compose(config_name, overrides=overrides, return_hydra_config=hydra)
    with initialize_config_module(schema.CONFIG_MODULE, version_base="1.3"):
        return compose(config_name, overrides=overrides, return_hydra_config=hydra)


def _parent_keys(path: list[str], overrides: list[str]) -> tuple[str, list[str]]:
    """The deepest existing prefix of ``path`` and its keys, composed without the bad override."""
    from omegaconf import DictConfig

    bad = ".".join(path)
    cfg = hydra_compose([o for o in overrides if not o.lstrip("+~").startswith(bad)])
    node, walked = cfg, []
    for part in path:
        if isinstance(node, DictConfig) and part in node:
            node, walked = node[part], walked + [part]
        else:
            break
    keys = [str(k) for k in node.keys()] if isinstance(node, DictConfig) else []
    return ".".join(walked + [path[len(walked)]]), keys


QUOTE_HINT = "quote a value with spaces, '=', ',' or other special characters: key='...'"


def unreadable(overrides: list[str], exc: BaseException | None = None) -> ConfigError:
    """Hydra cannot parse an override: which one, and what to do about it."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for o in overrides:
        try:
            parser.parse_override(o)
        except Exception as err:  # Hydra's parse errors have no common type
            key, _, value = o.lstrip("+~").partition("=")
            prefix = o[: len(o) - len(o.lstrip("+~"))]
            if not key.isascii():
                return ConfigError(key, "a key on the command line takes ASCII letters, digits and _ only",
                                   "a roster or preset file (hydra.searchpath) for names with other letters")
            if not value.isascii():
                return ConfigError(key, f"a value with non-ASCII letters must be quoted: {value!r}",
                                   f"{prefix}{key}='{value}'")
            if "=" in value:
                return ConfigError(key, f"cannot read {value!r}", f"{prefix}{key}='{value}' (quoted)")
            return ConfigError(key, f"cannot read {value!r} ({first_line(err)})", QUOTE_HINT)
    return ConfigError("", f"cannot parse the command line: {first_line(exc) if exc else '?'}", QUOTE_HINT)


def _nesting(value: str) -> int:
    depth = deepest = 0
    for char in value:
        depth += char in "{[" and 1 or (-1 if char in "}]" else 0)
        deepest = max(deepest, depth)
    return deepest


def too_deep(overrides: list[str]) -> ConfigError:
    """A value nested so deeply that composing it exhausts Python's recursion limit."""
    from guarantee_sim.model.triggers import MAX_NESTING

    deepest = max(overrides, key=_nesting, default="")
    key = deepest.lstrip("+~").split("=", 1)[0]
    allowed = f"any_of / all_of nested at most {MAX_NESTING} deep" if key.startswith("trigger") else "a shallower value"
    return ConfigError(key, "the value is nested too deeply to compose", allowed)


def explain(exc: BaseException, overrides: list[str]) -> ConfigError:
    if isinstance(exc, ConfigError):
        return exc
    text = str(exc)
    if isinstance(exc, RecursionError) or "maximum recursion depth" in text:
        return too_deep(overrides)
    if type(exc).__name__ == "OverrideParseException":
        return unreadable(overrides, exc)
    m = re.match(r"Ambiguous value for argument '([^']+)'", text)
    if m:
        key, _, value = m.group(1).partition("=")
        return ConfigError(key, f"several values ({value}) need -m, which makes a sweep of them",
                           f"guarantee-sim -m {key}={value} (a sweep); {key}=[{value}] (a list); "
                           f"{key}='{value}' (a string)")
    m = re.search(r"found duplicate key ['\"]?([^'\"\n]+?)['\"]?\s*\n\s*in \"([^\"]+)\", line (\d+)", text)
    if m:
        key, path, line = m.groups()
        group = path.replace("\\", "/").rsplit("/", 2)[-2] if "/" in path.replace("\\", "/") else ""
        if group in {f.name for f in dataclasses.fields(schema.GuaranteeConfig)}:  # a group's file: its keys are the group's
            key = f"{group}.{key}"
        return ConfigError(key.strip(), f"the key appears twice in a YAML mapping ({path}, line {line})", "each key once")
    m = re.search(r"Could not find '([^']+)/([^']+)'", text)
    if m:
        group, option = m.groups()
        options = re.search(r"Available options in '[^']+':\s*(.*?)\s*(Config search path|$)", text, re.S)
        allowed = ", ".join(options.group(1).split()) if options else None
        return ConfigError(group, f"unknown option {option!r}", allowed)
    if re.search(r"\b(study|sensitivity)\b", text) and any("sensitivity" in o for o in overrides):
        return ConfigError("experiment", "this preset is a sensitivity study", "run it with guarantee-sim-sensitivity")
    m = re.search(r"Could not append to config\. An item is already at '([^']+)'", text)
    if m:
        key = m.group(1)
        return ConfigError(key, "it is set already, so a leading + cannot add it", f"{key}=... (no +), or ++{key}=...")
    m = re.search(r"Could not override '([^']+)'", text)
    if m:
        path = m.group(1).split(".")
        try:
            key, keys = _parent_keys(path, overrides)
        except Exception:
            key, keys = m.group(1), []
        roster = key.startswith("coalition.states.")
        if roster and key.count(".") == 3:  # roster entries list only non-defaults: the schema's keys
            keys = [f.name for f in dataclasses.fields(schema.StateSpec)]
            if key.rsplit(".", 1)[1] in keys:
                value = next((o.split("=", 1)[1] for o in overrides if o.lstrip("+~").startswith(key + "=")), "...")
                return ConfigError(key, "this roster leaves it at its default, so it must be added",
                                   f"+{key}={value} (a leading + adds a key)")
        return unknown_key(key, keys, "state" if roster and key.count(".") == 2 else "key")
    m = re.search(r"Error merging override (\S+?)=(.*)", text)
    if m:
        key, value = m.groups()
        t = re.search(r"(?:converted to|is not a valid) (\w+)", str(exc.__cause__ or ""))
        allowed = (TYPE_WORDS.get(_HYDRA_TYPES.get(t.group(1))) or t.group(1)) if t else None
        return ConfigError(key, f"bad value {value!r}", allowed)
    return ConfigError("", first_line(exc))
