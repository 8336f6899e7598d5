import pytest

from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.runs.runner import run_replications


@pytest.fixture(scope="session")
def scenario():
    return load_scenario


def pytest_collection_modifyitems(items):
    """The long tests first (slow, browser), so that at the end both xdist workers are left with
    short ones to share: the suite's wall time is not held by one long test started last."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") or "browser" in item.nodeid else 1)


def shared(tmp_path_factory, worker_id: str, name: str, make):
    """``make()``, computed once for the whole test session: the first xdist worker to ask computes it
    and leaves it on disk (under a lock), the other reads it — a module fixture would be computed
    once per worker."""
    import pickle

    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    base = base if worker_id == "master" else base.parent
    path = base / f"shared-{name}.pickle"
    with FileLock(str(path) + ".lock"):
        if path.exists():
            return pickle.loads(path.read_bytes())
        value = make()
        path.write_bytes(pickle.dumps(value))
        return value


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
