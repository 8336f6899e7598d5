"""Summaries with uncertainty: Wilson intervals for probabilities, Kaplan-Meier for delays.

Runs without activation are right-censored at the horizon. Both estimators are scipy's.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats

from guarantee_sim.model.outcomes import STAGES
from guarantee_sim.model.triggers import SUPPORT_TYPES

LEVEL = 0.95


def wilson(k: int, n: int, level: float = LEVEL) -> tuple[float, float, float]:
    """(estimate, low, high) of a binomial proportion, Wilson score interval."""
    return _wilson(int(k), int(n), float(level))


@functools.lru_cache(maxsize=4096)
def _wilson(k: int, n: int, level: float) -> tuple[float, float, float]:
    # binomtest works out a p-value first; a sweep's cells ask for the same (k, n) again and again
    if n == 0:
        return math.nan, math.nan, math.nan
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return k / n, float(ci.low), float(ci.high)


def _first_below_half(times: np.ndarray, sf: np.ndarray) -> float:
    below = np.nonzero(sf <= 0.5 + 1e-12)[0]
    return float(times[below[0]]) if len(below) else math.nan


def km_median(days: pd.Series | np.ndarray, horizon: float, level: float = LEVEL) -> tuple[float, float, float]:
    """Kaplan-Meier median of days to activation with a pointwise (log-log) band's crossing.

    ``days`` holds NaN for runs censored at the horizon. NaN where the curve or a band never
    falls to one half within the horizon (the median is then beyond the horizon).
    """
    days = np.asarray(days, dtype=float)
    observed = np.sort(days[~np.isnan(days)])
    if len(observed) == 0:
        return math.nan, math.nan, math.nan
    censored = len(days) - len(observed)
    if len(observed) <= KM_REMEMBERED:
        return _km_median(tuple(observed.tolist()), censored, float(horizon), float(level))
    return _km_median_of(observed, censored, float(horizon), float(level))


KM_REMEMBERED = 1000  # a curve of at most this many activations is remembered: a cell's support types
# often activate on the same days, and a sweep's cells ask for the same small curves again


@functools.lru_cache(maxsize=1024)
def _km_median(observed: tuple, censored: int, horizon: float, level: float) -> tuple[float, float, float]:
    return _km_median_of(np.array(observed), censored, horizon, level)


def _km_median_of(observed: np.ndarray, censored: int, horizon: float, level: float) -> tuple[float, float, float]:
    days_n = len(observed) + censored
    res = stats.ecdf(stats.CensoredData(uncensored=observed, right=np.full(censored, horizon)))
    t = res.sf.quantiles
    est = _first_below_half(t, res.sf.probabilities)
    if len(np.unique(observed)) < 2 or days_n < 3:
        return est, math.nan, math.nan
    with warnings.catch_warnings():
        # log-log bands are undefined where the curve reaches 0 or 1; those points are NaN
        warnings.filterwarnings("ignore", "The confidence interval is undefined", RuntimeWarning)
        band = res.sf.confidence_interval(confidence_level=level, method="log-log")
    lo_curve = np.nan_to_num(band.low.evaluate(t), nan=0.0)
    hi_curve = np.nan_to_num(band.high.evaluate(t), nan=1.0)
    return est, _first_below_half(t, lo_curve), _first_below_half(t, hi_curve)


def table_horizon(df: pd.DataFrame, horizon: float | None = None) -> float:
    """The runs' horizon: the table's ``horizon`` column (runs tables carry it), or the one given;
    one line if they disagree or neither says."""
    from guarantee_sim.errors import ConfigError

    column = sorted(set(df["horizon"].tolist())) if "horizon" in df.columns else []
    if len(column) > 1:
        raise ConfigError("horizon", f"the runs table mixes horizons {column}", "one scenario's runs (one horizon)")
    if horizon is None:
        if not column:
            raise ConfigError("horizon", "the runs table has no horizon column", "summarize(df, horizon=...)")
        return float(column[0])
    if column and float(horizon) != column[0]:
        raise ConfigError("horizon", f"{horizon:g} given, but the runs table's horizon is {column[0]:g}",
                          f"{column[0]:g} (or leave it out)")
    return float(horizon)


SUMMARY_COLUMNS = ("activated", "activation_day", *(f"activation_day_{t}" for t in SUPPORT_TYPES), "stage",
                   "false_activation", "offensive_day", "support_in_time", "horizon")  # what summarize reads


def summarize(df: pd.DataFrame, horizon: float | None = None) -> dict:
    """Activation probability, median days and the funnel, overall and per support type.

    The horizon is the table's own (its ``horizon`` column) unless given."""
    horizon = table_horizon(df, horizon)
    n = len(df)
    out = {"runs": n, "horizon": horizon}
    out["activation_probability"] = _interval(_count(df["activated"]), n)
    m, mlo, mhi = km_median(df["activation_day"].to_numpy(dtype=float), horizon)
    out["median_days_to_activation"] = {"estimate": m, "low": mlo, "high": mhi}
    out["by_support_type"] = {}
    for t in SUPPORT_TYPES:
        days = df[f"activation_day_{t}"].to_numpy(dtype=float)
        m, mlo, mhi = km_median(days, horizon)
        out["by_support_type"][t] = {
            "activation_probability": _interval(int(np.count_nonzero(~np.isnan(days))), n),
            "median_days_to_activation": {"estimate": m, "low": mlo, "high": mhi},
        }
    counts = Counter(df["stage"].tolist())
    out["funnel"] = {s: float(counts.get(s, 0)) / n if n else math.nan for s in STAGES}
    out.update(deterrence_and_response(df))
    out["false_activation"] = _interval(_count(df["false_activation"]), n)
    return out


def _count(flags: pd.Series) -> int:
    return int(np.count_nonzero(flags.to_numpy(dtype=bool, na_value=False)))


def _interval(k: int, n: int) -> dict:
    p, lo, hi = wilson(k, n)
    return {"estimate": p, "low": lo, "high": hi}


def protected(df: pd.DataFrame) -> pd.Series:
    """Per run: no armed attack, or military support in time (what paired comparisons of designs read)."""
    return df["offensive_day"].isna() | df["support_in_time"].fillna(False).astype(bool)


def measure_counts(df: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(successes, trials) of each headline measure and of the pooled one: what their Wilson
    intervals rest on, and what ``runs=auto`` adds up batch by batch (runs/store.py)."""
    n = len(df)
    attack = ~np.isnan(df["offensive_day"].to_numpy(dtype=float))
    in_time = df["support_in_time"].to_numpy(dtype=bool, na_value=False)
    attacks = int(np.count_nonzero(attack))
    return {"attack_probability": (attacks, n),
            "support_in_time_given_attack": (int(np.count_nonzero(in_time & attack)), attacks),
            "protected_probability": (int(np.count_nonzero(~attack | in_time)), n),
            "activation_probability": (_count(df["activated"]), n)}


def deterrence_and_response(df: pd.DataFrame) -> dict:
    """The measures that separate deterring an attack from answering one, each with its Wilson interval.

    attack_probability: an armed attack (full offensive) within the horizon — the deterrence side.
    support_in_time_given_attack: among runs with an attack, military support in time — the response side.
    protected_probability: no attack, or military support in time. A design cannot raise it by
    inviting more attacks, nor by promising less.
    """
    counts = measure_counts(df)
    out = {}
    for measure in ("attack_probability", "support_in_time_given_attack", "protected_probability"):
        p, lo, hi = wilson(*counts[measure])
        out[measure] = {"estimate": p, "low": lo, "high": hi}
    out["support_in_time_given_attack"]["runs_with_attack"] = counts["support_in_time_given_attack"][1]
    return out


MEASURE_WORDS = {
    "activation_probability": "P(pooled activation), secondary: states holding the activation share of the design's "
                              "own committed binding capacity (all types pooled) delivering within the horizon",
    "attack_probability": "P(attack): an armed attack (full offensive) within the horizon",
    "support_in_time_given_attack": "P(support in time | attack), the headline: military support delivered (binding or "
                                    "not) reaching what Ukraine needs (EUR bn a year) within its holding time, among "
                                    "runs with an attack",
    "protected_probability": "P(protected): no attack, or military support in time",
}


SUMMARY_CSV_COLUMNS = ("measure", "support_type", "estimate", "low", "high")


def _summary_records(summary: dict) -> list[tuple]:
    """One (measure, support type, estimate, low, high) per measure."""
    rows = []

    def add(measure, support_type, d):
        rows.append((measure, support_type, d["estimate"], d["low"], d["high"]))

    add("activation_probability", "all", summary["activation_probability"])
    add("median_days_to_activation", "all", summary["median_days_to_activation"])
    for t, d in summary["by_support_type"].items():
        add("activation_probability", t, d["activation_probability"])
        add("median_days_to_activation", t, d["median_days_to_activation"])
    add("attack_probability", "all", summary["attack_probability"])
    add("support_in_time_given_attack", "military", summary["support_in_time_given_attack"])
    add("protected_probability", "all", summary["protected_probability"])
    add("false_activation", "all", summary["false_activation"])
    for stage, share in summary["funnel"].items():
        rows.append((f"funnel_{stage}", "all", share, math.nan, math.nan))
    return rows


def summary_rows(summary: dict) -> pd.DataFrame:
    """The summary as a flat table: one row per measure."""
    return pd.DataFrame(_summary_records(summary), columns=list(SUMMARY_CSV_COLUMNS))


def summary_csv(summary: dict) -> str:
    """``summary_rows(summary).to_csv(index=False)``'s text (a test holds them equal), written by
    the csv module: a small cell's summary.csv cost about a tenth of its runs through pandas."""
    import csv
    import io

    def number(x):
        x = None if x is None else float(x)
        return "" if x is None or math.isnan(x) else repr(x)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUMMARY_CSV_COLUMNS)
    for measure, support_type, *values in _summary_records(summary):
        writer.writerow([measure, support_type, *map(number, values)])
    return out.getvalue()


def _days(d: dict, horizon: float) -> str:
    if math.isnan(d["estimate"]):
        return f"not reached within {horizon:g} days"
    lo = "?" if math.isnan(d["low"]) else f"{d['low']:.0f}"
    hi = f"> {horizon:g}" if math.isnan(d["high"]) else f"{d['high']:.0f}"
    return f"{d['estimate']:.0f} days (95% CI {lo} to {hi})"


def _prob(d: dict) -> str:
    if math.isnan(d["estimate"]):
        return "n/a"
    return f"{d['estimate']:.1%} (95% CI {d['low']:.1%} to {d['high']:.1%})"


def _pooled(summary: dict) -> str:
    if summary.get("nothing_binding"):
        return "none: nothing binding, by construction"
    return _prob(summary["activation_probability"])


def format_summary(summary: dict, labels: dict | None = None) -> str:
    """A readable plain-text summary for the terminal."""
    h = summary["horizon"]
    lines = []
    if labels:
        lines.append("Scenario: " + ", ".join(f"{k}={v}" for k, v in labels.items()))
    sit = summary["support_in_time_given_attack"]
    lines += [
        f"Runs: {summary['runs']}, horizon {h:g} days (exploratory model: read the bands, not the points)",
        f"Attack (a full offensive within the horizon):          {_prob(summary['attack_probability'])}",
        f"Military support in time, given an attack:           {_prob(sit)} of {sit['runs_with_attack']} runs with one",
        f"Protected (no attack, or military support in time):  {_prob(summary['protected_probability'])}",
        f"Pooled binding support activated (secondary measure): {_pooled(summary)}",
        f"Median days to activation (Kaplan-Meier, censored at the horizon): {_days(summary['median_days_to_activation'], h)}",
        "",
        f"{'support type':<14}{'P(activated)':<40}median days to activation",
    ]
    for t, d in summary["by_support_type"].items():
        lines.append(f"{t:<14}{_prob(d['activation_probability']):<40}{_days(d['median_days_to_activation'], h)}")
    lines += [
        "",
        f"Activation resting on a false alarm: {_prob(summary['false_activation'])}",
        "",
        "Where the chain stopped (share of runs):",
    ]
    for stage, share in summary["funnel"].items():
        lines.append(f"  {stage:<20}{share:6.1%}")
    return "\n".join(lines)
