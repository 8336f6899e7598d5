"""The small pieces of HTML the report's sections share: escaping, numbers with their intervals,
table cells that keep the exact value in ``data-*`` attributes, and embedded PNGs."""

from __future__ import annotations

import base64
import html
import math

import pandas as pd


def esc(x) -> str:
    return html.escape(str(x), quote=True)


def fmt_p(x) -> str:
    return "—" if x is None or pd.isna(x) else f"{100 * float(x):.1f}%"


def fmt_ci(est, lo, hi, pct=True, horizon=None) -> str:
    if est is None or pd.isna(est):
        return f"not reached within {horizon:g} d" if horizon else "—"
    if pct:
        return f"{100 * est:.1f}% ({100 * lo:.1f}–{100 * hi:.1f})"
    lo_t = "?" if pd.isna(lo) else f"{lo:.0f}"
    hi_t = f">{horizon:g}" if pd.isna(hi) and horizon else ("?" if pd.isna(hi) else f"{hi:.0f}")
    return f"{est:.0f} d ({lo_t}–{hi_t})"


def data_value(x) -> str:
    """The exact number behind a table cell (``data-value``), for readers and for tests."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "nan"
    return repr(float(x))


def td(text, *values, cls="num", names=()) -> str:
    """A cell; an interval after its value, "12.5% (2.2–47.1)", is one unbreakable span (``ci``),
    so that a narrow printed table breaks the line before it, not inside it."""
    attrs = "".join(f' data-{n}="{data_value(v)}"' for n, v in zip(names, values))
    value, opens, interval = str(text).partition(" (")
    body = f'{esc(value)} <span class="ci">({esc(interval)}</span>' if opens else esc(text)
    return f'<td class="{cls}"{attrs}>{body}</td>'


def img_tag(png: bytes, alt: str, width_in: float | None = None) -> str:
    """An embedded PNG, shown at its nominal size (96 px per inch: text at its point size)."""
    width = f' width="{round(width_in * 96)}"' if width_in else ""
    return f'<img alt="{esc(alt)}"{width} src="data:image/png;base64,{base64.b64encode(png).decode()}">'
