"""The Python API: simulate(), GuaranteeModel() and Mesa's own tools."""

import inspect

import mesa
import pandas as pd
import pytest

from guarantee_sim import ConfigError, GuaranteeModel, Scenario, load_scenario, run, simulate, summarize
from guarantee_sim.model.agents import CoalitionState, SupportStatus, Ukraine, Violator
from guarantee_sim.model.outcomes import STAGES

REQUIRED = [
    "run", "seed", "activated", "activation_day", "trigger_day", "stage", "n_breaches", "n_detected",
    "n_attributed", "n_false_alarms", "activation_day_military", "activation_day_intelligence",
    "activation_day_logistical", "activation_day_diplomatic", "activation_day_economic", "states_activated",
    "capacity_share", "support_in_time", "false_activation", "deterred",
]


def test_simulate_returns_one_row_per_run_with_the_promised_columns():
    df = simulate(overrides=["breach=surge_offensive", "trigger=armed_attack"], runs=60, seed=7)
    assert isinstance(df, pd.DataFrame) and len(df) == 60
    assert set(REQUIRED) <= set(df.columns)
    assert list(df["run"]) == list(range(60))
    assert df["activated"].dtype == bool
    assert df["activation_day"].dtype == float
    assert (df["activated"] == df["activation_day"].notna()).all()
    assert set(df["stage"]) <= set(STAGES)
    assert ((df["stage"] == "activated") == df["activated"]).all()
    assert df["capacity_share"].between(0, 1).all()
    assert df.loc[df["offensive_day"].isna(), "support_in_time"].isna().all()
    assert df.loc[df["offensive_day"].notna(), "support_in_time"].notna().all()
    active = df[df["activated"]]
    assert (active["trigger_day"] <= active["activation_day"]).all()


def test_config_defaults_apply_when_arguments_are_omitted():
    df = simulate(overrides=["runs=5", "seed=3", "horizon=60"])
    assert len(df) == 5
    assert df.equals(simulate(overrides=["horizon=60"], runs=5, seed=3))


def test_default_model_builds_the_paris_scenario_and_holds_mesa_agents():
    model = GuaranteeModel(seed=1)
    states = list(model.agents_by_type[CoalitionState])
    assert len(states) == 35
    assert {a.name for a in states} >= {"France", "Germany", "United Kingdom", "United States", "Japan"}
    assert len(model.agents_by_type[Ukraine]) == 1 and len(model.agents_by_type[Violator]) == 1
    assert model.spec.labels["breach"] == "sporadic"
    assert model.force.deployed and 15000 <= model.force.troops <= 30000
    assert all(s is SupportStatus.COMMITTED or s is SupportStatus.NOT_COMMITTED for a in states for s in a.status.values())


def seeding(seeds):
    """mesa 3.5 seeds batch runs through ``rng=`` (and drops seeds given as parameters); 3.3 does not."""
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        return {"rng": seeds}, {}
    return {"iterations": 1}, {"seed": seeds}


def test_mesa_batch_run_drives_the_model():
    run_kwargs, seed_params = seeding([1, 2, 3])
    results = mesa.batch_run(
        GuaranteeModel,
        parameters={"overrides": [("trigger=any_attributed", "horizon=90")], **seed_params},
        **run_kwargs,
        max_steps=200,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    assert sorted(row["seed"] for row in results) == [1, 2, 3]
    for row in results:
        direct = GuaranteeModel(overrides=("trigger=any_attributed", "horizon=90"), seed=row["seed"], collect=False).run()
        assert row["breaches"] == direct["n_breaches"]
        assert row["attributed"] == direct["n_attributed"]
        assert (row["binding_share"] >= 0.5 - 1e-9) == direct["activated"]


def test_the_event_record_of_a_run_follows_its_row():
    model = GuaranteeModel(overrides=("trigger=any_attributed",), seed=4, collect=False, record=True)
    row = model.run()
    events = model.events
    assert (events["kind"] == "breach").sum() == row["n_incidents"]
    assert events["day"].is_monotonic_increasing
    assert row["activated"]  # seed 4 activates: the record must say when
    overall = events[(events["kind"] == "activation") & events["support"].isna()]
    assert overall["day"].tolist() == [row["activation_day"]]


def test_low_level_fire_does_not_exhaust_the_defence():
    df = simulate(overrides=["breach=surge_offensive", "trigger=armed_attack"], runs=80, seed=2)
    offensive = df[df["offensive_day"].notna()]
    assert len(offensive) > 10
    assert (offensive["holding_time"] > 25).all()


def test_without_the_monitoring_lead_detection_falls():
    kept = simulate(overrides=["breach=chronic", "horizon=60"], runs=10, seed=1)
    no_us = simulate(overrides=["breach=chronic", "horizon=60", "coalition.exclude=[United States]",
                                "commission.lead=France"], runs=10, seed=1)
    assert (kept["n_breaches"] == no_us["n_breaches"]).all()
    ratio = no_us["n_detected"].sum() / kept["n_detected"].sum()
    assert 0.6 < ratio < 0.9


# the library API: a scenario built once, run many times -------------------------------------------
def test_list_mapping_and_keywords_give_the_same_rows():
    as_list = simulate(["breach=hybrid", "trigger=any_attributed", "commission.attribution_probability=0.6"], runs=40, seed=5)
    as_mapping = simulate({"breach": "hybrid", "trigger": "any_attributed", "commission.attribution_probability": 0.6},
                          runs=40, seed=5)
    as_keywords = simulate(breach="hybrid", trigger="any_attributed", runs=40, seed=5,
                           **{"commission.attribution_probability": 0.6})
    pd.testing.assert_frame_equal(as_list, as_mapping)
    pd.testing.assert_frame_equal(as_list, as_keywords)
    # and the value matters: the check can fail
    other = simulate({"breach": "hybrid", "trigger": "any_attributed", "commission.attribution_probability": 0.2},
                     runs=40, seed=5)
    assert other["n_attributed"].sum() < as_list["n_attributed"].sum()


def test_a_scenario_built_once_runs_like_simulate():
    scenario = load_scenario({"breach": "surge_offensive", "horizon": 200})
    assert isinstance(scenario, Scenario) and scenario.horizon == 200
    pd.testing.assert_frame_equal(run(scenario, runs=30, seed=2), simulate(["breach=surge_offensive", "horizon=200"],
                                                                           runs=30, seed=2))
    assert load_scenario({"breach": "surge_offensive", "horizon": 200}) is scenario  # built once


def test_mapping_values_replace_delays_and_merge_mappings_as_the_command_line_does():
    cli = load_scenario(["commission.investigation_time={dist: lognormal, median: 9, sigma: 0.3}",
                         "monitoring.detection.artillery=0.5"])
    api = load_scenario({"commission.investigation_time": {"dist": "lognormal", "median": 9, "sigma": 0.3},
                         "monitoring.detection": {"artillery": 0.5}})
    pd.testing.assert_frame_equal(run(api, runs=40, seed=8), run(cli, runs=40, seed=8))
    assert api.labels == cli.labels


def test_repeated_calls_do_not_compose_again(monkeypatch):
    from guarantee_sim.scenario import compose

    simulate({"breach": "chronic", "horizon": 90}, runs=2, seed=1)
    calls = []
    monkeypatch.setattr(compose, "hydra_compose", lambda *a, **k: calls.append(a))
    for rate in (0.3, 0.4, 0.5):
        simulate({"breach": "chronic", "horizon": 90, "commission.attribution_probability": rate}, runs=2, seed=1)
    assert calls == []


def test_runs_tables_carry_the_horizon_and_the_event_flag():
    df = simulate(["breach=surge_offensive", "horizon=120"], runs=50, seed=4)
    assert (df["horizon"] == 120.0).all()
    assert df["event"].dtype == bool and (df["event"] == df["activation_day"].notna()).all()
    # summarize reads the horizon from the table; an explicit one that disagrees is refused
    assert summarize(df) == summarize(df, horizon=120.0)
    with pytest.raises(ConfigError, match=r"^horizon: .*120"):
        summarize(df, horizon=365.0)


BAD_CALLS = [
    (dict(overrides="breach=hybrid"), "overrides", "['breach=hybrid']"),
    (dict(overrides=["breach=hybrid"], seed=1.7), "seed", "whole number"),
    (dict(overrides=["breach=hybrid"], seed=-1), "seed", "whole number"),
    (dict(overrides=["breach=hybrid"], runs=2.5), "runs", "1, 2, 3"),
    (dict(overrides=["breach=hybrid"], runs="10"), "runs", "1, 2, 3"),
    (dict(overrides=["breach=hybrid"], runs=-3), "runs", "1, 2, 3"),
    (dict(overrides=["breach=hybrid"], runs="auto"), "runs", "1, 2, 3"),
    (dict(overrides=["breach=hybrid"], workers=0), "workers", "1, 2, 3"),
    (dict(overrides={"breach": "hybird"}), "breach", "hybrid"),
    (dict(overrides={"commission.atribution_probability": 0.5}), "commission.atribution_probability",
     "attribution_probability"),
    (dict(overrides={"commission.attribution_probability": 1.5}), "commission.attribution_probability", "[0, 1]"),
    (dict(overrides={"comission.lead": "France"}), "comission", "commission"),
    (dict(breach=3), "breach", "conf/breach/"),
]


@pytest.mark.parametrize("kwargs,key,allowed", BAD_CALLS, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD_CALLS)])
def test_bad_arguments_give_one_line_naming_the_key(kwargs, key, allowed):
    kwargs = {"runs": 2, **kwargs}
    with pytest.raises(ConfigError) as info:
        simulate(**kwargs)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"{key}:"), text
    assert allowed in text.split("allowed:", 1)[1], text
