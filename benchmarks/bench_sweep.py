"""Sweep speed and memory: the pre-launch check of a long sweep, the headline study's throughput,
this runner against mesa.batch_run, and the peak memory of a 1,000,000-run cell.

    python benchmarks/bench_sweep.py [--runs 1000] [--skip-memory]

Targets (issues: batch runs and parameter sweeps; sweeps without overhead):
  * the pre-launch check of a sweep of one lever over 200 values < 1 s (every value checked, one
    composition: the other jobs are made from the first);
  * 200 cells x 20 runs <= 1.5x one cell x 4,000 runs (the cost of a cell beyond its runs);
  * headline study throughput on this 2-core machine >= 1,000 runs/s. The first figure uses the
    armed-attack trigger only, the cheapest (few runs reach a decision round); the full study
    (5 designs x 7 breach patterns x 4 triggers), with the three costlier triggers, is the
    figure that counts;
  * this runner >= 2x mesa.batch_run(number_processes=2) on the same model, seeds and 2,000 runs,
    with identical outcomes;
  * a 1,000,000-run cell streams its results: peak RSS <= 1 GB (its batches are written as they
    come and streamed into runs.parquet; about 12 minutes on two cores).
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

import mesa

from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.model.engine import GuaranteeModel
from guarantee_sim.runs.runner import run_replications, run_seeds


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def sweep_throughput(runs: int, extra: list[str]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "guarantee_sim.runs.cli", "-m", "experiment=headline", f"runs={runs}",
               f"hydra.sweep.dir={tmp}/sweep", *extra]
        start = time.perf_counter()
        out = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=True).stdout
        elapsed = time.perf_counter() - start
    cells = sum(1 for line in out.splitlines() if "batches computed" in line)
    return elapsed, cells


def compare_with_batch_run(runs: int = 2000) -> None:
    overrides = ("trigger=any_attributed",)
    scenario = load_scenario(overrides)
    seeds = run_seeds(0, runs)
    start = time.perf_counter()
    ours = run_replications(scenario, runs, 0, workers=2)
    t_ours = time.perf_counter() - start

    if "rng" in inspect.signature(mesa.batch_run).parameters:  # mesa 3.5 seeds through rng=
        kwargs, params = {"rng": seeds}, {}
    else:
        kwargs, params = {"iterations": 1}, {"seed": seeds}
    start = time.perf_counter()
    rows = mesa.batch_run(
        GuaranteeModel, parameters={"overrides": [overrides], **params}, number_processes=2,
        max_steps=math.ceil(scenario.horizon) + 1, data_collection_period=-1, display_progress=False, **kwargs,
    )
    t_mesa = time.perf_counter() - start
    by_seed = {r["seed"]: r for r in rows}
    same = all(
        by_seed[s]["breaches"] == row.n_breaches
        and by_seed[s]["attributed"] == row.n_attributed
        and by_seed[s]["stage"] == row.stage
        and (math.isnan(row.activation_day) and math.isnan(by_seed[s]["activation_day"])
             or by_seed[s]["activation_day"] == row.activation_day)
        for s, row in zip(seeds, ours.itertuples())
    )
    ratio = t_mesa / t_ours
    print(f"{runs} runs, 2 processes: this runner {t_ours:.2f} s ({runs / t_ours:.0f} runs/s), "
          f"mesa.batch_run {t_mesa:.2f} s ({runs / t_mesa:.0f} runs/s): {ratio:.1f}x -> {verdict(ratio >= 2)} target >= 2x; "
          f"identical outcomes: {same}")


def peak_memory(runs: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        code = (
            "import resource, sys; from guarantee_sim.runs.cli import main; "
            f"sys.argv=['guarantee-sim']; "
            "import guarantee_sim.runs.cli as c\n"
            "try:\n"
            f"    c.main(['runs={runs}', 'workers={workers}', 'hydra.run.dir={tmp}/run'])\n"
            "finally:\n"
            "    print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        )
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - start
        size = os.path.getsize(f"{tmp}/run/runs.parquet")
    parent = int(next(l.split()[1] for l in proc.stderr.splitlines() if l.startswith("PEAK_KB"))) / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    peak = max(parent, children)
    print(f"{runs:,} runs, workers={workers}: {elapsed:.0f} s, runs.parquet {size / 1e6:.1f} MB, "
          f"peak RSS {peak:.0f} MB (main process {parent:.0f} MB) -> {verdict(peak <= 1024)} target <= 1 GB")


def prelaunch_check(values: int = 200) -> None:
    """A fresh process checks ``-m commission.attribution_probability=<values values>``: the check
    alone, and with the imports and first composition a command pays anyway."""
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from guarantee_sim.runs.cli import check_command_line\n"
        f"v = ','.join(f'{{0.2 + 0.003 * i:.3f}}' for i in range({values}))\n"
        "t1 = time.perf_counter(); check_command_line(['-m', 'commission.attribution_probability=' + v, 'runs=20'])\n"
        "t2 = time.perf_counter(); check_command_line(['-m', 'commission.attribution_probability=' + v, 'runs=21'])\n"
        "t3 = time.perf_counter(); print(t2 - t0, t3 - t2)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    cold, warm = float(out[0]), float(out[1])
    print(f"pre-launch check, one lever over {values} values: {warm:.2f} s (with the imports and the first "
          f"composition of a fresh process: {cold:.2f} s) -> {verdict(warm < 1.0)} target < 1 s")


def small_cells(cells: int = 200, runs: int = 20, repeat: int = 5) -> None:
    """A sweep of ``cells`` cells x ``runs`` runs against one cell of ``cells * runs`` runs, the same
    lever, each a fresh process with the basic launcher (one core): what a cell costs beyond its runs.
    The two commands take turns ``repeat`` times; the verdict reads the median ratio of their CPU
    times (the issue's measure; wall time is printed beside it, fsync waits included)."""
    values = ",".join(f"{0.2 + 0.003 * i:.3f}" for i in range(cells))
    wall, cpu = {0: [], 1: []}, {0: [], 1: []}
    for _ in range(repeat):
        for k, (sweep, n) in enumerate(((values, runs), ("0.5", cells * runs))):
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [sys.executable, "-m", "guarantee_sim.runs.cli", "-m", f"commission.attribution_probability={sweep}",
                       f"runs={n}", "hydra/launcher=basic", "workers=1", f"hydra.sweep.dir={tmp}/sweep"]
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=True)
                wall[k].append(time.perf_counter() - start)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[k].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    median = lambda xs: sorted(xs)[len(xs) // 2]
    ratio = median([a / b for a, b in zip(cpu[0], cpu[1])])
    wall_ratio = median([a / b for a, b in zip(wall[0], wall[1])])
    print(f"{cells} cells x {runs} runs against 1 cell x {cells * runs:,} runs, median of {repeat}: CPU "
          f"{median(cpu[0]):.1f} s against {median(cpu[1]):.1f} s, ratio {ratio:.2f} "
          f"({(median(cpu[0]) - median(cpu[1])) / cells * 1000:.0f} ms per extra cell); wall ratio {wall_ratio:.2f} -> "
          f"{verdict(ratio <= 1.5)} target <= 1.5 (CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs per cell of the headline study")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-runs", type=int, default=1_000_000, help="runs of the one-cell memory benchmark")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, mesa {mesa.__version__}, {os.cpu_count()} cores")
    prelaunch_check()
    small_cells()

    for label, extra in [
        ("headline, armed_attack trigger only, basic launcher, workers=2",
         ["hydra.sweeper.params.trigger=armed_attack", "hydra/launcher=basic", "workers=2"]),
        ("headline, armed_attack trigger only, the preset's joblib launcher, workers=1",
         ["hydra.sweeper.params.trigger=armed_attack"]),
        ("full headline study, the preset's joblib launcher", []),
    ]:
        elapsed, cells = sweep_throughput(args.runs, extra)
        rate = cells * args.runs / elapsed
        print(f"{label}: {cells} cells x {args.runs} runs in {elapsed:.1f} s = {rate:.0f} runs/s -> "
              f"{verdict(rate >= 1000)} target >= 1,000 runs/s")

    compare_with_batch_run()
    if not args.skip_memory:
        peak_memory(args.memory_runs, workers=2)


if __name__ == "__main__":
    main()
