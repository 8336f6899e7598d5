"""One run on a timeline: the chain's events on lanes, and the coalition cascade below.

The one timeline figure of the project: the report and the dashboard both draw it.
"""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from guarantee_sim.model.breaches import KIND_KEYS
from guarantee_sim.model.events import Event, EventKind, Reason
from guarantee_sim.model.triggers import SUPPORT_TYPES
from guarantee_sim.present.narrative import BREACH_WORDS, REGIME_ORDER
from guarantee_sim.present.style import (BREACH_COLOURS, LABEL, SMALL, TICK, TYPE_COLOURS, new_figure, pretty, wrap,
                                         wrapped_title)

LANES = ("Violator", "Breaches", "Monitoring", "Commission", "Trigger", "Decisions", "Deliveries")
KIND_ROW = 0.62  # a breach kind's row under the Breaches lane, in lanes
MARKS = {  # mark -> lane, marker, colour, filled, legend label (None: drawn as a line, not a point)
    "choice": ("Violator", "d", "#7f3b08", False, "violator's decision (size: rung)"),
    "breach": ("Breaches", "o", "#7f3b08", True, "breach (size: severity)"),
    "war": ("Breaches", "s", "#d6604d", True, "war after the armed attack (daily fire)"),
    "detected": ("Monitoring", "o", "#2166ac", True, "detected by the monitoring"),
    "reported_by_ukraine": ("Monitoring", "o", "#2166ac", False, "missed; reported by Ukraine"),
    "unreported": ("Monitoring", "x", "#888888", True, "unreported"),
    "referral": ("Commission", "|", "#555555", True, "referred to the commission"),
    "attributed": ("Commission", "s", "#b2182b", True, "finding: attributed"),
    "not_attributed": ("Commission", "s", "#b2182b", False, "finding: not attributed"),
    "both_sides": ("Commission", "s", "#888888", False, "finding: violations by both sides"),
    "trigger": ("Trigger", "*", "#000000", True, "trigger fires"),
    "overt_trigger": ("Trigger", "*", "#b2182b", True, "trigger fires on an overt attack (before the finding)"),
    "invocation": ("Trigger", "|", "#555555", True, None),
    "consultation": ("Trigger", "|", "#555555", True, "invocation, consultation"),
    "procedure": ("Decisions", ">", "#f0a202", True, "procedure starts or waits"),
    "approval": ("Decisions", "^", "#2e8b57", True, "approved"),
    "declined": ("Decisions", "v", "#d1495b", True, "declined or refused"),
    "delivery": ("Deliveries", "D", "#2e8b57", True, "delivery begins"),
    "activation": (None, None, "#1b7837", True, "binding support activated"),
    "needed": ("Deliveries", "P", "#1b7837", True, "military support reaches Ukraine's need"),
    "review": ("Decisions", "|", "#f0a202", True, "review: refusals decided again"),
    "horizon": (None, None, "#444444", True, None),
}


def mark(event: Event) -> str:
    """The timeline mark of one event: its kind, split where its reason or finding says more."""
    k = event.kind
    if k is EventKind.DETECTION:
        return {Reason.SEEN: "detected", Reason.UKRAINE_REPORT: "reported_by_ukraine"}.get(event.reason, "unreported")
    if k is EventKind.BREACH and event.reason is Reason.WAR:
        return "war"
    if k is EventKind.FINDING:
        return "attributed" if event.attributed else "both_sides" if event.reason is Reason.BOTH_SIDES else "not_attributed"
    if k is EventKind.TRIGGER and event.reason is Reason.OVERT_ATTACK:
        return "overt_trigger"
    if k is EventKind.ACTIVATION and event.reason is Reason.NEEDED_LEVEL:
        return "needed"
    if k is EventKind.DECISION:
        if event.reason is Reason.RECONSIDERED:
            return "review"
        declined = (Reason.NO_FOLLOW_THROUGH, Reason.UNSC_VETO, Reason.APPROVAL_REFUSED, Reason.GAVE_UP)
        return "declined" if event.reason in declined else "procedure"
    return k.value


def lane_positions(kinds: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """(lane -> y, breach kind -> y), top down: the Breaches lane is a header with one narrower
    row beneath it per breach kind in ``kinds``."""
    lane_y, kind_y, y = {}, {}, 0.0
    for lane in LANES:
        lane_y[lane] = y
        if lane == "Breaches" and kinds:
            y -= 0.35
            for k in kinds:
                y -= KIND_ROW
                kind_y[k] = y
            y -= 0.2
        y -= 1.0
    return lane_y, kind_y


def draw_breaches(ax, events, kind_y: dict[str, float], war_period: float) -> list:
    """Each breach on its kind's row, in the kind's colour: a single incident as a point (size:
    severity), aggregated fire (count > 1: a day's fire, or the war's fire of ``war_period`` days)
    as a bar over the days it covers, its height growing with the log of the violations a day,
    one scale for every kind. Returns the legend's handles.

    Why: surge and chronic runs have hundreds of incidents; as points they merged into one bar
    that hid which kinds occurred, the surge before an offensive and the war after it.
    """
    fire: dict[str, list[tuple[float, float, float]]] = {k: [] for k in kind_y}  # (start, days, violations a day)
    single: dict[str, tuple[list, list]] = {k: ([], []) for k in kind_y}
    for e in events:
        if e.kind is not EventKind.BREACH or e.breach not in kind_y:
            continue
        if e.reason is Reason.WAR:
            fire[e.breach].append((e.day - war_period / 2, war_period, float(e.count) / war_period))
        elif (e.count or 1) > 1:
            fire[e.breach].append((math.floor(e.day), 1.0, float(e.count)))
        else:
            single[e.breach][0].append(e.day)
            single[e.breach][1].append(6.0 + 8.0 * float(e.severity))
    most = max([rate for bars in fire.values() for _, _, rate in bars], default=0.0)
    tall = 0.85 * KIND_ROW
    for k, y in kind_y.items():
        if fire[k]:
            start, width, rate = zip(*fire[k])
            ax.bar(start, [tall * math.log1p(r) / math.log1p(most) for r in rate], width=width, bottom=y - tall / 2,
                   align="edge", color=BREACH_COLOURS[k], lw=0, antialiased=False, zorder=2, gid=f"fire:{k}")
        days, sizes = single[k]
        if days:
            ax.scatter(days, [y] * len(days), s=sizes, marker="o", color=BREACH_COLOURS[k], edgecolors="white",
                       linewidths=0.5, zorder=3, gid=f"breach:{k}")
    handles = []
    if any(days for days, _ in single.values()):
        handles.append(Line2D([], [], marker="o", ls="none", color="0.35", ms=6,
                              label="breach, on its kind's row (size: severity)"))
    if most:
        handles.append(Patch(color="0.35", label=f"fire, on its kind's row: height ~ log of the\nviolations a day "
                                                  f"(tallest: {most:,.0f} a day)"))
    return handles


def plot_timeline(model, stored: dict | None = None, title: str | None = None, stamp: str | None = None) -> Figure:
    """One recorded run: the chain's events on lanes (the breaches on one row per kind that
    occurred, ``draw_breaches``), and the coalition cascade below — which state approved and
    began delivering which support when, grouped by legal regime.

    ``model`` is a ``GuaranteeModel`` run with ``record=True`` (also mid-run: the dashboard draws
    it after each step, with a dashed line at the current day); ``stored`` the run's row from
    runs.parquet, to say whether the re-run reproduces it.
    """
    horizon = float(model.horizon)
    coalition = sorted(model.coalition, key=lambda a: (REGIME_ORDER.index(a.profile.regime)
                                                       if a.profile.regime in REGIME_ORDER else 99, a.profile.regime,
                                                       min([*a.delivery_day.values(), *a.approved_day.values(), math.inf]),
                                                       a.name))
    regimes = list(dict.fromkeys(a.profile.regime for a in coalition))
    rows: list[tuple[str, object]] = []  # (label, agent or None for a regime header)
    for regime in regimes:
        r = model.spec.regimes.get(regime)
        extra = f" (≈{r.delay.mean:.0f} d, passes {r.approval_probability:.0%})" if r is not None else ""
        rows.append((pretty(regime).upper() + extra, None))
        rows += [(a.name, a) for a in coalition if a.profile.regime == regime]
    days = [d for a in coalition for d in (*a.approved_day.values(), *a.delivery_day.values())]
    if not days:  # nobody approved anything: no cascade to draw, one line says so
        rows = []
    kinds = [k for k in KIND_KEYS if any(e.kind is EventKind.BREACH and e.breach == k for e in model.event_log)]
    lane_y, kind_y = lane_positions(kinds)
    bottom = min(lane_y.values()) - 0.6
    top_h, row_h = 0.42 * (0.6 - bottom - 0.2), 0.17
    cascade_h = row_h * len(rows) if rows else 0.5
    fig, sf = new_figure(9.0, 2.3 + top_h + cascade_h, stamp)
    ax, cx = sf.subplots(2, 1, height_ratios=[top_h, cascade_h])

    # the chain's events; breaches on one row per kind (draw_breaches)
    points: dict[str, tuple[list, list, list]] = {}
    activation = trigger = None
    for e in model.event_log:
        m = mark(e)
        if m == "activation" and e.support is None:
            activation = e.day
        if m in ("trigger", "overt_trigger") and trigger is None:
            trigger = e.day
        if MARKS[m][0] in (None, "Breaches"):
            continue
        size = 22.0
        if m == "choice":
            size = 6.0 + 12.0 * e.count
        if m in ("trigger", "overt_trigger"):
            size = 120.0
        xs, ys, ss = points.setdefault(m, ([], [], []))
        xs.append(e.day)
        ys.append(lane_y[MARKS[m][0]])
        ss.append(size)
    handles = draw_breaches(ax, model.event_log, kind_y, float(model.spec.war_period))
    for m, (lane, marker, colour, filled, label) in MARKS.items():
        if m not in points:
            continue
        xs, ys, ss = points[m]
        style = {"color": colour} if marker in ("x", "|") else {"facecolors": colour if filled else "none", "edgecolors": colour}
        ax.scatter(xs, ys, s=ss, marker=marker, linewidths=1.1, alpha=0.8, zorder=3, **style)
        if label:
            handles.append(Line2D([], [], marker=marker, ls="none", color=colour, ms=6,
                                  markerfacecolor=colour if filled or marker in ("x", "|") else "none", label=label))
    ax.set_yticks(list(lane_y.values()), list(lane_y.keys()), fontsize=TICK)
    if kinds:
        ax.set_yticks(list(kind_y.values()), [wrap(BREACH_WORDS[k], 18) for k in kind_y], minor=True, fontsize=SMALL - 1)
        ax.tick_params(axis="y", which="minor", length=0)
        ax.axhspan(min(kind_y.values()) - KIND_ROW / 2, lane_y["Breaches"] + 0.3, color="0.965", lw=0, zorder=0)
    ax.set_ylim(bottom, 0.6)
    ax.grid(axis="x", color="0.92")
    for a in (ax, cx):
        if trigger is not None:
            a.axvline(trigger, color="black", lw=1.0, ls="--", zorder=1)
        if activation is not None:
            a.axvline(activation, color="#1b7837", lw=2.0, zorder=1)
        if model.running:  # mid-run (the dashboard): where the run has got to
            a.axvline(model.day, color=MARKS["horizon"][2], lw=1.0, ls=":", zorder=1)
    ax.set_xlim(0, horizon)
    ax.set_xlabel("days since the ceasefire", fontsize=LABEL)
    ax.tick_params(axis="x", labelsize=TICK)
    if trigger is not None:
        handles.append(Line2D([], [], color="black", lw=1.0, ls="--", label=f"trigger (day {trigger:.0f})"))
    if activation is not None:
        handles.append(Line2D([], [], color="#1b7837", lw=2.0, label=f"binding support activated (day {activation:.0f})"))

    # the coalition cascade, on its own (zoomed) day axis: it plays out over days, not months
    y_of = {i: len(rows) - 1 - i for i in range(len(rows))}
    any_mark = bool(days)
    marks = {t: ([], [], [], []) for t in SUPPORT_TYPES}  # approved x, y; delivering x, y
    for i, (label, agent) in enumerate(rows):
        y = y_of[i]
        if agent is None:
            cx.axhspan(y - 0.5, y + 0.5, color="0.93", lw=0, zorder=0)
            continue
        for j, t in enumerate(SUPPORT_TYPES):
            dy = (j - 2) * 0.14
            if t in agent.approved_day:
                marks[t][0].append(agent.approved_day[t])
                marks[t][1].append(y + dy)
            if t in agent.delivery_day:
                marks[t][2].append(agent.delivery_day[t])
                marks[t][3].append(y + dy)
    for t, (ax_, ay, dx, dy_) in marks.items():
        c = TYPE_COLOURS[t]
        both = [(a, d, yy) for a, yy in zip(ax_, ay) for d, y2 in zip(dx, dy_) if y2 == yy]
        if both:
            cx.add_collection(LineCollection([[(a, yy), (d, yy)] for a, d, yy in both], colors=c, linewidths=0.8, zorder=2))
        cx.scatter(ax_, ay, marker="o", s=11, facecolors="white", edgecolors=c, linewidths=0.9, zorder=3)
        cx.scatter(dx, dy_, marker="o", s=11, color=c, zorder=4)
    cx.set_yticks([y_of[i] for i in range(len(rows))], [label for label, _ in rows], fontsize=SMALL - 1)
    for i, (label, agent) in enumerate(rows):
        if agent is None:
            cx.get_yticklabels()[i].set_fontweight("bold")
    cx.tick_params(axis="y", length=0)
    cx.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    cx.grid(axis="x", color="0.92")
    if days:
        lo = min([*days, trigger if trigger is not None else min(days)])
        hi = max(days)
        pad = max(2.0, 0.06 * (hi - lo))
        lo, hi = max(0.0, lo - pad), min(horizon, hi + pad)
        cx.set_xlim(lo, hi)
        if hi - lo < 0.6 * horizon:
            ax.axvspan(lo, hi, color="#1b7837", alpha=0.07, lw=0, zorder=0)
    else:
        cx.set_xlim(0, horizon)
    cx.set_xlabel("days since the ceasefire" + (" (zoomed to the cascade: the shaded span above)"
                                                if days and hi - lo < 0.6 * horizon else ""), fontsize=LABEL)
    cx.tick_params(axis="x", labelsize=TICK)
    if not any_mark:
        cx.text(0.5, 0.5, "no state approved or began delivering support within the horizon",
                transform=cx.transAxes, ha="center", va="center", fontsize=LABEL, color="0.3",
                bbox={"fc": "white", "ec": "0.8"})
    cx.set_title("The coalition cascade, by legal regime (open: national approval; filled: delivery begins)",
                 fontsize=LABEL, loc="left")
    type_handles = [Line2D([], [], marker="o", ls="none", color=TYPE_COLOURS[t], ms=5, label=t) for t in SUPPORT_TYPES]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=SMALL - 0.5, frameon=False,
              borderaxespad=0)
    if any_mark:
        cx.legend(handles=type_handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=SMALL, frameon=False,
                  title="support type", title_fontsize=SMALL, borderaxespad=0)

    row = model.outcome()
    check = ""
    if stored is not None:
        same_day = (math.isnan(row["activation_day"]) and pd.isna(stored["activation_day"])) or (
            not pd.isna(stored["activation_day"]) and abs(row["activation_day"] - float(stored["activation_day"])) < 1e-9)
        same = same_day and row["stage"] == stored["stage"]
        day = "no activation" if math.isnan(row["activation_day"]) else f"activation day {row['activation_day']:.1f}"
        check = (f"re-run matches the stored row: {day}, stage {row['stage']}" if same else
                 f"re-run DIFFERS from the stored row (stored: day {stored['activation_day']}, stage {stored['stage']}; "
                 f"re-run: {day}, stage {row['stage']})")
    head = title or f"One run (seed {model.seed})"
    wrapped_title(sf, head + ("\n" + check if check else ""), fig.get_figwidth(),
           color="black" if not check or "matches" in check else "#b2182b")
    return fig


