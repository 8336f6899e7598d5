"""Bad input: one line naming the key and what is allowed, exit code 2, nothing written."""

import os
import subprocess
import sys

import pytest

from guarantee_sim.runs import cli

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
