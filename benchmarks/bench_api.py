"""Per-call overhead of the Python API: the share of a call's time spent outside the runs.

    python benchmarks/bench_api.py            # 200 calls of 100 runs (target: < 10% outside the runs)

Three ways in, each 200 calls of 100 runs on one core, the time inside the runs measured around each
run (``runner.run_one``): ``simulate`` with a mapping whose value changes every call (a new scenario
each call, as an EMA Workbench study makes them), ``simulate`` with the same overrides every call,
and ``run`` on a scenario built once. For reference, composing with Hydra on every call (what
``simulate`` did before it kept compositions) is timed on 20 calls.
"""

from __future__ import annotations

import sys
import time

from guarantee_sim.runs import runner
from guarantee_sim.scenario.build import build_scenario
from guarantee_sim.scenario.compose import compose_config

CALLS, RUNS = 200, 100
inside = [0.0]
_run_one = runner.run_one


def timed_run_one(scenario, seed):
    t = time.perf_counter()
    row = _run_one(scenario, seed)
    inside[0] += time.perf_counter() - t
    return row


def measure(label: str, call, calls: int = CALLS) -> float:
    call(0)  # warm: the first composition is paid once per process
    inside[0] = 0.0
    t = time.perf_counter()
    for i in range(calls):
        call(i)
    total = time.perf_counter() - t
    outside = (total - inside[0]) / total
    print(f"{label:<58}{total / calls * 1000:7.1f} ms/call   {outside:6.1%} outside the runs")
    return outside


def main() -> int:
    from guarantee_sim import load_scenario, run, simulate

    runner.run_one = timed_run_one
    print(f"{CALLS} calls of {RUNS} runs each, one core (Python {sys.version.split()[0]})")
    varying = measure("simulate(mapping), a new value every call",
                      lambda i: simulate({"breach": "hybrid", "commission.attribution_probability": 0.5 + i * 1e-3},
                                         runs=RUNS, seed=i))
    same = measure("simulate(overrides), the same every call",
                   lambda i: simulate(["breach=hybrid"], runs=RUNS, seed=i))
    scenario = load_scenario(["breach=hybrid"])
    built = measure("run(scenario), built once", lambda i: run(scenario, runs=RUNS, seed=i))
    measure("reference: Hydra composition on every call (before)",
            lambda i: runner.run_replications(build_scenario(compose_config(
                ("breach=hybrid", f"commission.attribution_probability={0.5 + i * 1e-3}"))), RUNS, i), calls=20)
    worst = max(varying, same, built)
    print(f"worst API share outside the runs: {worst:.1%} (target < 10%)")
    return 0 if worst < 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
