"""EMA Workbench drives the model through the adapter (the optional extra ``ema``): Latin hypercube
experiments, sequential and in a 2-process pool, then PRIM on the results."""

import inspect

import numpy as np
import pytest

ema_workbench = pytest.importorskip("ema_workbench", reason="the ema extra is not installed")

from guarantee_sim import ConfigError, simulate  # noqa: E402
from guarantee_sim.analysis.discovery import prim_box  # noqa: E402
from guarantee_sim.ema import OUTCOMES, ema_model, import_ema  # noqa: E402

SCENARIO = ["experiment=analytic"]
EXPERIMENTS = 50


@pytest.fixture(scope="module")
def ema():
    return import_ema()


def seeded_lhs(ema, seed: int) -> dict:
    """A fixed Latin hypercube: EMA 3 takes the generator's seed, EMA 2.5 draws from numpy's global one."""
    np.random.seed(seed)
    if "uncertainty_sampling_kwargs" in inspect.signature(ema.SequentialEvaluator.perform_experiments).parameters:
        return {"uncertainty_sampling": ema.Samplers.LHS, "uncertainty_sampling_kwargs": {"rng": seed}}
    return {"uncertainty_sampling": ema.Samplers.LHS}


@pytest.fixture(scope="module")
def sequential(ema):
    model = ema_model(SCENARIO, preset="analytic", runs=40, seed=3)
    with ema.SequentialEvaluator(model) as evaluator:
        return evaluator.perform_experiments(scenarios=EXPERIMENTS, **seeded_lhs(ema, 7))


def test_the_models_uncertainties_are_the_documented_lever_ranges(ema):
    model = ema_model(SCENARIO, preset="analytic")
    ranges = {u.name: (u.lower_bound, u.upper_bound) for u in model.uncertainties}
    assert ranges["attribution"] == (0.4, 0.95) and ranges["breach_rate"] == (0.001, 0.1)
    assert [o.name for o in model.outcomes] == list(OUTCOMES)


def test_an_experiment_is_simulate_at_those_values(sequential):
    experiments, outcomes = sequential
    assert len(experiments) == EXPERIMENTS and set(OUTCOMES) <= set(outcomes)
    row = experiments.iloc[7]
    df = simulate({"experiment": "analytic", "breach.params.rate": row["breach_rate"],
                   "monitoring.detection.artillery": row["detection"],
                   "commission.attribution_probability": row["attribution"],
                   "commission.investigation_time": row["investigation"],
                   "monitoring.report_delay": row["report_delay"],
                   "coordination.consultation_delay": row["consultation"],
                   "coalition.regimes.executive.delay": row["approval_delay"]}, runs=40, seed=3)
    assert outcomes["activation_probability"][7] == df["activated"].mean()
    # Latin hypercube: one experiment in each fiftieth of a range
    strata = np.floor((experiments["attribution"] - 0.4) / 0.55 * EXPERIMENTS).astype(int)
    assert sorted(strata) == list(range(EXPERIMENTS))


def test_a_log_scale_lever_is_sampled_log_uniformly_as_the_sobol_study_samples_it(sequential):
    """``breach_rate`` (``scale: log``, 0.001 to 0.1 a day): one experiment in each fiftieth of its
    range's logarithm, as ``Lever.from_unit`` maps the Sobol' study's samples; the same strata
    read on a linear scale are not all filled (most experiments would sit in the top decade)."""
    from guarantee_sim.ema import lever_ranges

    (lever,) = [lv for lv in lever_ranges("analytic", "poisson") if lv.name == "breach_rate"]
    assert lever.scale == "log"
    rate = sequential[0]["breach_rate"].to_numpy()
    assert rate.min() >= 0.001 and rate.max() <= 0.1
    log_strata = np.floor(np.log(rate / 0.001) / np.log(100) * EXPERIMENTS).astype(int)
    assert sorted(log_strata) == list(range(EXPERIMENTS))
    assert np.median(rate) < 0.02  # log-uniform: median 0.01; uniform would give about 0.05
    linear_strata = np.floor((rate - 0.001) / 0.099 * EXPERIMENTS).astype(int)
    assert sorted(linear_strata) != list(range(EXPERIMENTS))  # the companion: a uniform reading fails


def test_a_two_process_evaluator_gives_the_same_outcomes(ema, sequential):
    """EMA's process pool (daemonic workers) runs the same experiments to the same outcomes."""
    experiments, outcomes = sequential
    names = [u.name for u in ema_model(SCENARIO, preset="analytic").uncertainties]
    sample = getattr(ema, "Sample", None) or ema.Scenario  # EMA 3 renamed Scenario to Sample
    design = [sample(**{k: float(row[k]) for k in names}) for _, row in experiments.iterrows()]
    model = ema_model(SCENARIO, preset="analytic", runs=40, seed=3)
    with ema.MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        got_x, got = evaluator.perform_experiments(scenarios=design)
    assert len(got_x) == EXPERIMENTS
    np.testing.assert_array_equal(got_x[names].to_numpy(), experiments[names].to_numpy())
    for name in OUTCOMES:
        np.testing.assert_array_equal(got[name], outcomes[name])


def test_prim_finds_where_activation_fails(sequential):
    """EMA samples the breach rate log-uniformly on [0.001, 0.1]: activation falls short only where the
    rate is low, so PRIM's box must bound the breach rate from above and hold mostly such runs. Half
    the experiments have a rate below 0.01, where the other levers matter too, so the box asked for
    holds 70% failures (under uniform sampling, with few low rates, 80% was found)."""
    experiments, outcomes = sequential
    x = experiments[[u for u in experiments.columns if u not in ("scenario", "policy", "model")]]
    act = outcomes["activation_probability"]
    fails = act < np.quantile(act, 0.3)
    box = prim_box(x, fails, min_density=0.7)
    assert any(c.lever == "breach_rate" and c.op == "<=" for c in box), box
    inside = np.logical_and.reduce([c.mask(x) for c in box])
    assert fails[inside].mean() >= 0.7 and fails[inside].mean() > 3 * fails[~inside].mean()
    # the check can fail: outcomes unrelated to the levers give no such box
    shuffled = np.random.default_rng(0).permutation(fails)
    noise_box = prim_box(x, shuffled, min_density=0.7)
    inside = np.logical_and.reduce([c.mask(x) for c in noise_box]) if noise_box else np.ones(len(x), bool)
    assert not (shuffled[inside].mean() >= 0.7 and shuffled[inside].mean() > 3 * shuffled[~inside].mean())


def test_bad_adapter_input_is_one_line():
    with pytest.raises(ConfigError, match=r"^preset: unknown lever preset 'nope'; allowed: analytic"):
        ema_model(SCENARIO, preset="nope")
    with pytest.raises(ConfigError, match=r"^policies.commitments: "):
        ema_model(SCENARIO, preset="analytic", policies={"commitments": "paris_2026"})
    with pytest.raises(ConfigError, match=r"^breach: unknown option"):
        ema_model(["breach=nope"])
