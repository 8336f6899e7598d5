"""The self-contained report page: the question, the levers, the caveat, the sources, the tables
and every figure inline, so that it opens in any browser without a network."""

from __future__ import annotations

import math

import pandas as pd

from guarantee_sim import __version__
from guarantee_sim.present.report.figures import ReportFigure, cell_labels
from guarantee_sim.present.report.load import Results
from guarantee_sim.present.report.markup import esc, fmt_ci, fmt_p, img_tag, td
from guarantee_sim.present.report.plan import Plan
from guarantee_sim.present.report.stamps import PROG, command_line, runs_text
from guarantee_sim.present.report.study import study_html

QUESTION = ("Given a guarantee design and a pattern of ceasefire breaches, how often — and how fast — does binding "
            "support actually activate, and where does the chain fail when it does not?")
CAVEAT = ("The model is exploratory, not predictive. Every result is a probability with an uncertainty band (Wilson "
          "intervals for probabilities, Kaplan–Meier intervals for delays) from a model built on sourced figures and "
          "labelled assumptions (docs/parameters.md). Use it to compare designs and to see which assumptions matter, "
          "not to forecast.")
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
#key-findings { background: #eef5ee; border-left: 4px solid #2e7d32; padding: 0.6em 0.9em; }
.ci { white-space: nowrap; }
@media print {  /* printed or saved as PDF: every row and column of every table, no scroll box, figures whole */
  .scroll { max-height: none; overflow: visible; border: none; }
  main { max-width: none; padding: 0; } nav { display: none; }
  table { font-size: 0.68em; } th, td { padding: 2px 3px; } td.num { white-space: normal; }
  #sources-table td { overflow-wrap: anywhere; }
  tr, figure { break-inside: avoid; } h2 { break-after: avoid; }
}
"""


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
    head = ([] if not show_cell else ["cell"]) + [*levers, "runs", "P(attack), 95% CI", "P(support in time | attack), 95% CI",
                                                  "P(protected), 95% CI", "P(pooled binding support activated), 95% CI",
                                                  "median days to activation, 95% CI", "activation on a false alarm"]
    head += ["paired difference in P(protected) vs baseline, 95% BCa", "baseline"] if paired else []
    rows = []
    for _, r in res.summary.iterrows():
        h = float(res.cell_source[r["cell"]].meta.get("horizon") or res.horizon)
        cells = [f'<td>{esc(r["cell"])}</td>'] if show_cell else []
        cells += [*(f"<td>{esc(r[k])}</td>" for k in levers), td(int(r["runs"]))]
        for m in ("attack_probability", "support_in_time_given_attack", "protected_probability"):
            est, lo, hi = r.get(m, math.nan), r.get(f"{m}_low", math.nan), r.get(f"{m}_high", math.nan)
            cells.append(td(fmt_ci(est, lo, hi), est, lo, hi, names=("estimate", "low", "high")))
        cells.append(td(fmt_ci(r["activation_probability"], r["activation_low"], r["activation_high"]),
                        r["activation_probability"], r["activation_low"], r["activation_high"],
                        names=("estimate", "low", "high")))
        cells.append(td(fmt_ci(r["median_days"], r["median_days_low"], r["median_days_high"], pct=False, horizon=h),
                        r["median_days"], r["median_days_low"], r["median_days_high"], names=("estimate", "low", "high")))
        cells.append(td(fmt_p(r["false_activation"]), r["false_activation"], names=("estimate",)))
        if paired:
            d = r.get("paired_difference", math.nan)
            text = "" if pd.isna(d) else f"{100 * d:+.1f} pp ({100 * r['paired_low']:+.1f}, {100 * r['paired_high']:+.1f})"
            cells.append(td(text, d, r.get("paired_low", math.nan), r.get("paired_high", math.nan),
                            names=("estimate", "low", "high")))
            base = r.get("baseline_cell", "") or ""
            cells.append(f'<td title="{esc(base)}">{esc(_versus(res, r["cell"], base) if base != r["cell"] else "(itself)")}</td>')
        rows.append(f'<tr data-cell="{esc(r["cell"])}" title="{esc(r["cell"])}">' + "".join(cells) + "</tr>")
    return ('<div class="scroll"><table id="summary-table"><thead><tr>' + "".join(f"<th>{esc(c)}</th>" for c in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def paired_html(res: Results, pt: pd.DataFrame) -> str:
    """The paired comparisons; a cell is named by what differs among the compared cells (full name: tooltip)."""
    labels, common = cell_labels(res, list(dict.fromkeys([*pt["a"], *pt["b"]]))) if len(pt) else ({}, "")
    head = ["first", "second", "paired runs", "P(first)", "P(second)", "difference, 95% BCa", "log-rank p (days)"]
    rows = []
    for _, r in pt.iterrows():
        diff = f"{100 * r['estimate']:+.1f} pp ({100 * r['low']:+.1f}, {100 * r['high']:+.1f})"
        lr = "—" if pd.isna(r["logrank_p"]) else ("< 0.001" if r["logrank_p"] < 0.001 else f"{r['logrank_p']:.3f}")
        rows.append(f'<tr data-a="{esc(r["a"])}" data-b="{esc(r["b"])}"><td title="{esc(r["a"])}">{esc(labels[r["a"]])}</td>'
                    f'<td title="{esc(r["b"])}">{esc(labels[r["b"]])}</td>'
                    + td(int(r["n"])) + td(fmt_p(r["p_a"]), r["p_a"], names=("estimate",))
                    + td(fmt_p(r["p_b"]), r["p_b"], names=("estimate",))
                    + td(diff, r["estimate"], r["low"], r["high"], names=("estimate", "low", "high"))
                    + td(lr, r["logrank_p"], names=("estimate",)) + "</tr>")
    note = f'<p class="note">All at {esc(common)}.</p>' if common else ""
    return (note + '<div class="scroll"><table id="paired-table"><thead><tr>' + "".join(f"<th>{esc(c)}</th>" for c in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def support_html(st: pd.DataFrame, horizon: float) -> str:
    head = ["cell", "support type", "P(activated) (95% CI)", "median days (95% CI)"]
    rows = []
    for _, r in st.iterrows():
        rows.append(f'<tr data-cell="{esc(r["cell"])}" data-type="{esc(r["support_type"])}"><td>{esc(r["cell"])}</td>'
                    f'<td>{esc(r["support_type"])}</td>'
                    + td(fmt_ci(r["activation_probability"], r["activation_low"], r["activation_high"]),
                         r["activation_probability"], r["activation_low"], r["activation_high"], names=("estimate", "low", "high"))
                    + td(fmt_ci(r["median_days"], r["median_days_low"], r["median_days_high"], pct=False, horizon=horizon),
                         r["median_days"], r["median_days_low"], r["median_days_high"], names=("estimate", "low", "high"))
                    + "</tr>")
    return ('<div class="scroll"><table id="support-table"><thead><tr>' + "".join(f"<th>{esc(c)}</th>" for c in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def _levers_html(res: Results) -> str:
    from guarantee_sim.present.plots import values_of

    ref = res.reference()
    rows = []
    for k in res.levers:
        vals = values_of(res.summary, k, res.order)
        if len(vals) < 2:
            continue
        shown = ", ".join(f"<strong>{esc(v)}</strong>" if v == ref[k] else esc(v) for v in vals)
        rows.append(f"<tr><td><code>{esc(k)}</code></td><td>{shown}</td></tr>")
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
            cells, runs, seed, horizon = len(s.summary), runs_text(s), s.meta.get("root_seed"), s.meta.get("horizon")
            commit, version = s.meta.get("git_commit", "unknown"), (s.meta.get("versions") or {}).get("guarantee-sim", "?")
            made = command_line(s)
        rows.append("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in (s.name, s.kind, cells, runs, seed,
                                                                     f"{float(horizon or 0):g} days", version, commit))
                    + f"<td><code>{esc(made)}</code></td></tr>")
    return ("<table id=\"sources-table\"><thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def render_html(res: Results, p: Plan, figs: list[ReportFigure], pngs: dict[str, bytes], tables: dict[str, pd.DataFrame],
                study_pngs: dict[str, dict[str, bytes]]) -> str:
    """The self-contained report: question, levers, caveat, tables and every figure inline."""
    from guarantee_sim.runs.provenance import now

    parts = ["<h1>Security guarantees for Ukraine: does binding support activate?</h1>",
             f'<p class="question"><strong>The question.</strong> {esc(QUESTION)}</p>',
             "<h3>The levers that vary</h3>", _levers_html(res),
             f'<p class="caveat"><strong>Exploratory model.</strong> {esc(CAVEAT)}</p>',
             "<h3>The results</h3>", _sources_html(res)]
    for note in p.notes:
        parts.append(f'<p class="note">{esc(note)}</p>')
    sections = []  # (anchor, title, html)
    if len(res.summary) > 1:
        from guarantee_sim.present.report.findings import key_findings

        sentences = " ".join(esc(f.text) for f in key_findings(res.summary, res.levers))
        sections.append(("findings", "Key findings", f'<p id="key-findings">{sentences}</p>'))
    if len(res.summary):
        sections.append(("summary", "Summary table",
                         '<p class="note">One row per scenario (cell), the numbers of the sweep summary: P(attack), '
                         'P(military support in time | attack) and P(protected), the headline, and pooled binding support '
                         'activated within the horizon (secondary), each with its 95% Wilson interval; Kaplan–Meier median '
                         'days to pooled activation with its 95% interval (runs without activation censored at the '
                         'horizon); the paired difference in P(protected) against the baseline cell over the same run '
                         'seeds (95% BCa bootstrap).</p>' + summary_html(res)))
    for f in figs:
        body = ""
        if f.name == "paired" and "paired" in tables:
            body += ('<p class="note">First minus second, over the runs both cells ran with the same seeds.</p>'
                     + paired_html(res, tables["paired"]))
        body += (f'<figure data-kind="{esc(f.kind)}">{img_tag(pngs[f.name], f.title, f.figure.get_figwidth())}'
                 f"<figcaption>{esc(f.caption)} Files: <code>figures/{esc(f.name)}.png</code>, "
                 f"<code>figures/{esc(f.name)}.svg</code>.</figcaption></figure>")
        if f.name == "support_types" and "support_types" in tables:
            body += support_html(tables["support_types"], res.horizon)
        sections.append((f"fig-{f.name}", f.title, body))
    toc = [(a, t) for a, t, _ in sections] + [(f"study-{s.name}", f"Sensitivity study {s.name}") for s in res.studies]
    parts.append("<nav><h3>Contents</h3><ol>" + "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t in toc)
                 + "</ol></nav>")
    for anchor, title, body in sections:
        parts += [f'<h2 id="{esc(anchor)}">{esc(title)}</h2>', body]
    for s in res.studies:
        parts.append(study_html(s, study_pngs.get(s.name, {})))
    parts.append(f'<p class="note">Made by {PROG} (guarantee_sim {__version__}) on {now()}. '
                 "Tables: report_table.csv, report_paired.csv, report_support_types.csv; figures: figures/.</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>guarantee_sim report: {esc(', '.join(s.name for s in res.sources + res.studies))}</title>"
            f"<style>{CSS}</style></head><body><main>\n" + "\n".join(parts) + "\n</main></body></html>\n")
