"""A sensitivity study's part of the report: its figures redrawn with the stamp, and its section
(ranked levers, failure regions, figures) built from the study's typed result."""

from __future__ import annotations

import pandas as pd

from guarantee_sim import __version__
from guarantee_sim.present.report.load import Results, Source
from guarantee_sim.present.report.markup import esc, img_tag


def study_figures(res: Results, study: Source) -> dict[str, object]:
    """The study's figures redrawn from its typed result with the stamp (``sensitivity_plots``);
    where that fails, the report embeds the study's own PNGs."""
    from guarantee_sim.present.sensitivity_plots import plot_sobol_indices

    out = {}
    result = study.result
    stamp = (f"sensitivity study {result.name} ({study.name}) · {result.design} n = {result.n}"
             f" · {result.replicates} runs per point · {result.runs} runs · root seed {result.seed}"
             f" · horizon {result.horizon:g} days · guarantee_sim {__version__}"
             f" · commit {result.git_commit[:12] if result.git_commit else 'not recorded by the study'}")
    indices = result.indices_frame()
    sample = _sample(study)
    for outcome in result.outcomes:
        try:
            fig = plot_sobol_indices(indices, outcome.outcome, study.meta, sample=sample)
            _add_stamp(fig, stamp)
            out[f"sobol_{outcome.outcome}.png"] = fig
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


def _sample(study: Source) -> pd.DataFrame | None:
    """The study's stored sample (every point's levers and outcomes); None where it cannot be read."""
    try:
        return pd.read_parquet(study.path / "sample.parquet")
    except (OSError, ValueError):
        return None


def _failure_region(study: Source):
    """The study's failure-region figure, redrawn from its stored sample and its typed rules and levers."""
    from guarantee_sim.present.sensitivity_plots import plot_failure_region

    sample = _sample(study)
    if sample is None:
        return None
    result = study.result
    return plot_failure_region(sample, result.failures, result.levers, study.meta)


def study_html(study: Source, rendered: dict[str, bytes]) -> str:
    """The study's section from its typed result: the levers ranked by total index with their
    intervals, the failure regions in words, and the figures (redrawn ones from ``rendered``,
    else the study's own PNGs). The sentences are those of the study's Markdown."""
    import guarantee_sim.analysis.sensitivity.text as words

    result = study.result
    images = {p.name: p.read_bytes() for p in study.path.glob("*.png")}
    images.update(rendered)

    def figure(name: str | None, alt: str) -> list[str]:
        return [f'<figure data-kind="sensitivity">{img_tag(images[name], alt)}</figure>'] if name in images else []

    out = [f"<h2>{esc(words.title(result))}</h2>"]
    if result.question:
        out.append(f"<p><em>Question.</em> {esc(result.question)}</p>")
    out.append(f"<p>{esc(words.design_sentence(result))}</p>")
    for outcome in result.outcomes:
        out.append(f"<h3>{esc(outcome.label)}</h3>")
        if not outcome.estimated:
            out.append(f"<p>{esc(words.not_estimated(outcome, result))}</p>")
            out += figure(outcome.figure, outcome.label)
            continue
        out += [f'<p class="caveat"><strong>Warning.</strong> {esc(w)}</p>' for w in words.too_small(outcome, result)]
        rows = [f"<tr><td>{i}</td><td>{esc(x.label)}</td><td><code>{esc(x.key)}</code></td>"
                + "".join(f"<td>{esc(cell)}</td>" for cell in words.index_cells(x)) + "</tr>"
                for i, x in enumerate(outcome.levers[:words.TOP], 1)]
        out.append("<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in words.INDEX_HEAD) + "</tr></thead><tbody>"
                   + "".join(rows) + "</tbody></table>")
        notes = words.noise_note(outcome) + words.median_notes(outcome, result)
        if notes:
            out.append("<p>" + " ".join(esc(n) for n in notes) + "</p>")
        out += figure(outcome.figure, outcome.label)
    out += ["<h3>Where binding support fails</h3>", f"<p>{esc(words.failure_sentence(result))}</p>",
            "<ul>" + "".join(f"<li>{esc(item)}</li>" for item in words.region_items(result)) + "</ul>"]
    out += figure(result.failures.figure, "failure regions")
    return f'<section class="study" id="study-{esc(study.name)}">' + "\n".join(out) + "</section>"


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
