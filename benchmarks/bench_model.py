"""Speed of one run: ms per run for the default scenario, and how cost scales with the horizon.

    python benchmarks/bench_model.py [--runs 2000]

Targets (issue: the guarantee-activation model):
  * default scenario (paris_2026 coalition and commitments, sporadic breaches, 365 days):
    <= 2 ms per run on one core;
  * cost grows with events, not with the horizon: 10x the horizon at the same expected number of
    breaches costs <= 1.5x;
  * a strategic violator's run (breach=strategic: a decision every ~14 days, event by event)
    <= 3 ms on one core (issue: deterrence).
"""

from __future__ import annotations

import argparse
import platform
import time

import mesa

from guarantee_sim.model.breaches import Sporadic
from guarantee_sim.scenario.compose import load_scenario
from guarantee_sim.runs.runner import run_replications

SPORADIC_RATES = Sporadic.Params().rates


def ms_per_run(overrides: tuple[str, ...], runs: int, repeats: int = 3) -> tuple[float, float]:
    """Best-of-``repeats`` milliseconds per run, and the mean number of incidents per run."""
    scenario = load_scenario(overrides)
    best, incidents = float("inf"), 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        df = run_replications(scenario, runs, seed=1, workers=1)
        best = min(best, (time.perf_counter() - start) * 1000 / runs)
        incidents = df["n_incidents"].mean()
    return best, incidents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, mesa {mesa.__version__}, {args.runs} runs, one core, best of 3")

    default_ms, default_events = ms_per_run((), args.runs)
    verdict = "meets" if default_ms <= 2.0 else "MISSES"
    print(f"default scenario, 365 days: {default_ms:.2f} ms/run ({default_events:.1f} incidents/run) -> {verdict} target <= 2 ms")

    strategic_ms, strategic_events = ms_per_run(("breach=strategic",), args.runs)
    verdict = "meets" if strategic_ms <= 3.0 else "MISSES"
    print(f"strategic violator, 365 days: {strategic_ms:.2f} ms/run ({strategic_events:.1f} incidents/run) -> {verdict} "
          "target <= 3 ms")

    base = tuple(f"breach.params.rates.{k}={v}" for k, v in SPORADIC_RATES.items())
    tenth = tuple(f"breach.params.rates.{k}={v / 10}" for k, v in SPORADIC_RATES.items())
    short_ms, short_events = ms_per_run(("horizon=365", *base), args.runs)
    long_ms, long_events = ms_per_run(("horizon=3650", *tenth), args.runs)
    ratio = long_ms / short_ms
    verdict = "meets" if ratio <= 1.5 else "MISSES"
    print(
        f"horizon 365 d: {short_ms:.2f} ms/run ({short_events:.1f} incidents); "
        f"horizon 3650 d at a tenth of the rates: {long_ms:.2f} ms/run ({long_events:.1f} incidents); "
        f"ratio {ratio:.2f} -> {verdict} target <= 1.5"
    )


if __name__ == "__main__":
    main()
