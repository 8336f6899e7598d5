"""The result store of one cell (one scenario): batches on disk, resumable, written atomically.

A cell's runs are computed in batches of ``batch_size`` consecutive runs; each finished batch
is a parquet file under ``batches/`` written through a temporary file and a rename, so a
killed job leaves only complete batches behind. Started again, the cell reads the batches it
has and computes the rest; the rows are the same because run i's seed depends only on the
root seed and i. ``summary.json`` is written last and marks the cell complete.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from guarantee_sim.runs.provenance import now, record, write_atomic, write_json
from guarantee_sim.runs.runner import run_range, run_seeds
from guarantee_sim.analysis.stats import summarize, summary_rows, wilson
from guarantee_sim.scenario.schema import STORE_NEUTRAL


@dataclass(frozen=True)
class CellPlan:
    """How many runs: a fixed number, or ``auto`` until the Wilson half-width reaches ``precision``."""

    runs: int | None  # None means auto
    seed: int
    batch_size: int
    precision: float
    max_runs: int
    workers: int = 1

    @property
    def cap(self) -> int:
        return self.max_runs if self.runs is None else self.runs


def fingerprint(config: dict) -> str:
    """What identifies a cell's results: the resolved config without the settings that do not change them."""
    keep = {k: v for k, v in config.items() if k not in (*STORE_NEUTRAL, "hydra")}
    return hashlib.sha1(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()


def half_width(k: int, n: int) -> float:
    _, lo, hi = wilson(k, n)
    return (hi - lo) / 2


class Progress:
    """A tqdm bar on a terminal; one line per cell otherwise."""

    def __init__(self, label: str, total: int):
        self.label, self.total = label, total
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="run", leave=False, file=sys.stderr)

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_cell(scenario, cell_dir: Path, plan: CellPlan, config: dict, config_yaml: str, label: str, levers: dict) -> tuple[pd.DataFrame, dict, str]:
    """Compute (or finish, or reuse) one cell; return its rows, its summary and a one-line report."""
    cell_dir = Path(cell_dir)
    cell_dir.mkdir(parents=True, exist_ok=True)
    started = now()
    clock = time.perf_counter()
    fp = fingerprint(config)
    meta_path = cell_dir / "cell.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
    if meta and meta.get("fingerprint") == fp and (cell_dir / "summary.json").exists():
        summary = json.loads((cell_dir / "summary.json").read_text())
        df = pd.read_parquet(cell_dir / "runs.parquet")
        return df, summary, f"{label}: complete, skipped ({summary['runs']} runs)"
    batches = cell_dir / "batches"
    if meta and meta.get("fingerprint") != fp:  # the folder held another configuration
        for stale in [*batches.glob("*.parquet"), *(cell_dir / n for n in ("summary.json", "runs.parquet"))]:
            if stale.exists():
                stale.unlink()
    batches.mkdir(exist_ok=True)
    write_json(meta_path, {"label": label, "levers": levers, "fingerprint": fp})

    seeds = run_seeds(plan.seed, plan.cap)
    frames, computed, resumed, activated = [], 0, 0, 0
    progress = Progress(label, plan.cap)
    start = 0
    try:
        while start < plan.cap:
            stop = min(start + plan.batch_size, plan.cap)
            path = batches / f"runs-{start:07d}-{stop:07d}.parquet"
            if path.exists():
                batch = pd.read_parquet(path)
                resumed += 1
            else:
                batch = run_range(scenario, seeds[start:stop], start, plan.workers)
                write_atomic(path, lambda p, b=batch: b.to_parquet(p, index=False))
                computed += 1
            frames.append(batch)
            activated += int(batch["activated"].sum())
            progress.advance(stop - start)
            start = stop
            if plan.runs is None and half_width(activated, stop) <= plan.precision:
                break
    finally:
        progress.close()

    df = pd.concat(frames, ignore_index=True)
    n = len(df)
    summary = summarize(df, scenario.horizon)
    summary.update(
        scenario=scenario.labels,
        levers=levers,
        seed=plan.seed,
        runs_requested="auto" if plan.runs is None else plan.runs,
    )
    if plan.runs is None:
        hw = half_width(activated, n)
        summary.update(precision_target=plan.precision, half_width=hw, precision_reached=hw <= plan.precision)
    write_atomic(cell_dir / "runs.parquet", lambda p: df.to_parquet(p, index=False))
    write_atomic(cell_dir / "summary.csv", lambda p: summary_rows(summary).to_csv(p, index=False))
    write_atomic(cell_dir / "config.yaml", lambda p: Path(p).write_text(config_yaml))
    write_json(cell_dir / "provenance.json", record(plan.seed, started, n, {"cell": label, "levers": levers}))
    write_json(cell_dir / "summary.json", summary)
    p, a = summary["activation_probability"], summary["attack_probability"]
    line = (
        f"{label}: {n} runs ({computed} batches computed, {resumed} resumed) in {time.perf_counter() - clock:.1f} s;"
        f" P(attack) {a['estimate']:.3f} [{a['low']:.3f}, {a['high']:.3f}];"
        f" P(activated) {p['estimate']:.3f} [{p['low']:.3f}, {p['high']:.3f}]"
    )
    if plan.runs is None:
        line += f", half-width {summary['half_width']:.4f}" + ("" if summary["precision_reached"] else " (cap reached)")
    return df, summary, line
