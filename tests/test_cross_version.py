"""The same rows on both supported Python/Mesa pairs (Python 3.11 with mesa 3.3.1, 3.12+ with 3.5.1).

A fixed set of scenarios is run through the store; each cell's ``runs.parquet`` is read back and
hashed by its values (``runs/store.py: rows_digest``, independent of pandas', numpy's and pyarrow's
versions) and compared with the digests recorded below. ``make test`` runs the suite under both
pairs, so both are held to the same constants. Sums whose order could differ are exact
(``math.fsum``): Python 3.12's ``sum`` of floats is compensated and 3.11's is not, which made
``capacity_share`` differ by one ulp in about one row in sixty.

``breach=chronic`` is in the set since a day's fire is split into kinds by inverting a uniform
(``model/binomial.py``): numpy's ``Generator.binomial`` gave a few of its rows other counts on
numpy 2.5 (the 3.12 pair) than on 2.4 (the 3.11 pair).

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
    "chronic": ("breach=chronic", "trigger=any_attributed"),
    "deniable-incursion": ("breach=deniable_incursion",),
}
DIGESTS = {
    "default": "944b671441be6e21e154d53cbddc96dfcb6c85d1ba6c4e4938e7575eb6d6368d",
    "hybrid": "2da8e697df5a6211aefe7ace569d5bafbdbccf4e76eb574e8067682b1b58a7e2",
    "analytic-cumulative": "c84c0470b0d131c1353487b562179028f5962c08b223cdc80592829d9e67017c",
    "salami-graduated": "030b71f4577a7be25944c213d3d77cb5b0e50a5348d112344eaabfc6f1ab8fbf",
    "surge-article5": "8694f95f2ab1fcc730684ffd4b40e433a707e60156e798c64c7c23653cfe35c4",
    "strategic": "05568ac28afba1459ec58ec386bd0236968cb0225e01d2501b12d1c042a46311",
    "adaptive-european": "46d065b2c0cc96339986ad6b2c99f4b8983495a471c5be15b40ef06c7eeb31ca",
    "teaching-bilateral": "c2fe12f5fa29903b1cea0d878bbd25ebc2f46285945ea9b18f7a3d5c0d71f093",
    "chronic": "7b2190a19eb73acd6448914ff5cfb9db72f253897e9114f32770457dc702a000",
    "deniable-incursion": "c37939a21e42480921ed37dd74dc0094d2280639d26784b07e3cf8d80ecc470f",
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
