"""Bad input: one line naming the key and what is allowed, exit code 2, nothing written."""

import copy
import dataclasses
import json
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

pytestmark = pytest.mark.main_line  # the same on both lines: see pyproject.toml

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


def nested(depth: int) -> str:
    return "{rule: any_attributed}" if depth == 0 else "{rule: any_of, params: {rules: [%s]}}" % nested(depth - 1)


# issue 14: NaN and infinity (each gave a plausible wrong result or a traceback after the output
# folder was made), the upper bounds, and the messages that were tracebacks or lost their key
NOT_FINITE = [
    (["trigger=count_window", "trigger.params.window=nan"], "trigger.params.window", "a finite number"),
    (["commission.investigation_time={dist: gamma, mean: nan, shape: 4}"], "commission.investigation_time.mean", "finite"),
    (["coalition.states.France.weight=inf"], "coalition.states.France.weight", "finite"),
    (["horizon=inf"], "horizon", "finite"),
    (["breach=poisson", "breach.params.rate=inf"], "breach.params.rate", "finite"),
    (["breach=sporadic", "breach.params.rates.artillery=nan"], "breach.params.rates.artillery", "finite"),
    (["monitoring.detection.artillery=nan"], "monitoring.detection.artillery", "finite"),
    (["coordination.consultation_delay=inf"], "coordination.consultation_delay", "finite"),
    (["trigger=count_window", "trigger.params.k=-inf"], "trigger.params.k", "finite"),
    (["breach=strategic", "breach.params.risk_attitude=nan"], "breach.params.risk_attitude", "finite"),
    (["precision=nan", "runs=auto"], "precision", "finite"),
]
BOUNDS = [
    (["runs=1000000000000"], "runs", "at most 1000000"),
    (["runs=10000000"], "runs", "at most 1000000"),
    (["runs=auto", "max_runs=100000000"], "max_runs", "at most 1000000"),
    (["batch_size=2000000"], "batch_size", "at most 1000000"),
    (["workers=100"], "workers", "at most 64"),
    (["seed=-1"], "seed", ">= 0"),
    (["seed=99999999999999999999999"], "seed", "9223372036854775807"),
    (["horizon=1e308"], "horizon", "at most 36500"),
    (["horizon=1e7"], "horizon", "at most 36500"),
    (["breach=poisson", "breach.params.rate=1e300"], "breach.params.rate", "at most 10"),
    (["coordination.consultation_delay=1e9"], "coordination.consultation_delay", "at most 1000000"),
    (["coalition.states.France.weight=1e300"], "coalition.states.France.weight", "at most 1000000"),
]
MESSAGES = [
    (["commission.lead=Narnia"], "commission.lead", "France"),
    (["runs=auto", "precision_on=protection"], "precision_on", "support_in_time_given_attack"),
    (["coalition.states={}"], "coalition.states", "coalition.exclude"),
    (["coalition.states.Germany.iso=FRA"], "coalition.states.Germany.iso", "a code no other state"),
    (["breach=hybrid,chronic"], "breach", "guarantee-sim -m breach=hybrid,chronic"),
    (["coalition.states.Österreich.iso=AUT"], "coalition.states.Österreich.iso", "hydra.searchpath"),
    (["coalition.states.France.source=Élysée"], "coalition.states.France.source", "'Élysée'"),
    (["coalition.states.France.source=x"], "coalition.states.France.source", "+coalition.states.France.source=x"),
    (["-m", "breach=sporadic,hybrid", "baseline='breach=nonexistent'"], "baseline", "breach=hybrid"),
    (["-m", "breach=sporadic,hybrid", "baseline=nonsense"], "baseline", "breach=sporadic"),
    (["-m", "breach=sporadic,hybrid", "hydra.sweep.dir=" + "x" * 300], "hydra.sweep.dir", "at most 255 bytes"),
    (["trigger.rule=any_of", "trigger.params={rules: [%s]}" % nested(9)],
     "trigger.params.rules[0]" + ".params.rules[0]" * 8, "nested at most 8 deep"),
    (["trigger.rule=any_of", "trigger.params={rules: [%s]}" % nested(60)], "trigger.params", "nested at most 8 deep"),
]
LONG_SWEEPS = [  # a bad value late in a long sweep, whose jobs are made from the first (not composed one by one)
    (["-m", "commission.attribution_probability=" + ",".join(f"{i / 200:.3f}" for i in range(199)) + ",1.5"],
     "commission.attribution_probability", "a number in [0, 1]"),
    (["-m", "commission.attribution_probability=" + ",".join(f"{i / 200:.3f}" for i in range(199)) + ",lots"],
     "commission.attribution_probability", "a number"),
    (["-m", "horizon=" + ",".join(str(100 + i) for i in range(199)) + ",99999"], "horizon", "at most 36500"),
]
CASES += NOT_FINITE + BOUNDS + MESSAGES + LONG_SWEEPS


@pytest.mark.parametrize("argv,key,allowed", CASES, ids=[" ".join(c[0])[:80] for c in CASES])
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


def test_a_roster_on_hydra_searchpath_is_checked_and_run(tmp_path, capsys, monkeypatch):
    """The up-front check composes with hydra.searchpath (custom rosters were 'unknown option');
    a duplicate key in such a file is one line naming it."""
    from hydra.core.global_hydra import GlobalHydra

    groups = tmp_path / "conf" / "coalition"
    groups.mkdir(parents=True)
    (groups / "mine.yaml").write_text((schema_conf() / "coalition" / "teaching.yaml").read_text())
    (groups / "twice.yaml").write_text("name: twice\nname: again\nstates:\n  A: {iso: AAA, commission_seat: true}\n")
    searchpath = f"hydra.searchpath=[file://{tmp_path / 'conf'}]"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["guarantee-sim"])
    try:
        cli.main(["coalition=mine", searchpath, "runs=5", "hydra.run.dir=run"])
    finally:
        GlobalHydra.instance().clear()
    assert (tmp_path / "run" / "summary.json").is_file()
    with pytest.raises(SystemExit) as info:
        cli.main(["coalition=twice", searchpath, "runs=5", "hydra.run.dir=twice"])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and len(err.splitlines()) == 1
    assert "error: coalition.name: the key appears twice in a YAML mapping" in err and "twice.yaml, line 2" in err
    assert not (tmp_path / "twice").exists()


def schema_conf():
    from pathlib import Path

    import guarantee_sim

    return Path(guarantee_sim.__file__).parent / "conf"


def test_the_readmes_distribution_example_and_a_rule_with_its_params_compose():
    """A mapping given for a delay replaces the default distribution (it was merged into the gamma's
    keys: "unknown key"); so do a rule's params given with the rule."""
    cfg = compose_config(('commission.investigation_time={dist: lognormal, median: 14, sigma: 0.5}',))
    assert build_scenario(cfg).investigation_time.describe() == "lognormal(median=14, sigma=0.5)"
    cfg = compose_config(("trigger.rule=any_of", "trigger.params={rules: [{rule: armed_attack}, {rule: any_attributed}]}"))
    assert [r.name for r in build_scenario(cfg).tiers[0].rule.rules] == ["armed_attack", "any_attributed"]
    assert "kinds" not in cfg.trigger.params


# the dashboard ------------------------------------------------------------------------------------

def dashboard(argv, monkeypatch, capsys):
    import uvicorn

    from guarantee_sim.present import app

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: served.append(k))
    try:
        app.main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err.strip(), served


@pytest.mark.parametrize("argv", [["--port", "99999"], ["--port", "0"], ["--port", "http"]])
def test_dashboard_bad_port_is_one_line(argv, monkeypatch, capsys):
    code, err, served = dashboard(argv, monkeypatch, capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "guarantee-sim-dashboard: error:" in err and "--port" in err
    assert not served


def test_dashboard_warns_when_it_listens_beyond_this_machine(monkeypatch, capsys):
    """Issue 14, case 10: the page has no login; any --host but loopback says so."""
    for host in ("0.0.0.0", "192.168.1.5", "example.org"):
        code, err, served = dashboard(["--host", host], monkeypatch, capsys)
        assert code == 0 and served[0]["host"] == host
        assert f"warning: --host {host}" in err and "no login" in err and len(err.splitlines()) == 1
    for host in ("127.0.0.1", "localhost", "::1"):
        code, err, served = dashboard(["--host", host], monkeypatch, capsys)
        assert code == 0 and "warning" not in err


# the report ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    """Two tiny cells and their sweep tables, written by the store (no command line)."""
    from guarantee_sim.runs.store import CellPlan, run_cell
    from guarantee_sim.runs.sweep import aggregate

    folder = tmp_path_factory.mktemp("report") / "sweep"
    for breach in ("sporadic", "hybrid"):
        cfg = compose_config(("coalition=teaching", f"breach={breach}"))
        config = OmegaConf.to_container(cfg, resolve=True)
        name = f"breach={breach}"
        run_cell(build_scenario(config), folder / name, CellPlan(20, 0, 500, 0.02, 20), config,
                 OmegaConf.to_yaml(cfg, resolve=True), name, {"breach": breach})
    aggregate(folder, ("breach", "sporadic"), 0)
    (folder / "sweep.json").write_text(json.dumps({"root_seed": 0, "horizon": 365.0, "git_commit": "abc"}))
    return folder


def report(argv, capsys) -> tuple[int, str]:
    from guarantee_sim.present.report.cli import main

    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err.strip()


def copy_of(folder, tmp_path):
    import shutil

    shutil.copytree(folder, tmp_path / "sweep")
    return tmp_path / "sweep"


def test_report_refuses_a_cell_name_that_leads_out_of_its_folder(small_sweep, tmp_path, capsys):
    """Issue 14, case 10: a crafted sweep_summary.csv naming ../ is not followed."""
    import pandas as pd

    folder = copy_of(small_sweep, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "config.yaml").write_text("secret: 1\n")
    for crafted in ("../outside", "/etc", "a/../../outside"):
        table = pd.read_csv(small_sweep / "sweep_summary.csv")
        table.loc[0, "cell"] = crafted
        table.to_csv(folder / "sweep_summary.csv", index=False)
        code, err = report([folder], capsys)
        assert code == 2 and len(err.splitlines()) == 1 and "is not a folder inside" in err, err
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in small_sweep.iterdir())


@pytest.mark.parametrize("root_seed", ['"seven"', "[1]", "1.5", "true"])
def test_report_says_a_non_numeric_root_seed_in_one_line(root_seed, small_sweep, tmp_path, capsys):
    folder = copy_of(small_sweep, tmp_path)
    (folder / "sweep.json").write_text('{"root_seed": %s, "horizon": 365}' % root_seed)
    code, err = report([folder], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "root_seed" in err and "is not a whole number" in err


def test_report_says_a_damaged_table_in_one_line(small_sweep, tmp_path, capsys):
    folder = copy_of(small_sweep, tmp_path)
    (folder / "sweep_runs.parquet").write_bytes((folder / "sweep_runs.parquet").read_bytes()[:100])
    code, err = report([folder], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "error: RESULTS_DIR: cannot read" in err


def test_report_into_a_folder_it_cannot_make_is_one_line(small_sweep, tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    code, err = report([small_sweep, "--out", tmp_path / "a_file" / "report"], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "error: --out:" in err
    assert not (small_sweep / "report.html").exists()
