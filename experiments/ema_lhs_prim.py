"""EMA Workbench drives the model: a Latin hypercube over the documented lever ranges, two
guarantee designs as EMA policy levers, then PRIM (and CART beside it) on where military support
fails to come in time after an attack.

    pip install -e ".[ema]"                 # make test installs it
    python experiments/ema_lhs_prim.py      # about a minute on two cores; writes results/ema_lhs_prim/

Question and results: experiments/ema_lhs_prim.md.
"""

from __future__ import annotations

import inspect
import json
import sys
import time
from pathlib import Path

import numpy as np

SCENARIO = ["breach=strategic", "trigger=armed_attack"]
DESIGNS = ["paris_2026", "article5_like"]
EXPERIMENTS, RUNS, SEED = 200, 100, 2026
OUT = Path("results/ema_lhs_prim")


def main() -> int:
    from guarantee_sim.analysis.discovery import find_failure_rules, prim_box
    from guarantee_sim.ema import OUTCOMES, ema_model, import_ema

    ema = import_ema()
    np.random.seed(SEED)  # EMA 2.5 draws its Latin hypercube from numpy's global generator; EMA 3 takes a seed
    seeded = "uncertainty_sampling_kwargs" in inspect.signature(ema.MultiprocessingEvaluator.perform_experiments).parameters
    model = ema_model(SCENARIO, preset="paris_2026", runs=RUNS, seed=SEED, policies={"commitments": DESIGNS})
    t0 = time.perf_counter()
    with ema.MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=EXPERIMENTS // len(DESIGNS), policies=len(DESIGNS),
                                                              uncertainty_sampling=ema.Samplers.LHS,
                                                              lever_sampling=ema.Samplers.FF,
                                                              **({"uncertainty_sampling_kwargs": {"rng": SEED}} if seeded else {}))
    seconds = time.perf_counter() - t0
    OUT.mkdir(parents=True, exist_ok=True)
    table = experiments.drop(columns=["scenario", "policy", "model"]).assign(**{o: outcomes[o] for o in OUTCOMES})
    table.to_csv(OUT / "experiments.csv", index=False)

    levers = [u.name for u in model.uncertainties]
    in_time = outcomes["support_in_time_given_attack"]
    cut = float(np.median(in_time))
    failing = in_time <= cut  # the half of experiments where support least often comes in time
    x = table[levers].assign(article5_like=(table["commitments"] == "article5_like").astype(float))
    box = prim_box(x, failing, min_density=0.7)
    inside = np.logical_and.reduce([c.mask(x) for c in box]) if box else np.ones(len(x), bool)
    cart = find_failure_rules(x, failing.astype(int), np.ones(len(x), int), min_density=0.7)
    result = {
        "scenario": SCENARIO, "designs": DESIGNS, "experiments": len(table), "runs_per_experiment": RUNS, "seed": SEED,
        "seconds": round(seconds, 1), "ema_workbench": getattr(ema, "__version__", "?"),
        "by_design": {d: {o: float(np.mean(outcomes[o][table["commitments"] == d])) for o in OUTCOMES} for d in DESIGNS},
        "failing_cut": cut,
        "prim_box": [{"lever": c.lever, "op": c.op, "threshold": c.threshold} for c in box],
        "prim_density": float(failing[inside].mean()), "prim_coverage": float(failing[inside].sum() / failing.sum()),
        "prim_mass": float(inside.mean()),
        "cart_regions": [{"rule": " and ".join(f"{c.lever} {c.op} {c.threshold:.3g}" for c in r.conditions),
                          "density": r.density, "coverage": r.coverage, "mass": r.mass}
                         for r in cart.rules if r.failure_region],
    }
    (OUT / "prim.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
