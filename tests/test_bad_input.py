"""Bad input: one line naming the key and what is allowed, exit code 2, nothing written."""

import copy
import dataclasses
import os
import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from guarantee_sim.errors import ConfigError
from guarantee_sim.model.registry import PARSED_UNITS, UNITS, build_params, check_fields
from guarantee_sim.runs import cli
from guarantee_sim.scenario import schema
from guarantee_sim.scenario.build import build_scenario
from guarantee_sim.scenario.compose import compose_config

CASES = [
    (["breach=sporadik"], "breach", "sporadic"),
    (["commitments.types.military.folow_through=0.5"], "commitments.types.military.folow_through", "follow_through"),
    (["breach.params.rat=0.1", "breach=poisson"], "breach.params.rat", "rate"),
    (["horizn=100"], "horizn", "horizon"),
    (["commission.attribution_probability=1.5"], "commission.attribution_probability", "[0, 1]"),
    (["monitoring.detection.artillery=-0.1"], "monitoring.detection.artillery", "[0, 1]"),
    (["coordination.consultation_delay=-1"], "coordination.consultation_delay", "non-negative"),
    (["commission.investigation_time={dist: gamma, mean: -3, shape: 2}"], "commission.investigation_time.mean", "positive"),
    (["commission.investigation_time={dist: weibull, mean: 3}"], "commission.investigation_time.dist", "lognormal"),
    (["coalition.states.Germny.regime=executive"], "coalition.states.Germny", "Germany"),
    (["coalition.exclude=[Atlantis]"], "coalition.exclude[0]", "France"),
    (["commission.decision_rule=lead_nation", "commission.lead=Narnia"], "commission.lead", "France"),
    (["commission.decision_rule=lead_nation", "commission.lead=Albania"], "commission.lead", "United States"),
    (["horizon=soon"], "horizon", "a number"),
    (["force.deployed=maybe"], "force.deployed", "true, false"),
    (["monitoring.false_alarm_rate=often"], "monitoring.false_alarm_rate", "a number"),
    (["horizon=0"], "horizon", "positive"),
    (["horizon=-5"], "horizon", "positive"),
    (["runs=0"], "runs", "1, 2, 3"),
    (["trigger.params.k=0", "trigger=count_window"], "trigger.params.k", "positive"),
    (["commitments.us_role=sometimes"], "commitments.us_role", "binding"),
    (["-m", "breach=sporadic,nonsense"], "breach", "hybrid"),
    (["-m", "experiment=headline", "hydra.sweeper.params.breach='sporadic,nonsense'"], "breach", "hybrid"),
    (["-m", "experiment=headline", "hydra.sweeper.params.breach=sporadic,hybrid"], "hydra.sweeper.params.breach", "'a,b'"),
    (["-m", "+hydra.sweeper.params.breach='sporadic,hybrid'"], "hydra.sweeper.params.breach", "-m breach=a,b"),
]


@pytest.mark.parametrize("argv,key,allowed", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_one_line_error_naming_key_and_allowed(argv, key, allowed, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"error: {key}:" in err, err
    assert allowed in err.split("allowed:", 1)[1], err
    assert os.listdir(tmp_path) == []


def test_command_line_exit_code_and_nothing_written(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "guarantee_sim.runs.cli", "runs=10", "commission.attribution_probability=2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "commission.attribution_probability" in proc.stderr
    assert list(tmp_path.iterdir()) == []


PLAIN = [  # a composed config changed by hand, as the sensitivity study and stored configs reach build_scenario
    (("horizn",), 100, "horizn", "unknown key", "horizon"),
    (("coalition", "states", "France", "colour"), "blue", "coalition.states.France.colour", "unknown key", "weight"),
    (("coalition", "states", "France", "threshold"), 1.2, "coalition.states.France.threshold", "outside [0, 1]", "[0, 1]"),
    (("coalition", "states", "France", "eu"), "yes", "coalition.states.France.eu", "true or false", "true, false"),
    (("coalition", "regimes", "executive", "approval_probability"), "x", "coalition.regimes.executive.approval_probability",
     "expected a probability", "[0, 1]"),
    (("commitments", "types", "military", "delivery_delay"), -2, "commitments.types.military.delivery_delay", ">= 0", "non-negative"),
    (("commitments", "us_role"), "maybe", "commitments.us_role", "unknown value", "binding, discretionary, none"),
    (("force", "min_troops"), -1, "force.min_troops", "must be >= 0", "troops >= 0"),
    (("ukraine", "support_growth"), -0.1, "ukraine.support_growth", "must be >= 0", "a rate per day >= 0"),
    (("horizon",), 0, "horizon", "must be > 0", "a positive number of days"),
    (("runs",), 0, "runs", "must be >= 1", "1, 2, 3, ... or auto"),
    (("workers",), 1.5, "workers", "whole number", "1, 2, 3, ..."),
    (("precision",), 0.7, "precision", "outside (0, 0.5]", "e.g. 0.02"),
    (("breach", "params", "rat"), 0.1, "breach.params.rat", "unknown key", "rate"),
]


@pytest.mark.parametrize("path,value,key,problem,allowed", PLAIN, ids=[".".join(c[0]) for c in PLAIN])
def test_plain_config_checked_from_the_schema(path, value, key, problem, allowed):
    config = copy.deepcopy(OmegaConf.to_container(compose_config(("breach=poisson",)), resolve=True))
    node = config
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(ConfigError) as info:
        build_scenario(config)
    err = info.value
    assert err.key == key and problem in err.problem and allowed in err.allowed, str(err)
    assert "\n" not in str(err)


def test_every_number_and_delay_in_the_schema_declares_what_it_allows():
    """Ranges are checked from the schema: a float field with no unit would go unchecked."""
    specs = [v for v in vars(schema).values() if dataclasses.is_dataclass(v) and v.__module__ == schema.__name__]
    assert len(specs) >= 12
    for spec in specs:
        for f in dataclasses.fields(spec):
            unit = f.metadata.get("unit")
            if "float" in str(f.type) or unit:
                assert unit in UNITS or unit in PARSED_UNITS, f"{spec.__name__}.{f.name} declares no unit"


def test_one_unknown_key_check_for_the_roster_and_registry_params():
    """The roster (schema) and a registry entry's params go through the same check, one error form."""
    with pytest.raises(ConfigError) as roster:
        check_fields({"iso": "FRA", "colour": 1}, schema.StateSpec, "coalition.states.France", defaults=True)
    with pytest.raises(ConfigError) as params:
        build_params(schema.RegimeSpec, {"delay": 1, "colour": 1}, "coalition.regimes.executive")
    assert (roster.value.key, roster.value.problem) == ("coalition.states.France.colour", "unknown key")
    assert roster.value.allowed == ", ".join(sorted(f.name for f in dataclasses.fields(schema.StateSpec)))
    assert (params.value.key, params.value.problem) == ("coalition.regimes.executive.colour", "unknown key")
    assert params.value.allowed == "approval_probability, delay, source"
