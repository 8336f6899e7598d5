"""guarantee_sim: an exploratory agent-based model of post-ceasefire security guarantees for Ukraine.

    from guarantee_sim import load_scenario, run, simulate, summarize
    df = simulate(["breach=hybrid", "trigger=armed_attack"], runs=500, seed=7)
    scenario = load_scenario({"breach": "hybrid", "commission.attribution_probability": 0.6})
    df = run(scenario, runs=500, seed=7)      # built once, run many times
    summarize(df)["activation_probability"]

The API is documented in docs/api.md.

Results are probabilities with uncertainty bands from a model built on sourced figures and
labelled assumptions (docs/parameters.md); they explore designs, they do not predict.
The public names are imported on first use, so ``import guarantee_sim`` stays cheap.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "ConfigError": "guarantee_sim.errors",
    "GuaranteeModel": "guarantee_sim.model.engine",
    "EventKind": "guarantee_sim.model.events",
    "Scenario": "guarantee_sim.scenario.build",
    "SerialFallbackWarning": "guarantee_sim.runs.runner",
    "compose_config": "guarantee_sim.scenario.compose",
    "load_scenario": "guarantee_sim.scenario.compose",
    "run": "guarantee_sim.runs.runner",
    "run_replications": "guarantee_sim.runs.runner",
    "simulate": "guarantee_sim.runs.runner",
    "summarize": "guarantee_sim.analysis.stats",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'guarantee_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
