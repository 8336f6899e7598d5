"""``guarantee-sim-sensitivity``: which assumptions drive the answer, and where support fails.

    guarantee-sim-sensitivity                                  # the default study (Paris design)
    guarantee-sim-sensitivity experiment=sensitivity_analytic  # the closed-form special case
    guarantee-sim-sensitivity breach=hybrid study.n=64         # any scenario, smaller design

One study samples the continuous levers of ``conf/sensitivity/<preset>.yaml`` (ranges from the
"Lever ranges" table of docs/parameters.md) with a Sobol' or Latin hypercube design, runs
``study.replicates`` replications of the model at every sample point (the same run seeds at
every point: common random numbers), and reports

- Sobol' first-order and total indices (``scipy.stats.sobol_indices``) with bootstrap intervals
  (``scipy.stats.bootstrap``) for the activation probability and the median days to activation;
- the lever regions where binding support fails, found by a CART tree (``discovery.py``), and PRIM's
  box beside it when EMA Workbench (the extra ``ema``) is installed;
- a warning (one line) when ``study.n`` is too small for ``study.precision``, or for the
  indices to mean anything (an interval wider than the whole index range [0, 1]).

The method, and why the model's noise is handled by replicate means, is in docs/sensitivity.md.
Every input is checked before Hydra creates the output folder: bad input ends with one line on
stderr, exit code 2 and nothing written.
"""

from __future__ import annotations

import sys
from pathlib import Path

from guarantee_sim.analysis.sensitivity.schema import DiscoverySpec, LeverSpec, StudyConfig
from guarantee_sim.analysis.sensitivity.study import check_study, run_study
from guarantee_sim.analysis.sensitivity.text import format_study
from guarantee_sim.analysis.sensitivity.write import write_study
from guarantee_sim.errors import ConfigError
from guarantee_sim.scenario.compose import CONFIG_MODULE

PROG = "guarantee-sim-sensitivity"


def compose_study(overrides: tuple[str, ...] | list[str] = ()):
    """Compose the study config as the command line would (``conf/sensitivity.yaml``)."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from guarantee_sim.scenario.compose import own_hydra

    overrides = list(overrides)
    with own_hydra():  # a caller's own Hydra app is set aside
        try:
            if GlobalHydra.instance().is_initialized():
                return compose("sensitivity", overrides=overrides)
            with initialize_config_module(CONFIG_MODULE, version_base="1.3"):
                return compose("sensitivity", overrides=overrides)
        except Exception as exc:
            raise _explain(exc, overrides) from None


def _explain(exc: BaseException, overrides: list[str]) -> ConfigError:
    import re

    from guarantee_sim.scenario.hydra_errors import explain

    text = str(exc)
    m = re.search(r"Could not override '(study\.[^']+)'", text) or re.search(r"Key '([^']+)' not in '(StudyConfig|DiscoverySpec|LeverSpec)'", text)
    if m:
        return _unknown_study_key(m.group(1), overrides)
    if re.search(r"Error merging override ", text):
        return explain(exc, overrides)
    scenario_overrides = [o for o in overrides if not o.lstrip("+~").startswith(("study", "sensitivity"))]
    return explain(exc, scenario_overrides)


def _unknown_study_key(key: str, overrides: list[str]) -> ConfigError:
    """Name the unknown part of a study key and what is allowed there."""
    parts = key.split(".")
    if len(parts) >= 3 and parts[1] == "levers":
        if len(parts) >= 4:
            fields = [f.name for f in LeverSpec.__dataclass_fields__.values()]
            if parts[3] not in fields:
                return ConfigError(".".join(parts[:4]), "unknown key", ", ".join(fields))
        try:
            names = sorted(compose_study([o for o in overrides if not o.lstrip("+~").startswith("study")]).study.levers)
        except ConfigError:
            names = []
        return ConfigError(".".join(parts[:3]), f"unknown lever {parts[2]!r}",
                           ", ".join(names) + " (add one with +study.levers.<name>={key: ..., low: ..., high: ...})")
    if len(parts) >= 3 and parts[1] == "discovery":
        return ConfigError(".".join(parts[:3]), "unknown key",
                           ", ".join(f.name for f in DiscoverySpec.__dataclass_fields__.values()))
    return ConfigError(".".join(parts[:2]), "unknown key",
                       ", ".join(f.name for f in StudyConfig.__dataclass_fields__.values()))


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
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def check_command_line(argv: list[str]) -> None:
    """Compose and check every job of the command line; raise ConfigError on the first bad one."""
    from omegaconf import OmegaConf

    try:
        jobs = _job_overrides(argv)
    except Exception as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ConfigError("", f"cannot parse the command line: {first.strip()}") from None
    for overrides in jobs:
        cfg = compose_study(tuple(overrides))
        check_study(OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True))


def _app_main(cfg) -> None:
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    out = Path(HydraConfig.get().runtime.output_dir)
    config = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    res = run_study(config, log=lambda s: print(s, flush=True))
    for note in res.meta["warnings"]:  # a study too small for its precision or its indices: one line each on stderr
        print(f"{PROG}: warning: {note}", file=sys.stderr, flush=True)
    resolved = OmegaConf.to_yaml(cfg, resolve=True)
    write_study(res, out, resolved)
    print()
    print(format_study(res))
    print(f"\nWritten to {out}")


# Hydra names the job, and so its log (sensitivity.log) and its --help, after the task function's
# module: the package's name keeps the name the command had as one module.
_app_main.__module__ = "guarantee_sim.analysis.sensitivity"


def main(argv: list[str] | None = None) -> None:
    import hydra

    argv = sys.argv[1:] if argv is None else argv
    from guarantee_sim.runs.cli import exit_on_bad_input

    exit_on_bad_input(argv, PROG, check_command_line)
    sys.argv = [sys.argv[0]] + argv
    hydra.main(config_path="pkg://guarantee_sim.conf", config_name="sensitivity", version_base="1.3")(_app_main)()


if __name__ == "__main__":
    main()
