"""One sensitivity study from a composed config: check it, evaluate the design, estimate the
indices and find the failure regions. Writing and wording the result are elsewhere."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from guarantee_sim.analysis.sensitivity.evaluate import (OUTCOMES, POINT_COLUMNS, Evaluator, evaluate, outcome_label, run_matrix,
                                                          seed_blocks)
from guarantee_sim.analysis.sensitivity.indices import sobol_table
from guarantee_sim.analysis.sensitivity.levers import Lever, check_levers, levers_from_study
from guarantee_sim.analysis.sensitivity.result import KIND
from guarantee_sim.analysis.sensitivity.sampling import sample_design, saltelli_points
from guarantee_sim.analysis.sensitivity.schema import AMONG, DESIGNS
from guarantee_sim.errors import ConfigError


@dataclass
class StudyRun:
    """A study as it ran: every point's levers and outcomes, the index table, the discovery and
    the metadata (``write.study_result`` turns it into the typed ``result.StudyResult``)."""

    sample: pd.DataFrame
    indices: pd.DataFrame
    discovery: Any  # discovery.Discovery
    levers: list[Lever]
    meta: dict


def scenario_part(config: dict) -> dict:
    """The plain scenario config: the study block and Hydra's node removed."""
    return {k: v for k, v in config.items() if k not in ("study", "hydra")}


def check_study(config: dict) -> tuple[dict, list[Lever]]:
    """Check a composed study config (plain dict); return the scenario part and the active levers."""
    from guarantee_sim.scenario.build import build_scenario

    study = config.get("study") or {}
    base = scenario_part(config)
    scenario = build_scenario(base)
    design = study.get("design")
    if design not in DESIGNS:
        raise ConfigError("study.design", f"unknown value {design!r}", ", ".join(DESIGNS))
    for key, lo in (("n", 2), ("replicates", 1), ("bootstrap", 100), ("noise_points", 0)):
        v = study.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ConfigError(f"study.{key}", f"must be a whole number >= {lo}, got {v!r}", f"{lo}, {lo + 1}, ...")
    n = study["n"]
    if n & (n - 1):
        raise ConfigError("study.n", f"must be a power of 2 (scipy's Sobol' estimator needs it), got {n}", "2, 4, 8, ..., 256, 512, ...")
    precision = study.get("precision")
    if isinstance(precision, bool) or not isinstance(precision, (int, float)) or not 0 < precision <= 1:
        raise ConfigError("study.precision", f"must lie in (0, 1], got {precision!r}", "e.g. 0.1")
    conf = study.get("confidence")
    if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0.5 <= conf < 1:
        raise ConfigError("study.confidence", f"must lie in [0.5, 1), got {conf!r}", "e.g. 0.95")
    from guarantee_sim.model.triggers import SUPPORT_TYPES

    st = study.get("support_type")
    if st is not None and st not in SUPPORT_TYPES:
        raise ConfigError("study.support_type", f"unknown value {st!r}", "null, " + ", ".join(SUPPORT_TYPES))
    disc = study.get("discovery") or {}
    if disc.get("among") not in AMONG:
        raise ConfigError("study.discovery.among", f"unknown value {disc.get('among')!r}", ", ".join(AMONG))
    late = disc.get("late_days")
    if late is not None and (isinstance(late, bool) or not isinstance(late, (int, float)) or late < 0):
        raise ConfigError("study.discovery.late_days", f"must be a number of days >= 0 or null, got {late!r}", "null, 0, 30, ...")
    for key, lo, hi in (("min_leaf_share", 0.0, 0.5), ("min_density", 0.0, 1.0)):
        v = disc.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo < v <= hi:
            raise ConfigError(f"study.discovery.{key}", f"must lie in ({lo}, {hi}], got {v!r}", f"a number in ({lo}, {hi}]")
    depth = disc.get("max_depth")
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 6:
        raise ConfigError("study.discovery.max_depth", f"must be a whole number in 1..6, got {depth!r}", "1, 2, 3, 4, 5, 6")
    levers = levers_from_study(study.get("levers") or {}, scenario.labels.get("breach"))
    check_levers(base, levers)
    return base, levers


def run_study(config: dict, workers: int | None = None, log: Callable[[str], None] | None = None) -> StudyRun:
    """Run a study from a composed, resolved config (plain dict with a ``study`` block)."""
    from guarantee_sim.analysis.discovery import find_failure_rules, find_prim_rule, prim_available, rule_text
    from guarantee_sim.scenario.build import build_scenario

    from guarantee_sim.runs.provenance import git_commit, now

    t0, cpu0, started = time.perf_counter(), _cpu_seconds(), now()
    log = log or (lambda s: None)
    base, levers = check_study(config)
    study = config["study"]
    scenario = build_scenario(base)
    n, R, d = study["n"], study["replicates"], len(levers)
    seed = int(base.get("seed", 0))
    workers = int(base.get("workers", 1) if workers is None else workers)
    A, B = sample_design(levers, n, study["design"], rng=np.random.SeedSequence([seed, 1]))
    X, block, swapped = saltelli_points(A, B)
    rows = np.tile(np.arange(n), d + 2)
    n_check = min(study["noise_points"], n)
    # row j's points share seed block j; the noise check re-runs A's first rows with fresh blocks
    seeds = seed_blocks(seed, n + n_check, R)
    disc = study["discovery"]
    support_type = study.get("support_type")
    evaluator = Evaluator(base, levers, seeds, scenario.horizon, disc["among"], disc["late_days"], support_type)
    values = np.vstack([X, A[:n_check]])
    blocks = np.concatenate([rows, n + np.arange(n_check)])
    log(f"{len(X):,} sample points ({study['design']}, n={n}, {d} levers) x {R} runs"
        + (f" + {n_check} noise-check points" if n_check else "") + f", {workers} worker(s)")
    step = max(1, len(values) // 10)
    marks = {"next": step}

    def progress(done, total):
        if done >= marks["next"] or done == total:
            log(f"  {done:,}/{total:,} points ({time.perf_counter() - t0:.0f} s)")
            marks["next"] = done + step

    evaluated = evaluate(evaluator, values, blocks, workers, progress)
    points, check = evaluated.iloc[: len(X)].reset_index(drop=True), evaluated.iloc[len(X):].reset_index(drop=True)
    t_runs = time.perf_counter() - t0

    sample = pd.DataFrame(X, columns=[lv.name for lv in levers])
    sample.insert(0, "point", np.arange(len(X)))
    sample.insert(1, "block", block)
    sample.insert(2, "swapped", [levers[i].name if i >= 0 else "" for i in swapped])
    sample.insert(3, "row", rows)
    for col in POINT_COLUMNS:
        sample[col] = points[col].to_numpy()

    rng = np.random.SeedSequence([seed, 2])
    names = [lv.name for lv in levers]
    tables, noise = [], {}
    runs = run_matrix(sample["activated_runs"])  # the activation probability is their mean: noise terms
    for k, outcome in enumerate(OUTCOMES):
        y = sample[outcome].to_numpy(dtype=float)
        tables.append(sobol_table(y, n, names, study["bootstrap"], study["confidence"], rng.spawn(1)[0], outcome,
                                  runs=runs if outcome == "activation_probability" else None))
        var = float(np.var(y[: 2 * n]))
        if n_check:
            diff = y[:n_check] - check[outcome].to_numpy(dtype=float)
            noise_var = float(np.mean(diff ** 2) / 2)
            noise[outcome] = {"noise_variance": noise_var, "output_variance": var,
                              "noise_share": noise_var / var if var > 0 else math.nan}
        else:
            noise[outcome] = {"noise_variance": math.nan, "output_variance": var, "noise_share": math.nan}
    indices = pd.concat(tables, ignore_index=True)
    labels = {lv.name: lv.label for lv in levers}
    indices.insert(2, "label", indices["lever"].map(labels))
    indices.insert(3, "key", indices["lever"].map({lv.name: lv.key for lv in levers}))
    indices["rank"] = indices.groupby("outcome")["ST"].rank(ascending=False, method="first")

    result = find_failure_rules(sample[names], sample["runs_failed"].to_numpy(), sample["runs_considered"].to_numpy(),
                                disc["max_depth"], disc["min_leaf_share"], disc["min_density"], seed)
    what, among = failure_words(disc, support_type)
    units = {lv.name: lv.unit for lv in levers}
    result.rules = [replace(r, text=rule_text(r, labels, units, what, among)) for r in result.rules]
    prim = None
    if prim_available():
        prim = find_prim_rule(sample[names], sample["runs_failed"].to_numpy(), sample["runs_considered"].to_numpy(),
                              disc["min_density"], disc["min_leaf_share"])
        prim = prim and replace(prim, text=rule_text(prim, labels, units, what, among))
    notes = size_warnings(indices, n, study["precision"], study["confidence"])
    for note in notes:  # the command prints them on stderr; Python callers find them in meta["warnings"]
        log(f"warning: {note}")
    meta = {
        "kind": KIND,
        "version": 1,
        "name": study.get("name", "sensitivity"),
        "question": study.get("question", ""),
        "design": study["design"],
        "n": n,
        "replicates": R,
        "points": int(len(X)),
        "noise_points": n_check,
        "runs": int((len(X) + n_check) * R),
        "seed": seed,
        "workers": workers,
        "horizon": scenario.horizon,
        "scenario": scenario.labels,
        "levers": [{"name": lv.name, "key": list(lv.keys), "low": lv.low, "high": lv.high, "scale": lv.scale,
                    "label": lv.label, "unit": lv.unit} for lv in levers],
        "support_type": support_type,
        "outcomes": {k: {"label": outcome_label(k, support_type), "unit": v[1]} for k, v in OUTCOMES.items()},
        "noise": noise,
        "median_reached_share": float(sample["median_reached"].mean()),
        "discovery": {"among": disc["among"], "late_days": disc["late_days"], "what": what, "of": among,
                      "failure_rate": result.failure_rate, "max_depth": disc["max_depth"],
                      "min_leaf_share": disc["min_leaf_share"], "min_density": disc["min_density"],
                      "prim": prim.as_dict() if prim else None,
                      "prim_note": None if prim_available() else 'PRIM needs EMA Workbench: pip install "guarantee-sim[ema]"'},
        "precision": study["precision"],
        "warnings": notes,
        "started": started,
        "git_commit": git_commit(),
        "seconds_runs": t_runs,
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": _cpu_seconds() - cpu0,
    }
    return StudyRun(sample, indices, result, levers, meta)


def size_warnings(indices: pd.DataFrame, n: int, precision: float, confidence: float) -> list[str]:
    """One line per outcome whose indices' intervals are too wide, with the n that would narrow them:
    where one is wider than the whole index range [0, 1] (the indices then say nothing, whatever
    ``precision`` asks), else where a total index's interval is wider than +/- ``precision``."""
    out = []
    for outcome, t in indices.groupby("outcome", sort=False):
        wide = too_wide(t)
        if wide is not None:
            lever, index, low, high = wide
            out.append(f"study.n={n} is too small for the Sobol' indices of {outcome} to mean anything: the "
                       f"{confidence:.0%} interval of {lever}'s {index} index runs from {low:.3g} to {high:.3g}, wider "
                       f"than the whole index range [0, 1]; " + remedy(needed_n(n, (high - low) / 2, precision), precision))
            continue
        half = (t["ST_high"] - t["ST_low"]) / 2
        if not half.notna().any() or half.max() <= precision:
            continue
        worst = t.loc[half.idxmax()]
        out.append(f"study.n={n} is too small for study.precision={precision:g}: the {confidence:.0%} interval of "
                   f"{outcome}'s total index for {worst['lever']} is +/-{half.max():.2g}; about "
                   f"study.n={needed_n(n, half.max(), precision)} would reach +/-{precision:g}")
    return out


def too_wide(t: pd.DataFrame) -> tuple[str, str, float, float] | None:
    """The widest total or first-order interval of one outcome's levers when it is wider than the
    index range [0, 1], as (lever, "total" or "first-order", low, high); else None. A bounded
    interval is named before an unbounded one (whose width says nothing of the n needed).

    Why: such an interval does not rank anything, and the figure cuts its whiskers at its edge,
    so the study has to say so rather than draw it."""
    best = None
    for col, index in (("ST", "total"), ("S1", "first-order")):
        width = (t[f"{col}_high"] - t[f"{col}_low"]).to_numpy(dtype=float)
        for i in np.nonzero(width > 1)[0]:
            key = (bool(np.isfinite(width[i])), width[i] if np.isfinite(width[i]) else 0.0)
            if best is None or key > best[0]:
                r = t.iloc[i]
                best = (key, (r["lever"], index, float(r[f"{col}_low"]), float(r[f"{col}_high"])))
    return None if best is None else best[1]


def needed_n(n: int, half: float, precision: float) -> int | None:
    """The power of 2 at which an interval of half-width ``half`` at ``n`` narrows to ``precision``
    (intervals narrow about as 1/sqrt(n)); None for an unbounded interval."""
    if not math.isfinite(half):
        return None
    return 2 ** max(math.ceil(math.log2(n)), math.ceil(math.log2(n * (half / precision) ** 2)))


def remedy(need: int | None, precision: float, sep: str = "=") -> str:
    """What would narrow a too wide interval (``needed_n``'s answer), in words."""
    if need is None:
        return "the outcome's variance is no larger than its seed noise: raise study.replicates, then study.n"
    return f"about study.n{sep}{need} would narrow it to +/-{precision:g} (study.precision)"


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the workers), user + system."""
    try:
        import resource
    except ImportError:  # not on Windows
        return math.nan
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def failure_words(disc: dict, support_type: str | None = None) -> tuple[str, str]:
    """(what fails, among which runs) in words, for the rules."""
    late = disc.get("late_days")
    support = "binding support" if support_type is None else f"binding {support_type} support"
    if disc.get("among") == "attacked":
        what = f"{support} fails to activate" + (f" within {late:g} days of the attack" if late is not None else " within the horizon")
        return what, "runs with an armed attack"
    what = f"{support} fails to activate" + (f" within {late:g} days of the ceasefire" if late is not None else " within the horizon")
    return what, "runs"
