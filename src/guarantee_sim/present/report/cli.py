"""``guarantee-sim-report``: the figures and one self-contained HTML report of results folders.

    guarantee-sim-report results/headline                       # a sweep (or a run) folder
    guarantee-sim-report results/sweeps/a results/sweeps/b      # two studies, side by side
    guarantee-sim-report results/headline --levers breach trigger --bars commitments trigger \\
        --pair commitments=article5_like commitments=paris_2026 --run commitments=article5_like:12

It reads what ``guarantee-sim`` wrote (``sweep_summary.csv``, ``sweep_runs.parquet``,
``sweep.json``; or a run's ``runs.parquet``, ``summary.json``, ``provenance.json``), draws the
figures of ``sweep_figures`` and ``survival_figures`` and writes them as PNG and SVG, with
``report.html`` (every figure embedded, no network needed) and the tables behind them, into the
results folder. A sensitivity study folder (``study.json`` and ``study_result.json``, from
``guarantee-sim-sensitivity``) adds its lever ranking and failure rules. The numbers come from the stored tables; the report adds the paired
bootstrap comparisons (``sweep.paired_difference``), the log-rank test and one narrated re-run.

Bad input ends with one line on stderr naming the argument and what is allowed, exit code 2,
and nothing written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from guarantee_sim.errors import EXIT_BAD_INPUT, ConfigError
from guarantee_sim.present.report.load import RESULTS, load
from guarantee_sim.present.report.plan import MAX_CHOSEN, MAX_SCENARIOS, plan
from guarantee_sim.present.report.stamps import PROG
from guarantee_sim.present.report.write import write_report


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (the project's convention for bad input)."""

    def error(self, message: str) -> None:  # noqa: D102
        raise ConfigError("", " ".join(message.split()) + f" (see {PROG} --help)")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Figures (PNG, SVG) and one self-contained HTML report of guarantee-sim results: activation "
                    "heat map, bars, Kaplan-Meier curves, the funnel, support types, paired comparisons and one "
                    "narrated run. Cells may be named in full (a sweep's folder name, e.g. "
                    "breach=hybrid,trigger=armed_attack) or by some of their levers (commitments=article5_like): "
                    "the levers not given take their reference value, the first value the sweep listed. With several "
                    "results folders whose cells share their levers, the folder's name is one more lever, '"
                    + RESULTS + "' (name a cell FOLDER/CELL).",
        epilog="Example: guarantee-sim-report results/headline --levers breach trigger --bars commitments trigger "
               "--pair commitments=article5_like commitments=paris_2026 --run commitments=article5_like:12",
    )
    p.add_argument("results", nargs="+", metavar="RESULTS_DIR",
                   help="a run folder (results/runs/<time>), a sweep folder (results/sweeps/<name>) or a sensitivity "
                        "study folder; several are compared side by side")
    p.add_argument("--levers", nargs=2, metavar=("ROW", "COLUMN"),
                   help="the heat map's two levers (default: the last two swept levers); the other levers become "
                        "panels")
    p.add_argument("--bars", nargs="+", metavar=("LEVER", "HUE"),
                   help="LEVER [HUE]: bars of activation probability along LEVER, coloured by HUE ('none': one "
                        "colour; 'cell': one bar per cell). Default: the first lever not on the heat map; HUE: the heat "
                        "map's column lever. The other levers become panels")
    p.add_argument("--at", nargs="+", metavar="LEVER=VALUE",
                   help="reference values: what the focused figures (Kaplan-Meier, support types, pairs, the run, the "
                        "funnel of a large sweep) and cells named by some of their levers hold fixed (default: the "
                        "first value the sweep listed for each lever)")
    p.add_argument("--scenarios", nargs="+", metavar="CELL",
                   help="the cells of the Kaplan-Meier and support-type figures (default: every cell when there are "
                        f"at most 6, else the cells along the --bars lever with the others at their reference, at most "
                        f"{MAX_SCENARIOS}; up to {MAX_CHOSEN} when chosen)")
    p.add_argument("--pair", nargs=2, action="append", metavar=("CELL_A", "CELL_B"),
                   help="a paired comparison, A minus B, over their common run seeds (repeatable; the first also gets "
                        "the log-rank test). Levers B does not name are A's: --pair commitments=article5_like "
                        "commitments=paris_2026. Default: each Kaplan-Meier scenario against the first")
    p.add_argument("--run", metavar="CELL:RUN",
                   help="the run to re-run with narration for the timeline (default: in the first Kaplan-Meier "
                        "scenario, or the first --pair's first cell, the activated run nearest the median day)")
    p.add_argument("--out", metavar="DIR",
                   help="where to write report.html, figures/ and the report's tables (default: RESULTS_DIR itself; "
                        "with several folders, compare-<hash> next to the first)")
    p.add_argument("--seed", type=int, metavar="N",
                   help="the bootstrap's seed (default: the results' root seed, as the sweep's own paired differences)")
    return p


def writable(out: Path) -> None:
    """``--out`` (or the results folder) must be a folder this process can create and write in."""
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError("--out", f"{existing} is not a folder, so {out} cannot be made", "a folder you can write in")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError("--out", f"cannot write in {existing}", "a folder you can write in")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parser().parse_args(argv)
        res = load(args.results)
        p = plan(res, args)
        writable(Path(p.out))
    except ConfigError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    import matplotlib

    matplotlib.use("Agg")
    try:
        written = write_report(res, p)
    except OSError as err:  # a full disk, a read-only mount: each file was written whole or not at all
        print(f"{PROG}: error: --out: cannot write the report in {p.out}: {err.strerror or err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT if isinstance(err, (PermissionError, NotADirectoryError)) else 1)
    n_fig = sum(1 for k in written if k.startswith("figures/") and k.endswith(".png"))
    print(f"{n_fig} figures (PNG and SVG) in {p.out / 'figures'}")
    print(f"Report: {p.out / 'report.html'} (self-contained: open it in any browser, no network needed)")


if __name__ == "__main__":
    main()
