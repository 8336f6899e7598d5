"""This tree's runs against an earlier commit's, side by side: ms per run and whether the rows agree.

    python benchmarks/bench_against.py [REV] [--runs 40] [--turns 3] [--mix headline|default|strategic]

REV (default ``HEAD``) is checked out into a temporary git worktree; the two trees take turns, each
turn a fresh process timing the same scenarios on the same seeds (one core). The headline mix is the
headline study's 140 cells (5 designs x 7 breach patterns x 4 triggers) at ``--runs`` runs each.
Printed: each turn's ms per run (CPU time of the runs only, composition excluded), the median ratio
(earlier / this tree: above 1 means this tree is faster), and whether the two trees' rows are
identical (a digest of every row), which a change meant only for speed must keep.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

MIXES = {
    "headline": ("paris_2026,article5_like,no_us_backstop,bilateral_only,budapest_like",
                 "strategic,sporadic,chronic,salami,hybrid,surge_offensive,adaptive_probe",
                 "armed_attack,any_attributed,count_window,graduated"),
    "default": ("paris_2026", "sporadic", "armed_attack"),
    "strategic": ("paris_2026", "strategic", "armed_attack"),
}

# run in a fresh process with one tree's src first on the path; prints "<digest> <ms per run>"
TIMED = """
import hashlib, itertools, sys, time
import pandas as pd
from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.runs.runner import run_replications
designs, breaches, triggers, runs = sys.argv[1].split(","), sys.argv[2].split(","), sys.argv[3].split(","), int(sys.argv[4])
cells = [load_scenario((f"commitments={d}", f"breach={b}", f"trigger={t}"))
         for d, b, t in itertools.product(designs, breaches, triggers)]
run_replications(cells[0], 2, seed=0, workers=1)  # imports and first-use caches outside the timing
digest, spent = hashlib.sha256(), 0.0
for scenario in cells:
    start = time.process_time()
    df = run_replications(scenario, runs, seed=0, workers=1)
    spent += time.process_time() - start
    digest.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
print(digest.hexdigest()[:16], 1000 * spent / (runs * len(cells)))
"""


def timed(src: Path, mix: tuple[str, str, str], runs: int) -> tuple[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", TIMED, *mix, str(runs)], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0], float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", nargs="?", default="HEAD", help="the earlier commit (default: HEAD)")
    parser.add_argument("--runs", type=int, default=40, help="runs per cell")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--mix", choices=sorted(MIXES), default="headline")
    args = parser.parse_args()
    mix = MIXES[args.mix]
    with tempfile.TemporaryDirectory() as tmp:
        earlier = Path(tmp) / "earlier"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(earlier), args.rev], check=True)
        try:
            ours, theirs = [], []
            for turn in range(args.turns):
                d_old, t_old = timed(earlier / "src", mix, args.runs)
                d_new, t_new = timed(REPO / "src", mix, args.runs)
                theirs.append(t_old)
                ours.append(t_new)
                print(f"turn {turn + 1}: {args.rev} {t_old:.3f} ms/run, this tree {t_new:.3f} ms/run "
                      f"({t_old / t_new:.2f}x); rows {'identical' if d_old == d_new else 'DIFFER'}")
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(earlier)], check=True)
    ratios = sorted(a / b for a, b in zip(theirs, ours))
    print(f"{args.mix} mix, {args.runs} runs per cell, median of {args.turns} turns: {ratios[len(ratios) // 2]:.2f}x "
          f"the speed of {args.rev}")


if __name__ == "__main__":
    main()
