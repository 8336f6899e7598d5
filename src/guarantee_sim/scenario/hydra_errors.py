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
        roster = key.startswith("coalition.states.")
        if roster and key.count(".") == 3:  # roster entries list only non-defaults: the schema's keys
            keys = [f.name for f in dataclasses.fields(schema.StateSpec)]
        return unknown_key(key, keys, "state" if roster and key.count(".") == 2 else "key")
    m = re.search(r"Error merging override (\S+?)=(.*)", text)
    if m:
        key, value = m.groups()
        t = re.search(r"(?:converted to|is not a valid) (\w+)", str(exc.__cause__ or ""))
        allowed = (TYPE_WORDS.get(_HYDRA_TYPES.get(t.group(1))) or t.group(1)) if t else None
        return ConfigError(key, f"bad value {value!r}", allowed)
    return ConfigError("", first_line(exc))
