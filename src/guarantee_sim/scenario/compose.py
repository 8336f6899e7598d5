"""Composing the scenario config from Python as the command line would (Hydra's compose API)."""

from __future__ import annotations

from guarantee_sim.scenario.hydra_errors import explain, hydra_compose
from guarantee_sim.scenario.schema import CONFIG_MODULE

__all__ = ["CONFIG_MODULE", "compose_config", "load_scenario"]  # CONFIG_MODULE: the schema's, named here too


def compose_config(overrides: tuple[str, ...] | list[str] = (), hydra: bool = False):
    """Compose the scenario config as the command line would, from Python.

    Hydra's own errors are turned into one-line ``ConfigError``s naming the key. ``hydra=True``
    keeps Hydra's own node (sweeper parameters, launcher).
    """
    overrides = list(overrides)
    try:
        return hydra_compose(overrides, hydra)
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
