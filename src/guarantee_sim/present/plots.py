"""How the figures read a sweep's tables: which columns are levers, their values in the order the
sweep listed them, and labels that name only what tells cells apart.

The tables are those the sweep writes: ``sweep_summary.csv`` (one row per cell: ``cell``, the
levers, ``runs``, ``activation_probability`` ...) and ``sweep_runs.parquet`` (one row per run:
``cell``, the levers, ``run``, ``seed``, ``activated``, ``activation_day`` ...). The lever columns
are those between ``cell`` and ``runs`` (``run`` in the runs table). The figures that draw them
are in ``sweep_figures`` (heat map, bars, funnel) and ``survival_figures`` (Kaplan–Meier, support
types, paired differences); they use matplotlib's object API (no pyplot state), constrained
layout, and an optional small-print ``stamp`` under the plot that says where the numbers come from.
"""

from __future__ import annotations

import pandas as pd


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

