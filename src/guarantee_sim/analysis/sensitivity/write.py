"""A study's folder: the sample, the index and rule tables, the figures, the summary, the typed
result (``study_result.json``) and, written last, the ``study.json`` marker that says it is complete."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from guarantee_sim.analysis.sensitivity.evaluate import OUTCOMES
from guarantee_sim.analysis.sensitivity.result import (INDEX_COLUMNS, MARKER, RESULT, Failures, LeverIndex, OutcomeIndices,
                                                       StudyResult, json_ready)
from guarantee_sim.analysis.sensitivity.study import StudyRun
from guarantee_sim.analysis.sensitivity.text import format_study
from guarantee_sim.runs.provenance import write_atomic as _write_atomic


def study_result(run: StudyRun, figures: dict[str, str] | None = None) -> StudyResult:
    """The typed result of a run; ``figures``: the figure files written, by outcome (and ``discovery``)."""
    m, figures = run.meta, figures or {}
    outcomes = []
    for outcome, info in m["outcomes"].items():
        table = run.indices[run.indices["outcome"] == outcome].sort_values("rank", kind="stable", na_position="last")
        share = m["noise"][outcome]["noise_share"]
        outcomes.append(OutcomeIndices(outcome, info["label"], info["unit"], json_ready(share),
                                       tuple(LeverIndex(**{c: r[c] for c in INDEX_COLUMNS}) for r in table.to_dict("records")),
                                       figures.get(outcome)))
    d = m["discovery"]
    failures = Failures(d["what"], d["of"], d["failure_rate"], d["min_density"], tuple(run.discovery.rules),
                        dict(run.discovery.importances), figures.get("discovery"))
    plain = [f.name for f in fields(StudyResult) if f.name not in ("levers", "outcomes", "failures")]
    return StudyResult(**{k: m[k] for k in plain}, levers=tuple(run.levers), outcomes=tuple(outcomes), failures=failures)


def write_study(res: StudyRun, out: Path, resolved_yaml: str | None = None) -> dict:
    """Write the study's tables, figures, typed result and marker into ``out``; return the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from guarantee_sim.analysis.discovery import rules_frame
    from guarantee_sim.present.sensitivity_plots import plot_failure_region, plot_sobol_indices

    out.mkdir(parents=True, exist_ok=True)
    files, figures = {}, {}

    def put(name, write):
        _write_atomic(out / name, write)
        files[name] = name

    put("sample.parquet", lambda p: res.sample.to_parquet(p, index=False))
    put("indices.csv", lambda p: res.indices.to_csv(p, index=False))
    records = json_ready(res.indices.to_dict(orient="records"))
    put("indices.json", lambda p: Path(p).write_text(json.dumps(records, indent=2, ensure_ascii=False)))
    rules = rules_frame(res.discovery)
    put("rules.csv", lambda p: rules.to_csv(p, index=False))
    payload = json_ready({"failure_rate": res.discovery.failure_rate, "failures": res.discovery.failures,
                      "runs": res.discovery.runs, "min_density": res.discovery.min_density,
                      "importances": res.discovery.importances, "rules": [r.as_dict() for r in res.discovery.rules],
                      "prim": res.meta["discovery"].get("prim")})
    put("rules.json", lambda p: Path(p).write_text(json.dumps(payload, indent=2, ensure_ascii=False)))
    text = format_study(res)
    put("summary.txt", lambda p: Path(p).write_text(text + "\n"))
    for outcome in OUTCOMES:
        fig = plot_sobol_indices(res.indices, outcome, res.meta)
        for ext in ("png", "svg"):
            put(f"sobol_{outcome}.{ext}", lambda p, fig=fig, ext=ext: fig.savefig(p, format=ext, dpi=150, bbox_inches="tight"))
        plt.close(fig)
        figures[outcome] = f"sobol_{outcome}.png"
    fig = plot_failure_region(res.sample, res.discovery, res.levers, res.meta)
    if fig is not None:
        for ext in ("png", "svg"):
            put(f"discovery.{ext}", lambda p, fig=fig, ext=ext: fig.savefig(p, format=ext, dpi=150, bbox_inches="tight"))
        plt.close(fig)
        figures["discovery"] = "discovery.png"
    if resolved_yaml is not None:
        put("config.yaml", lambda p: Path(p).write_text(resolved_yaml))
    from guarantee_sim.runs.provenance import record

    prov = record(res.meta["seed"], res.meta["started"], res.meta["runs"], {"study": res.meta["name"]})
    put("provenance.json", lambda p: Path(p).write_text(json.dumps(json_ready(prov), indent=2)))
    typed = study_result(res, figures).to_json()
    put(RESULT, lambda p: Path(p).write_text(typed))
    meta = dict(res.meta, files=sorted(files) + [MARKER])
    put(MARKER, lambda p: Path(p).write_text(json.dumps(json_ready(meta), indent=2, ensure_ascii=False)))
    return files
