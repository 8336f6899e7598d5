"""Refactors change no result: rows for every breach pattern x trigger rule x commitment design
at fixed seeds equal the golden set.

Recorded before the typed-event rewrite (which changed no row), and again each time a model issue
changed a documented definition on purpose; the commit that re-records it says which:
- evidence and escalation (attribution by evidence, war after an armed attack, intensity in the
  triggers, exact sums: ``math.fsum`` instead of ``sum``, whose float result differs between
  Python 3.11 and 3.12);
- the coalition's response (military support that arrives, thresholds on capacity acting, a
  common political factor, reviews; new columns military_support_day, military_delivered);
- a Budapest-like design deploys no multinational force (``commitments.multinational_force``;
  only its rows changed);
- each salami run has its own pace (``breach.params.step_days_sd``; only salami rows changed);
- the bilateral agreements alone deploy no force and keep the states' own joining thresholds and
  US conditionality (only bilateral_only rows changed);
- the strategic violator reads the commission's evidence rule (scale, deniability, speed) and the
  overt-attack path when it weighs an offensive (only strategic rows changed);
- a day's fire is split into kinds by inverting a uniform (``model/binomial.py``), not by numpy's
  binomial sampler, whose numbers differ between numpy 2.4 and 2.5 (rows with aggregated fire
  changed: chronic, deniable_incursion, and runs of other patterns with war after an armed attack).
- the strategic violator counts follow-through once in the expected cost of a response (in its
  belief of resolve, no longer also in the capacity it expects in time; only strategic rows changed).
Regenerate: ``python tests/test_golden.py``.
"""

import itertools
import pathlib
import sys

import pandas as pd
from omegaconf import OmegaConf

from guarantee_sim.scenario.build import build_scenario
from guarantee_sim.scenario.compose import compose_config
from guarantee_sim.runs.runner import run_replications

GOLDEN = pathlib.Path(__file__).parent / "golden" / "runs.parquet"
CONF = pathlib.Path(__file__).parents[1] / "conf"
RUNS, SEED = 4, 7


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def golden_rows(cells=None) -> pd.DataFrame:
    """Each group's option is composed once and the cells are built from the composed sections
    (a cell's config is the base with its three group sections; 20 compositions, not 288)."""
    frames = []
    cells = list(cells or itertools.product(options("breach"), options("trigger"), options("commitments")))
    base = OmegaConf.to_container(compose_config(()))
    sections = {(group, option): OmegaConf.to_container(compose_config((f"{group}={option}",)))[group]
                for group, i in (("breach", 0), ("trigger", 1), ("commitments", 2))
                for option in dict.fromkeys(cell[i] for cell in cells)}
    for breach, trigger, design in cells:
        cfg = {**base, "breach": sections["breach", breach], "trigger": sections["trigger", trigger],
               "commitments": sections["commitments", design]}
        scenario = build_scenario(cfg)
        df = run_replications(scenario, RUNS, SEED)
        df.insert(0, "commitments", design)
        df.insert(0, "trigger", trigger)
        df.insert(0, "breach", breach)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def test_rows_equal_the_golden_set():
    expected = pd.read_parquet(GOLDEN)
    cells = expected[["breach", "trigger", "commitments"]].drop_duplicates()
    every = len(options("breach")) * len(options("trigger")) * len(options("commitments"))
    assert len(cells) == every, "a group option was added or removed: re-record the golden set"
    got = golden_rows(list(cells.itertuples(index=False, name=None)))[list(expected.columns)]
    assert len(got) == len(expected) == every * RUNS
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


if __name__ == "__main__":
    golden_rows().to_parquet(sys.argv[1] if len(sys.argv) > 1 else GOLDEN)
