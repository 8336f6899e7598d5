"""This tree's runs against an earlier commit's, side by side: ms per run and whether the rows agree.

    python benchmarks/bench_against.py [REV] [--runs 40] [--turns 3] [--mix headline|default|strategic]

REV (default ``HEAD``) is checked out into a temporary git worktree. Each tree gets one long-lived
process holding the mix's scenarios; the two take turns cell by cell (never at once; which goes first
alternates), so a drift in the machine's speed (seen here: 1.5x from one day to the next, 25% within
an hour) weighs on both alike, as it did not when whole processes took turns. A turn runs every cell
of the mix once on seeds of its own. The headline mix is the headline study's 140 cells (5 designs x 7 breach patterns x 4
triggers) at ``--runs`` runs a cell. Printed: each turn's ms per run (CPU time of the runs only,
composition excluded) and ratio (earlier / this tree: above 1 means this tree is faster), the ratio
over all turns and the median of the cells' ratios, and whether the two trees' rows are identical (a
digest of every row), which a change meant only for speed must keep.
"""

from __future__ import annotations

import argparse
import os
import statistics
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

# one tree's process: composes the mix, then for each line "<cell> <runs> <seed>" runs that cell and
# prints its CPU seconds; at end of input, a digest of every row it made
WORKER = """
import hashlib, itertools, sys, time
import pandas as pd
from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.runs.runner import run_replications
designs, breaches, triggers = sys.argv[1].split(","), sys.argv[2].split(","), sys.argv[3].split(",")
cells = [load_scenario((f"commitments={d}", f"breach={b}", f"trigger={t}"))
         for d, b, t in itertools.product(designs, breaches, triggers)]
run_replications(cells[0], 2, seed=0, workers=1)  # imports and first-use caches outside the timing
digest = hashlib.sha256()
print(len(cells), flush=True)
for line in sys.stdin:
    cell, runs, seed = map(int, line.split())
    start = time.process_time()
    df = run_replications(cells[cell], runs, seed=seed, workers=1)
    print(time.process_time() - start, flush=True)
    digest.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
print(digest.hexdigest()[:16], flush=True)
"""


class Tree:
    """One tree's long-lived process."""

    def __init__(self, src: Path, mix: tuple[str, str, str]):
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER, *mix], env={**os.environ, "PYTHONPATH": str(src)},
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.cells = int(self.proc.stdout.readline())

    def run(self, cell: int, runs: int, seed: int) -> float:
        self.proc.stdin.write(f"{cell} {runs} {seed}\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def digest(self) -> str:
        self.proc.stdin.close()
        out = self.proc.stdout.readline().strip()
        self.proc.wait()
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", nargs="?", default="HEAD", help="the earlier commit (default: HEAD)")
    parser.add_argument("--runs", type=int, default=40, help="runs per cell and turn")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--mix", choices=sorted(MIXES), default="headline")
    args = parser.parse_args()
    mix = MIXES[args.mix]
    with tempfile.TemporaryDirectory() as tmp:
        earlier_tree = Path(tmp) / "earlier"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(earlier_tree), args.rev],
                       check=True)
        try:
            earlier, ours = Tree(earlier_tree / "src", mix), Tree(REPO / "src", mix)
            spent_old = spent_new = 0.0
            cell_ratios = []
            for turn in range(args.turns):
                t_old = t_new = 0.0
                for cell in range(ours.cells):
                    took = {}
                    for tree in ((earlier, ours) if (cell + turn) % 2 == 0 else (ours, earlier)):
                        took[tree] = tree.run(cell, args.runs, seed=turn)
                    t_old, t_new = t_old + took[earlier], t_new + took[ours]
                    cell_ratios.append(took[earlier] / took[ours])
                n = args.runs * ours.cells
                spent_old, spent_new = spent_old + t_old, spent_new + t_new
                print(f"turn {turn + 1}: {args.rev} {1000 * t_old / n:.3f} ms/run, this tree {1000 * t_new / n:.3f} "
                      f"ms/run ({t_old / t_new:.2f}x)")
            same = earlier.digest() == ours.digest()
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(earlier_tree)], check=True)
    print(f"{args.mix} mix, {args.runs} runs per cell, {args.turns} turns: {spent_old / spent_new:.2f}x "
          f"the speed of {args.rev} over all (median cell {statistics.median(cell_ratios):.2f}x); "
          f"rows {'identical' if same else 'DIFFER'}")


if __name__ == "__main__":
    main()
