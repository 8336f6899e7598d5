"""Writing the report: every figure drawn in memory first, then the PNGs, SVGs, tables and
``report.html`` written atomically, with reproducible bytes (no dates in the files)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from guarantee_sim.present.report.figures import build_figures
from guarantee_sim.present.report.html import render_html
from guarantee_sim.present.report.load import Results
from guarantee_sim.present.report.plan import Plan
from guarantee_sim.present.report.study import study_figures


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
