"""``guarantee-sim-report``: the figures and one self-contained HTML report of results folders.

    guarantee-sim-report results/headline                       # a sweep (or a run) folder
    guarantee-sim-report results/sweeps/a results/sweeps/b      # two studies, side by side
    guarantee-sim-report results/headline --levers breach trigger --bars commitments trigger \\
        --pair commitments=article5_like commitments=paris_2026 --run commitments=article5_like:12

It reads what ``guarantee-sim`` wrote (``sweep_summary.csv``, ``sweep_runs.parquet``,
``sweep.json``; or a run's ``runs.parquet``, ``summary.json``, ``provenance.json``), draws the
figures of ``plots.py`` and writes them as PNG and SVG, with ``report.html`` (every figure
embedded, no network needed) and the tables behind them, into the results folder. A
sensitivity study folder (``study.json``, from ``guarantee-sim-sensitivity``) adds its lever
ranking and failure rules. The numbers come from the stored tables; the report adds the paired
bootstrap comparisons (``sweep.paired_difference``), the log-rank test and one narrated re-run.

Bad input ends with one line on stderr naming the argument and what is allowed, exit code 2,
and nothing written.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import io
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from guarantee_sim import __version__
from guarantee_sim.errors import EXIT_BAD_INPUT, ConfigError
from guarantee_sim.runs.sweep import summary_row

PROG = "guarantee-sim-report"
RESULTS = "results"  # the pseudo-lever that tells several results folders apart
MAX_SCENARIOS = 8  # curves in one Kaplan-Meier figure, by default
MAX_CHOSEN = 10  # curves when chosen with --scenarios (one colour each)
MAX_FUNNEL = 30  # rows in one funnel figure
QUESTION = ("Given a guarantee design and a pattern of ceasefire breaches, how often — and how fast — does binding "
            "support actually activate, and where does the chain fail when it does not?")
CAVEAT = ("The model is exploratory, not predictive. Every result is a probability with an uncertainty band (Wilson "
          "intervals for probabilities, Kaplan–Meier intervals for delays) from a model built on sourced figures and "
          "labelled assumptions (docs/parameters.md). Use it to compare designs and to see which assumptions matter, "
          "not to forecast.")
WHAT_ALLOWED = ("a run folder (runs.parquet, summary.json), a sweep folder (sweep_summary.csv) "
                "or a sensitivity study folder (study.json)")


# reading results ---------------------------------------------------------------------------------
@dataclass
class Source:
    """One results folder as read: its cells' summary rows and runs, and where they came from."""

    path: Path
    kind: str  # "sweep" | "run" | "study"
    name: str
    meta: dict = field(default_factory=dict)
    summary: pd.DataFrame | None = None
    runs: pd.DataFrame | None = None
    levers: list[str] = field(default_factory=list)
    order: dict[str, list[str]] = field(default_factory=dict)
    cell_dirs: dict[str, Path] = field(default_factory=dict)




def _listed_order(folder: Path) -> dict[str, list[str]]:
    """Each swept lever's values in the order the command (or the preset) listed them."""
    import yaml

    path = folder / "multirun.yaml"
    order: dict[str, list[str]] = {}
    if not path.is_file():
        return order
    try:
        hydra_node = (yaml.safe_load(path.read_text()) or {}).get("hydra", {})
    except (OSError, yaml.YAMLError):
        return order
    entries = [str(o) for o in (hydra_node.get("overrides") or {}).get("task") or []]
    params = (hydra_node.get("sweeper") or {}).get("params") or {}
    entries += [f"{k}={v}" for k, v in params.items()]
    for entry in entries:
        key, _, value = entry.lstrip("+~").partition("=")
        if key and key not in order and not value.lstrip().startswith(("{", "[", "range(", "choice(", "glob(")):
            order[key] = [v.strip() for v in value.split(",")]
    return order


def _stringify(frame: pd.DataFrame, levers: list[str]) -> pd.DataFrame:
    for k in levers:
        if k in frame:
            frame[k] = frame[k].map(lambda v: "" if pd.isna(v) else str(v))
    return frame


def read_source(path: str | Path) -> Source:
    """Read a sweep, run or sensitivity study folder; ConfigError if it is none of them."""
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError("RESULTS_DIR", f"{path} is not a folder", WHAT_ALLOWED)
    name = folder.resolve().name
    if (folder / "study.json").is_file():
        from guarantee_sim.analysis.sensitivity import is_study

        if is_study(folder):
            meta = json.loads((folder / "study.json").read_text())
            return Source(folder, "study", name, meta)
    if (folder / "sweep_summary.csv").is_file() and (folder / "sweep_runs.parquet").is_file():
        meta = json.loads((folder / "sweep.json").read_text()) if (folder / "sweep.json").is_file() else {}
        info = json.loads((folder / "sweep_summary.json").read_text()) if (folder / "sweep_summary.json").is_file() else {}
        levers = list(info.get("levers") or meta.get("levers") or [])
        summary = pd.read_csv(folder / "sweep_summary.csv", dtype={k: str for k in ["cell", "baseline_cell", *levers]},
                              keep_default_na=False, na_values=[""])
        summary["baseline_cell"] = summary["baseline_cell"].fillna("")
        runs = pd.read_parquet(folder / "sweep_runs.parquet")
        from guarantee_sim.present.plots import lever_columns

        levers = lever_columns(summary) or levers
        if not meta.get("horizon"):
            meta["horizon"] = _cell_horizon(folder / str(summary["cell"].iloc[0]))
        meta.setdefault("root_seed", _first_provenance(folder, summary).get("root_seed"))
        meta.setdefault("git_commit", _first_provenance(folder, summary).get("git_commit", "unknown"))
        return Source(folder, "sweep", name, meta, _stringify(summary, levers), _stringify(runs, levers), levers,
                      _listed_order(folder), {c: folder / c for c in summary["cell"]})
    if (folder / "runs.parquet").is_file() and (folder / "summary.json").is_file():
        summary = json.loads((folder / "summary.json").read_text())
        meta = json.loads((folder / "provenance.json").read_text()) if (folder / "provenance.json").is_file() else {}
        cell_meta = json.loads((folder / "cell.json").read_text()) if (folder / "cell.json").is_file() else {}
        levers = {k: str(v) for k, v in (cell_meta.get("levers") or summary.get("levers") or {}).items()}
        cell = ",".join(f"{k}={v}" for k, v in levers.items()) or "default"
        meta.update(horizon=summary.get("horizon"), fingerprint=cell_meta.get("fingerprint", ""),
                    scenario=summary.get("scenario", {}))
        meta.setdefault("root_seed", summary.get("seed"))
        runs = pd.read_parquet(folder / "runs.parquet")
        for i, (k, v) in enumerate(levers.items()):
            runs.insert(i, k, v)
        runs.insert(0, "cell", cell)
        table = pd.DataFrame([summary_row(cell, levers, summary)])
        return Source(folder, "run", name, meta, table, runs, list(levers), {}, {cell: folder})
    if (folder / "sweep.json").is_file() or any(folder.glob("*/cell.json")):
        raise ConfigError("RESULTS_DIR", f"{path} holds a sweep without its tables (sweep_summary.csv, "
                          "sweep_runs.parquet): is it still running?", WHAT_ALLOWED)
    raise ConfigError("RESULTS_DIR", f"{path} is not a results folder", WHAT_ALLOWED)


def _first_provenance(folder: Path, summary: pd.DataFrame) -> dict:
    for cell in summary["cell"]:
        p = folder / str(cell) / "provenance.json"
        if p.is_file():
            return json.loads(p.read_text())
    return {}


def _cell_horizon(cell_dir: Path) -> float | None:
    p = cell_dir / "summary.json"
    return json.loads(p.read_text()).get("horizon") if p.is_file() else None


def _lever_value(source: Source, cell: str, key: str) -> str:
    """A lever another folder varies, as this cell had it: its scenario label or its config value."""
    cell_dir = source.cell_dirs.get(cell)
    if cell_dir is None:
        return ""
    p = cell_dir / "summary.json"
    labels = json.loads(p.read_text()).get("scenario", {}) if p.is_file() else {}
    if key in labels:
        return str(labels[key])
    if (cell_dir / "config.yaml").is_file():
        from omegaconf import OmegaConf

        value = OmegaConf.select(OmegaConf.load(cell_dir / "config.yaml"), key, default=None)
        if value is not None and not OmegaConf.is_config(value):
            return str(value)
    return ""


@dataclass
class Results:
    """Every folder's cells in one summary table and one runs table, with the levers that vary."""

    sources: list[Source]
    studies: list[Source]
    summary: pd.DataFrame
    runs: pd.DataFrame
    levers: list[str]
    order: dict[str, list[str]]
    cell_source: dict[str, Source]
    cell_name: dict[str, str]  # the cell's name within its own folder
    at: dict[str, str] = field(default_factory=dict)  # reference values chosen with --at

    @property
    def varying(self) -> list[str]:
        from guarantee_sim.present.plots import varying

        return varying(self.summary)

    @property
    def horizon(self) -> float:
        hs = {float(s.meta["horizon"]) for s in self.sources if s.meta.get("horizon")}
        return max(hs) if hs else 365.0

    def reference(self) -> dict[str, str]:
        """Each lever's reference value: as chosen with ``--at``, else the first one listed (the
        sweep's own baseline convention)."""
        from guarantee_sim.present.plots import values_of

        return {k: self.at.get(k) or values_of(self.summary, k, self.order)[0] for k in self.levers}


def _unique_names(paths: list[Path]) -> list[str]:
    names = [p.resolve().name for p in paths]
    for i, p in enumerate(paths):
        if names.count(names[i]) > 1:
            names[i] = f"{p.resolve().parent.name}/{p.resolve().name}"
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[i] = f"{n}#{seen[n]}"
    return names


def load(paths: list[str | Path]) -> Results:
    """Read every folder and gather its cells; cells of several folders that share their levers get
    the folder's name as an extra lever (``results``), so they sit side by side."""
    if not paths:
        raise ConfigError("RESULTS_DIR", "no results folder given", WHAT_ALLOWED)
    sources = [read_source(p) for p in paths]
    for s, n in zip(sources, _unique_names([s.path for s in sources])):
        s.name = n
    studies = [s for s in sources if s.kind == "study"]
    tables = [s for s in sources if s.kind != "study"]
    levers: list[str] = []
    for s in tables:
        levers += [k for k in s.levers if k not in levers]
    # a lever one folder varies and another does not: the other's cells get their own value
    for s in tables:
        for k in levers:
            if k not in s.summary:
                vals = {c: _lever_value(s, c, k) for c in s.summary["cell"]}
                s.summary.insert(s.summary.columns.get_loc("runs"), k, s.summary["cell"].map(vals))
                s.runs.insert(s.runs.columns.get_loc("run"), k, s.runs["cell"].map(vals))
    # each lever's values: folder by folder, each folder's in the order its command listed them
    from guarantee_sim.present.plots import values_of

    order: dict[str, list[str]] = {}
    for k in levers:
        order[k] = []
        for s in tables:
            order[k] += [v for v in values_of(s.summary, k, s.order) if v not in order[k]]
    several = len(tables) > 1
    clash = False
    if several:
        keys = [tuple(r[k] for k in levers) for s in tables for _, r in s.summary.iterrows()]
        clash = len(set(keys)) < len(keys)
    summaries, runs, cell_source, cell_name = [], [], {}, {}
    for s in tables:
        sm, rn = s.summary.copy(), s.runs.copy()
        ids = {c: (f"{s.name}/{c}" if clash else c) for c in sm["cell"]}
        for c, new in ids.items():
            if new in cell_source:  # the same cell in two folders without a clash of levers
                ids[c] = f"{s.name}/{c}"
        for c, new in ids.items():
            cell_source[new], cell_name[new] = s, c
        sm["cell"], rn["cell"] = sm["cell"].map(ids), rn["cell"].map(ids)
        sm["baseline_cell"] = sm["baseline_cell"].map(lambda b: ids.get(b, b) if b else "")
        if clash:
            sm.insert(1, RESULTS, s.name)
            rn.insert(1, RESULTS, s.name)
        summaries.append(sm[["cell", *([RESULTS] if clash else []), *levers, *[c for c in sm.columns if c not in ("cell", RESULTS, *levers)]]])
        runs.append(rn[["cell", *([RESULTS] if clash else []), *levers, *[c for c in rn.columns if c not in ("cell", RESULTS, *levers)]]])
    all_levers = ([RESULTS] if clash else []) + levers
    if clash:
        order[RESULTS] = [s.name for s in tables]
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame(columns=["cell", "runs"])
    run_table = pd.concat(runs, ignore_index=True) if runs else pd.DataFrame(columns=["cell", "run"])
    res = Results(sources=tables, studies=studies, summary=summary, runs=run_table, levers=all_levers, order=order,
                  cell_source=cell_source, cell_name=cell_name)
    if len(summary):
        res.summary = _sorted(summary, all_levers, res)
    return res


def _sorted(table: pd.DataFrame, levers: list[str], res: Results) -> pd.DataFrame:
    """Rows in the listed order of the levers (the order a reader expects), stable otherwise."""
    from guarantee_sim.present.plots import values_of

    keys = []
    for k in levers:
        vals = values_of(table, k, res.order)
        keys.append(table[k].map({v: i for i, v in enumerate(vals)}))
    if not keys:
        return table.reset_index(drop=True)
    frame = pd.concat(keys, axis=1, keys=range(len(keys)))
    idx = frame.sort_values(list(range(len(keys))), kind="stable").index
    return table.loc[idx].reset_index(drop=True)


# choosing what to draw ---------------------------------------------------------------------------
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


# provenance and stamps -----------------------------------------------------------------------------
def _command(source: Source) -> str:
    """How the folder was made, without this machine's paths (Hydra's folder settings left out)."""
    if source.kind == "sweep" and source.meta.get("overrides") is not None:
        return "guarantee-sim -m " + " ".join(str(o) for o in source.meta["overrides"])
    cmd = [str(c) for c in source.meta.get("command") or []]
    if not cmd:
        return ""
    keep = [c for c in cmd[1:] if not c.startswith(("hydra.", "hydra/")) and not Path(c).is_absolute()]
    return " ".join(["guarantee-sim", *keep])


def config_key(source: Source) -> str:
    """What identifies the configuration: a sweep's folder (the store key) and its overrides, or a
    run's config fingerprint and levers."""
    if source.kind == "sweep":
        overrides = " ".join(str(o) for o in source.meta.get("overrides") or [])
        return f"{source.name}" + (f" ({overrides})" if overrides else "")
    fp = str(source.meta.get("fingerprint", ""))[:10]
    levers = ",".join(f"{k}={v}" for k, v in zip(source.levers, source.summary.iloc[0][source.levers])) or "defaults"
    return f"{fp or source.name} ({levers})"


def _runs_text(source: Source) -> str:
    runs = sorted(set(int(v) for v in source.summary["runs"])) if source.summary is not None else []
    per = " per cell" if source.kind == "sweep" else ""
    if not runs:
        return "? runs"
    return (f"{runs[0]} runs{per}" if len(runs) == 1 else f"{runs[0]}–{runs[-1]} runs{per}")


def stamp_for(res: Results, sources: list[Source] | None = None, extra: str = "") -> str:
    """The small print under every figure: version, commit, config key, runs, root seed, horizon."""
    from guarantee_sim.runs.provenance import git_commit

    now_commit = git_commit()
    parts = []
    for s in sources if sources is not None else res.sources:
        commit = str(s.meta.get("git_commit", "unknown"))
        version = (s.meta.get("versions") or {}).get("guarantee-sim", __version__)
        text = (f"config {config_key(s)} · {_runs_text(s)} · root seed {s.meta.get('root_seed', '?')}"
                f" · horizon {float(s.meta.get('horizon') or res.horizon):g} days · guarantee_sim {version}"
                f" · commit {commit[:12]}{'+dirty' if commit.endswith('+dirty') and len(commit) > 12 else ''}")
        if len(res.sources) > 1:
            text = f"[{s.name}] " + text
        parts.append(text)
    head = " · ".join(parts)
    if now_commit != "unknown" and all(str(s.meta.get("git_commit")) != now_commit for s in (sources or res.sources)):
        head += f" · drawn at commit {now_commit[:12]}"
    if extra:
        head += " · " + extra
    return head


# building the figures ----------------------------------------------------------------------------
@dataclass
class ReportFigure:
    """One figure of the report: its file stem, the Figure, a caption and its alt text."""

    name: str
    kind: str
    figure: object
    title: str
    caption: str


def _labels(res: Results, cells: list[str]) -> tuple[dict[str, str], str]:
    from guarantee_sim.present.plots import short_labels

    return short_labels(res.summary, cells, res.order)


def paired_table(res: Results, pairs: list[tuple[str, str]], seed: int | None) -> pd.DataFrame:
    """Per pair: the paired difference in P(activated) with its BCa interval (``sweep.paired_difference``)
    over the runs the two cells share, and the log-rank p-value of their days to activation."""
    from guarantee_sim.present.plots import logrank_p
    from guarantee_sim.runs.sweep import paired_difference

    rows = []
    for a, b in pairs:
        n = shares_seeds(res, a, b)
        ra = res.runs[res.runs["cell"] == a].sort_values("run").iloc[:n]
        rb = res.runs[res.runs["cell"] == b].sort_values("run").iloc[:n]
        root = res.cell_source[a].meta.get("root_seed")
        s = int(seed if seed is not None else (root if root is not None else 0))
        d = paired_difference(ra["activated"].reset_index(drop=True), rb["activated"].reset_index(drop=True), seed=s)
        horizon = float(res.cell_source[a].meta.get("horizon") or res.horizon)
        rows.append({"a": a, "b": b, "n": n, "p_a": float(ra["activated"].mean()), "p_b": float(rb["activated"].mean()),
                     "estimate": d["estimate"], "low": d["low"], "high": d["high"],
                     "logrank_p": logrank_p(ra["activation_day"], rb["activation_day"], horizon), "bootstrap_seed": s})
    return pd.DataFrame(rows, columns=["a", "b", "n", "p_a", "p_b", "estimate", "low", "high", "logrank_p", "bootstrap_seed"])


def narrated_run(res: Results, cell: str, run: int):
    """Re-run one stored run with narration: the cell's resolved config and the run's own seed."""
    from omegaconf import OmegaConf

    from guarantee_sim.model.engine import GuaranteeModel
    from guarantee_sim.scenario.build import build_scenario

    source = res.cell_source[cell]
    cell_dir = source.cell_dirs[res.cell_name[cell]]
    config = cell_dir / "config.yaml"
    if not config.is_file():
        raise ConfigError("--run", f"{cell} has no config.yaml to re-run from", "a cell written by guarantee-sim")
    scenario = build_scenario(OmegaConf.load(config))
    stored = res.runs[(res.runs["cell"] == cell) & (res.runs["run"] == run)].iloc[0]
    model = GuaranteeModel(scenario, seed=int(stored["seed"]), collect=False, narrate=True)
    model.run()
    return model, stored


def build_figures(res: Results, p: Plan) -> tuple[list[ReportFigure], dict[str, pd.DataFrame]]:
    """Every figure the plan asks for, and the tables behind the report."""
    from guarantee_sim.present import plots, timeline

    figs: list[ReportFigure] = []
    tables: dict[str, pd.DataFrame] = {}
    h = res.horizon
    per_cell = {c: float(res.cell_source[c].meta.get("horizon") or h) for c in res.summary["cell"]}
    hk = per_cell if len(set(per_cell.values())) > 1 else h  # each cell censored at its own horizon
    stamp = stamp_for(res)
    if not len(res.summary):
        return figs, tables
    if p.heat:
        fig = plots.plot_heatmap(res.summary, p.heat[0], p.heat[1], order=res.order, horizon=None if isinstance(hk, dict) else h,
                                 stamp=stamp)
        facet = plots.varying(res.summary, exclude=p.heat)
        figs.append(ReportFigure("heatmap", "heatmap", fig, f"Activation probability by {p.heat[0]} and {p.heat[1]}",
                            "Each cell: the share of runs in which binding support activated within the horizon (bold) "
                            "and its 95% Wilson interval, in %."
                            + (f" One panel per {' × '.join(facet)}." if facet else "")))
    fig = plots.plot_bars(res.summary, p.bars, hue=p.hue, order=res.order, horizon=None if isinstance(hk, dict) else h,
                          stamp=stamp)
    what = "scenario" if p.bars == "cell" else p.bars
    figs.append(ReportFigure("bars", "bars", fig, f"Activation probability by {what}" + (f" and {p.hue}" if p.hue else ""),
                        "Bars: the share of runs with binding support activated within the horizon; whiskers: 95% Wilson "
                        "interval." + (f" Colour: {p.hue}." if p.hue else "")
                        + (" Panels: the other levers." if plots.varying(res.summary, exclude=[p.bars, p.hue]) else "")))
    labels, common = _labels(res, p.scenarios)
    pair = p.pairs[0] if p.pairs else None
    fig = plots.plot_km(res.runs, p.scenarios, hk, pair=pair, order=res.order, stamp=stamp)
    figs.append(ReportFigure("km", "km", fig, "Days to activation (Kaplan–Meier)",
                        "The share of runs with binding support activated by each day; runs without activation are "
                        "censored at the horizon; bands: pointwise 95% (log-log)."
                        + (" Log-rank p-value in the corner for the first pair; the scenarios share run seeds, so the "
                           "test (which assumes independent samples) is a guide, and the paired bootstrap below is "
                           "the comparison to read." if pair else "")))
    fig = plots.plot_funnel(res.summary, p.funnel, order=res.order, stamp=stamp)
    figs.append(ReportFigure("funnel", "funnel", fig, "Where activation failed",
                        "Each run counted once, at the furthest stage the chain reached: activated; pending at the "
                        "horizon; not approved (too few states approved and delivered); below the trigger (attributed "
                        "findings, but the rule never fired); unattributed; undetected; no breach."))
    fig = plots.plot_support_types(res.runs, p.scenarios, hk, order=res.order, stamp=stamp)
    figs.append(ReportFigure("support_types", "support_types", fig, "Activation by support type",
                        "Per support type: the share of runs in which it activated (95% Wilson interval) and the "
                        "Kaplan–Meier median days to its activation (95% interval; ▷: the median lies beyond the horizon)."))
    st = plots.support_type_table(res.runs, p.scenarios, hk)
    tables["support_types"] = st
    if p.pairs:
        pt = paired_table(res, p.pairs, p.seed)
        tables["paired"] = pt
        plabels, _ = _labels(res, list(dict.fromkeys([c for ab in p.pairs for c in ab])))
        frame = pt.assign(label=[f"{plabels[a]}\nminus {plabels[b]}" for a, b in zip(pt["a"], pt["b"])])
        fig = plots.plot_paired(frame, stamp=stamp)
        figs.append(ReportFigure("paired", "paired", fig, "Paired comparisons",
                            "The difference in activation probability between two scenarios over the same run seeds "
                            "(common random numbers), with its 95% BCa bootstrap interval (scipy)."))
    if p.run:
        cell, run = p.run
        model, stored = narrated_run(res, cell, run)
        from guarantee_sim.runs.runner import release

        label = labels.get(cell) or _labels(res, [cell])[0][cell]
        extra = f"run {run} of {cell} (run seed {int(stored['seed'])})"
        fig = timeline.plot_timeline(model, stored=stored.to_dict(), title=f"One run: {label}, run {run}",
                                  stamp=stamp_for(res, [res.cell_source[cell]], extra))
        release(model)
        figs.append(ReportFigure("timeline", "timeline", fig, f"One run: {cell}, run {run}",
                            "The run re-computed with narration from the cell's config.yaml and the run's seed. Top: "
                            "breaches, detections, referrals and findings, the trigger, approvals and deliveries. "
                            "Bottom: the coalition cascade — when each state approved (open) and began delivering "
                            "(filled) each type of support, grouped by legal regime."))
    return figs, tables


def study_figures(res: Results, study: Source) -> dict[str, object]:
    """The study's figures redrawn with the stamp (``sensitivity_plots``); stored PNGs where that fails."""
    from guarantee_sim.present.sensitivity_plots import plot_sobol_indices

    out = {}
    meta = study.meta
    stamp = (f"sensitivity study {meta.get('name', study.name)} ({study.name}) · {meta.get('design')} n = {meta.get('n')}"
             f" · {meta.get('replicates')} runs per point · {meta.get('runs')} runs · root seed {meta.get('seed')}"
             f" · horizon {float(meta.get('horizon', 0)):g} days · guarantee_sim {__version__}"
             f" · commit {str(meta['git_commit'])[:12] if meta.get('git_commit') else 'not recorded in study.json'}")
    indices_path = study.path / "indices.csv"
    for outcome in (meta.get("outcomes") or {}):
        try:
            fig = plot_sobol_indices(pd.read_csv(indices_path), outcome, meta)
            _add_stamp(fig, stamp)
            out[f"sobol_{outcome}.png"] = fig
        except Exception:  # the other module's format moved on: embed its own PNG instead
            continue
    try:
        fig = _failure_region(study)
        if fig is not None:
            _add_stamp(fig, stamp)
            out["discovery.png"] = fig
    except Exception:  # as above: the stored discovery.png is embedded
        pass
    return out


def _failure_region(study: Source):
    """The study's failure-region figure, redrawn from its stored sample, rules and levers."""
    from guarantee_sim.analysis.discovery import Discovery, Rule
    from guarantee_sim.analysis.sensitivity import Lever
    from guarantee_sim.present.sensitivity_plots import plot_failure_region

    if not (study.path / "rules.json").is_file() or not (study.path / "sample.parquet").is_file():
        return None
    stored = json.loads((study.path / "rules.json").read_text())
    discovery = Discovery([Rule.from_dict(r) for r in stored["rules"]], stored["failure_rate"], stored["failures"],
                          stored["runs"], stored["min_density"], stored.get("importances") or {})
    levers = [Lever(lv["name"], tuple(lv["key"]), lv["low"], lv["high"], lv.get("scale", "linear"), lv.get("label", ""),
                    lv.get("unit", "")) for lv in study.meta["levers"]]
    return plot_failure_region(pd.read_parquet(study.path / "sample.parquet"), discovery, levers, study.meta)


def _add_stamp(fig, stamp: str) -> None:
    """Stamp a figure drawn elsewhere: the figure grows by a band at the bottom and everything in
    it keeps its size and place above the band."""
    from guarantee_sim.present.style import STAMP, wrap_stamp

    w, h = fig.get_size_inches()
    text = wrap_stamp(stamp, w)
    band = 0.08 + 0.11 * (text.count("\n") + 1)
    fig.set_size_inches(w, h + band)
    engine = fig.get_layout_engine()
    if engine is not None and "rect" in engine.get():
        engine.set(rect=(0, band / (h + band), 1, 1 - band / (h + band)))
    else:
        def up(y: float) -> float:
            return (y * h + band) / (h + band)

        for ax in fig.axes:
            box = ax.get_position()
            ax.set_position([box.x0, up(box.y0), box.width, box.height * h / (h + band)])
        for t in fig.texts:
            x, y = t.get_position()
            t.set_position((x, up(y)))
    fig.text(0.006, 0.004, text, fontsize=STAMP, color="0.35", ha="left", va="bottom", gid="stamp")


# HTML -----------------------------------------------------------------------------------------------
CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2em 1.5em 3em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
.question { font-size: 1.1em; } .caveat { background: #fff6e0; border-left: 4px solid #e0a100; padding: 0.6em 0.9em; }
.note { color: #555; font-size: 0.92em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
th { background: #f2f2f2; } tr:nth-child(even) td { background: #fafafa; }
.scroll { max-height: 36em; overflow: auto; border: 1px solid #eee; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; margin-top: 0.3em; }
code { background: #f4f4f4; padding: 0 3px; } nav ol { columns: 2; font-size: 0.92em; }
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _fmt_p(x) -> str:
    return "—" if x is None or pd.isna(x) else f"{100 * float(x):.1f}%"


def _fmt_ci(est, lo, hi, pct=True, horizon=None) -> str:
    if est is None or pd.isna(est):
        return f"not reached within {horizon:g} d" if horizon else "—"
    if pct:
        return f"{100 * est:.1f}% ({100 * lo:.1f}–{100 * hi:.1f})"
    lo_t = "?" if pd.isna(lo) else f"{lo:.0f}"
    hi_t = f">{horizon:g}" if pd.isna(hi) and horizon else ("?" if pd.isna(hi) else f"{hi:.0f}")
    return f"{est:.0f} d ({lo_t}–{hi_t})"


def _val(x) -> str:
    """The exact number behind a table cell (``data-value``), for readers and for tests."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "nan"
    return repr(float(x))


def _td(text, *values, cls="num", names=()) -> str:
    attrs = "".join(f' data-{n}="{_val(v)}"' for n, v in zip(names, values))
    return f'<td class="{cls}"{attrs}>{_e(text)}</td>'


def _versus(res: Results, cell: str, base: str) -> str:
    """What the baseline cell changes: ``commitments=paris_2026`` rather than its whole name."""
    if not base:
        return ""
    rows = res.summary.set_index("cell")
    if base not in rows.index:
        return base
    diff = [f"{k}={rows.loc[base, k]}" for k in res.levers if rows.loc[base, k] != rows.loc[cell, k]]
    return "vs " + (", ".join(diff) if diff else base)


def summary_html(res: Results) -> str:
    """The report's table: one row per cell, the numbers of the sweep summary (exact values in data-*).

    With levers, a row names its cell by its lever columns (the full name is the row's tooltip)."""
    levers = res.levers
    show_cell = not levers
    paired = bool(res.summary["paired_difference"].notna().any())  # a sweep without a baseline has none
    head = ([] if not show_cell else ["cell"]) + [*levers, "runs", "P(activated), 95% CI", "median days to activation, 95% CI",
                                                  "military support in time", "activation on a false alarm"]
    head += ["paired difference vs baseline, 95% BCa", "baseline"] if paired else []
    rows = []
    for _, r in res.summary.iterrows():
        h = float(res.cell_source[r["cell"]].meta.get("horizon") or res.horizon)
        cells = [f'<td>{_e(r["cell"])}</td>'] if show_cell else []
        cells += [*(f"<td>{_e(r[k])}</td>" for k in levers), _td(int(r["runs"]))]
        cells.append(_td(_fmt_ci(r["activation_probability"], r["activation_low"], r["activation_high"]),
                         r["activation_probability"], r["activation_low"], r["activation_high"],
                         names=("estimate", "low", "high")))
        cells.append(_td(_fmt_ci(r["median_days"], r["median_days_low"], r["median_days_high"], pct=False, horizon=h),
                         r["median_days"], r["median_days_low"], r["median_days_high"], names=("estimate", "low", "high")))
        cells.append(_td(_fmt_p(r["support_in_time"]), r["support_in_time"], names=("estimate",)))
        cells.append(_td(_fmt_p(r["false_activation"]), r["false_activation"], names=("estimate",)))
        if paired:
            d = r.get("paired_difference", math.nan)
            text = "" if pd.isna(d) else f"{100 * d:+.1f} pp ({100 * r['paired_low']:+.1f}, {100 * r['paired_high']:+.1f})"
            cells.append(_td(text, d, r.get("paired_low", math.nan), r.get("paired_high", math.nan),
                             names=("estimate", "low", "high")))
            base = r.get("baseline_cell", "") or ""
            cells.append(f'<td title="{_e(base)}">{_e(_versus(res, r["cell"], base) if base != r["cell"] else "(itself)")}</td>')
        rows.append(f'<tr data-cell="{_e(r["cell"])}" title="{_e(r["cell"])}">' + "".join(cells) + "</tr>")
    return ('<div class="scroll"><table id="summary-table"><thead><tr>' + "".join(f"<th>{_e(c)}</th>" for c in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def paired_html(res: Results, pt: pd.DataFrame) -> str:
    """The paired comparisons; a cell is named by what differs among the compared cells (full name: tooltip)."""
    labels, common = _labels(res, list(dict.fromkeys([*pt["a"], *pt["b"]]))) if len(pt) else ({}, "")
    head = ["first", "second", "paired runs", "P(first)", "P(second)", "difference, 95% BCa", "log-rank p (days)"]
    rows = []
    for _, r in pt.iterrows():
        diff = f"{100 * r['estimate']:+.1f} pp ({100 * r['low']:+.1f}, {100 * r['high']:+.1f})"
        lr = "—" if pd.isna(r["logrank_p"]) else ("< 0.001" if r["logrank_p"] < 0.001 else f"{r['logrank_p']:.3f}")
        rows.append(f'<tr data-a="{_e(r["a"])}" data-b="{_e(r["b"])}"><td title="{_e(r["a"])}">{_e(labels[r["a"]])}</td>'
                    f'<td title="{_e(r["b"])}">{_e(labels[r["b"]])}</td>'
                    + _td(int(r["n"])) + _td(_fmt_p(r["p_a"]), r["p_a"], names=("estimate",))
                    + _td(_fmt_p(r["p_b"]), r["p_b"], names=("estimate",))
                    + _td(diff, r["estimate"], r["low"], r["high"], names=("estimate", "low", "high"))
                    + _td(lr, r["logrank_p"], names=("estimate",)) + "</tr>")
    note = f'<p class="note">All at {_e(common)}.</p>' if common else ""
    return (note + '<div class="scroll"><table id="paired-table"><thead><tr>' + "".join(f"<th>{_e(c)}</th>" for c in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def support_html(st: pd.DataFrame, horizon: float) -> str:
    head = ["cell", "support type", "P(activated) (95% CI)", "median days (95% CI)"]
    rows = []
    for _, r in st.iterrows():
        rows.append(f'<tr data-cell="{_e(r["cell"])}" data-type="{_e(r["support_type"])}"><td>{_e(r["cell"])}</td>'
                    f'<td>{_e(r["support_type"])}</td>'
                    + _td(_fmt_ci(r["activation_probability"], r["activation_low"], r["activation_high"]),
                          r["activation_probability"], r["activation_low"], r["activation_high"], names=("estimate", "low", "high"))
                    + _td(_fmt_ci(r["median_days"], r["median_days_low"], r["median_days_high"], pct=False, horizon=horizon),
                          r["median_days"], r["median_days_low"], r["median_days_high"], names=("estimate", "low", "high"))
                    + "</tr>")
    return ('<div class="scroll"><table id="support-table"><thead><tr>' + "".join(f"<th>{_e(c)}</th>" for c in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def png_bytes(fig, dpi: int = 150) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def svg_bytes(fig) -> bytes:
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "guarantee-sim", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def _img(png: bytes, alt: str, width_in: float | None = None) -> str:
    """An embedded PNG, shown at its nominal size (96 px per inch: text at its point size)."""
    width = f' width="{round(width_in * 96)}"' if width_in else ""
    return f'<img alt="{_e(alt)}"{width} src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def markdown_html(text: str, images: dict[str, bytes]) -> str:
    """The Markdown subset of ``sensitivity.report_markdown`` (headings, tables, lists, images,
    emphasis, code) as HTML; images embedded from ``images`` by file name."""
    out, para, table, items = [], [], [], []

    def inline(s: str) -> str:
        s = _e(s)
        s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
        s = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)
        return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", s)

    def flush():
        if para:
            out.append("<p>" + " ".join(inline(x) for x in para) + "</p>")
            para.clear()
        if table:
            rows = [r for r in table if not re.fullmatch(r"\|?\s*:?-{3,}.*", r)]
            cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
            body = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in cells[1:])
            out.append("<table><thead><tr>" + "".join(f"<th>{inline(c)}</th>" for c in cells[0]) + "</tr></thead><tbody>"
                       + body + "</tbody></table>")
            table.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(x)}</li>" for x in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        s = line.strip()
        m = re.fullmatch(r"!\[([^\]]*)\]\(([^)]+)\)", s)
        if not s:
            flush()
        elif s.startswith("#"):
            flush()
            level = min(len(s) - len(s.lstrip("#")), 4)
            out.append(f"<h{level}>{inline(s.lstrip('#').strip())}</h{level}>")
        elif m:
            flush()
            name = Path(m.group(2)).name
            if name in images:
                out.append(f'<figure data-kind="sensitivity">{_img(images[name], m.group(1))}</figure>')
        elif s.startswith("|"):
            if para or items:
                flush()
            table.append(s)
        elif s.startswith("- "):
            if para or table:
                flush()
            items.append(s[2:])
        else:
            if table or items:
                flush()
            para.append(s)
    flush()
    return "\n".join(out)


def study_html(res: Results, study: Source, rendered: dict[str, bytes]) -> str:
    from guarantee_sim.analysis.sensitivity import report_markdown

    images = {p.name: p.read_bytes() for p in study.path.glob("*.png")}
    images.update(rendered)
    try:
        text = report_markdown(study.path)
    except Exception as exc:  # the study's format moved on: say so rather than fail the whole report
        return (f'<section class="study"><h2>Sensitivity study {_e(study.name)}</h2><p class="note">This study could not '
                f"be read ({_e(type(exc).__name__)}: {_e(exc)}).</p></section>")
    return f'<section class="study" id="study-{_e(study.name)}">' + markdown_html(text, images) + "</section>"


def _levers_html(res: Results) -> str:
    from guarantee_sim.present.plots import values_of

    ref = res.reference()
    rows = []
    for k in res.levers:
        vals = values_of(res.summary, k, res.order)
        if len(vals) < 2:
            continue
        shown = ", ".join(f"<strong>{_e(v)}</strong>" if v == ref[k] else _e(v) for v in vals)
        rows.append(f"<tr><td><code>{_e(k)}</code></td><td>{shown}</td></tr>")
    if not rows:
        return '<p class="note">These results vary no lever: one scenario.</p>'
    return ("<table id=\"levers-table\"><thead><tr><th>lever</th><th>values (reference in bold)</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _sources_html(res: Results) -> str:
    head = ["results", "kind", "cells", "runs", "root seed", "horizon", "guarantee_sim", "commit", "made by"]
    rows = []
    for s in res.sources + res.studies:
        if s.kind == "study":
            m = s.meta
            cells, runs, seed, horizon, made = m.get("points"), m.get("runs"), m.get("seed"), m.get("horizon"), "guarantee-sim-sensitivity"
            commit, version = "", __version__
        else:
            cells, runs, seed, horizon = len(s.summary), _runs_text(s), s.meta.get("root_seed"), s.meta.get("horizon")
            commit, version = s.meta.get("git_commit", "unknown"), (s.meta.get("versions") or {}).get("guarantee-sim", "?")
            made = _command(s)
        rows.append("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in (s.name, s.kind, cells, runs, seed,
                                                                     f"{float(horizon or 0):g} days", version, commit))
                    + f"<td><code>{_e(made)}</code></td></tr>")
    return ("<table id=\"sources-table\"><thead><tr>" + "".join(f"<th>{_e(c)}</th>" for c in head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def render_html(res: Results, p: Plan, figs: list[ReportFigure], pngs: dict[str, bytes], tables: dict[str, pd.DataFrame],
                study_pngs: dict[str, dict[str, bytes]]) -> str:
    """The self-contained report: question, levers, caveat, tables and every figure inline."""
    from guarantee_sim.runs.provenance import now

    parts = ["<h1>Security guarantees for Ukraine: does binding support activate?</h1>",
             f'<p class="question"><strong>The question.</strong> {_e(QUESTION)}</p>',
             "<h3>The levers that vary</h3>", _levers_html(res),
             f'<p class="caveat"><strong>Exploratory model.</strong> {_e(CAVEAT)}</p>',
             "<h3>The results</h3>", _sources_html(res)]
    for note in p.notes:
        parts.append(f'<p class="note">{_e(note)}</p>')
    sections = []  # (anchor, title, html)
    if len(res.summary):
        sections.append(("summary", "Summary table",
                         '<p class="note">One row per scenario (cell), the numbers of the sweep summary: activation within '
                         'the horizon with its 95% Wilson interval; Kaplan–Meier median days to activation with its 95% '
                         'interval (runs without activation censored at the horizon); the paired difference against the '
                         'baseline cell over the same run seeds (95% BCa bootstrap).</p>' + summary_html(res)))
    for f in figs:
        body = ""
        if f.name == "paired" and "paired" in tables:
            body += ('<p class="note">First minus second, over the runs both cells ran with the same seeds.</p>'
                     + paired_html(res, tables["paired"]))
        body += (f'<figure data-kind="{_e(f.kind)}">{_img(pngs[f.name], f.title, f.figure.get_figwidth())}'
                 f"<figcaption>{_e(f.caption)} Files: <code>figures/{_e(f.name)}.png</code>, "
                 f"<code>figures/{_e(f.name)}.svg</code>.</figcaption></figure>")
        if f.name == "support_types" and "support_types" in tables:
            body += support_html(tables["support_types"], res.horizon)
        sections.append((f"fig-{f.name}", f.title, body))
    toc = [(a, t) for a, t, _ in sections] + [(f"study-{s.name}", f"Sensitivity study {s.name}") for s in res.studies]
    parts.append("<nav><h3>Contents</h3><ol>" + "".join(f'<li><a href="#{_e(a)}">{_e(t)}</a></li>' for a, t in toc)
                 + "</ol></nav>")
    for anchor, title, body in sections:
        parts += [f'<h2 id="{_e(anchor)}">{_e(title)}</h2>', body]
    for s in res.studies:
        parts.append(study_html(res, s, study_pngs.get(s.name, {})))
    parts.append(f'<p class="note">Made by {PROG} (guarantee_sim {__version__}) on {now()}. '
                 "Tables: report_table.csv, report_paired.csv, report_support_types.csv; figures: figures/.</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>guarantee_sim report: {_e(', '.join(s.name for s in res.sources + res.studies))}</title>"
            f"<style>{CSS}</style></head><body><main>\n" + "\n".join(parts) + "\n</main></body></html>\n")


# writing --------------------------------------------------------------------------------------------
def write_report(res: Results, p: Plan, built: tuple | None = None) -> dict[str, Path]:
    """Draw everything in memory (or take ``built``, from ``build_figures``), then write the files,
    each atomically; return them by name."""
    from guarantee_sim.runs.provenance import write_atomic

    figs, tables = built if built is not None else build_figures(res, p)
    pngs = {f.name: png_bytes(f.figure) for f in figs}
    svgs = {f.name: svg_bytes(f.figure) for f in figs}
    study_pngs: dict[str, dict[str, bytes]] = {}
    study_svgs: dict[str, dict[str, bytes]] = {}
    for s in res.studies:
        rendered = study_figures(res, s)
        study_pngs[s.name] = {name: png_bytes(fig) for name, fig in rendered.items()}
        study_svgs[s.name] = {name[:-4] + ".svg": svg_bytes(fig) for name, fig in rendered.items()}
    page = render_html(res, p, figs, pngs, tables, study_pngs)
    out = p.out
    (out / "figures").mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    mode = 0o666 & ~_umask()  # a report is for sending on: the usual permissions, not mkstemp's 0600

    def put(rel: str, data: bytes) -> None:
        path = out / rel

        def write(tmp: str) -> None:
            Path(tmp).write_bytes(data)
            os.chmod(tmp, mode)

        write_atomic(path, write)
        written[rel] = path

    for name in pngs:
        put(f"figures/{name}.png", pngs[name])
        put(f"figures/{name}.svg", svgs[name])
    for sname in study_pngs:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", sname)
        for name, data in {**study_pngs[sname], **study_svgs[sname]}.items():
            put(f"figures/study-{safe}-{name}", data)
    if len(res.summary):
        put("report_table.csv", res.summary.to_csv(index=False).encode())
    if "paired" in tables:
        put("report_paired.csv", tables["paired"].to_csv(index=False).encode())
    if "support_types" in tables:
        put("report_support_types.csv", tables["support_types"].to_csv(index=False).encode())
    put("report.html", page.encode("utf-8"))
    return written


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# command line ---------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (the project's convention for bad input)."""

    def error(self, message: str) -> None:  # noqa: D102
        raise ConfigError("", " ".join(message.split()) + f" (see {PROG} --help)")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Figures (PNG, SVG) and one self-contained HTML report of guarantee-sim results: activation "
                    "heat map, bars, Kaplan-Meier curves, the funnel, support types, paired comparisons and one "
                    "narrated run. Cells may be named in full (a sweep's folder name, e.g. "
                    "breach=hybrid,trigger=armed_attack) or by some of their levers (commitments=article5_like): "
                    "the levers not given take their reference value, the first value the sweep listed. With several "
                    "results folders whose cells share their levers, the folder's name is one more lever, '"
                    + RESULTS + "' (name a cell FOLDER/CELL).",
        epilog="Example: guarantee-sim-report results/headline --levers breach trigger --bars commitments trigger "
               "--pair commitments=article5_like commitments=paris_2026 --run commitments=article5_like:12",
    )
    p.add_argument("results", nargs="+", metavar="RESULTS_DIR",
                   help="a run folder (results/runs/<time>), a sweep folder (results/sweeps/<name>) or a sensitivity "
                        "study folder; several are compared side by side")
    p.add_argument("--levers", nargs=2, metavar=("ROW", "COLUMN"),
                   help="the heat map's two levers (default: the last two swept levers); the other levers become "
                        "panels")
    p.add_argument("--bars", nargs="+", metavar=("LEVER", "HUE"),
                   help="LEVER [HUE]: bars of activation probability along LEVER, coloured by HUE ('none': one "
                        "colour; 'cell': one bar per cell). Default: the first lever not on the heat map; HUE: the heat "
                        "map's column lever. The other levers become panels")
    p.add_argument("--at", nargs="+", metavar="LEVER=VALUE",
                   help="reference values: what the focused figures (Kaplan-Meier, support types, pairs, the run, the "
                        "funnel of a large sweep) and cells named by some of their levers hold fixed (default: the "
                        "first value the sweep listed for each lever)")
    p.add_argument("--scenarios", nargs="+", metavar="CELL",
                   help="the cells of the Kaplan-Meier and support-type figures (default: every cell when there are "
                        f"at most 6, else the cells along the --bars lever with the others at their reference, at most "
                        f"{MAX_SCENARIOS}; up to {MAX_CHOSEN} when chosen)")
    p.add_argument("--pair", nargs=2, action="append", metavar=("CELL_A", "CELL_B"),
                   help="a paired comparison, A minus B, over their common run seeds (repeatable; the first also gets "
                        "the log-rank test). Levers B does not name are A's: --pair commitments=article5_like "
                        "commitments=paris_2026. Default: each Kaplan-Meier scenario against the first")
    p.add_argument("--run", metavar="CELL:RUN",
                   help="the run to re-run with narration for the timeline (default: in the first Kaplan-Meier "
                        "scenario, or the first --pair's first cell, the activated run nearest the median day)")
    p.add_argument("--out", metavar="DIR",
                   help="where to write report.html, figures/ and the report's tables (default: RESULTS_DIR itself; "
                        "with several folders, compare-<hash> next to the first)")
    p.add_argument("--seed", type=int, metavar="N",
                   help="the bootstrap's seed (default: the results' root seed, as the sweep's own paired differences)")
    return p


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parser().parse_args(argv)
        res = load(args.results)
        p = plan(res, args)
    except ConfigError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    import matplotlib

    matplotlib.use("Agg")
    written = write_report(res, p)
    n_fig = sum(1 for k in written if k.startswith("figures/") and k.endswith(".png"))
    print(f"{n_fig} figures (PNG and SVG) in {p.out / 'figures'}")
    print(f"Report: {p.out / 'report.html'} (self-contained: open it in any browser, no network needed)")


if __name__ == "__main__":
    main()
