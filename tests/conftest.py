import pytest

from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.runs.runner import run_replications


@pytest.fixture(scope="session")
def scenario():
    return load_scenario


def rows(overrides=(), runs=200, seed=11):
    """Replications of a scenario, in run order (same seeds for the same ``runs``/``seed``)."""
    return run_replications(load_scenario(tuple(overrides)), runs, seed)


def run_cli(argv, cwd, monkeypatch, capsys) -> tuple[int, str, str]:
    """``guarantee-sim ARGV`` in this process (a few times faster than a subprocess): exit code, stdout, stderr."""
    import sys

    from hydra.core.global_hydra import GlobalHydra

    from guarantee_sim.runs import cli

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["guarantee-sim"])
    try:
        cli.main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        GlobalHydra.instance().clear()
    out = capsys.readouterr()
    return code, out.out, out.err
