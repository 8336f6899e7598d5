"""Composing the scenario config from Python as the command line would (Hydra's compose API)."""

from __future__ import annotations

from guarantee_sim.scenario import schema  # noqa: F401  (registers the schema with Hydra's ConfigStore)

# composing -------------------------------------------------------------------------------
CONFIG_MODULE = "guarantee_sim.conf"


def compose_config(overrides: tuple[str, ...] | list[str] = (), hydra: bool = False):
    """Compose the scenario config as the command line would, from Python.

    Hydra's own errors are turned into one-line ``ConfigError``s naming the key. ``hydra=True``
    keeps Hydra's own node (sweeper parameters, launcher).
    """
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    overrides = list(overrides)
    try:
        if GlobalHydra.instance().is_initialized():
            return compose("config", overrides=overrides, return_hydra_config=hydra)
        with initialize_config_module(CONFIG_MODULE, version_base="1.3"):
            return compose("config", overrides=overrides, return_hydra_config=hydra)
    except Exception as exc:  # Hydra raises several unrelated types; all are bad input here
        from guarantee_sim.scenario.hydra_errors import explain

        raise explain(exc, overrides) from None


_SCENARIOS: dict = {}


def load_scenario(overrides: tuple[str, ...] = ()):
    """Compose and check a scenario (cached by its overrides)."""
    from guarantee_sim.scenario.build import build_scenario

    key = tuple(overrides)
    if key not in _SCENARIOS:
        _SCENARIOS[key] = build_scenario(compose_config(key))
    return _SCENARIOS[key]
