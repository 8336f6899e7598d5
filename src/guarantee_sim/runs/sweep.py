"""Sweep-level tables: every cell of a Hydra multirun gathered into one store.

``SweepAggregator`` is a Hydra callback: when the launcher (basic, joblib, submitit) has run
every cell, it reads the cells' folders and writes, in the sweep folder,
``sweep_runs.parquet`` (one row per run, the cell's levers as columns), ``sweep_summary.csv``
and ``.json`` (one row per cell) and ``sweep.json`` (provenance). Cells share their run seeds
(common random numbers), so each cell is also compared, run by run, with its baseline cell.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig
from scipy import stats

from guarantee_sim.model.outcomes import STAGES
from guarantee_sim.runs.provenance import now, record, write_atomic, write_json
from guarantee_sim.scenario.schema import NOT_LEVERS  # the run settings and the preset


def lever_overrides(task_overrides) -> dict[str, str]:
    """The levers a job sets: its task overrides, minus run settings."""
    out = {}
    for o in task_overrides:
        key, _, value = str(o).lstrip("+~").partition("=")
        if key.split(".")[0] not in NOT_LEVERS:
            out[key] = value
    return out


def paired_difference(a: pd.Series, b: pd.Series, seed: int = 0, level: float = 0.95) -> dict:
    """P(activated | a) − P(activated | b) over paired runs, with a BCa bootstrap interval.

    Resampling pairs and taking the difference of means is resampling the per-run differences
    and taking their mean, which scipy does at half the cost.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    d = x - y
    diff = float(x.mean() - y.mean())
    if len(x) < 2 or np.all(d == d[0]):
        return {"estimate": diff, "low": diff, "high": diff}
    res = stats.bootstrap(
        (d,),
        np.mean,
        confidence_level=level,
        n_resamples=2000,
        method="BCa",
        random_state=np.random.default_rng(seed),
    )
    return {"estimate": diff, "low": float(res.confidence_interval.low), "high": float(res.confidence_interval.high)}


def _num(d, key="estimate"):
    v = d.get(key) if isinstance(d, dict) else None
    return math.nan if v is None else float(v)


def summary_row(cell: str, levers: dict, summary: dict) -> dict:
    """A cell's summary.json as one row of the sweep summary table."""
    row = {"cell": cell, **{k: str(v) for k, v in levers.items()}, "runs": summary["runs"]}
    p, m = summary["activation_probability"], summary["median_days_to_activation"]
    row.update(
        activation_probability=_num(p), activation_low=_num(p, "low"), activation_high=_num(p, "high"),
        median_days=_num(m), median_days_low=_num(m, "low"), median_days_high=_num(m, "high"),
    )
    for t, d in summary["by_support_type"].items():
        row[f"activation_probability_{t}"] = _num(d["activation_probability"])
        row[f"median_days_{t}"] = _num(d["median_days_to_activation"])
    for stage in STAGES:
        row[f"funnel_{stage}"] = summary["funnel"][stage]
    for measure in ("attack_probability", "support_in_time_given_attack", "protected_probability"):
        d = summary[measure]
        row.update({measure: _num(d), f"{measure}_low": _num(d, "low"), f"{measure}_high": _num(d, "high")})
    row["false_activation"] = _num(summary["false_activation"])
    if "half_width" in summary:
        row["half_width"] = summary["half_width"]
    row.update(baseline_cell="", paired_difference=math.nan, paired_low=math.nan, paired_high=math.nan)
    return row


def collect_cells(sweep_dir: Path) -> list[tuple[str, dict, pd.DataFrame]]:
    """Complete cells (summary.json written) in a stable order: by folder name."""
    cells = []
    for meta_path in sorted(Path(sweep_dir).glob("*/cell.json")):
        cell_dir = meta_path.parent
        if not (cell_dir / "summary.json").exists():
            continue
        summary = json.loads((cell_dir / "summary.json").read_text())
        cells.append((cell_dir.name, summary, pd.read_parquet(cell_dir / "runs.parquet")))
    return cells


def baseline_of(levers: dict, cells: dict[str, dict], baseline: tuple[str, str] | None) -> str | None:
    """The cell with the same levers as ``levers`` but the baseline value of the baseline lever."""
    if baseline is None:
        return None
    key, value = baseline
    wanted = {**levers, key: value}
    for name, other in cells.items():
        if other == wanted:
            return name
    return None


def aggregate(sweep_dir: Path, baseline: tuple[str, str] | None, seed: int) -> tuple[pd.DataFrame, list[str]] | None:
    """Write the sweep tables; return the sweep summary and the lever keys (None: no complete cell)."""
    sweep_dir = Path(sweep_dir)
    cells = collect_cells(sweep_dir)
    if not cells:
        return None
    lever_keys: list[str] = []
    for _, summary, _ in cells:
        for k in summary.get("levers", {}):
            if k not in lever_keys:
                lever_keys.append(k)
    frames, rows = [], []
    levers_by_cell = {name: summary.get("levers", {}) for name, summary, _ in cells}
    runs_by_cell = {name: df for name, _, df in cells}
    for name, summary, df in cells:
        levers = summary.get("levers", {})
        frame = df.copy()
        for i, k in enumerate(lever_keys):
            frame.insert(i, k, levers.get(k, ""))
        frame.insert(0, "cell", name)
        frames.append(frame)
        row = summary_row(name, {k: levers.get(k, "") for k in lever_keys}, summary)
        base = baseline_of(levers, levers_by_cell, baseline)
        row["baseline_cell"] = base or ""
        if base is not None and base != name:
            a, b = runs_by_cell[name]["activated"], runs_by_cell[base]["activated"]
            n = min(len(a), len(b))  # auto-sized cells share their first n seeds
            d = paired_difference(a[:n], b[:n], seed=seed)
            row.update(paired_difference=d["estimate"], paired_low=d["low"], paired_high=d["high"])
        rows.append(row)
    table = pd.concat(frames, ignore_index=True)
    summary_table = pd.DataFrame(rows)
    write_atomic(sweep_dir / "sweep_runs.parquet", lambda p: table.to_parquet(p, index=False))
    write_atomic(sweep_dir / "sweep_summary.csv", lambda p: summary_table.to_csv(p, index=False))
    write_json(sweep_dir / "sweep_summary.json", {"levers": lever_keys, "baseline": list(baseline) if baseline else None, "cells": rows})
    return summary_table, lever_keys


def default_baseline(task_overrides, sweeper_params=None) -> tuple[str, str] | None:
    """The first value of the first swept lever: on the command line, else in the preset's sweep."""
    listed = [f"{k}={v}" for k, v in (sweeper_params or {}).items()]
    for o in [*task_overrides, *listed]:
        key, _, value = str(o).partition("=")
        if key in NOT_LEVERS or key.startswith("hydra"):
            continue
        if "," in value and not value.lstrip().startswith(("{", "[")):
            return key, value.split(",")[0].strip()
    return None


def format_sweep(table: pd.DataFrame) -> str:
    cols = ["cell", "runs", "P(attack) [95% CI]", "P(in time | attack)", "P(protected)", "P(activated) [95% CI]",
            "median days [95% CI]", "paired diff vs baseline [95% CI]"]
    lines = []
    for _, r in table.iterrows():
        measures = [_ci(r, m) for m in ("attack_probability", "support_in_time_given_attack", "protected_probability")]
        p = f"{r.activation_probability:.3f} [{r.activation_low:.3f}, {r.activation_high:.3f}]"
        m = "—" if math.isnan(r.median_days) else f"{r.median_days:.0f} [{_fmt(r.median_days_low)}, {_fmt(r.median_days_high)}]"
        d = "" if math.isnan(r.paired_difference) else f"{r.paired_difference:+.3f} [{r.paired_low:+.3f}, {r.paired_high:+.3f}]"
        lines.append((r.cell, str(r.runs), *measures, p, m, d))
    widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(cols)]
    out = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    out += ["  ".join(v.ljust(w) for v, w in zip(line, widths)) for line in lines]
    return "\n".join(out)


def _ci(r, measure: str) -> str:
    est = r.get(measure, math.nan)
    if est is None or math.isnan(est):
        return "—"
    return f"{est:.3f} [{r[f'{measure}_low']:.3f}, {r[f'{measure}_high']:.3f}]"


def _fmt(v) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0f}"


class SweepAggregator(Callback):
    """Hydra callback (see conf/config.yaml): aggregate the sweep once every cell has run."""

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        self.started = now()

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        task = list(config.hydra.overrides.task)
        base = config.get("baseline")
        params = config.hydra.sweeper.get("params") or {}
        baseline = tuple(str(base).split("=", 1)) if base else default_baseline(task, params)
        result = aggregate(sweep_dir, baseline, int(config.seed))
        if result is None:
            print(f"No complete cell in {sweep_dir}")
            return
        table, lever_keys = result
        extra = {"cells": list(table["cell"]), "levers": lever_keys, "overrides": task, "horizon": float(config.horizon)}
        write_json(sweep_dir / "sweep.json", record(int(config.seed), getattr(self, "started", now()), int(table["runs"].sum()), extra))
        print(f"\nSweep of {len(table)} cells, {int(table['runs'].sum())} runs (exploratory model: read the intervals)")
        if baseline:
            print(f"Paired differences against {baseline[0]}={baseline[1]} in the same other levers (common random numbers)")
        print(format_sweep(table))
        print(f"\nSweep tables: {sweep_dir}/sweep_summary.csv, sweep_runs.parquet")
