"""``guarantee-sim``: run one scenario's replications (or a Hydra sweep of scenarios).

    guarantee-sim breach=hybrid trigger=armed_attack runs=500 seed=7

The command's jobs (for a sweep: a few that between them use every value of every lever) are
composed and checked before Hydra creates any output folder, so bad input ends with one line on
stderr, exit code 2 and nothing written. So does a store that holds other results (another seed,
run count, batch size or code version; ``docs/results-store.md``) or that another process is
writing. A sweep whose tables could not be written ends with exit code 1.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import multiprocessing as mp
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from guarantee_sim.errors import EXIT_BAD_INPUT, ConfigError, say
from guarantee_sim.runs.jobs import claim, job_cells, sweep_progress
from guarantee_sim.scenario import schema  # registers the schema and its resolvers, also for --cfg/--info

EXIT_NO_TABLES = 1  # a sweep ran but its tables were not written
REUSE = "--reuse"  # keep a store's results computed by another code version (docs/results-store.md)
MAX_FOLDER_BYTES = 255  # one folder name (NAME_MAX)


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


@dataclass
class Command:
    """A command line, read: its overrides and, for a sweep, every job Hydra will launch."""

    multirun: bool
    ours: list[str]  # the scenario's overrides (Hydra's task overrides)
    hydra: list[str]  # Hydra's own (hydra.*, hydra/...)
    params: dict = field(default_factory=dict)  # a preset's hydra.sweeper.params (as changed)
    jobs: list[list[str]] = field(default_factory=list)
    configs: list[dict] = field(default_factory=list)  # the composed jobs that were checked

    @property
    def searchpath(self) -> list[str]:
        return [o for o in self.hydra if o.lstrip("+~").startswith("hydra.searchpath")]

    def setting(self, key: str) -> str | None:
        """A hydra.* setting's value as given (``hydra.sweep.dir``)."""
        return next((o.split("=", 1)[1] for o in self.hydra if o.lstrip("+~").split("=", 1)[0] == key), None)


def read_command(argv: list[str]) -> Command:
    """The command line's overrides and jobs (sweeps, including a preset's sweeper params, expanded)."""
    from hydra._internal.utils import get_args_parser

    from guarantee_sim.runs.sweep import sweep_jobs
    from guarantee_sim.scenario.compose import compose_config

    args, _ = get_args_parser().parse_known_args(argv)
    hydra_keys = ("hydra.", "hydra/")
    ours = [o for o in args.overrides if not o.lstrip("+~").startswith(hydra_keys)]
    command = Command(bool(args.multirun), ours, [o for o in args.overrides if o.lstrip("+~").startswith(hydra_keys)])
    if not command.multirun:
        command.jobs = [ours]
        return command
    first = sweep_jobs(ours)[0]
    params = compose_config(tuple(first + command.searchpath), hydra=True).hydra.sweeper.get("params")
    changed = _sweeper_param_overrides(args.overrides, has_preset=params is not None)
    if changed:
        params = compose_config(tuple(first + command.searchpath + changed), hydra=True).hydra.sweeper.get("params")
    command.params = OmegaConf.to_container(params, resolve=True) if params else {}
    command.jobs = sweep_jobs(ours, command.params)
    return command


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


def _check_jobs(command: Command) -> None:
    """What one job's composition cannot see: a swept run setting, the baseline, folder names."""
    from guarantee_sim.runs.sweep import lever_overrides

    values: dict[str, list[str]] = {}
    for job in command.jobs:
        for o in job:
            key, _, value = o.lstrip("+~").partition("=")
            if value not in values.setdefault(key, []):
                values[key].append(value)
    for key in schema.RUN_SETTINGS:
        if len(values.get(key, [])) > 1:
            raise ConfigError(key, f"a run setting cannot be swept ({', '.join(values[key])}): every job would "
                              "write the same cells", f"one {key} per command, each in its own hydra.sweep.dir")
    base = (values.get("baseline") or [None])[0]
    base = base.strip("'\"") if base else base
    if command.multirun and base not in (None, "null"):
        levers: dict[str, list[str]] = {}
        for job in command.jobs:
            for k, v in lever_overrides(job).items():
                if v not in levers.setdefault(k, []):
                    levers[k].append(v)
        choices = ", ".join(f"{k}={v}" for k, vs in levers.items() if len(vs) > 1 for v in vs)
        key, sep, value = base.partition("=")
        if not sep or key not in levers or value not in levers[key]:
            problem = f"cannot read {base!r}" if not sep else f"{base!r} is not a cell of this sweep"
            raise ConfigError("baseline", problem, choices or "a swept lever's value, lever=value")
    for key in ("hydra.sweep.dir", "hydra.run.dir"):
        folder = command.setting(key)
        if folder and max((len(part.encode()) for part in Path(folder).parts), default=0) > MAX_FOLDER_BYTES:
            raise ConfigError(key, f"a folder name is longer than {MAX_FOLDER_BYTES} bytes",
                              f"folder names of at most {MAX_FOLDER_BYTES} bytes")


def _check_empty_mappings(overrides: list[str], cfg: dict) -> None:
    """``key={}`` is merged into the mapping it overrides and so changes nothing: refused."""
    def select(key):
        node = cfg
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    for o in overrides:
        key, sep, value = o.lstrip("+~").partition("=")
        if sep and value.replace(" ", "") == "{}" and select(key):
            allowed = ("coalition.exclude=[...] to leave states out, or another roster (coalition=...)"
                       if key == "coalition.states" else f"set its entries one by one ({key}.<name>=...)")
            raise ConfigError(key, "an empty mapping is merged into the one it overrides and changes nothing", allowed)


def check_command_line(argv: list[str]) -> Command:
    """Compose and check the jobs the command asks for; raise ConfigError on the first bad one.

    A covering job with the first one's presets is made from the first (``compose.job_config``:
    its values set by Hydra's rules), so a lever of 200 values costs one composition, not 200; a job
    with other presets is composed by Hydra (a handful: one per preset, ``covering_jobs``)."""
    from guarantee_sim.runs.executors import parse as parse_executor
    from guarantee_sim.scenario.build import build_scenario
    from guarantee_sim.scenario.compose import GROUPS, base_config, job_config
    from guarantee_sim.scenario.hydra_errors import explain

    def presets(job):
        return {o for o in job if o.lstrip("+~").partition("=")[0] in GROUPS or o.startswith(("+", "~"))}

    try:
        command = read_command(argv)
    except ConfigError:
        raise
    except Exception as exc:
        raise explain(exc, [o for o in argv if not o.startswith("-")]) from None
    _check_jobs(command)
    jobs = covering_jobs(command.jobs)
    covering = [tuple(overrides + command.searchpath) for overrides in jobs]
    _CHECKED.clear()
    for job, overrides in zip(jobs, covering):
        same = presets(overrides) == presets(covering[0])
        cfg = job_config(covering[0], overrides) if same else base_config(overrides)
        _check_empty_mappings(list(overrides), cfg)
        scenario = build_scenario(cfg)
        parse_executor(cfg["executor"])
        command.configs.append(cfg)
        if command.multirun and len(covering) <= CHECKED_KEPT:
            _CHECKED[tuple(job)] = (cfg, scenario)
    return command


CHECKED_KEPT = 256
# The sweep jobs the pre-launch check composed and built (at most CHECKED_KEPT): the cells a
# process runs after the check (the basic launcher's) take them instead of doing it again.
_CHECKED: dict[tuple[str, ...], tuple[dict, object]] = {}


def sweep_folder(argv: list[str]) -> str:
    """results/sweeps/<experiment, or the swept keys>-<hash>: the same command always finds the same store."""
    from hydra._internal.utils import get_args_parser

    args, _ = get_args_parser().parse_known_args(argv)
    keys = {o: o.lstrip("+~").split("=", 1)[0] for o in args.overrides}
    # Hydra's own settings (launcher, folders) and the run settings the results do not depend on
    levers = sorted(o for o, key in keys.items() if not key.startswith("hydra") and key not in schema.STORE_NEUTRAL)
    digest = hashlib.sha1("\n".join(levers).encode()).hexdigest()[:10]
    swept = [o.split("=", 1)[0] for o in levers if "," in o.split("=", 1)[-1] and not o.split("=", 1)[-1].startswith(("[", "{"))]
    name = next((o.split("=", 1)[1] for o in levers if o.startswith("experiment=")), "+".join(swept)[:80] or "sweep")
    return f"results/sweeps/{name}-{digest}"


_YAML_ENTRIES: dict[str, str] = {}  # a top-level entry's repr -> its YAML text
_YAML_KEPT = 1024  # entries remembered: a long sweep whose every cell differs does not grow the process


def resolved_yaml(config: dict) -> str:
    """The resolved config as YAML: ``OmegaConf.to_yaml(cfg, resolve=True)``'s text, written by
    libyaml when PyYAML has it (a test holds the two equal).

    A block mapping's text is its top-level entries' texts one after another, so each entry is
    written once per process: the cells of a sweep differ in a few entries, and writing a whole
    config costs a small cell about as much as its runs."""
    import yaml

    def dump(data):
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(data, Dumper=dumper, default_flow_style=False, allow_unicode=True, sort_keys=False)

    parts = []
    for key, value in config.items():
        ident = repr((key, value))  # tells 1 from 1.0, True and "1", as YAML does
        text = _YAML_ENTRIES.get(ident)
        if text is None:
            if len(_YAML_ENTRIES) >= _YAML_KEPT:
                _YAML_ENTRIES.clear()
            text = _YAML_ENTRIES[ident] = dump({key: value})
        parts.append(text)
    return "".join(parts) if parts else dump(config)


def plan_of(cfg):
    from guarantee_sim.runs.store import CellPlan

    runs = cfg["runs"]
    return CellPlan(
        runs=None if runs == "auto" else int(runs),
        seed=int(cfg["seed"]),
        batch_size=int(cfg["batch_size"]),
        precision=float(cfg["precision"]),
        precision_on=str(cfg.get("precision_on", "protected_probability")),
        max_runs=int(cfg["max_runs"]),
        workers=int(cfg["workers"]),
        executor=str(cfg.get("executor", "local")),
    )


@hydra.main(config_path="pkg://guarantee_sim.conf", config_name="config", version_base="1.3")
def _app(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from guarantee_sim.scenario.compose import replace_delays

    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    task = list(hc.overrides.task)
    replace_delays(cfg, task)
    sweep = hc.mode == RunMode.MULTIRUN
    _CHECKED.pop(tuple(task), None)  # composed by Hydra, as the check did
    cells = job_cells(hc, out.parent, task) if sweep else []
    # What is alive now (modules, the composed configs) lives as long as the job: the cyclic garbage
    # collector leaves it alone until the job ends (about 3% of a sweep of small cells).
    gc.freeze()
    try:
        _run_cells(cfg, out, task, sweep, cells)
    finally:
        gc.unfreeze()


def _run_cells(cfg: DictConfig, out: Path, task: list[str], sweep: bool, cells: list[tuple[int, list[str]]]) -> None:
    """The job's first cell (the one Hydra composed), then the cells it takes of the others."""
    from guarantee_sim.runs.sweep import cell_name
    from guarantee_sim.scenario.compose import job_config

    if not cells or claim(out.parent, cells[0][0]):
        _run_cell(OmegaConf.to_container(cfg, resolve=True), out, task, sweep)
    for position, overrides in cells[1:]:
        if not claim(out.parent, position):
            continue
        config, scenario = _CHECKED.pop(tuple(overrides), (None, None))
        if config is None:
            config = job_config(task, overrides)
        _run_cell(config, out.parent / cell_name(overrides), overrides, sweep, scenario)


def _run_cell(config: dict, out: Path, task: list[str], sweep: bool, scenario=None) -> None:
    """Compute (or finish, or skip) one cell into ``out`` and report it (``scenario``: ``config``'s, when built already)."""
    from guarantee_sim.analysis.stats import format_summary
    from guarantee_sim.runs.store import StoreRefused, run_cell
    from guarantee_sim.runs.sweep import lever_overrides
    from guarantee_sim.scenario.build import build_scenario

    if scenario is None:
        scenario = build_scenario(config)
    levers = lever_overrides(task)
    label = out.name if sweep else "run"
    plan = plan_of(config)
    if plan.workers > 1 and plan.executor == "local" and mp.parent_process() is not None:
        # a joblib (loky) worker already runs cells in parallel, and a process pool nested in it
        # breaks on Python 3.12; the rows do not depend on the number of workers
        plan = dataclasses.replace(plan, workers=1)
    try:
        _, summary, line = run_cell(scenario, out, plan, config, resolved_yaml(config), label, levers,
                                    key="hydra.sweep.dir" if sweep else "hydra.run.dir", bar=not sweep)
    except StoreRefused as err:
        say(f"guarantee-sim: error: {err}", sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None
    except OSError as err:  # a full disk, a lost mount: the cell resumes from its last batch when run again
        say(f"guarantee-sim: error: {label}: cannot write its results: {err}", sys.stderr)
        raise SystemExit(EXIT_NO_TABLES) from None
    if sweep:
        say(f"{sweep_progress(out.parent, out.name)} {line}")
    else:
        print(format_summary(summary, scenario.labels))
        print(f"\n{line}\nWritten to {out}")


INFO_FLAGS = ("--help", "-h", "--hydra-help", "--info", "-i", "-c")


def exit_on_bad_input(argv: list[str], prog: str, check):
    """Run ``check(argv)`` and return what it returns; on a ConfigError print one line and exit 2,
    before Hydra writes anything."""
    if any(a in INFO_FLAGS or a.startswith("--cfg") for a in argv):
        return None
    try:
        return check(argv)
    except ConfigError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def normalized(argv: list[str]) -> list[str]:
    """The command line as Hydra can read it: ``baseline=lever=value`` quoted, and a delay given as
    a distribution marked to replace the delay it overrides (``scenario/compose.py: delays_added``)."""
    from guarantee_sim.scenario.compose import delays_added

    out = []
    for a in argv:
        key, sep, value = a.partition("=")
        if key == "baseline" and "=" in value and not value.startswith(("'", '"')):
            a = f"baseline='{value}'"
        out.append(a)
    return delays_added(out)


def _literal(command: Command, key: str) -> str | None:
    """A folder given on the command line, its interpolations (``${now:...}``) resolved once: the
    store checks and locks the folder Hydra will write."""
    from guarantee_sim.scenario.compose import compose_config

    folder = command.setting(key)
    if folder and "${" in folder:
        cfg = compose_config(tuple(command.jobs[0] + command.hydra), hydra=True)
        folder = str(OmegaConf.select(cfg, key))
        command.hydra = [o for o in command.hydra if o.lstrip("+~").split("=", 1)[0] != key] + [f"{key}={folder}"]
    return folder


def open_store(command: Command, argv: list[str], reuse: bool):
    """The store the command writes: refused (``StoreRefused``, nothing written) when it holds other
    results; for a sweep, its folder, manifest and lock (``runs/store.py: SweepStore``)."""
    from guarantee_sim.runs.store import config_hash, stored_folder_check
    from guarantee_sim.runs.sweep import SweepStore, expected_cells, expected_jobs

    plan = plan_of(command.configs[0])
    if command.multirun:
        folder = Path(_literal(command, "hydra.sweep.dir") or sweep_folder(argv))
        cells = expected_cells(command.ours, command.params)
        store = SweepStore(folder, plan.row_settings(), cells, argv, reuse, expected_jobs(command.ours, command.params))
        store.check()
        return store
    folder = _literal(command, "hydra.run.dir")
    if folder:  # a run folder chosen by hand may hold an earlier run
        stored_folder_check(Path(folder), plan.row_settings(), config_hash(command.configs[0]), reuse)
    return None


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "explain":
        from guarantee_sim.present.explain import main as explain_main

        return explain_main(argv[1:])
    reuse = REUSE in argv
    argv = normalized([a for a in argv if a != REUSE])
    store = None
    if not any(a in INFO_FLAGS or a.startswith("--cfg") for a in argv):
        def check(argv):
            command = check_command_line(argv)
            store = open_store(command, argv, reuse)
            folders = [o for o in command.hydra if o.startswith(("hydra.sweep.dir=", "hydra.run.dir="))]
            return store, folders

        store, folders = exit_on_bad_input(argv, "guarantee-sim", check)
        keys = [f.split("=", 1)[0] for f in folders]
        argv = [a for a in argv if a.split("=", 1)[0] not in keys] + folders  # as resolved by open_store
    if ("-m" in argv or "--multirun" in argv) and not any(a.startswith("hydra.sweep.dir=") for a in argv):
        argv = [*argv, f"hydra.sweep.dir={sweep_folder(argv)}"]
    sys.argv = [sys.argv[0]] + argv
    if store is None:
        return _app()
    try:
        with store:  # the lock: a second process is refused
            _app()
    except ConfigError as err:
        print(f"guarantee-sim: error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    if not store.tables_written():
        sys.exit(EXIT_NO_TABLES)


if __name__ == "__main__":
    main()
