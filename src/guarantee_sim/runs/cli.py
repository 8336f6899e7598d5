"""``guarantee-sim``: run one scenario's replications (or a Hydra sweep of scenarios).

    guarantee-sim breach=hybrid trigger=armed_attack runs=500 seed=7

The command's jobs (for a sweep: a few that between them use every value of every lever) are
composed and checked before Hydra creates any output folder, so bad input ends with one line on
stderr, exit code 2 and nothing written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing as mp
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from guarantee_sim.errors import EXIT_BAD_INPUT, ConfigError, first_line
from guarantee_sim.scenario import schema  # registers the schema and its resolvers, also for --cfg/--info


def _expand(overrides: list[str]) -> list[list[str]]:
    """Every job of a sweep (Hydra's own expansion of ``a=1,2 b=x,y``)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def covering_jobs(jobs: list[list[str]]) -> list[list[str]]:
    """A few jobs that between them use every value of every lever once.

    Composing costs ~0.1 s, so a 120-cell sweep is checked with a handful of compositions (the
    ``checked`` sweeper then launches the cells without composing each one first).
    """
    wanted = {o for job in jobs for o in job}
    seen: set[str] = set()
    chosen = []
    while seen != wanted:  # greedy set cover: the job that brings the most unseen values
        best = max(jobs, key=lambda job: len(set(job) - seen))
        chosen.append(best)
        seen.update(best)
    return chosen or jobs[:1]


def _job_overrides(argv: list[str]) -> list[list[str]]:
    """The overrides of the jobs to check (sweeps, including a preset's sweeper params, expanded)."""
    from hydra._internal.utils import get_args_parser

    from guarantee_sim.scenario.compose import compose_config

    args, _ = get_args_parser().parse_known_args(argv)
    ours = [o for o in args.overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]
    if not args.multirun:
        return [ours]
    jobs = _expand(ours)
    params = compose_config(tuple(jobs[0]), hydra=True).hydra.sweeper.get("params")
    changed = _sweeper_param_overrides(args.overrides, has_preset=params is not None)
    if changed:
        params = compose_config(tuple(jobs[0]) + tuple(changed), hydra=True).hydra.sweeper.get("params")
    params = params or {}
    if params:
        swept = {o.split("=", 1)[0] for o in ours}
        extra = [f"{k}={v}" for k, v in params.items() if k not in swept]
        jobs = _expand(ours + extra)
    return covering_jobs(jobs)


SWEEPER_PARAMS = "hydra.sweeper.params."


def _sweeper_param_overrides(overrides: list[str], has_preset: bool) -> list[str]:
    """``hydra.sweeper.params.<lever>='a,b'`` changes a preset's sweep: checked like a swept lever.

    Hydra refuses an unquoted list there (it would be a sweep over Hydra's own config) with a
    three-line message, and a preset-free sweep has no parameters to change.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    changed = [o for o in overrides if o.lstrip("+~").startswith(SWEEPER_PARAMS)]
    for o in changed:
        key = o.lstrip("+~").split("=", 1)[0]
        lever = key[len(SWEEPER_PARAMS):]
        if OverridesParser.create().parse_override(o).is_sweep_override():
            raise ConfigError(key, "a list here must be quoted (it is the preset's sweep of the lever, not a sweep of Hydra's config)",
                              f"{key}='a,b', or sweep the lever itself: -m {lever}=a,b")
        if not has_preset:
            raise ConfigError(key, "this sweep has no preset parameters to change",
                              f"sweep the lever on the command line: -m {lever}=a,b")
    return changed


def check_command_line(argv: list[str]) -> None:
    """Compose and check the jobs the command asks for; raise ConfigError on the first bad one."""
    from guarantee_sim.scenario.compose import compose_config
    from guarantee_sim.scenario.build import build_scenario

    try:
        jobs = _job_overrides(argv)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError("", f"cannot parse the command line: {first_line(exc)}") from None
    for overrides in jobs:
        build_scenario(compose_config(tuple(overrides)))


def sweep_folder(argv: list[str]) -> str:
    """results/sweeps/<experiment or sweep>-<hash>: the same command always finds the same store."""
    from hydra._internal.utils import get_args_parser

    args, _ = get_args_parser().parse_known_args(argv)
    keys = {o: o.lstrip("+~").split("=", 1)[0] for o in args.overrides}
    # Hydra's own settings (launcher, folders) and the run settings the results do not depend on
    levers = sorted(o for o, key in keys.items() if not key.startswith("hydra") and key not in schema.STORE_NEUTRAL)
    digest = hashlib.sha1("\n".join(levers).encode()).hexdigest()[:10]
    name = next((o.split("=", 1)[1] for o in levers if o.startswith("experiment=")), "sweep")
    return f"results/sweeps/{name}-{digest}"


def resolved_yaml(config: dict) -> str:
    """The resolved config as YAML: ``OmegaConf.to_yaml(cfg, resolve=True)``'s text, written by
    libyaml when PyYAML has it (a test holds the two equal)."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(config, Dumper=dumper, default_flow_style=False, allow_unicode=True, sort_keys=False)


def plan_of(cfg: DictConfig):
    from guarantee_sim.runs.store import CellPlan

    runs = cfg.runs
    return CellPlan(
        runs=None if runs == "auto" else int(runs),
        seed=int(cfg.seed),
        batch_size=int(cfg.batch_size),
        precision=float(cfg.precision),
        max_runs=int(cfg.max_runs),
        workers=int(cfg.workers),
    )


@hydra.main(config_path="pkg://guarantee_sim.conf", config_name="config", version_base="1.3")
def _app(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from guarantee_sim.scenario.build import build_scenario
    from guarantee_sim.analysis.stats import format_summary
    from guarantee_sim.runs.store import run_cell
    from guarantee_sim.runs.sweep import lever_overrides

    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    config = OmegaConf.to_container(cfg, resolve=True)
    scenario = build_scenario(config)
    levers = lever_overrides(hc.overrides.task)
    label = out.name if hc.mode == RunMode.MULTIRUN else "run"
    plan = plan_of(cfg)
    if plan.workers > 1 and mp.parent_process() is not None:
        # a joblib (loky) worker already runs cells in parallel, and a process pool nested in it
        # breaks on Python 3.12; the rows do not depend on the number of workers
        plan = dataclasses.replace(plan, workers=1)
    _, summary, line = run_cell(scenario, out, plan, config, resolved_yaml(config), label, levers)
    if hc.mode == RunMode.MULTIRUN:
        print(line, flush=True)
    else:
        print(format_summary(summary, scenario.labels))
        print(f"\n{line}\nWritten to {out}")


INFO_FLAGS = ("--help", "-h", "--hydra-help", "--info", "-i", "-c")


def exit_on_bad_input(argv: list[str], prog: str, check) -> None:
    """Run ``check(argv)``; on a ConfigError print one line and exit 2, before Hydra writes anything."""
    if any(a in INFO_FLAGS or a.startswith("--cfg") for a in argv):
        return
    try:
        check(argv)
    except ConfigError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "explain":
        from guarantee_sim.present.explain import main as explain_main

        return explain_main(argv[1:])
    exit_on_bad_input(argv, "guarantee-sim", check_command_line)
    if ("-m" in argv or "--multirun" in argv) and not any(a.startswith("hydra.sweep.dir=") for a in argv):
        argv = [*argv, f"hydra.sweep.dir={sweep_folder(argv)}"]
    sys.argv = [sys.argv[0]] + argv
    _app()


if __name__ == "__main__":
    main()
