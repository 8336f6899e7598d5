"""The figures that compare scenarios cell by cell from a sweep's summary table: the activation
heat map, the bars and the funnel of where the chain failed.

Levers a figure does not place on an axis become panels (facets), so no two cells are ever
drawn as one. In a notebook:

    import pandas as pd
    from guarantee_sim.present.sweep_figures import plot_heatmap
    plot_heatmap(pd.read_csv("results/headline/sweep_summary.csv"), "breach", "trigger")
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from guarantee_sim.present.plots import lever_columns, short_labels, values_of, varying
from guarantee_sim.present.narrative import (FUNNEL_ORDER, NOTHING_BINDING, POOLED_MEASURE, STAGE_LABELS,
                                            nothing_binding)
from guarantee_sim.present.style import (LABEL, NO_NUMBER, SERIES, SMALL, STAGE_COLOURS, TICK, grid_shape, new_figure, pct,
                                         pretty, wrap, wrapped_title)


def p_label(horizon: float | None) -> str:
    """The probability axis' name, with the horizon in days when there is one horizon."""
    within = f"{horizon:g} days" if horizon else "the horizon"
    return f"P(pooled binding support activates within {within})"



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
        empty = []
        for _, r in t.iterrows():
            a, b = rows_v.index(str(r[row])), cols_v.index(str(r[col]))
            if nothing_binding(r):
                empty.append((a, b))
                ax.text(b, a, NOTHING_BINDING.replace(" ", "\n"), ha="center", va="center", fontsize=SMALL - 1,
                        color="0.25")
                continue
            grid[a, b] = r["activation_probability"]
            lo, hi = r.get("activation_low", math.nan), r.get("activation_high", math.nan)
            p = r["activation_probability"]
            dark = p < 0.6
            ax.text(b, a - 0.12, pct(p), ha="center", va="center", fontsize=SMALL + 0.5, fontweight="bold",
                    color="white" if dark else "black")
            ax.text(b, a + 0.2, f"{100 * lo:.0f}–{100 * hi:.0f}", ha="center", va="center", fontsize=SMALL - 1,
                    color="white" if dark else "black")
        image = ax.imshow(grid, cmap=cmap, vmin=0, vmax=1, aspect="auto")
        for a, b in empty:
            ax.add_patch(Rectangle((b - 0.5, a - 0.5), 1, 1, color=NO_NUMBER, zorder=0.5))
        for a, b in zip(*np.nonzero(np.isnan(grid))):
            if (a, b) not in empty:
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
    wrapped_title(sf, f"{POOLED_MEASURE} by {row} and {col}\n"
               f"each cell: the estimate (bold) and its 95% Wilson interval, in %; grey: {NOTHING_BINDING} "
               "by construction, so nothing to activate", width)
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
                x = xs.index(str(r[lever])) - 0.4 + bw * (j + 0.5)
                if nothing_binding(r):  # no bar: nothing to activate, which is no failure
                    ax.text(x, 0.02, NOTHING_BINDING, rotation=90, ha="center", va="bottom", fontsize=SMALL, color="0.25")
                    continue
                pos.append(x)
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
    wrapped_title(sf, f"{POOLED_MEASURE} by {what}" + (f" and {hue}" if hue else "")
           + f" (whiskers: 95% Wilson interval; no bar: {NOTHING_BINDING})", width)
    return fig


# 3. funnel -------------------------------------------------------------------------------------
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
    title = f"The funnel of {POOLED_MEASURE[0].lower()}{POOLED_MEASURE[1:]}: where it failed (the furthest stage each run reached)"
    if common:
        title += "\n" + common
    wrapped_title(sf, title, fig.get_figwidth())
    return fig



# 4. deterrence and response --------------------------------------------------------------------
RESPONSE = "support_in_time_given_attack"
FEW_ATTACKS = 20  # fewer runs with an attack than this: the response share is drawn pale
PALE = "#f6d3ae"


def attacks(row) -> float:
    """Runs with an attack behind a cell's response share (NaN if the table does not say)."""
    if "runs" not in row or pd.isna(row.get("attack_probability")):
        return np.nan
    return round(float(row["attack_probability"]) * float(row["runs"]))


MEASURES = (  # column, short label, colour
    ("attack_probability", "P(attack)", "#b2182b"),
    ("support_in_time_given_attack", "P(support in time | attack)", "#e08214"),
    ("protected_probability", "P(protected)", "#1b7837"),
)


def plot_deterrence(summary: pd.DataFrame, lever: str, facet: list[str] | None = None, order: dict | None = None,
                    stamp: str | None = None, ncols: int = 2) -> Figure:
    """Per value of ``lever`` (a design, say), the deterrence side, the response side and their
    combination side by side, each with its Wilson whiskers: no design can look better by inviting
    more attacks. A response share with no attack to answer is left out (no bar), not drawn as 0;
    above each response bar stands the number of runs with an attack it rests on, and a share that
    rests on fewer than ``FEW_ATTACKS`` is drawn pale: a well-deterred design has few attacks to answer."""
    table = summary
    if facet is None:
        facet = varying(table, exclude=[lever])
    _one_per(table, [*facet, lever], "deterrence")
    xs = values_of(table, lever, order)
    panels = _facets(table, facet, order)
    pw = max(3.4, 0.55 * len(xs) * len(MEASURES) * 0.3 + 0.5 * len(xs))
    nr, nc = grid_shape(len(panels), max(1, min(ncols, int((11.5 - 0.9) // (pw + 0.3)))))
    width = 0.9 + nc * (pw + 0.3)
    fig, sf = new_figure(width, 1.6 + nr * 2.7, stamp)
    axes = sf.subplots(nr, nc, squeeze=False, sharey=True)
    bw = 0.8 / len(MEASURES)
    for i, ax in enumerate(axes.flat):
        if i >= len(panels):
            ax.set_axis_off()
            continue
        title, t = panels[i]
        for j, (col, _, colour) in enumerate(MEASURES):
            rows = [(xs.index(str(r[lever])) - 0.4 + bw * (j + 0.5), r[col], r[f"{col}_low"], r[f"{col}_high"],
                     attacks(r) if col == RESPONSE else np.nan)
                    for _, r in t.iterrows() if not pd.isna(r[col])]
            if not rows:
                continue
            pos, est, lo, hi, n = (np.asarray(v, dtype=float) for v in zip(*rows))
            few = n < FEW_ATTACKS
            ax.bar(pos, est, width=bw * 0.92, color=[PALE if f else colour for f in few], zorder=2)
            ax.errorbar(pos, est, yerr=[np.clip(est - lo, 0, None), np.clip(hi - est, 0, None)], fmt="none",
                        ecolor="black", elinewidth=1.0, capsize=1.5, zorder=3)
            if col == RESPONSE:
                for x, top, k in zip(pos, np.maximum(est, hi), n):
                    if not np.isnan(k):
                        ax.text(x, min(top, 0.93) + 0.02, f"n={k:.0f}", ha="center", va="bottom",
                                fontsize=SMALL, rotation=90, zorder=4)
        ax.set_xticks(range(len(xs)), [wrap(pretty(v), 12) for v in xs], fontsize=TICK)
        ax.set_xlim(-0.55, len(xs) - 0.45)
        ax.set_ylim(0, 1.05)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
        ax.tick_params(axis="y", labelsize=TICK)
        ax.grid(axis="y", color="0.9", zorder=0)
        ax.set_axisbelow(True)
        if title:
            ax.set_title(wrap(title.replace(",", ", "), max(20, int(pw * 14))), fontsize=LABEL)
        ax.set_xlabel(lever, fontsize=LABEL)
    handles = [Patch(color=colour, label=label) for _, label, colour in MEASURES]
    handles.append(Patch(color=PALE, label=f"the same, n < {FEW_ATTACKS} attacks"))
    sf.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=TICK, frameon=False)
    wrapped_title(sf, f"Deterrence and response by {lever}: P(attack) within the horizon, P(military support in time "
                      "| attack), P(protected: no attack, or support in time) (whiskers: 95% Wilson interval; n: runs with an "
                      "attack)", width)
    return fig
