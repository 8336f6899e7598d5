"""Scenario comparison figures. Each function takes the run or summary tables and returns a Figure.

They are the figures of ``guarantee-sim-report`` and work as well in a notebook:

    import pandas as pd
    from guarantee_sim.present import plots
    summary = pd.read_csv("results/headline/sweep_summary.csv")
    runs = pd.read_parquet("results/headline/sweep_runs.parquet")
    plots.plot_heatmap(summary, "breach", "trigger")         # one panel per design
    plots.plot_km(runs, runs["cell"].unique()[:3], horizon=365)

The tables are those the sweep writes: ``sweep_summary.csv`` (one row per cell: ``cell``, the
levers, ``runs``, ``activation_probability`` ...) and ``sweep_runs.parquet`` (one row per run:
``cell``, the levers, ``run``, ``seed``, ``activated``, ``activation_day`` ...). The lever columns
are those between ``cell`` and ``runs`` (``run`` in the runs table). Levers a figure does not
place on an axis become panels (facets), so no two cells are ever drawn as one.

Figures use matplotlib's object API (no pyplot state), constrained layout, and an optional
small-print ``stamp`` under the plot that says where the numbers come from.
"""

from __future__ import annotations

import math
import warnings
from itertools import product

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import stats as sps

from guarantee_sim.analysis.stats import LEVEL, km_median, wilson
from guarantee_sim.model.triggers import SUPPORT_TYPES
from guarantee_sim.present.style import (DASHES, FUNNEL_ORDER, LABEL, SERIES, SMALL, STAGE_COLOURS, STAGE_LABELS, TICK, grid_shape, new_figure, pct, pretty, wrapped_title, wrap)


def p_label(horizon: float | None) -> str:
    """The probability axis' name, with the horizon in days when there is one horizon."""
    within = f"{horizon:g} days" if horizon else "the horizon"
    return f"P(binding support activates within {within})"


# tables ----------------------------------------------------------------------------------------
def lever_columns(table: pd.DataFrame) -> list[str]:
    """The lever columns of a sweep table: those between ``cell`` and ``runs`` (or ``run``)."""
    cols = list(table.columns)
    if "cell" not in cols:
        return []
    end = "runs" if "runs" in cols else "run"
    if end not in cols:
        return []
    return cols[cols.index("cell") + 1 : cols.index(end)]


def varying(table: pd.DataFrame, exclude=()) -> list[str]:
    """Lever columns that take more than one value in ``table``."""
    return [k for k in lever_columns(table) if k not in exclude and table[k].astype(str).nunique() > 1]


def values_of(table: pd.DataFrame, lever: str, order: dict | None = None) -> list[str]:
    """The lever's values present in ``table``, in ``order[lever]`` first, then as they appear."""
    present = list(dict.fromkeys(table[lever].astype(str)))
    preferred = [str(v) for v in (order or {}).get(lever, [])]
    return [v for v in preferred if v in present] + [v for v in present if v not in preferred]


def short_labels(table: pd.DataFrame, cells, order: dict | None = None) -> tuple[dict[str, str], str]:
    """Labels that name only what differs among ``cells``, and the part they share (for the title)."""
    rows = table.drop_duplicates("cell").set_index("cell").loc[list(cells)]
    levers = lever_columns(table)
    differ = [k for k in levers if rows[k].astype(str).nunique() > 1]
    same = [k for k in levers if k not in differ]
    labels = {}
    for cell, r in rows.iterrows():
        labels[cell] = ", ".join(f"{k}={r[k]}" for k in differ) if differ else str(cell)
    common = ", ".join(f"{k}={rows.iloc[0][k]}" for k in same) if len(rows) else ""
    return labels, common


def _facets(table: pd.DataFrame, levers: list[str], order: dict | None) -> list[tuple[str, pd.DataFrame]]:
    """One (title, rows) per combination of the facet levers present in the table."""
    if not levers:
        return [("", table)]
    out = []
    for combo in product(*(values_of(table, k, order) for k in levers)):
        mask = np.ones(len(table), dtype=bool)
        for k, v in zip(levers, combo):
            mask &= table[k].astype(str).to_numpy() == v
        if mask.any():
            out.append((", ".join(f"{k}={v}" for k, v in zip(levers, combo)), table[mask]))
    return out


def _one_per(table: pd.DataFrame, keys: list[str], what: str) -> None:
    dup = table.duplicated(keys, keep=False)
    if dup.any():
        raise ValueError(f"{what}: several cells share {', '.join(keys)} = "
                         f"{table.loc[dup, keys].iloc[0].tolist()}; place the other levers on facets")


# 1. heat map -----------------------------------------------------------------------------------
def plot_heatmap(summary: pd.DataFrame, row: str, col: str, facet: list[str] | None = None, order: dict | None = None,
                 horizon: float | None = None, stamp: str | None = None, ncols: int = 2) -> Figure:
    """Activation probability over two levers, each cell annotated with its estimate and Wilson interval.

    One panel per combination of the other levers that vary (``facet``), so a 120-cell sweep
    reads as five 6 × 4 maps rather than one averaged one.
    """
    facet = varying(summary, exclude=(row, col)) if facet is None else list(facet)
    _one_per(summary, [*facet, row, col], "heat map")
    rows_v, cols_v = values_of(summary, row, order), values_of(summary, col, order)
    panels = _facets(summary, facet, order)
    nr, nc = grid_shape(len(panels), ncols)
    cw, rh = 0.92, 0.46
    left = 0.35 + 0.075 * max(len(pretty(v)) for v in rows_v)
    pw, ph = cw * len(cols_v), rh * len(rows_v)
    width = left + nc * (pw + 0.35) + 1.1
    height = 0.9 + nr * (ph + 0.95)
    fig, sf = new_figure(width, height, stamp)
    axes = sf.subplots(nr, nc, squeeze=False, sharex=True, sharey=True)
    cmap = "viridis"
    image = None
    for i, ax in enumerate(axes.flat):
        if i >= len(panels):
            ax.set_axis_off()
            continue
        title, t = panels[i]
        grid = np.full((len(rows_v), len(cols_v)), np.nan)
        for _, r in t.iterrows():
            a, b = rows_v.index(str(r[row])), cols_v.index(str(r[col]))
            grid[a, b] = r["activation_probability"]
            lo, hi = r.get("activation_low", math.nan), r.get("activation_high", math.nan)
            p = r["activation_probability"]
            dark = p < 0.6
            ax.text(b, a - 0.12, pct(p), ha="center", va="center", fontsize=SMALL + 0.5, fontweight="bold",
                    color="white" if dark else "black")
            ax.text(b, a + 0.2, f"{100 * lo:.0f}–{100 * hi:.0f}", ha="center", va="center", fontsize=SMALL - 1,
                    color="white" if dark else "black")
        image = ax.imshow(grid, cmap=cmap, vmin=0, vmax=1, aspect="auto")
        for a, b in zip(*np.nonzero(np.isnan(grid))):
            ax.text(b, a, "no cell", ha="center", va="center", fontsize=SMALL - 1, color="0.4")
        ax.set_xticks(range(len(cols_v)), [wrap(pretty(v), 11) for v in cols_v], fontsize=TICK)
        ax.set_yticks(range(len(rows_v)), [pretty(v) for v in rows_v], fontsize=TICK)
        ax.tick_params(length=0)
        ax.set_xticks(np.arange(len(cols_v) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(rows_v) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        if title:
            ax.set_title(wrap(title.replace(",", ", "), max(20, int(pw * 14))), fontsize=LABEL)
        if i % nc == 0:
            ax.set_ylabel(row, fontsize=LABEL)
        if i // nc == nr - 1 or i + nc >= len(panels):
            ax.set_xlabel(col, fontsize=LABEL)
            ax.tick_params(axis="x", labelbottom=True)
    cb = sf.colorbar(image, ax=axes.ravel().tolist(), shrink=min(1.0, 3.0 / height + 0.4), fraction=0.04, pad=0.02)
    cb.set_label(wrap(p_label(horizon), 34), fontsize=LABEL)
    cb.ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    cb.ax.tick_params(labelsize=TICK)
    wrapped_title(sf, f"Activation probability by {row} and {col}\n"
               "each cell: the estimate (bold) and its 95% Wilson interval, in %", width)
    return fig


# 2. bars ---------------------------------------------------------------------------------------
def plot_bars(summary: pd.DataFrame, lever: str, hue: str | None = None, facet: list[str] | None = None,
              order: dict | None = None, horizon: float | None = None, stamp: str | None = None, ncols: int = 2) -> Figure:
    """Activation probability along one lever, bars coloured by a second, with Wilson whiskers.

    ``lever="cell"`` gives one bar per cell (results without levers, e.g. a single run).
    """
    table = summary.copy()
    if lever == "cell":
        table["_cell"] = table["cell"].astype(str)
        lever, order = "_cell", {**(order or {}), "_cell": list(table["cell"].astype(str))}
    used = [lever] + ([hue] if hue else [])
    if facet is None:  # one bar per cell needs no panels
        facet = [] if lever == "_cell" else varying(table, exclude=used)
    _one_per(table, [*facet, *used], "bars")
    xs = values_of(table, lever, order)
    hs = values_of(table, hue, order) if hue else [None]
    panels = _facets(table, facet, order)
    pw = max(3.2, 0.17 * len(xs) * len(hs) + 0.3 * len(xs))
    nr, nc = grid_shape(len(panels), max(1, min(ncols, int((11.5 - 0.9) // (pw + 0.3)))))
    width = 0.9 + nc * (pw + 0.3)
    height = 1.3 + nr * 2.6 + (0.3 if hue else 0.0)
    fig, sf = new_figure(width, height, stamp)
    axes = sf.subplots(nr, nc, squeeze=False, sharey=True)
    bw = 0.8 / len(hs)
    for i, ax in enumerate(axes.flat):
        if i >= len(panels):
            ax.set_axis_off()
            continue
        title, t = panels[i]
        for j, hv in enumerate(hs):
            sub = t if hv is None else t[t[hue].astype(str) == hv]
            pos, est, lo, hi = [], [], [], []
            for _, r in sub.iterrows():
                pos.append(xs.index(str(r[lever])) - 0.4 + bw * (j + 0.5))
                est.append(r["activation_probability"])
                lo.append(r["activation_low"])
                hi.append(r["activation_high"])
            est, lo, hi = (np.asarray(v, dtype=float) for v in (est, lo, hi))
            colour = SERIES[j % len(SERIES)] if hue else "#4a7ab5"
            ax.bar(pos, est, width=bw * 0.92, color=colour, label=pretty(hv) if hue else None, zorder=2)
            ax.errorbar(pos, est, yerr=[np.clip(est - lo, 0, None), np.clip(hi - est, 0, None)], fmt="none",
                        ecolor="black", elinewidth=1.0, capsize=2.5 if bw > 0.15 else 1.5, zorder=3)
            if len(xs) * len(hs) <= 8:  # few bars: their values, above the whiskers
                for x, e, h in zip(pos, est, hi):
                    ax.text(x, min(h, 1.0) + 0.015, f"{100 * e:.0f}%", ha="center", va="bottom", fontsize=SMALL)
        ax.set_xticks(range(len(xs)), [wrap(pretty(v), 12 if lever != "_cell" else 22) for v in xs], fontsize=TICK)
        ax.set_xlim(-0.55, len(xs) - 0.45)
        ax.set_ylim(0, 1.08)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
        ax.tick_params(axis="y", labelsize=TICK)
        ax.grid(axis="y", color="0.9", zorder=0)
        ax.set_axisbelow(True)
        if title:
            ax.set_title(wrap(title.replace(",", ", "), max(20, int(pw * 14))), fontsize=LABEL)
        if i % nc == 0:
            ax.set_ylabel(wrap(p_label(horizon), 30), fontsize=LABEL)
        ax.set_xlabel("scenario" if lever == "_cell" else lever, fontsize=LABEL)
    if hue:
        handles = [Patch(color=SERIES[j % len(SERIES)], label=pretty(hv)) for j, hv in enumerate(hs)]
        sf.legend(handles=handles, title=hue, loc="outside lower center", ncols=min(len(hs), 6), fontsize=TICK,
                  title_fontsize=TICK, frameon=False)
    what = "scenario" if lever == "_cell" else lever
    wrapped_title(sf, f"Activation probability by {what}" + (f" and {hue}" if hue else "")
           + " (whiskers: 95% Wilson interval)", width)
    return fig


# 3. Kaplan-Meier -------------------------------------------------------------------------------
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
            labels: dict | None = None, order: dict | None = None, stamp: str | None = None) -> Figure:
    """Kaplan–Meier curves of days to activation, one per cell, runs without activation censored at
    the horizon (one number, or a mapping cell -> days); the log-rank p-value of ``pair`` in the corner.

    The curves rise: the share of runs with binding support activated by each day. Cells share
    run seeds, so the log-rank test (which assumes independent samples) is only a guide there.
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
        k = km_curve(days, horizon_of(horizon, cell))
        colour, dash = SERIES[i % len(SERIES)], DASHES[i % len(DASHES)]
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
    title = "Days to activation, censored at the horizon (bands: pointwise 95%)"
    if common:
        title += "\n" + common
    if test:
        title += "\n" + test
    wrapped_title(sf, title, fig.get_figwidth())
    return fig


# 4. funnel -------------------------------------------------------------------------------------
def plot_funnel(summary: pd.DataFrame, cells=None, labels: dict | None = None, order: dict | None = None,
                stamp: str | None = None) -> Figure:
    """Where the chain stopped: each cell's runs split by the furthest stage reached.

    Read left to right: activated, then the link that failed, from the last (approval) to the
    first (detection). Shares under 6% are left unlabelled.
    """
    t = summary.drop_duplicates("cell").set_index("cell")
    cells = list(t.index if cells is None else cells)
    if labels is None:
        labels, common = short_labels(summary, cells, order)
    else:
        common = ""
    width_label = max(len(labels[c]) for c in cells)
    fig, sf = new_figure(min(11.0, 6.5 + 0.055 * min(width_label, 60)), 1.5 + 0.3 * len(cells), stamp)
    ax = sf.add_subplot()
    y = np.arange(len(cells))[::-1]
    left = np.zeros(len(cells))
    for stage in FUNNEL_ORDER:
        share = t.loc[cells, f"funnel_{stage}"].to_numpy(dtype=float)
        share = np.nan_to_num(share)
        ax.barh(y, share, left=left, height=0.72, color=STAGE_COLOURS[stage], label=STAGE_LABELS[stage],
                edgecolor="white", linewidth=0.5)
        dark = stage in ("activated", "undetected", "below_trigger")
        for yy, l, s in zip(y, left, share):
            if s >= 0.06:
                ax.text(l + s / 2, yy, f"{100 * s:.0f}%", ha="center", va="center", fontsize=SMALL - 0.5,
                        color="white" if dark else "black")
        left += share
    ax.set_yticks(y, [wrap(labels[c], 60) for c in cells], fontsize=TICK)
    rows = t.loc[cells]
    first = next((k for k in lever_columns(summary) if rows[k].astype(str).nunique() > 1), None)
    if first is not None and len(cells) > 4:  # a thin rule between groups of the first lever that differs
        vals = rows[first].astype(str).to_numpy()
        for i in range(1, len(cells)):
            if vals[i] != vals[i - 1]:
                ax.axhline(y[i] + 0.5, color="0.3", lw=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(cells) - 0.4)
    ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax.set_xlabel("share of runs, by the furthest stage the chain reached", fontsize=LABEL)
    ax.tick_params(axis="x", labelsize=TICK)
    sf.legend(loc="outside lower center", ncols=4, fontsize=SMALL, frameon=False)
    title = "The funnel: where activation failed (the furthest stage each run reached)"
    if common:
        title += "\n" + common
    wrapped_title(sf, title, fig.get_figwidth())
    return fig


# 5. support types ------------------------------------------------------------------------------
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
                       order: dict | None = None, stamp: str | None = None) -> Figure:
    """Per support type: activation probability (Wilson) and median days to activation (Kaplan–Meier).

    A median beyond the horizon is drawn as an open arrowhead at the horizon.
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
    handles = [Line2D([], [], color=SERIES[i % len(SERIES)], marker="o", ls="none", ms=5, label=wrap(labels[c], 50))
               for i, c in enumerate(cells)]
    sf.legend(handles=handles, loc="outside lower center", ncols=2 if len(cells) > 1 else 1, fontsize=SMALL, frameon=False)
    title = "Activation by support type"
    if common:
        title += "\n" + common
    wrapped_title(sf, title, fig.get_figwidth())
    return fig


# 6. paired comparisons -------------------------------------------------------------------------
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
    ax.set_xlabel("difference in P(activated), percentage points (first − second)", fontsize=LABEL)
    ax.tick_params(axis="x", labelsize=TICK)
    ax.grid(axis="x", color="0.92")
    n_txt = ""
    if "n" in pairs and len(pairs):
        ns = sorted(set(int(v) for v in pairs["n"]))
        n_txt = f", {ns[0]} paired runs" if len(ns) == 1 else f", {ns[0]}–{ns[-1]} paired runs"
    wrapped_title(sf, "Paired differences in activation probability (same run seeds)\n"
           f"95% BCa bootstrap intervals{n_txt}; green: first higher, red: first lower", fig.get_figwidth())
    return fig
