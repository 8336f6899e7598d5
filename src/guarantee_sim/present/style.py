"""The look shared by every figure: type sizes, colours, the stamped frame, wrapped titles, and a
check that no text overlaps or leaves the figure."""

from __future__ import annotations

import math
import textwrap

from matplotlib.figure import Figure

from guarantee_sim.model.breaches import KIND_KEYS
from guarantee_sim.model.triggers import SUPPORT_TYPES

STAGE_COLOURS = {
    "activated": "#1b7837",
    "pending_at_horizon": "#a6dba0",
    "not_approved": "#fdb863",
    "below_trigger": "#e66101",
    "unattributed": "#b2abd2",
    "undetected": "#5e3c99",
    "no_breach": "#d9d9d9",
}
TYPE_COLOURS = dict(zip(SUPPORT_TYPES, ("#b2182b", "#2166ac", "#e08214", "#542788", "#1b7837")))
BREACH_COLOURS = dict(zip(KIND_KEYS, ("#bf812d", "#8c510a", "#c51b7d", "#4d9221", "#d6604d", "#67001f")))
NO_NUMBER = "#e0e0e0"  # a cell with no number: nothing binding by construction, or no attack to answer
SERIES = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")
DASHES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)))
TITLE, LABEL, TICK, SMALL, STAMP = 10, 9, 8, 7.5, 6


def pretty(value) -> str:
    """A lever value for an axis: ``surge_offensive`` reads ``surge offensive``."""
    return str(value).replace("_", " ")


def wrap(text: str, width: int) -> str:
    """Break a label into lines of at most ``width`` characters, keeping its own line breaks."""
    return "\n".join("\n".join(textwrap.wrap(line, width, break_on_hyphens=False, break_long_words=False)) or line
                     for line in str(text).split("\n"))


# the frame -------------------------------------------------------------------------------------
def new_figure(width: float, height: float, stamp: str | None = None):
    """(figure, panel): a figure whose plot goes into ``panel``, and the stamp, if any, into a band
    of its own underneath, so no legend or label can run into it.

    The panel is a constrained-layout subfigure (the figure itself when there is no stamp).
    """
    if not stamp:
        fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
        return fig, fig
    lines = wrap_stamp(stamp, width)
    band = 0.08 + 0.11 * (lines.count("\n") + 1)
    fig = Figure(figsize=(width, height + band), dpi=100, layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[height, band], hspace=0)
    bottom.text(0.006, 0.5, lines, fontsize=STAMP, color="0.35", ha="left", va="center", gid="stamp")
    return fig, top


def wrap_stamp(stamp: str, width: float) -> str:
    """The stamp broken at its separators to fit the figure's width."""
    per_line = max(40, int((width - 0.1) / (STAMP * 0.55 / 72)))
    lines, line = [], ""
    for part in stamp.split(" · "):
        candidate = part if not line else f"{line} · {part}"
        if len(candidate) > per_line and line:
            lines.append(line)
            line = part
        else:
            line = candidate
    lines.append(line)
    return "\n".join(textwrap.fill(x, per_line) for x in lines)


def wrapped_title(target, text: str, width: float, **kw) -> None:
    """A left-aligned title wrapped to the figure's width (``target``: a figure or an axes)."""
    per_line = max(30, int((width - 0.4) / (TITLE * 0.56 / 72)))
    text = "\n".join(wrap(line, per_line) for line in text.split("\n"))
    if hasattr(target, "suptitle"):
        target.suptitle(text, fontsize=TITLE, x=0.01, ha="left", **kw)
    else:
        target.set_title(text, fontsize=TITLE, loc="left", **kw)


def pct(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def grid_shape(n: int, ncols: int) -> tuple[int, int]:
    ncols = max(1, min(n, ncols))
    return math.ceil(n / ncols), ncols


# checking a figure -----------------------------------------------------------------------------
def layout_problems(fig, tolerance: float = 1.0) -> list[str]:
    """Texts that overlap one another or stick out of the figure, among those actually drawn.

    Why: "readable at the default size" is checked, not hoped for; the tests run it on every
    figure of the report. Only texts the renderer draws count (tick labels outside the view
    limits exist but are not drawn).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    drawn: list = []
    original = Text.draw

    def record(self, renderer):
        if self.get_visible() and self.get_text().strip() and self not in drawn:
            drawn.append(self)
        return original(self, renderer)

    Text.draw = record
    try:
        fig.draw(renderer)
    finally:
        Text.draw = original
    boxes = [(t.get_text().replace("\n", " ")[:50], t.get_window_extent(renderer)) for t in drawn]
    width, height = fig.bbox.width, fig.bbox.height
    out = []
    for text, b in boxes:
        if b.x0 < -tolerance or b.y0 < -tolerance or b.x1 > width + tolerance or b.y1 > height + tolerance:
            out.append(f"outside the figure: {text!r}")
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            if min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance:
                out.append(f"overlap: {ta!r} and {tb!r}")
    return out
