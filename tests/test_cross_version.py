"""The same rows on both supported Python/Mesa pairs (Python 3.11 with mesa 3.3.1, 3.12+ with 3.5.1).

A fixed set of scenarios is run through the store; each cell's ``runs.parquet`` is read back and
hashed by its values (``runs/store.py: rows_digest``, independent of pandas', numpy's and pyarrow's
versions) and compared with the digests recorded below. ``make test`` runs the suite under both
pairs, so both are held to the same constants. Sums whose order could differ are exact
(``math.fsum``): Python 3.12's ``sum`` of floats is compensated and 3.11's is not, which made
``capacity_share`` differ by one ulp in about one row in sixty.

Not in the set: ``breach=chronic``. Its daily fire is split into kinds with numpy's
``Generator.binomial``, whose algorithm numpy 2.5 changed (the 3.12 pair installs 2.5, the 3.11
pair 2.4), so a few of its rows' counts differ between the pairs; every other breach pattern,
trigger rule, design, monitoring option and roster gives the same rows (checked when this test
was written). Drawing those counts by inversion, as the delays are drawn, would make it exact.

A change that is meant to change rows (the golden set says so too) records the new digests:
``python tests/test_cross_version.py`` prints them.
"""

import sys

import pandas as pd
from omegaconf import OmegaConf

from guarantee_sim.runs.store import CellPlan, run_cell
from guarantee_sim.runs.tables import rows_digest
from guarantee_sim.scenario.build import build_scenario
from guarantee_sim.scenario.compose import compose_config

RUNS, SEED = 60, 11
SCENARIOS = {  # the default roster (35 states: long sums of capacities) and every part of the chain
    "default": (),
    "hybrid": ("breach=hybrid", "trigger=any_attributed"),
    "analytic-cumulative": ("experiment=analytic", "trigger=cumulative_severity"),
    "salami-graduated": ("breach=salami", "trigger=graduated"),
    "surge-article5": ("breach=surge_offensive", "commitments=article5_like"),
    "strategic": ("breach=strategic",),
    "adaptive-european": ("breach=adaptive_probe", "monitoring=european_only", "trigger=count_window"),
    "teaching-bilateral": ("coalition=teaching", "commitments=bilateral_only", "breach=sporadic"),
}
DIGESTS = {
    "default": "29f82566c612d05f07c0045e8b57339c047a16be00f3e716e8e2a4dfb8e94b82",
    "hybrid": "2da8e697df5a6211aefe7ace569d5bafbdbccf4e76eb574e8067682b1b58a7e2",
    "analytic-cumulative": "c84c0470b0d131c1353487b562179028f5962c08b223cdc80592829d9e67017c",
    "salami-graduated": "c5f7e0b36d6ef948759cf7bfa8a05dc7a73ba53b62dde1cc8bebfb6fa9a34a64",
    "surge-article5": "412c50bb9fdcc7c99fe8d32ff652bbabc9a3ff0ae6bc361762842a383d6de149",
    "strategic": "cdf8a74d4ba515cc494d860d7578ee6113c17edec6143fccdb9794d62325da09",
    "adaptive-european": "46d065b2c0cc96339986ad6b2c99f4b8983495a471c5be15b40ef06c7eeb31ca",
    "teaching-bilateral": "c6986eb6b50560fbfcc4d85c2b7ba455bf15fb0f63c0cdf016a7fc3bf9005d1c",
}


def digests(folder) -> dict[str, str]:
    out = {}
    for name, overrides in SCENARIOS.items():
        cfg = compose_config(overrides)
        config = OmegaConf.to_container(cfg, resolve=True)
        run_cell(build_scenario(config), folder / name, CellPlan(RUNS, SEED, RUNS, 0.02, RUNS), config,
                 OmegaConf.to_yaml(cfg, resolve=True), name, {})
        out[name] = rows_digest(pd.read_parquet(folder / name / "runs.parquet"))
    return out


def test_runs_parquet_rows_equal_the_recorded_digests(tmp_path):
    got = digests(tmp_path)
    differ = [name for name in SCENARIOS if got[name] != DIGESTS.get(name)]
    assert not differ, f"rows differ from the recorded ones (Python {sys.version.split()[0]}): {differ}"


if __name__ == "__main__":
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        for name, digest in digests(Path(tmp)).items():
            print(f'    "{name}": "{digest}",')
