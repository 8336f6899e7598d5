"""EMA Workbench as a client: an EMA ``Model`` of one scenario whose uncertainties are the
project's lever ranges and whose outcomes are the summary measures (the optional extra ``ema``).

    pip install "guarantee-sim[ema]"

    from ema_workbench import Samplers, SequentialEvaluator
    from guarantee_sim.ema import ema_model
    model = ema_model(["breach=strategic"], runs=100, policies={"commitments": ["paris_2026", "article5_like"]})
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=200, policies=2,
                                                              uncertainty_sampling=Samplers.LHS)

The uncertainties are the levers of a preset in ``conf/sensitivity/`` (the "Lever ranges" table of
``docs/parameters.md``, which a test holds the presets to) that apply under the scenario's breach
pattern; EMA samples each between its low and high as the Sobol' study does: uniformly, or
log-uniformly for a ``scale: log`` lever (a rate over two orders of magnitude would otherwise put nine
in ten experiments in its top decade). EMA policy levers are presets (``commitments``, ``trigger``,
...) or any key, each a ``CategoricalParameter``. Every experiment runs the same run seeds (common
random numbers), so experiments differ by their levers, not by their draws; an experiment is
``guarantee_sim.simulate`` with the same overrides and seed. Experiments are picklable, so EMA's
``MultiprocessingEvaluator`` runs them in its worker processes (each runs its replications serially).
"""

from __future__ import annotations

import math
import warnings
from typing import Mapping, Sequence

from guarantee_sim.errors import ConfigError

# The summary measures an experiment returns (``analysis/stats.py: summarize``), each a probability
# but the median days to activation (Kaplan-Meier; the horizon where not reached, as in the Sobol' study).
OUTCOMES = ("activation_probability", "attack_probability", "support_in_time_given_attack",
            "protected_probability", "median_days_to_activation")


def import_ema():
    """``ema_workbench``, or one line saying how to install it."""
    try:
        with warnings.catch_warnings():
            # EMA warns on import that its optional ipyparallel evaluator is not installed
            warnings.filterwarnings("ignore", message="ipyparallel not installed")
            import ema_workbench
    except ImportError:
        raise ImportError('guarantee_sim.ema needs EMA Workbench: pip install "guarantee-sim[ema]"') from None
    return ema_workbench


def lever_ranges(preset: str = "paris_2026", breach: str | None = None):
    """The levers of ``conf/sensitivity/<preset>.yaml`` that apply under the breach pattern."""
    from importlib import resources

    import yaml

    from guarantee_sim.analysis.sensitivity.levers import levers_from_study
    from guarantee_sim.scenario.schema import CONFIG_MODULE

    folder = resources.files(CONFIG_MODULE) / "sensitivity"
    presets = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))
    if preset not in presets:
        raise ConfigError("preset", f"unknown lever preset {preset!r}", ", ".join(presets))
    levers = yaml.safe_load((folder / f"{preset}.yaml").read_text())["levers"]
    return levers_from_study(levers, breach)


def summary_outcomes(df, outcomes: Sequence[str] = OUTCOMES) -> dict:
    """The summary measures of a runs table, one number each."""
    from guarantee_sim.analysis.stats import summarize

    summary = summarize(df)
    out = {}
    for name in outcomes:
        value = summary[name]["estimate"]
        if name == "median_days_to_activation" and math.isnan(value):
            value = summary["horizon"]  # not reached within the horizon
        out[name] = float(value)
    return out


class Experiment:
    """One EMA experiment: the scenario at the given values, its runs, their summary measures.

    Called by EMA with keyword arguments (uncertainties and policy levers by name); picklable.
    """

    def __init__(self, overrides: Sequence[str], levers, runs: int, seed: int, outcomes: Sequence[str]):
        self.overrides, self.levers, self.runs, self.seed = tuple(overrides), list(levers), runs, seed
        self.outcomes = tuple(outcomes)

    def __call__(self, **values) -> dict:
        from guarantee_sim.runs.runner import run
        from guarantee_sim.scenario.compose import load_scenario

        keyed = {}
        for lever in self.levers:
            if lever.name in values:
                keyed.update(dict.fromkeys(lever.keys, float(values.pop(lever.name))))
        keyed.update(values)  # policy levers: presets (commitments=...) or keys, as given
        scenario = load_scenario(self.overrides, **keyed)
        return summary_outcomes(run(scenario, self.runs, self.seed), self.outcomes)


def uncertainty(ema, lever):
    """A lever as an EMA ``RealParameter`` over its range, on its scale: a ``scale: log`` lever's
    distribution is scipy's log-uniform (EMA's samplers read a parameter's ``dist``)."""
    if lever.scale == "log":
        from scipy import stats

        return ema.RealParameter.from_dist(lever.name, stats.loguniform(lever.low, lever.high))
    return ema.RealParameter(lever.name, lever.low, lever.high)


def ema_model(overrides: Sequence[str] = (), *, preset: str = "paris_2026", runs: int = 100, seed: int = 0,
              policies: Mapping[str, Sequence] | None = None, outcomes: Sequence[str] = OUTCOMES,
              name: str = "guaranteesim"):
    """An EMA Workbench ``Model`` of the scenario ``overrides``.

    Uncertainties: the lever preset's ranges (``uncertainty``: a ``RealParameter`` per lever); policy levers:
    ``policies`` (``{"commitments": ["paris_2026", "article5_like"]}``, a ``CategoricalParameter``
    each); outcomes: ``outcomes`` (``ScalarOutcome`` each); ``name``: letters and digits (EMA's rule).
    Each experiment runs ``runs`` runs
    from root seed ``seed``. Bad input stops here with one line, before EMA runs anything.
    """
    from guarantee_sim.runs.runner import _setting
    from guarantee_sim.scenario.compose import load_scenario

    ema = import_ema()
    scenario = load_scenario(overrides)
    runs, seed = _setting(runs, "runs", "runs"), _setting(seed, "seed", "seed")
    unknown = [o for o in outcomes if o not in OUTCOMES]
    if unknown:
        raise ConfigError("outcomes", f"unknown outcome {unknown[0]!r}", ", ".join(OUTCOMES))
    levers = lever_ranges(preset, scenario.labels.get("breach"))
    policies = dict(policies or {})
    for key, options in policies.items():
        if isinstance(options, (str, bytes)) or not list(options):
            raise ConfigError(f"policies.{key}", f"expected a list of values, got {options!r}", "e.g. ['a', 'b']")
        for option in options:  # each option composes and passes the checks now, not in a worker
            load_scenario(overrides, **{key: option})
    model = ema.Model(name, function=Experiment(overrides, levers, runs, seed, outcomes))
    model.uncertainties = [uncertainty(ema, lv) for lv in levers]
    model.levers = [ema.CategoricalParameter(key, list(options)) for key, options in policies.items()]
    model.outcomes = [ema.ScalarOutcome(o) for o in outcomes]
    return model
