import pytest

from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.runs.runner import run_replications


@pytest.fixture(scope="session")
def scenario():
    return load_scenario


def rows(overrides=(), runs=200, seed=11):
    """Replications of a scenario, in run order (same seeds for the same ``runs``/``seed``)."""
    return run_replications(load_scenario(tuple(overrides)), runs, seed)
