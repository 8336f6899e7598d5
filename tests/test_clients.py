"""Other tools drive the library: a caller's own Hydra app, mesa.batch_run with keyword levers,
worker processes where none can start (a pool's daemonic worker, a script read on stdin)."""

import inspect
import multiprocessing as mp
import subprocess
import sys
import textwrap
import warnings

import mesa
import pandas as pd
import pytest
import yaml

from guarantee_sim import GuaranteeModel, simulate
from guarantee_sim.runs.runner import SerialFallbackWarning, run_seeds

pytestmark = pytest.mark.main_line  # made from rows, equal on both lines: see pyproject.toml

SCENARIO = ["breach=hybrid", "trigger=any_attributed", "horizon=200"]


def cli_rows(tmp_path, *overrides):
    out = tmp_path / "cli"
    subprocess.run([sys.executable, "-m", "guarantee_sim.runs.cli", *overrides, f"hydra.run.dir={out}"],
                   cwd=tmp_path, check=True, capture_output=True, text=True)
    return pd.read_parquet(out / "runs.parquet")


# a caller's own Hydra app -----------------------------------------------------------------------
APP = '''
import hydra, pandas as pd
from guarantee_sim import simulate

@hydra.main(config_path="conf", config_name="my_study", version_base="1.3")
def main(cfg):
    df = simulate(list(cfg.overrides), runs=cfg.runs, seed=cfg.seed, workers=cfg.workers)
    df.to_parquet(cfg.out)

if __name__ == "__main__":
    main()
'''


def test_a_hydra_app_of_its_own_gets_the_rows_of_the_command_line(tmp_path):
    (tmp_path / "conf").mkdir()
    study = {"my_study": {"question": "does it deter?"}, "overrides": SCENARIO, "runs": 40, "seed": 9, "workers": 2,
             "out": str(tmp_path / "app.parquet")}
    (tmp_path / "conf" / "my_study.yaml").write_text(yaml.safe_dump(study))
    (tmp_path / "app.py").write_text(APP)
    proc = subprocess.run([sys.executable, "app.py", f"hydra.run.dir={tmp_path / 'app_out'}"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    got = pd.read_parquet(tmp_path / "app.parquet")
    pd.testing.assert_frame_equal(got, cli_rows(tmp_path, *SCENARIO, "runs=40", "seed=9"))


def test_inside_initialize_config_dir_the_callers_config_is_left_alone(tmp_path):
    from hydra import compose, initialize_config_dir

    (tmp_path / "my_study.yaml").write_text("my_study: {question: x}\n")
    with initialize_config_dir(config_dir=str(tmp_path), version_base="1.3"):
        df = simulate(SCENARIO, runs=20, seed=3)
        assert compose("my_study").my_study.question == "x"  # the caller's Hydra still answers
    pd.testing.assert_frame_equal(df, simulate(SCENARIO, runs=20, seed=3))


# mesa.batch_run ----------------------------------------------------------------------------------
def seeding(seeds):
    """mesa 3.5 seeds batch runs through ``rng=``; 3.3 takes the seed as a parameter."""
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        return {"rng": seeds}, {}
    return {"iterations": 1}, {"seed": seeds}


def test_batch_run_with_keyword_levers_gives_simulates_outcomes():
    seeds = run_seeds(11, 20)
    run_kwargs, seed_params = seeding(seeds)
    results = mesa.batch_run(
        GuaranteeModel,
        parameters={"breach": ["sporadic", "surge_offensive"], "trigger": ["any_attributed", "armed_attack"],
                    "horizon": 180, **seed_params},
        **run_kwargs, max_steps=60, number_processes=1, data_collection_period=-1, display_progress=False,
    )
    got = pd.DataFrame(results)
    assert len(got) == 2 * 2 * 20 and sorted(set(got["seed"])) == sorted(seeds)  # the seed used is in the output
    assert (got["day"] == 180).all()  # max_steps=60 < 180 days: the model still reaches its horizon
    for (breach, trigger), cell in got.groupby(["breach", "trigger"]):
        rows = simulate({"breach": breach, "trigger": trigger, "horizon": 180}, runs=20, seed=11).set_index("seed")
        cell = cell.set_index("seed").loc[rows.index]
        assert (cell["breaches"] == rows["n_breaches"]).all()
        assert (cell["attributed"] == rows["n_attributed"]).all()
        assert (cell["activated"] == rows["activated"]).all()
        assert cell["activation_day"].equals(rows["activation_day"])
        assert (cell["stage"] == rows["stage"]).all()
    assert got["activated"].any() and not got["activated"].all()  # the comparison can tell outcomes apart


def test_an_unseeded_model_records_the_seed_it_drew():
    a, b = GuaranteeModel(breach="hybrid", collect=False), GuaranteeModel(breach="hybrid", collect=False)
    assert isinstance(a.seed, int) and a.seed != b.seed
    again = GuaranteeModel(breach="hybrid", seed=a.seed, collect=False)
    assert pd.Series(again.run()).equals(pd.Series(a.run()))


def test_keyword_levers_are_checked():
    from guarantee_sim import ConfigError

    with pytest.raises(ConfigError, match=r"^breach: unknown option 'hybird'"):
        GuaranteeModel(breach="hybird")
    with pytest.raises(ConfigError, match=r"^seed: "):
        GuaranteeModel(seed=1.5)


# workers where no worker can start -------------------------------------------------------------
def _in_a_pool_worker(args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = simulate(SCENARIO, runs=30, seed=6, workers=2)
    return df, [str(w.message) for w in caught if issubclass(w.category, SerialFallbackWarning)]


def test_workers_inside_a_daemonic_process_run_serially_with_one_warning():
    with mp.get_context("spawn").Pool(1) as pool:
        df, caught = pool.map(_in_a_pool_worker, [None])[0]
    pd.testing.assert_frame_equal(df, simulate(SCENARIO, runs=30, seed=6))
    assert len(caught) == 1 and "daemonic" in caught[0]


def test_workers_from_a_script_on_stdin_run_serially(tmp_path):
    script = textwrap.dedent(f"""
        from guarantee_sim import simulate
        simulate({SCENARIO!r}, runs=30, seed=6, workers=2).to_parquet({str(tmp_path / 'stdin.parquet')!r})
    """)
    proc = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("SerialFallbackWarning") == 1
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "stdin.parquet"), simulate(SCENARIO, runs=30, seed=6))
