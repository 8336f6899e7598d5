"""Figures of a sensitivity study. Each function takes the study's tables and returns a Figure.

They work in notebooks as well as in ``guarantee-sim-sensitivity`` (which saves PNG and SVG):

    from guarantee_sim.present.sensitivity_plots import plot_sobol_indices
    fig = plot_sobol_indices(pd.read_csv("results/sensitivity/<run>/indices.csv"), "activation_probability")
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from guarantee_sim.analysis.sensitivity.evaluate import OUTCOMES, outcome_label
from guarantee_sim.analysis.sensitivity.text import median_missing, wide_interval

ST_COLOUR = "#1f4e79"
S1_COLOUR = "#e07b00"
WARNING_COLOUR = "#b2182b"


def plot_sobol_indices(indices: pd.DataFrame, outcome: str, meta: dict | None = None, top: int | None = None,
                       sample: pd.DataFrame | None = None) -> Figure:
    """Levers ranked by total index (top first), each with its total (ST) and first-order (S1)
    index and their bootstrap intervals as whiskers.

    The gap between ST and S1 is the lever's share in interactions; an interval reaching 0 means
    the sample cannot tell the lever from an inert one. Where an interval is wider than the whole
    index range [0, 1] the figure says that ``study.n`` is too small, and which n would do, above
    the plot. The median days to activation without indices (``sample`` given: the study's points)
    shows where the median is reached instead (``plot_median_reached``).
    """
    t = indices[indices["outcome"] == outcome].copy()
    t = t.sort_values("ST", ascending=False, na_position="last")
    if top:
        t = t.head(top)
    labels = t["label"] if "label" in t else t["lever"]
    k = len(t)
    empty = bool(t["ST"].isna().all())
    label = ((meta or {}).get("outcomes") or {}).get(outcome, {}).get("label")
    label = label or (outcome_label(outcome) if outcome in OUTCOMES else outcome)
    title = label[0].upper() + label[1:]
    if empty and outcome == "median_days_to_activation" and sample is not None and meta:
        return plot_median_reached(sample, indices, meta, title)
    fig = Figure(figsize=(8.0, 2.0 if empty else 1.6 + 0.38 * max(k, 1)), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    if empty:
        why = "The outcome varies at fewer than 5% of the points:\nits indices are not estimated."
        reached = (meta or {}).get("median_reached_share")
        if outcome == "median_days_to_activation" and reached is not None:
            why += f"\n(The median is reached within the horizon at only {reached:.0%} of the points.)"
        ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(f"Which levers drive it: {title}", fontsize=11, loc="left")
        return fig
    y = np.arange(k)[::-1].astype(float)
    for col, colour, dy, marker, name in (("ST", ST_COLOUR, 0.16, "s", "total index ST (value on the right)"),
                                          ("S1", S1_COLOUR, -0.16, "o", "first-order index S1")):
        est = t[col].to_numpy(dtype=float)
        lo = t[f"{col}_low"].to_numpy(dtype=float)
        hi = t[f"{col}_high"].to_numpy(dtype=float)
        err = np.vstack([np.clip(est - lo, 0, None), np.clip(hi - est, 0, None)])
        ax.errorbar(est, y + dy, xerr=err, fmt=marker, color=colour, ecolor=colour, elinewidth=1.4,
                    capsize=3, markersize=5, label=name)
    # the total index in figures at the right edge, so small indices stay readable
    from matplotlib.transforms import blended_transform_factory

    edge = blended_transform_factory(ax.transAxes, ax.transData)
    for yi, (_, r) in zip(y, t.iterrows()):
        ax.text(1.02, yi, f"{r['ST']:.3f}", transform=edge, fontsize=8, color=ST_COLOUR, ha="left", va="center")
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(list(labels), fontsize=9)
    ax.set_ylim(-0.7, k - 0.3)
    lows = t[["S1_low", "ST_low"]].to_numpy(dtype=float)
    highs = t[["S1_high", "ST_high"]].to_numpy(dtype=float)
    xmin = max(-1.0, min(-0.05, float(np.nanmin(lows)) - 0.02))
    xmax = max(0.3, min(1.3, float(np.nanmax(highs)) + 0.05))
    ax.set_xlim(xmin, xmax)
    for col, colour, dy in (("ST", ST_COLOUR, 0.16), ("S1", S1_COLOUR, -0.16)):  # whiskers cut at the edge: arrows
        for edge, side, marker in ((xmax, t[f"{col}_high"] > xmax, ">"), (xmin, t[f"{col}_low"] < xmin, "<")):
            if side.any():
                ax.plot(np.full(int(side.sum()), edge), y[side.to_numpy()] + dy, ls="none", marker=marker, color=colour,
                        markersize=6, clip_on=False, gid="cut")
    ax.set_xlabel("Sobol' index: share of the outcome's variance (0 to 1); whiskers: 95% bootstrap interval", fontsize=9)
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    sub = ""
    if meta:
        design = {"sobol": "Sobol'", "lhs": "Latin hypercube"}.get(meta.get("design"), meta.get("design", ""))
        sub = f"\n{design} design, n = {meta.get('n')}, {meta.get('replicates')} runs per point"
        share = (meta.get("noise") or {}).get(outcome, {}).get("noise_share")
        if share is not None and not (isinstance(share, float) and math.isnan(share)):
            sub += f", seed noise {share:.0%}"
        reached = meta.get("median_reached_share")
        if outcome == "median_days_to_activation" and reached is not None and reached < 0.5:
            sub += f"\nthe median is reached at only {reached:.0%} of the points: read with care"
    ax.set_title(f"Which levers drive it: {title}{sub}", fontsize=9.5, loc="left")
    warning = (wide_interval(t, int(meta["n"]), float(meta.get("precision", 0.1)), dict(zip(t["lever"], labels)))
               if meta and meta.get("n") else None)
    if warning:
        fig.suptitle(textwrap.fill("Warning: " + warning, 110), fontsize=9, color=WARNING_COLOUR, x=0.01, ha="left",
                     gid="too_small")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def plot_median_reached(sample: pd.DataFrame, indices: pd.DataFrame, meta: dict, title: str) -> Figure:
    """Why the median days to activation has no indices: each point's activation probability
    against the lever that drives it most, the one-half line, and the points above it, where the
    median is reached within the horizon (their median days in the legend).

    Why: an empty placeholder says nothing; this shows which points have a median and which
    assumptions put them there.
    """
    from matplotlib.ticker import PercentFormatter

    info = {lv["name"]: lv for lv in meta.get("levers", [])}
    ranked = indices[(indices["outcome"] == "activation_probability") & indices["ST"].notna()].sort_values("ST", ascending=False)
    lead = next((name for name in [*ranked["lever"], *info] if name in sample.columns), None)
    reached = sample["median_reached"].to_numpy(dtype=bool)
    p = sample["activation_probability"].to_numpy(dtype=float)
    x = sample[lead].to_numpy(dtype=float) if lead else np.arange(len(sample), dtype=float)
    fig = Figure(figsize=(8.0, 4.6), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(x[~reached], p[~reached], s=9, color="0.55", alpha=0.35, linewidths=0,
               label=f"median beyond the horizon: {int((~reached).sum()):,} points")
    days = sample.loc[reached, "median_days_to_activation"].to_numpy(dtype=float)
    span = f"; medians {days.min():.0f}–{days.max():.0f} days" if len(days) else ""
    ax.scatter(x[reached], p[reached], s=16, color=ST_COLOUR, linewidths=0, zorder=3,
               label=f"median reached within the horizon: {int(reached.sum()):,} points{span}")
    ax.axhline(0.5, color=WARNING_COLOUR, lw=1.0, ls="--", zorder=2, label="half of the runs activate")
    ax.set_ylim(-0.03, 1.03)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("share of the point's runs that activate\n(activation probability)", fontsize=9)
    if lead:
        lv = info.get(lead, {})
        ax.set_xlabel(f"{lv.get('label', lead)}" + (f" ({lv['unit']})" if lv.get("unit") else "")
                      + (": the lever that drives the activation probability most" if len(ranked) else ""), fontsize=9)
        if lv.get("scale") == "log":
            ax.set_xscale("log")
    else:
        ax.set_xlabel("sample point", fontsize=9)
    ax.grid(color="0.92")
    ax.set_axisbelow(True)
    why = median_missing(float(reached.mean()), len(sample), int(meta.get("replicates", 0)), float(meta.get("horizon", 0)))
    ax.set_title(f"{title}: no Sobol' indices; where the median is reached instead\n" + textwrap.fill(why, 110),
                 fontsize=9.5, loc="left")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def plot_failure_region(sample: pd.DataFrame, discovery, levers, meta: dict | None = None) -> Figure | None:
    """The first failure region's two leading levers: each point coloured by its share of failed
    runs, with every failure region's box drawn (its projection on these two levers). ``None``
    when the study found no region."""
    regions = [r for r in discovery.rules if r.failure_region]
    if not regions:
        return None
    rule = regions[0]
    names = list(dict.fromkeys(c.lever for c in rule.conditions))
    if len(names) < 2:
        ranked = sorted(discovery.importances, key=lambda k: -discovery.importances[k])
        names += [k for k in ranked if k not in names][: 2 - len(names)]
    if len(names) < 2:
        names += [lv.name for lv in levers if lv.name not in names][: 2 - len(names)]
    if len(names) < 2:
        return None
    xname, yname = names[:2]
    info = {lv.name: lv for lv in levers}
    considered = sample["runs_considered"].to_numpy(dtype=float)
    keep = considered > 0
    share = np.divide(sample["runs_failed"].to_numpy(dtype=float), considered, out=np.full(len(sample), np.nan), where=keep)
    fig = Figure(figsize=(7.2, 5.4))
    ax = fig.add_subplot(1, 1, 1)
    sc = ax.scatter(sample.loc[keep, xname], sample.loc[keep, yname], c=share[keep], cmap="RdYlBu_r", vmin=0, vmax=1,
                    s=9, alpha=0.7, linewidths=0)
    cb = fig.colorbar(sc, ax=ax)
    of = (meta or {}).get("discovery", {}).get("of", "runs")
    cb.set_label(f"share of {of} in which support fails", fontsize=9)
    xlo, xhi = info[xname].low, info[xname].high
    ylo, yhi = info[yname].low, info[yname].high
    for number, region in enumerate(regions, 1):
        bx, by = [xlo, xhi], [ylo, yhi]
        for c in region.conditions:
            if c.lever == xname:
                bx[0 if c.op == ">" else 1] = c.threshold
            if c.lever == yname:
                by[0 if c.op == ">" else 1] = c.threshold
        style = "-" if number == 1 else "--"
        ax.plot([bx[0], bx[1], bx[1], bx[0], bx[0]], [by[0], by[0], by[1], by[1], by[0]], color="k", lw=1.8, ls=style)
        others = {c.lever for c in region.conditions} - {xname, yname}
        ax.annotate(f"{number}" + ("*" if others else ""), (bx[0], by[1]), xytext=(3, -3), textcoords="offset points",
                    ha="left", va="top", fontsize=10, weight="bold",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    for name, setter in ((xname, ax.set_xscale), (yname, ax.set_yscale)):
        if info[name].scale == "log":
            setter("log")

    def axis_label(name):
        lv = info[name]
        return f"{lv.label} ({lv.unit})" if lv.unit in ("days", "per day", "multiplier") else lv.label

    ax.set_xlabel(axis_label(xname), fontsize=9)
    ax.set_ylabel(axis_label(yname), fontsize=9)
    ax.set_title(f"Where binding support fails: the failure regions (numbered as in the rules)\n"
                 f"region 1: density {rule.density:.0%}, coverage {rule.coverage:.0%}; * = also bounded in other levers; "
                 f"every point shown", fontsize=9, loc="left")
    fig.tight_layout()
    return fig
