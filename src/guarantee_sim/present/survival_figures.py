"""The figures that follow runs over time and compare scenarios run by run: Kaplan–Meier curves
of days to activation, activation by support type, and paired differences over shared run seeds.

They read the sweep's runs table (one row per run); the survival helpers (censoring at the
horizon, the curve with its band, the log-rank test) serve the report's tables as well. In a
notebook:

    import pandas as pd
    from guarantee_sim.present.survival_figures import plot_km
    runs = pd.read_parquet("results/headline/sweep_runs.parquet")
    plot_km(runs, runs["cell"].unique()[:3], horizon=365)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats as sps

from guarantee_sim.analysis.stats import LEVEL, km_median, wilson
from guarantee_sim.model.triggers import SUPPORT_TYPES
from guarantee_sim.present.narrative import NOTHING_DRAWN
from guarantee_sim.present.plots import short_labels
from guarantee_sim.present.style import DASHES, LABEL, SERIES, SMALL, TICK, new_figure, wrap, wrapped_title


# 1. Kaplan-Meier -------------------------------------------------------------------------------
def horizon_of(horizon, cell) -> float:
    """A cell's horizon: ``horizon`` is one number for all cells or a mapping cell -> days."""
    return float(horizon[cell]) if isinstance(horizon, dict) else float(horizon)


def _longest(horizon) -> float:
    return max(float(h) for h in horizon.values()) if isinstance(horizon, dict) else float(horizon)


def censored(days, horizon: float) -> sps.CensoredData:
    """Days to activation with the runs that never activated right-censored at the horizon."""
    d = np.asarray(days, dtype=float)
    return sps.CensoredData(uncensored=d[~np.isnan(d)], right=np.full(int(np.isnan(d).sum()), float(horizon)))


def km_curve(days, horizon: float, level: float = LEVEL) -> pd.DataFrame:
    """The Kaplan–Meier share of runs activated by each day (1 − survival), with its pointwise
    log-log band: one row per step (day 0, each activation day, the horizon)."""
    d = np.asarray(days, dtype=float)
    if len(d) == 0 or np.all(np.isnan(d)):
        zero = np.zeros(2)
        return pd.DataFrame({"day": [0.0, float(horizon)], "share": zero, "low": zero, "high": zero})
    res = sps.ecdf(censored(d, horizon))
    t = res.sf.quantiles
    grid = np.concatenate([[0.0], t[t < horizon], [float(horizon)]])
    share = 1 - res.sf.evaluate(grid)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The confidence interval is undefined", RuntimeWarning)
        band = res.sf.confidence_interval(confidence_level=level, method="log-log")
        low = 1 - np.nan_to_num(band.high.evaluate(grid), nan=1.0)
        high = 1 - np.nan_to_num(band.low.evaluate(grid), nan=1.0)
    return pd.DataFrame({"day": grid, "share": share, "low": np.minimum(low, share), "high": np.maximum(high, share)})


def logrank_p(days_a, days_b, horizon: float) -> float:
    """Two-sided log-rank p-value of two scenarios' days to activation (NaN: no activation in either)."""
    a, b = np.asarray(days_a, dtype=float), np.asarray(days_b, dtype=float)
    if np.all(np.isnan(a)) and np.all(np.isnan(b)):
        return math.nan
    return float(sps.logrank(censored(a, horizon), censored(b, horizon)).pvalue)


def _median_text(days, horizon: float) -> str:
    m, lo, hi = km_median(days, horizon)
    if math.isnan(m):
        return f"median > {horizon:g} d"
    lo_t = "?" if math.isnan(lo) else f"{lo:.0f}"
    hi_t = f">{horizon:g}" if math.isnan(hi) else f"{hi:.0f}"
    return f"median {m:.0f} d [{lo_t}–{hi_t}]"


def plot_km(runs: pd.DataFrame, cells, horizon, pair: tuple[str, str] | None = None,
            labels: dict | None = None, order: dict | None = None, stamp: str | None = None,
            empty=frozenset()) -> Figure:
    """Kaplan–Meier curves of days to pooled activation, one per cell, runs without activation censored
    at the horizon (one number, or a mapping cell -> days); the log-rank p-value of ``pair`` in the corner.

    The curves rise: the share of runs with binding support activated by each day. Cells share
    run seeds, so the log-rank test (which assumes independent samples) is only a guide there.
    Cells in ``empty`` bind nothing: they have no curve (nothing to activate is no failure), only a
    legend entry that says so.
    """
    cells = list(cells)
    if labels is None:
        labels, common = short_labels(runs, cells, order)
    else:
        common = ""
    fig, sf = new_figure(7.6, 4.6 + 0.2 * math.ceil(len(cells) / 2), stamp)
    ax = sf.add_subplot()
    longest = _longest(horizon)
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":", zorder=1)
    ax.text(longest * 0.005, 0.505, "half of the runs", fontsize=SMALL - 1, color="0.4", va="bottom")
    handles = []
    for i, cell in enumerate(cells):
        days = runs.loc[runs["cell"] == cell, "activation_day"]
        colour, dash = SERIES[i % len(SERIES)], DASHES[i % len(DASHES)]
        if cell in empty:
            handles.append(Line2D([], [], color="0.6", ls=":", lw=1.0,
                                  label=f"{wrap(labels[cell], 44)}\n{NOTHING_DRAWN}, n = {len(days)}"))
            continue
        k = km_curve(days, horizon_of(horizon, cell))
        ax.fill_between(k["day"], k["low"], k["high"], step="post", color=colour, alpha=0.12, lw=0, zorder=2)
        ax.step(k["day"], k["share"], where="post", color=colour, ls=dash, lw=1.8, zorder=3)
        handles.append(Line2D([], [], color=colour, ls=dash, lw=1.8,
                              label=f"{wrap(labels[cell], 44)}\n{_median_text(days, horizon_of(horizon, cell))}, n = {len(days)}"))
    ax.set_xlim(0, longest)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax.set_xlabel("days since the ceasefire", fontsize=LABEL)
    ax.set_ylabel(wrap("share of runs with binding support activated (Kaplan–Meier)", 36), fontsize=LABEL)
    ax.tick_params(labelsize=TICK)
    ax.grid(color="0.92")
    test = ""
    if pair is not None:
        a, b = pair
        p = logrank_p(runs.loc[runs["cell"] == a, "activation_day"], runs.loc[runs["cell"] == b, "activation_day"],
                      horizon_of(horizon, a))
        text = "no activation in either" if math.isnan(p) else (f"p = {p:.3f}" if p >= 0.001 else "p < 0.001")
        test = f"log-rank test, {labels.get(a, a)} vs {labels.get(b, b)}: {text}"
    sf.legend(handles=handles, loc="outside lower center", ncols=2 if len(cells) > 1 else 1, fontsize=SMALL,
               frameon=False, handlelength=2.6)
    title = "Days to pooled binding support activated (the secondary measure), censored at the horizon (bands: pointwise 95%)"
    if common:
        title += "\n" + common
    if test:
        title += "\n" + test
    wrapped_title(sf, title, fig.get_figwidth())
    return fig


# 2. support types ------------------------------------------------------------------------------
def support_type_table(runs: pd.DataFrame, cells, horizon) -> pd.DataFrame:
    """Per cell and support type: P(activated) with its Wilson interval, KM median days with its band."""
    rows = []
    for cell in cells:
        r = runs[runs["cell"] == cell]
        for t in SUPPORT_TYPES:
            col = r[f"activation_day_{t}"]
            p, lo, hi = wilson(int(col.notna().sum()), len(col))
            m, mlo, mhi = km_median(col, horizon_of(horizon, cell))
            rows.append({"cell": cell, "support_type": t, "activation_probability": p, "activation_low": lo,
                         "activation_high": hi, "median_days": m, "median_days_low": mlo, "median_days_high": mhi})
    return pd.DataFrame(rows)


def plot_support_types(runs: pd.DataFrame, cells, horizon, labels: dict | None = None,
                       order: dict | None = None, stamp: str | None = None, empty=frozenset()) -> Figure:
    """Per support type: the binding support's activation probability (Wilson) and median days to
    it (Kaplan–Meier).

    A median beyond the horizon is drawn as an open arrowhead at the horizon. Cells in ``empty``
    bind nothing: no points, a legend entry that says so.
    """
    cells = list(cells)
    if labels is None:
        labels, common = short_labels(runs, cells, order)
    else:
        common = ""
    table = support_type_table(runs, cells, horizon)
    longest = _longest(horizon)
    fig, sf = new_figure(8.6, 2.2 + 0.34 * len(SUPPORT_TYPES) * max(1.0, len(cells) / 3) + 0.2 * math.ceil(len(cells) / 2), stamp)
    ax_p, ax_d = sf.subplots(1, 2, sharey=True)
    y0 = np.arange(len(SUPPORT_TYPES))[::-1].astype(float)
    step = 0.7 / max(len(cells), 1)
    for i, cell in enumerate(cells):
        if cell in empty:
            continue
        t = table[table["cell"] == cell].set_index("support_type").loc[list(SUPPORT_TYPES)]
        y = y0 + 0.35 - step * (i + 0.5)
        colour = SERIES[i % len(SERIES)]
        p, lo, hi = (t[c].to_numpy(dtype=float) for c in ("activation_probability", "activation_low", "activation_high"))
        ax_p.errorbar(p, y, xerr=[np.clip(p - lo, 0, None), np.clip(hi - p, 0, None)], fmt="o", color=colour,
                      ms=4.5, elinewidth=1.2, capsize=2)
        m, mlo, mhi = (t[c].to_numpy(dtype=float) for c in ("median_days", "median_days_low", "median_days_high"))
        reached = ~np.isnan(m)
        lo_d = np.where(np.isnan(mlo), m, mlo)
        hi_d = np.where(np.isnan(mhi), horizon_of(horizon, cell), mhi)
        ax_d.errorbar(m[reached], y[reached], xerr=[np.clip((m - lo_d)[reached], 0, None), np.clip((hi_d - m)[reached], 0, None)],
                      fmt="o", color=colour, ms=4.5, elinewidth=1.2, capsize=2)
        ax_d.scatter(np.full((~reached).sum(), horizon_of(horizon, cell)), y[~reached], marker=">", s=30, facecolors="none",
                     edgecolors=colour, linewidths=1.2, zorder=3)
    ax_p.set_yticks(y0, list(SUPPORT_TYPES), fontsize=TICK)
    for ax in (ax_p, ax_d):
        ax.set_ylim(-0.6, len(SUPPORT_TYPES) - 0.4)
        ax.grid(axis="x", color="0.92")
        ax.tick_params(labelsize=TICK)
        for yy in y0[:-1] - 0.5:
            ax.axhline(yy, color="0.85", lw=0.6)
    ax_p.set_xlim(0, 1.02)
    ax_p.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax_p.set_xlabel("P(activated within the horizon), 95% Wilson", fontsize=LABEL)
    ax_d.set_xlim(0, longest * 1.04)
    ax_d.set_xlabel(wrap("median days to activation (Kaplan–Meier, 95% interval); ▷ median beyond the horizon"
                         + ("" if isinstance(horizon, dict) else f" ({longest:g} days)"), 48),
                    fontsize=LABEL)
    handles = [Line2D([], [], color="0.6" if c in empty else SERIES[i % len(SERIES)], marker="o", ls="none", ms=5,
                      fillstyle="none" if c in empty else "full",
                      label=wrap(labels[c] + (f" ({NOTHING_DRAWN})" if c in empty else ""), 50))
               for i, c in enumerate(cells)]
    sf.legend(handles=handles, loc="outside lower center", ncols=2 if len(cells) > 1 else 1, fontsize=SMALL, frameon=False)
    title = "Binding support activated, by support type"
    if common:
        title += "\n" + common
    wrapped_title(sf, title, fig.get_figwidth())
    return fig


# 3. paired comparisons -------------------------------------------------------------------------
def plot_paired(pairs: pd.DataFrame, stamp: str | None = None) -> Figure:
    """Differences in activation probability between paired scenarios (common random numbers),
    with their bootstrap (BCa) intervals.

    ``pairs`` has one row per comparison: ``label`` (or ``a`` and ``b``), ``estimate``, ``low``,
    ``high`` and optionally ``n`` (paired runs).
    """
    pairs = pairs.reset_index(drop=True)
    labels = pairs["label"] if "label" in pairs else pairs["a"].astype(str) + "  −  " + pairs["b"].astype(str)
    k = len(pairs)
    fig, sf = new_figure(8.4, 1.5 + 0.62 * max(k, 1), stamp)
    ax = sf.add_subplot()
    y = np.arange(k)[::-1]
    est, lo, hi = (pairs[c].to_numpy(dtype=float) for c in ("estimate", "low", "high"))
    ax.axvline(0, color="0.4", lw=1)
    colours = ["#b2182b" if h < 0 else "#1b7837" if l > 0 else "0.3" for l, h in zip(lo, hi)]
    for yy, e, l, h, c in zip(y, est, lo, hi, colours):
        ax.errorbar([e], [yy], xerr=[[max(e - l, 0)], [max(h - e, 0)]], fmt="o", color=c, ms=6, elinewidth=1.6, capsize=4)
    span = max(0.05, float(np.nanmax(np.abs(np.concatenate([lo, hi, [0.0]])))) * 1.15)
    ax.set_xlim(-span, span)
    for yy, e, l, h in zip(y, est, lo, hi):
        n = ""
        ax.annotate(f"{100 * e:+.1f} pp [{100 * l:+.1f}, {100 * h:+.1f}]{n}", (1.0, yy), xycoords=("axes fraction", "data"),
                    xytext=(6, 0), textcoords="offset points", va="center", fontsize=SMALL)
    ax.set_yticks(y, [wrap(s, 46) for s in labels], fontsize=TICK)
    ax.set_ylim(-0.6, k - 0.4)
    ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:+.0f}")
    ax.set_xlabel("difference in P(protected), percentage points (first − second)", fontsize=LABEL)
    ax.tick_params(axis="x", labelsize=TICK)
    ax.grid(axis="x", color="0.92")
    n_txt = ""
    if "n" in pairs and len(pairs):
        ns = sorted(set(int(v) for v in pairs["n"]))
        n_txt = f", {ns[0]} paired runs" if len(ns) == 1 else f", {ns[0]}–{ns[-1]} paired runs"
    wrapped_title(sf, "Paired differences in activation probability (same run seeds)\n"
           f"95% BCa bootstrap intervals{n_txt}; green: first higher, red: first lower", fig.get_figwidth())
    return fig
