"""Composing the scenario config from Python as the command line would (Hydra's compose API), and
the library's way in: a checked scenario from a list of overrides, a mapping or keyword levers,
composed once per set of presets and isolated from any Hydra app the caller runs (``docs/api.md``)."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import sys
import threading
from collections import OrderedDict
from typing import Mapping

import numpy as np
from omegaconf import MISSING

from guarantee_sim.errors import ConfigError
from guarantee_sim.model.registry import UNITS, unknown_key
from guarantee_sim.scenario import schema
from guarantee_sim.scenario.hydra_errors import explain, hydra_compose
from guarantee_sim.scenario.schema import CONFIG_MODULE

__all__ = ["CONFIG_MODULE", "compose_config", "job_config", "load_scenario", "delays_added", "replace_delays",  # CONFIG_MODULE: the schema's
           "scenario_config", "run_settings", "own_hydra"]


# a ``params`` mapping given together with a new rule or pattern replaces the old one's parameters
_REPLACED_WITH = {"trigger.params": "trigger.rule", "breach.params": "breach.pattern"}


def _replacing(text: str, overrides=(), sweeps: bool = False):
    """The override's key and mapping when the mapping replaces the node it overrides instead of being
    merged into it: a delay given as a distribution (``{dist: ...}``), or ``trigger.params`` /
    ``breach.params`` given with a new ``trigger.rule`` / ``breach.pattern``. With ``sweeps``, also a
    sweep any of whose values is such a mapping (its key and values)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if text.startswith(("~", "hydra.", "hydra/")) or "{" not in text:
        return None
    try:
        override = OverridesParser.create().parse_override(text)
    except Exception:  # unreadable: composing says why
        return None
    if override.is_delete():
        return None
    key, value = override.key_or_group, override.value()
    sibling = _REPLACED_WITH.get(key)
    if sibling and any(str(o).lstrip("+").startswith(sibling + "=") for o in overrides):
        replaces = lambda v: isinstance(v, dict)  # noqa: E731
    else:
        replaces = lambda v: isinstance(v, dict) and "dist" in v  # noqa: E731
    if override.is_sweep_override():
        values = getattr(value, "list", None) or []
        return (key, values) if sweeps and any(replaces(v) for v in values) else None
    return (key, value) if replaces(value) else None


def delays_added(overrides) -> list[str]:
    """The overrides with each replacing mapping (``_replacing``) given as ``++key={...}``: Hydra merges
    a mapping into the one it overrides and refuses keys the old one lacks (``median`` into a gamma's
    ``{dist, mean, shape}``) unless the override adds them; ``replace_delays`` then drops the old keys."""
    overrides = [str(o) for o in overrides]
    return ["++" + text.lstrip("+") if _replacing(text, overrides, sweeps=True) else text for text in overrides]


def replace_delays(cfg, overrides) -> None:
    """A delay given as a distribution, ``key={dist: lognormal, median: 14, sigma: 0.5}`` (or a rule's
    parameters given with the rule), replaces the node it overrides: the old distribution's or rule's
    keys are not kept."""
    from omegaconf import OmegaConf, open_dict

    overrides = [str(o) for o in overrides]
    for text in overrides:
        spec = _replacing(text, overrides)
        if spec:
            with open_dict(cfg):
                OmegaConf.update(cfg, spec[0], spec[1], merge=False)


def compose_config(overrides: tuple[str, ...] | list[str] = (), hydra: bool = False):
    """Compose the scenario config as the command line would, from Python.

    Hydra's own errors are turned into one-line ``ConfigError``s naming the key. ``hydra=True``
    keeps Hydra's own node (sweeper parameters, launcher). A caller's own Hydra app is set aside
    while composing (``own_hydra``).
    """
    overrides = list(overrides)
    with own_hydra():
        try:
            cfg = hydra_compose(delays_added(overrides), hydra)
            replace_delays(cfg, overrides)
            return cfg
        except Exception as exc:  # Hydra raises several unrelated types; all are bad input here
            raise explain(exc, overrides) from None


# From Python: a scenario from a list of overrides, a mapping or keywords ---------------------------
# The config groups: a string value picks a preset (conf/<group>/<name>.yaml) and is composed by Hydra;
# every other key is a value set on the composed config, which build_scenario checks.
GROUPS = tuple(f.name for f in dataclasses.fields(schema.GuaranteeConfig) if f.default == MISSING) + ("experiment",)
_CACHE_SIZE = 256  # composed configs and built scenarios kept (least recently used dropped)


class _Cache(OrderedDict):
    def get_or(self, key, make):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > _CACHE_SIZE:
            self.popitem(last=False)
        return value


_BASES: _Cache = _Cache()
_SCENARIOS: _Cache = _Cache()
_COMPOSED: _Cache = _Cache()  # composed configs (DictConfig), for a sweep's jobs
_NODES: _Cache = _Cache()  # a preset's node as composed in place of a sweep's first choice
_SETTING = threading.Lock()  # a cached typed config is changed in place, and put back, under it


def _ours(gh) -> bool:
    """Hydra is initialised on this package's own config (our command, or our compose)."""
    try:
        sources = gh.config_loader().get_sources()
    except Exception:  # no loader: not ours
        return False
    return any(s.provider == "main" and s.path == f"pkg://{CONFIG_MODULE}" for s in sources)


@contextlib.contextmanager
def own_hydra():
    """Compose in this package's Hydra context whatever Hydra state the caller has.

    Inside a caller's own Hydra app (``@hydra.main``, ``initialize_config_dir``) Hydra is
    initialised on the caller's configs; composing there would read the caller's ``config.yaml``.
    Its global state is set aside while we compose and put back afterwards.
    """
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.singleton import Singleton

    gh = GlobalHydra.instance()
    if not gh.is_initialized() or _ours(gh):
        yield
        return
    saved = Singleton._instances.pop(GlobalHydra)
    try:
        yield
    finally:
        Singleton._instances[GlobalHydra] = saved


def split_spec(spec=(), levers: Mapping | None = None) -> tuple[tuple[str, ...], dict]:
    """``(overrides Hydra composes, values set on the composed config)`` from a list of overrides
    (``["breach=hybrid"]``), a mapping (``{"breach": "hybrid", "commission.attribution_probability": 0.6}``)
    and keyword levers (``breach="hybrid"``; ``None`` leaves a key as the config has it)."""
    if isinstance(spec, (str, bytes)):
        raise ConfigError("overrides", f"expected a list of overrides or a mapping, got the string {spec!r}",
                          f"[{spec!r}], or a mapping such as {{'breach': 'hybrid'}}")
    items: dict = {}
    if isinstance(spec, Mapping):
        overrides: tuple[str, ...] = ()
        items.update(spec)
    else:
        try:
            overrides = tuple(spec or ())
        except TypeError:
            raise ConfigError("overrides", f"expected a list of overrides or a mapping, got {spec!r}",
                              "['breach=hybrid', ...] or {'breach': 'hybrid', ...}") from None
        for o in overrides:
            if not isinstance(o, str):
                raise ConfigError("overrides", f"each override is a string such as 'breach=hybrid', got {o!r}",
                                  "['breach=hybrid', 'commission.attribution_probability=0.6', ...]")
    items.update({k: v for k, v in (levers or {}).items() if v is not None})
    groups, values = [], {}
    for key, value in items.items():
        if not isinstance(key, str) or not key or key.startswith(("+", "~", ".")) or key.endswith("."):
            raise ConfigError(str(key), "a key is a dotted name as typed on the command line",
                              "e.g. 'breach', 'horizon', 'commission.attribution_probability'")
        if key in GROUPS:
            if not isinstance(value, str):
                raise ConfigError(key, f"expected the name of a preset, got {value!r}", f"a file name in conf/{key}/")
            groups.append(f"{key}={value}")
        else:
            values[key] = value
    return overrides + tuple(groups), values


def _plain(value):
    """A value as a plain config holds it (tuples as lists, mappings as dicts)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def set_values(config: dict, values: Mapping) -> dict:
    """Set dotted keys on a plain config (in place; returned). A mapping is merged into the mapping it
    sets, except a delay given as a distribution (``{"dist": ...}``) and ``breach.params`` /
    ``trigger.params`` given with a new pattern or rule, which replace it (as on the command line).
    A key the config lacks is added; ``build_scenario`` then names it if the schema has no such key."""
    for key, value in values.items():
        parts = key.split(".")
        node = config
        for i, part in enumerate(parts[:-1]):
            if not isinstance(node, dict) or part not in node:
                raise unknown_key(".".join(parts[: i + 1]), list(node) if isinstance(node, dict) else [])
            node = node[part]
        if not isinstance(node, dict):
            raise ConfigError(key, f"{'.'.join(parts[:-1])} is a value, not a mapping", "a key of the composed config")
        last, value = parts[-1], _plain(value)
        old = node.get(last)
        sibling = _REPLACED_WITH.get(key)
        replaces = "dist" in value or (sibling and sibling in values) if isinstance(value, dict) else True
        if isinstance(old, dict) and isinstance(value, dict) and not replaces:
            set_values(old, {k: v for k, v in value.items()})
        else:
            node[last] = value
    return config


# A sweep's jobs, composed from one of them -------------------------------------------------------
def _composed(overrides: tuple[str, ...]):
    return _COMPOSED.get_or(overrides, lambda: compose_config(overrides))


def _by_key(overrides: tuple[str, ...]) -> dict[str, str] | None:
    """Plain ``key=value`` overrides by key; None when one adds, deletes or sets a mapping (those
    are left to Hydra)."""
    out = {}
    for o in overrides:
        key, sep, _ = o.partition("=")
        if not sep or o.startswith(("+", "~")) or "{" in o or key in out:
            return None
        out[key] = o
    return out


def _group_node(first: tuple[str, ...], group: str, override: str):
    """``group``'s node as composed with ``override`` in place of ``first``'s choice, or None when that
    choice changes anything outside the group (a preset with defaults of its own elsewhere)."""
    from omegaconf import OmegaConf

    def make():
        other = tuple(override if o.partition("=")[0] == group else o for o in first)
        base, alt = _base(first).copy(), _base(other).copy()
        base.pop(group), alt.pop(group)
        return (_composed(other)[group], _base(other)[group]) if base == alt else None

    return _NODES.get_or((first, group, override), make)


def job_config(first, job) -> dict:
    """The resolved config of a sweep job, as Hydra would compose it, from the config of the sweep's
    ``first`` job: each preset that differs is composed once per sweep (not once per job) and put in
    place when it changes nothing outside its own group, then the values that differ are set by
    Hydra's own rules for overrides. Jobs this cannot compose so (a preset with defaults reaching
    other groups, ``+``/``~`` overrides, mappings, another experiment) are composed by Hydra."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    first, job = tuple(str(o) for o in first), tuple(str(o) for o in job)
    f, j = _by_key(first), _by_key(job)
    changed = [k for k in (j or {}) if f is not None and j[k] != f.get(k)]
    if job == first or f is None or j is None or f.keys() != j.keys() or "experiment" in changed:
        return base_config(job)
    nodes = {group: _group_node(first, group, j[group]) for group in changed if group in GROUPS}
    if any(node is None for node in nodes.values()):
        return base_config(job)
    values = [j[k] for k in changed if k not in GROUPS]
    if not values:  # presets only: the resolved nodes put together
        plain = dict(_base(first))
        plain.update({group: node[1] for group, node in nodes.items()})
        return copy.deepcopy(plain)
    if not nodes:
        return _with_values(first, job, values)
    cfg = copy.deepcopy(_composed(first))  # values are set on the typed config, as Hydra sets them
    for group, node in nodes.items():
        cfg[group] = copy.deepcopy(node[0])
    try:
        ConfigLoaderImpl._apply_overrides_to_config(OverridesParser.create().parse_overrides(values), cfg)
    except Exception as exc:  # as composing would say it
        raise explain(exc, list(job)) from None
    return OmegaConf.to_container(cfg, resolve=True)


def _with_values(first: tuple[str, ...], job: tuple[str, ...], values: list[str]) -> dict:
    """``first``'s config with other values only: each set by Hydra's rules on ``first``'s typed config
    (cached, so no copy of it), read back, and the typed config put back as it was; the first job's
    resolved config takes the values read. Its non-Hydra part has no interpolation to re-resolve."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    def plain(node):
        return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node

    cfg, keys = _composed(first), [v.partition("=")[0] for v in values]
    with _SETTING:
        saved = {k: plain(OmegaConf.select(cfg, k)) for k in keys}
        try:
            ConfigLoaderImpl._apply_overrides_to_config(OverridesParser.create().parse_overrides(values), cfg)
            got = {k: plain(OmegaConf.select(cfg, k)) for k in keys}
        except Exception as exc:  # as composing would say it
            raise explain(exc, list(job)) from None
        finally:
            for k, v in saved.items():
                OmegaConf.update(cfg, k, v, merge=False)
    out = base_config(first)
    for key, value in got.items():
        *path, last = key.split(".")
        node = out
        for part in path:
            node = node[part]
        node[last] = value
    return out


def _base(overrides: tuple[str, ...]) -> dict:
    from omegaconf import OmegaConf

    return _BASES.get_or(overrides, lambda: OmegaConf.to_container(_composed(overrides), resolve=True))


def base_config(overrides: tuple[str, ...] = ()) -> dict:
    """The composed, resolved config as a plain dict (composed once per overrides; a fresh copy)."""
    return copy.deepcopy(_base(tuple(overrides)))


def scenario_config(spec=(), **levers) -> dict:
    """The plain config of a scenario given as overrides, a mapping and/or keyword levers."""
    overrides, values = split_spec(spec, levers)
    return set_values(base_config(overrides), values)


def run_settings(spec=(), **levers) -> dict:
    """The run settings (runs, seed, workers, ...) of a scenario given as ``load_scenario`` takes it."""
    overrides, values = split_spec(spec, levers)
    base = _base(overrides)
    return {k: values.get(k, base[k]) for k in schema.RUN_SETTINGS}


def _frozen(value):
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def load_scenario(spec=(), /, **levers):
    """A checked ``Scenario`` from a list of overrides, a mapping of keys to values and/or keyword
    levers, as the command line would compose it. Hydra composes each set of presets once; values
    are set on a copy of the composed config, so many scenarios that differ in values cost one
    composition (built scenarios are cached too)."""
    from guarantee_sim.scenario.build import build_scenario

    overrides, values = split_spec(spec, levers)
    key = (overrides, _frozen(_plain(values)))
    return _SCENARIOS.get_or(key, lambda: build_scenario(set_values(base_config(overrides), values)))


def model_inputs(scenario, overrides, levers: Mapping, seed, rng):
    """What ``GuaranteeModel(...)`` runs: the scenario (given, or from overrides and keyword levers)
    and the integer seed it uses (``seed``; else ``rng`` as Mesa's tools pass it: an int, a
    ``numpy`` Generator or SeedSequence; else fresh entropy). The seed is checked: a whole number >= 0."""
    if scenario is not None and (overrides or any(v is not None for v in levers.values())):
        raise ConfigError("scenario", "give a built scenario or overrides and levers, not both",
                          "GuaranteeModel(scenario) or GuaranteeModel(breach=..., trigger=...)")
    if scenario is None:
        scenario = load_scenario(overrides if overrides is not None else (), **levers)
    if seed is None:
        seed = rng
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**63 - 1))
    elif isinstance(seed, np.random.SeedSequence):
        seed = int(seed.generate_state(1, np.uint64)[0] >> np.uint64(1))
    elif seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)
    return scenario, UNITS["seed"].check(_plain(seed), "seed")


def batch_run_day_step(horizon: float) -> float:
    """Days one ``step()`` advances: 1, or more when ``mesa.batch_run`` builds the model with a
    ``max_steps`` too small to reach the horizon one day at a time (its loop stops after
    ``max_steps`` steps whatever the model's time; read from the calling ``_model_run_func``).
    Events are processed in time order whatever the step, so the outcome is the same."""
    frame = sys._getframe(1)
    for _ in range(8):
        frame = frame.f_back
        if frame is None:
            break
        code = frame.f_code
        if code.co_name == "_model_run_func" and code.co_filename.replace("\\", "/").endswith("mesa/batchrunner.py"):
            max_steps = frame.f_locals.get("max_steps")
            if isinstance(max_steps, int) and 0 < max_steps < math.ceil(horizon):
                return horizon / (max_steps - 0.5)  # the horizon within max_steps steps, rounding aside
            break
    return 1.0
