"""``guarantee-sim``: run one scenario's replications (or a Hydra sweep of scenarios).

    guarantee-sim breach=hybrid trigger=armed_attack runs=500 seed=7

Every job of the command is composed and checked before Hydra creates any output folder,
so bad input ends with one line on stderr, exit code 2 and nothing written.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from .errors import ConfigError

EXIT_BAD_INPUT = 2


def _job_overrides(argv: list[str]) -> list[list[str]]:
    """The overrides of every job the command line asks for (sweeps expanded)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra._internal.utils import get_args_parser
    from hydra.core.override_parser.overrides_parser import OverridesParser

    args, _ = get_args_parser().parse_known_args(argv)
    ours = [o for o in args.overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]
    if not args.multirun:
        return [ours]
    parsed = OverridesParser.create().parse_overrides(ours)
    batches = BasicSweeper.split_arguments(parsed, None)
    return [job for batch in batches for job in batch]


def check_command_line(argv: list[str]) -> None:
    """Compose and check every job; raise ConfigError on the first bad one."""
    from .config import compose_config
    from .scenario import build_scenario

    try:
        jobs = _job_overrides(argv)
    except Exception as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ConfigError("", f"cannot parse the command line: {first.strip()}") from None
    for overrides in jobs:
        build_scenario(compose_config(tuple(overrides)))


def write_atomic(path: Path, write) -> None:
    """Write through a temporary file and rename, so no half-written file is ever seen."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


@hydra.main(config_path="pkg://guarantee_sim.conf", config_name="config", version_base="1.3")
def _app(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from .runner import run_replications
    from .scenario import build_scenario
    from .stats import format_summary, summarize, summary_rows

    scenario = build_scenario(cfg)
    out = Path(HydraConfig.get().runtime.output_dir)
    df = run_replications(scenario, cfg.runs, cfg.seed, cfg.workers)
    summary = summarize(df, scenario.horizon)
    summary["scenario"] = scenario.labels
    summary["seed"] = cfg.seed
    resolved = OmegaConf.to_yaml(cfg, resolve=True)
    write_atomic(out / "config.yaml", lambda p: Path(p).write_text(resolved))
    write_atomic(out / "summary.json", lambda p: Path(p).write_text(json.dumps(_clean(summary), indent=2)))
    write_atomic(out / "summary.csv", lambda p: summary_rows(summary).to_csv(p, index=False))
    write_atomic(out / "runs.parquet", lambda p: df.to_parquet(p, index=False))
    print(format_summary(summary, scenario.labels))
    print(f"\nWritten to {out}")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "explain":
        from .explain import main as explain_main

        return explain_main(argv[1:])
    if not any(a in ("--help", "-h", "--hydra-help", "--info", "-i") or a.startswith("--cfg") or a == "-c" for a in argv):
        try:
            check_command_line(argv)
        except ConfigError as err:
            print(f"guarantee-sim: error: {err}", file=sys.stderr)
            sys.exit(EXIT_BAD_INPUT)
    sys.argv = [sys.argv[0]] + argv
    _app()


if __name__ == "__main__":
    main()
