"""What the report draws: the heat map's and the bars' levers, the scenarios of the focused figures,
the pairs and the narrated run, each option checked against the results with a one-line error."""

from __future__ import annotations

import argparse
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from guarantee_sim.errors import ConfigError
from guarantee_sim.present.report.load import RESULTS, Results

MAX_SCENARIOS = 8  # curves in one Kaplan-Meier figure, by default
MAX_CHOSEN = 10  # curves when chosen with --scenarios (one colour each)
MAX_FUNNEL = 30  # rows in one funnel figure


@dataclass
class Plan:
    """What the report draws, every choice checked against the results."""

    heat: tuple[str, str] | None
    bars: str
    hue: str | None
    scenarios: list[str]
    funnel: list[str]
    pairs: list[tuple[str, str]]
    run: tuple[str, int] | None
    out: Path
    seed: int | None
    notes: list[str] = field(default_factory=list)


def _lever_arg(res: Results, name: str, arg: str) -> str:
    if name not in res.levers:
        allowed = ", ".join(res.levers) if res.levers else "none: these results vary no lever"
        raise ConfigError(arg, f"unknown lever {name!r}", allowed)
    return name


def _cells_hint(res: Results) -> str:
    cells = list(res.summary["cell"])
    shown = ", ".join(cells[:4]) + (f" ... ({len(cells)} cells)" if len(cells) > 4 else "")
    return f"a cell ({shown}) or LEVER=VALUE,... with the levers not given at their reference values"


def resolve_cell(res: Results, spec: str, arg: str, like: str | None = None) -> str:
    """A cell named in full, or by some of its levers: the others at their reference values, or
    at those of the cell ``like`` (the second cell of a pair differs from the first only where
    it says so)."""
    cells = list(res.summary["cell"])
    if spec in cells:
        return spec
    wanted: dict[str, str] = {}
    prefix = None
    text = spec
    if RESULTS in res.levers and "/" in spec.split("=", 1)[0]:
        prefix, text = spec.split("/", 1)
        if prefix not in res.order.get(RESULTS, []):
            raise ConfigError(arg, f"unknown results folder {prefix!r}", ", ".join(res.order.get(RESULTS, [])))
        if text in {res.cell_name[c] for c in cells if res.cell_source[c].name == prefix}:
            return next(c for c in cells if res.cell_source[c].name == prefix and res.cell_name[c] == text)
        wanted[RESULTS] = prefix
    for part in filter(None, text.split(",")):
        key, eq, value = part.partition("=")
        if not eq:
            raise ConfigError(arg, f"cannot read {spec!r}", _cells_hint(res))
        key = _lever_arg(res, key.strip(), arg)
        from guarantee_sim.present.plots import values_of

        values = values_of(res.summary, key, res.order)
        if value.strip() not in values:
            raise ConfigError(arg, f"{key}={value} is not in these results", f"{key}=" + ",".join(values))
        wanted[key] = value.strip()
    if not wanted:
        raise ConfigError(arg, f"unknown cell {spec!r}", _cells_hint(res))
    base = res.reference()
    if like is not None:
        row = res.summary.loc[res.summary["cell"] == like].iloc[0]
        base = {k: str(row[k]) for k in res.levers}
    full = {**base, **wanted}
    table = res.summary
    mask = np.ones(len(table), dtype=bool)
    for k, v in full.items():
        mask &= table[k].to_numpy() == v
    match = list(table.loc[mask, "cell"])
    if len(match) != 1:
        raise ConfigError(arg, f"no cell has {', '.join(f'{k}={v}' for k, v in full.items())}", _cells_hint(res))
    return match[0]


def shares_seeds(res: Results, a: str, b: str) -> int:
    """How many leading runs two cells share by seed (common random numbers); 0 if they do not."""
    sa = res.runs.loc[res.runs["cell"] == a].sort_values("run")["seed"].to_numpy()
    sb = res.runs.loc[res.runs["cell"] == b].sort_values("run")["seed"].to_numpy()
    n = min(len(sa), len(sb))
    return n if n >= 2 and np.array_equal(sa[:n], sb[:n]) else 0


def _along(res: Results, levers: list[str], limit: int | None = None) -> list[str]:
    """Cells where only ``levers`` move and every other lever holds its reference value."""
    ref = res.reference()
    mask = np.ones(len(res.summary), dtype=bool)
    for k in res.levers:
        if k not in levers:
            mask &= res.summary[k].to_numpy() == ref[k]
    cells = list(res.summary.loc[mask, "cell"])
    return cells[:limit] if limit else cells


def _at(res: Results, items: list[str]) -> dict[str, str]:
    from guarantee_sim.present.plots import values_of

    at = {}
    for part in (x for item in items for x in item.split(",") if x.strip()):
        key, eq, value = part.partition("=")
        if not eq:
            raise ConfigError("--at", f"cannot read {part!r}", "LEVER=VALUE, e.g. trigger=any_attributed")
        key, value = _lever_arg(res, key.strip(), "--at"), value.strip()
        values = values_of(res.summary, key, res.order)
        if value not in values:
            raise ConfigError("--at", f"{key}={value} is not in these results", f"{key}=" + ",".join(values))
        at[key] = value
    return at


def _informative_reference(res: Results, moving: list[str]) -> str:
    """Without ``--at``: when no cell along ``moving`` at the first listed values activates within the
    horizon (flat curves, medians beyond it) but some cell does, hold the other levers at the values
    of the first such cell (``res.at``); what is held, in words ("" when nothing changed)."""
    if res.at or "median_days" not in res.summary:
        return ""
    finite = res.summary["median_days"].notna()
    if not finite.any() or finite[res.summary["cell"].isin(_along(res, moving))].any():
        return ""
    first = res.summary.loc[finite].iloc[0]
    res.at = {k: str(first[k]) for k in res.levers if k not in moving}
    return ", ".join(f"{k}={v}" for k, v in res.at.items())


def plan(res: Results, args: argparse.Namespace) -> Plan:
    """Check the options against the results and fill in the defaults."""
    res.at = _at(res, args.at or [])
    vary = [k for k in res.varying if k != RESULTS]
    notes = []
    if args.levers:
        heat = (_lever_arg(res, args.levers[0], "--levers"), _lever_arg(res, args.levers[1], "--levers"))
        if heat[0] == heat[1]:
            raise ConfigError("--levers", f"the two levers must differ, got {heat[0]} twice", ", ".join(res.levers))
    else:
        # levers swept inside a folder go on the axes; those that only tell folders apart, on panels
        within = [k for k in vary if any(s.summary[k].nunique() > 1 for s in res.sources if k in s.summary)]
        axes = within if len(within) >= 2 else vary
        heat = (axes[-2], axes[-1]) if len(axes) >= 2 else None
        if heat is None and len(res.summary):
            notes.append("No heat map: it needs two levers that vary; these results vary "
                         + (", ".join(vary) if vary else "none") + ".")
    if args.bars and len(args.bars) > 2:
        raise ConfigError("--bars", f"takes a lever and at most one more (the colour), got {len(args.bars)}",
                          "--bars LEVER [HUE|none]")
    if args.bars:
        bars = "cell" if args.bars[0] == "cell" and "cell" not in res.levers else _lever_arg(res, args.bars[0], "--bars")
    else:
        rest = [k for k in vary if not heat or k not in heat]
        bars = rest[0] if rest else (vary[0] if vary else "cell")
    if args.bars and len(args.bars) == 2:
        hue = None if args.bars[1] == "none" else _lever_arg(res, args.bars[1], "--bars")
        if hue == bars:
            raise ConfigError("--bars", f"the two levers must differ, got {bars} twice", ", ".join(res.levers))
    else:  # the heat map's column lever, or the next lever with a handful of values
        others = [k for k in ([heat[1], heat[0]] if heat else []) + vary if k != bars]
        hue = next((k for k in others if res.summary[k].nunique() <= 8), None) if bars != "cell" else None
    # the scenarios of the Kaplan-Meier and support-type figures
    cells = list(res.summary["cell"])
    if args.scenarios:
        scenarios = list(dict.fromkeys(resolve_cell(res, s, "--scenarios") for s in args.scenarios))
        if len(scenarios) > MAX_CHOSEN:
            raise ConfigError("--scenarios", f"{len(scenarios)} cells are too many for one figure",
                              f"1 to {MAX_CHOSEN} cells")
    elif len(cells) <= 6:
        scenarios = cells
    else:
        moving = [k for k in (RESULTS, bars) if k in res.levers]
        held = _informative_reference(res, moving)
        if held:
            notes.append(f"The Kaplan–Meier, support-type, paired and one-run figures hold {held}: at the first "
                         "listed values no cell activates within the horizon. Choose others with --at.")
        scenarios = _along(res, moving)
        if len(scenarios) > MAX_SCENARIOS:
            notes.append(f"The Kaplan–Meier and support-type figures show the first {MAX_SCENARIOS} of "
                         f"{len(scenarios)} scenarios; choose others with --scenarios.")
            scenarios = scenarios[:MAX_SCENARIOS]
        if len(scenarios) < 2:
            scenarios = cells[:min(len(cells), 4)]
    if len(cells) <= MAX_FUNNEL:
        funnel = cells
    else:
        funnel = _along(res, [RESULTS, *(heat or ())], MAX_FUNNEL) or scenarios
    # paired comparisons
    pairs: list[tuple[str, str]] = []
    if args.pair:
        for a_spec, b_spec in args.pair:
            a = resolve_cell(res, a_spec, "--pair")
            b = resolve_cell(res, b_spec, "--pair", like=a)
            if a == b:
                raise ConfigError("--pair", f"{a_spec} and {b_spec} are the same cell {a}", "two different cells")
            if not shares_seeds(res, a, b):
                sa, sb = res.cell_source[a].meta.get("root_seed"), res.cell_source[b].meta.get("root_seed")
                raise ConfigError("--pair", f"{a} and {b} do not share run seeds (root seeds {sa} and {sb}), so they "
                                  "cannot be paired", "two cells run with the same root seed")
            pairs.append((a, b))
    else:
        first = scenarios[0] if scenarios else None
        pairs = [(c, first) for c in scenarios[1:] if first and shares_seeds(res, c, first)]
    # the one-run timeline
    run = None
    if args.run:
        spec, sep, number = args.run.rpartition(":")
        if not sep or not number.strip().isdigit():
            raise ConfigError("--run", f"cannot read {args.run!r}", "CELL:RUN, e.g. breach=hybrid:12")
        cell = resolve_cell(res, spec, "--run")
        n = int((res.runs["cell"] == cell).sum())
        if int(number) >= n:
            raise ConfigError("--run", f"run {number} is not among the {n} runs of {cell}", f"0 to {n - 1}")
        run = (cell, int(number))
    elif cells:
        cell = pairs[0][0] if args.pair else (scenarios[0] if scenarios else cells[0])
        run = (cell, typical_run(res.runs[res.runs["cell"] == cell], res.cell_source[cell].meta.get("horizon") or res.horizon))
    if args.out:
        out = Path(args.out)
    elif len(res.sources) + len(res.studies) == 1:
        out = (res.sources or res.studies)[0].path
    else:
        every = res.sources + res.studies
        digest = hashlib.sha1("\n".join(s.name for s in every).encode()).hexdigest()[:8]
        out = every[0].path.parent / f"compare-{digest}"
    if out.exists() and not out.is_dir():
        raise ConfigError("--out", f"{args.out} exists and is not a folder", "a folder (created if missing)")
    return Plan(heat, bars, hue, scenarios, funnel, pairs, run, out, args.seed, notes)


def typical_run(runs: pd.DataFrame, horizon: float) -> int:
    """A run worth telling: the activated run nearest the Kaplan-Meier median, else the first
    run whose trigger fired, else run 0."""
    from guarantee_sim.analysis.stats import km_median

    if runs["activated"].any():
        med = km_median(runs["activation_day"], horizon)[0]
        if math.isnan(med):
            med = float(runs["activation_day"].median())
        act = runs[runs["activated"]]
        return int(act.iloc[int(np.argmin(np.abs(act["activation_day"].to_numpy() - med)))]["run"])
    fired = runs[runs["trigger_day"].notna()]
    return int((fired if len(fired) else runs).iloc[0]["run"])
