"""One cell across workers of a Dask cluster or a SLURM job array (submitit): the same rows as
``workers=1``, stored in the same batches."""

import pandas as pd
import pytest

from guarantee_sim.runs.executors import close_all, parse, shards

from conftest import run_cli

pytestmark = pytest.mark.main_line  # the rows are the runner's, equal on both lines

CELL = ["breach=surge_offensive", "runs=40", "batch_size=20", "seed=3"]


@pytest.fixture(autouse=True, scope="module")
def no_cluster_left():
    """The Dask cluster a test started stops with the module, not with the test session."""
    yield
    close_all()


@pytest.mark.parametrize("runs, workers", [(20, 2), (7, 3), (1, 4), (500, 8), (0, 2)])
def test_shards_cover_each_run_once_in_order(runs, workers):
    cut = shards(runs, workers)
    assert [i for a, b in cut for i in range(a, b)] == list(range(runs))
    assert len(cut) <= workers and all(b > a for a, b in cut)


@pytest.mark.parametrize("executor", ["dask", "submitit:local"])
def test_a_cell_on_a_cluster_has_the_rows_of_one_worker(executor, tmp_path, monkeypatch, capsys):
    code, _, err = run_cli([*CELL, "hydra.run.dir=one"], tmp_path, monkeypatch, capsys)
    assert code == 0, err
    code, out, err = run_cli([*CELL, f"executor={executor}", "workers=2", "hydra.run.dir=there"], tmp_path,
                             monkeypatch, capsys)
    assert code == 0, err
    one, there = pd.read_parquet(tmp_path / "one" / "runs.parquet"), pd.read_parquet(tmp_path / "there" / "runs.parquet")
    assert len(one) == 40 and one.equals(there)
    assert sorted(p.name for p in (tmp_path / "there" / "batches").iterdir()) == [
        "runs-0000000-0000020.parquet", "runs-0000020-0000040.parquet"]
    assert not (tmp_path / "there" / ".submitit").exists()  # the jobs' logs go once the rows are stored
    assert "Scheduler" not in out + err and "Nanny" not in out + err  # the cluster's own news stays quiet


def test_the_executor_setting_is_read_or_refused():
    assert parse("dask:tcp://10.0.0.5:8786").where == "tcp://10.0.0.5:8786"
    assert parse("submitit:slurm").kind == "submitit" and parse("local").kind == "local"
    for bad in ("spark", "dask:nowhere", "submitit:pbs", ""):
        with pytest.raises(Exception, match="executor: "):
            parse(bad)


def test_simulate_on_a_cluster_returns_the_rows_of_one_worker():
    """The Python API shards like the command line: ``simulate(executor="dask", workers=2)``."""
    from guarantee_sim import ConfigError, simulate

    one = simulate(["breach=strategic"], runs=30, seed=4, workers=1)
    there = simulate(["breach=strategic"], runs=30, seed=4, workers=2, executor="dask")
    pd.testing.assert_frame_equal(one, there)
    with pytest.raises(ConfigError, match="executor: "):
        simulate(["breach=strategic"], runs=5, executor="spark")
