"""Key findings: what a sweep found, in a few sentences made from the sweep summary's own numbers.

The sentences are data first (``Finding``: the words and the numbers they state), so a test can
hold every stated number equal to the summary's; the report renders them as one paragraph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from guarantee_sim.present.report.markup import fmt_p as _pct

MEASURE = ("P(protected) is the headline: the share of runs with no armed attack, or with military support at the "
           "level Ukraine needs delivered within its holding time after the attack.")
CAVEAT = ("These are properties of the model's assumptions (sourced or labelled [E] in docs/parameters.md), to compare "
          "designs, not forecasts; cells whose intervals overlap are told apart only by their paired difference.")
SHOWN = 3  # the largest paired differences named


@dataclass
class Finding:
    """One sentence and the summary values it states (cell, column) -> value."""

    text: str
    states: dict[tuple[str, str], float] = field(default_factory=dict)


def _label(row: pd.Series, levers: list[str]) -> str:
    return ", ".join(f"{k}={row[k]}" for k in levers) if levers else str(row["cell"])


def _range(summary: pd.DataFrame, levers: list[str], measure: str, words: str) -> Finding | None:
    rows = summary.dropna(subset=[measure])
    if len(rows) < 2 or rows[measure].nunique() < 2:
        return None
    lo, hi = rows.loc[rows[measure].idxmin()], rows.loc[rows[measure].idxmax()]
    states = {}
    for r in (lo, hi):
        for col in (measure, f"{measure}_low", f"{measure}_high"):
            states[(r["cell"], col)] = float(r[col])
    text = (f"{words} runs from {_pct(lo[measure])} (95% CI {_pct(lo[f'{measure}_low'])} to {_pct(lo[f'{measure}_high'])}) "
            f"in {_label(lo, levers)} to {_pct(hi[measure])} ({_pct(hi[f'{measure}_low'])} to "
            f"{_pct(hi[f'{measure}_high'])}) in {_label(hi, levers)}.")
    return Finding(text, states)


def _paired(summary: pd.DataFrame, levers: list[str]) -> Finding | None:
    rows = summary.dropna(subset=["paired_difference"])
    rows = rows[rows["cell"] != rows["baseline_cell"]]
    if not len(rows):
        return None
    clear = rows[(rows["paired_low"] > 0) | (rows["paired_high"] < 0)]
    top = clear.reindex(clear["paired_difference"].abs().sort_values(ascending=False).index).head(SHOWN)
    states, parts = {}, []
    for _, r in top.iterrows():
        for col in ("paired_difference", "paired_low", "paired_high"):
            states[(r["cell"], col)] = float(r[col])
        parts.append(f"{_label(r, levers)}: {100 * r['paired_difference']:+.1f} points "
                     f"({100 * r['paired_low']:+.1f} to {100 * r['paired_high']:+.1f})")
    head = (f"On common seeds, {len(clear)} of {len(rows)} cells differ from their baseline cell in P(protected) with a "
            "95% interval that excludes 0")
    return Finding(head + (": the largest, " + "; ".join(parts) + "." if parts else "."), states)


def key_findings(summary: pd.DataFrame, levers: list[str]) -> list[Finding]:
    """The measure, the range of P(protected) and of P(attack) across cells, the largest paired
    differences against the baseline, and the caveat."""
    out = [Finding(MEASURE)]
    for measure, words in (("protected_probability", "Across the cells, P(protected)"),
                           ("attack_probability", "P(attack) within the horizon")):
        f = _range(summary, levers, measure, words)
        if f is not None:
            out.append(f)
    if "paired_difference" in summary and summary["paired_difference"].notna().any():
        f = _paired(summary, levers)
        if f is not None:
            out.append(f)
    out.append(Finding(CAVEAT))
    return out


def stated_values_match(findings: list[Finding], summary: pd.DataFrame) -> bool:
    """Every number a finding states is the summary's (exactly: they are read from it)."""
    rows = summary.set_index("cell")
    return all(math.isclose(v, float(rows.loc[cell, col]), rel_tol=0, abs_tol=0)
               for f in findings for (cell, col), v in f.states.items())
