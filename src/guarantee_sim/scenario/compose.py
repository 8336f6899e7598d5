"""Composing the scenario config from Python as the command line would (Hydra's compose API)."""

from __future__ import annotations

from guarantee_sim.scenario.hydra_errors import explain, hydra_compose
from guarantee_sim.scenario.schema import CONFIG_MODULE

__all__ = ["CONFIG_MODULE", "compose_config", "load_scenario", "delays_added", "replace_delays"]  # CONFIG_MODULE: the schema's


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
    keeps Hydra's own node (sweeper parameters, launcher).
    """
    overrides = list(overrides)
    try:
        cfg = hydra_compose(delays_added(overrides), hydra)
        replace_delays(cfg, overrides)
        return cfg
    except Exception as exc:  # Hydra raises several unrelated types; all are bad input here
        raise explain(exc, overrides) from None


_SCENARIOS: dict = {}


def load_scenario(overrides: tuple[str, ...] = ()):
    """Compose and check a scenario (cached by its overrides)."""
    from guarantee_sim.scenario.build import build_scenario

    key = tuple(overrides)
    if key not in _SCENARIOS:
        _SCENARIOS[key] = build_scenario(compose_config(key))
    return _SCENARIOS[key]
