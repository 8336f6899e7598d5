"""``guarantee-sim explain``: the story of one run, told in plain language.

    guarantee-sim explain breach=hybrid trigger=count_window seed=7          # run 0 of root seed 7
    guarantee-sim explain breach=hybrid trigger=count_window seed=7 run=12   # run 12 of root seed 7
    guarantee-sim explain breach=hybrid run_seed=123456789                   # a run by its own seed
    guarantee-sim explain breach=surge_offensive seed=3 --brief              # leave out routine incidents

Run ``I`` of root seed ``N`` is the row with ``run == I`` of ``guarantee-sim <same overrides>
seed=N runs=R`` (any ``R > I``): the same scenario, the same run seed, the same model. The story
comes from the model's own event record (``GuaranteeModel(record=True)``), which draws no random
numbers, so the told run is the tabled run. The words come from ``narrative.py``, shared with the
dashboard (``app.py``).
"""

from __future__ import annotations

import functools
import math
import os
import shlex
import sys
from dataclasses import dataclass

from guarantee_sim.errors import EXIT_BAD_INPUT, ConfigError
from guarantee_sim.model.agents import SupportStatus
from guarantee_sim.model.outcomes import Stage
from guarantee_sim.model.triggers import SUPPORT_TYPES
from guarantee_sim.present.narrative import STAGE_MEANING, day_text, decisions_by_type, n_of, rule_text, state_header, story, support_text, why

PROG = "guarantee-sim explain"
OWN_KEYS = ("run", "run_seed")

@dataclass
class Request:
    """What the command line asks for: a scenario, which run, and how much detail."""

    overrides: list[str]
    run: int = 0
    run_seed: int | None = None
    brief: bool = False
    events: str | None = None  # a file to write the run's event table to (.csv or .parquet)


@dataclass
class Told:
    """One narrated run: the model after the horizon, its row, and where the run came from."""

    model: object
    row: dict
    run: int | None
    root_seed: int | None

    @property
    def story(self) -> list[tuple[float, str, str]]:
        return story(self.model)


# parsing -------------------------------------------------------------------------------------
def _whole(value: str, key: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(key, f"expected a whole number, got {value!r}", "0, 1, 2, ...") from None
    if number < 0:
        raise ConfigError(key, f"must be >= 0, got {number}", "0, 1, 2, ...")
    return number


def parse_args(argv: list[str]) -> Request:
    """Split our own keys (``run``, ``run_seed``, ``--brief``) from the scenario's overrides."""
    req = Request(overrides=[])
    args = iter(argv)
    for arg in args:
        if arg == "--brief":
            req.brief = True
        elif arg == "--events" or arg.startswith("--events="):
            path = arg.partition("=")[2] if "=" in arg else next(args, "")
            if not path.endswith((".csv", ".parquet")):
                raise ConfigError("--events", f"expected a file name ending in .csv or .parquet, got {path!r}",
                                  "--events run.csv, --events run.parquet")
            req.events = path
        elif arg in ("-m", "--multirun"):
            raise ConfigError(arg, "explain tells one run, not a sweep", "overrides with one value each")
        elif arg.startswith("-"):
            raise ConfigError(arg, "unknown option", "--brief, --events FILE, --help, overrides such as breach=hybrid, seed=N, run=I, run_seed=S")
        elif arg.split("=", 1)[0] in OWN_KEYS:
            key, _, value = arg.partition("=")
            setattr(req, key, _whole(value, key))
        elif arg.lstrip("+~").startswith(("hydra.", "hydra/")):
            continue  # output folders and launchers: explain writes nothing
        else:
            req.overrides.append(arg)
    if req.run_seed is not None and any(a.startswith("run=") for a in argv):
        raise ConfigError("run_seed", "give either run=I (with seed=N) or run_seed=S, not both", "run=I or run_seed=S")
    return req


# running -------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _scenario(overrides: tuple[str, ...]):
    """(checked scenario, root seed, runs) of the overrides, composed once per process."""
    from omegaconf import OmegaConf

    from guarantee_sim.scenario.compose import compose_config
    from guarantee_sim.scenario.build import build_scenario

    cfg = compose_config(overrides)
    scenario = build_scenario(cfg)
    plain = OmegaConf.to_container(cfg)
    return scenario, int(plain["seed"]), plain.get("runs")


def tell(overrides: list[str] | tuple[str, ...] = (), run: int = 0, run_seed: int | None = None) -> Told:
    """Run one replication with narration: run ``run`` of the config's root seed, or ``run_seed``."""
    from guarantee_sim.model.engine import GuaranteeModel
    from guarantee_sim.runs.runner import release, run_seeds

    scenario, root, runs = _scenario(tuple(overrides))
    if run_seed is None and isinstance(runs, int) and any(str(o).startswith("runs=") for o in overrides) and run >= runs:
        raise ConfigError("run", f"run {run} is not among runs={runs}", f"0 to {runs - 1}")
    root = None if run_seed is not None else root
    seed = run_seed if run_seed is not None else run_seeds(root, run + 1)[run]
    model = GuaranteeModel(scenario, seed=seed, collect=False, record=True)
    row = model.run()
    release(model)
    if run_seed is None:
        row["run"] = run
    return Told(model, row, None if run_seed is not None else run, root)


# telling -------------------------------------------------------------------------------------
def render(told: Told, brief: bool = False, command: str | None = None) -> str:
    """The story, the coalition's decisions and the outcome, as text."""
    m, row = told.model, told.row
    s = m.spec
    lines = []
    if told.run is not None:
        lines.append(f"Run {told.run} of root seed {told.root_seed} (the run's own seed: {row['seed']})")
    else:
        lines.append(f"The run with seed {row['seed']}")
    if command:
        lines.append(f"  {command}")
    lines.append("Scenario: " + ", ".join(f"{k}={v}" for k, v in s.labels.items())
                 + f"; commission rule {s.decision_rule.name}")
    lines.append(f"Horizon: {s.horizon:g} days after the ceasefire. Exploratory model: one run is one possible history "
                 "under the model's assumptions, not a forecast.")
    events = story(m, brief)
    lines += ["", "What happened" + (" (--brief: the decisive events; the incidents are counted below)"
                                     if brief else "")]
    for day, kind, text in events:
        lines.append(f"  {day_text(day):>10}  {kind:<12} {text}")
    if not events:
        lines.append("  nothing: no breach, no false alarm" if not brief else "  no armed attack, and the trigger never fired")

    lines += ["", "The coalition's decisions" + (" at the horizon (without --brief: state by state)" if brief else "")]
    if not m.response.decided_types:
        lines.append("  No state was asked to decide: the trigger never fired.")
    elif brief:
        lines += [f"  {line}" for line in decisions_by_type(m)]
    else:
        decided = [t for t in SUPPORT_TYPES if t in set(m.response.decided_types)]
        for state in m.coalition:
            asked = [t for t in decided if state.status[t] is not SupportStatus.NOT_COMMITTED]
            lines.append(f"  {state_header(m, state)}")
            if not asked:
                lines.append(f"      {'':<13} commits none of {', '.join(decided)} under this design")
            for t in asked:
                lines.append(f"      {t:<13} {support_text(m, state, t)}")

    stage = Stage(row["stage"])
    trig = row["trigger_day"]
    act = row["activation_day"]
    lines += [
        "",
        "Outcome" + (f" (the row with run == {told.run} in runs.parquet)" if told.run is not None else ""),
        f"  Breaches: {n_of(row['n_breaches'], 'violation')} in {n_of(row['n_incidents'], 'incident')}; seen by the "
        f"monitoring: {row['n_detected']}; reported by Ukraine: {row['n_reported_by_ukraine']}",
        f"  Commission: {n_of(m.n_referred_real, 'incident')} and {n_of(row['n_false_alarms'], 'false alarm')} referred; "
        f"{row['n_attributed']} attributed",
        f"  Trigger: {'never fired' if math.isnan(trig) else 'fired on ' + day_text(trig)} (rule: {rule_text(m)})",
        f"  Military support in time: {military_text(m, row)}",
        f"  Pooled binding support activated: {'not within the horizon' if math.isnan(act) else day_text(act)}",
        f"  States delivering support: {row['states_activated']} of {len(m.coalition)}; committed binding capacity "
        f"delivering: {m.response.binding_share():.0%} (needs {s.activation_share:.0%})",
        f"  Funnel stage: {stage.value} ({STAGE_MEANING[stage]})",
        f"  Why: {why(m)}",
    ]
    return "\n".join(lines)


def military_text(m, row) -> str:
    """The headline outcome of one run in words."""
    need, got, day = m.spec.military_support_needed, row["military_delivered"], row["military_support_day"]
    reached = "never reached" if math.isnan(day) else f"reached on {day_text(day)}"
    delivered = f"military support delivered EUR {got:.1f} bn a year at the horizon (needs {need:g}: {reached})"
    if math.isnan(row["offensive_day"]):
        return f"no armed attack; {delivered}"
    limit = row["offensive_day"] + row["holding_time"]
    verdict = "yes" if row["support_in_time"] else "no"
    return (f"{verdict}: armed attack on {day_text(row['offensive_day'])}, Ukraine holds {row['holding_time']:.0f} days "
            f"(to day {limit:.1f}); {delivered}")


def write_events(model, path: str) -> None:
    """The run's event table, written whole or not at all."""
    import os
    import tempfile

    table = model.events
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        os.close(fd)
        if path.endswith(".parquet"):
            table.to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except OSError as err:
        raise ConfigError("--events", f"cannot write {path!r}: {err.strerror or err}", "a writable file path") from None


USAGE = f"""usage: {PROG} [OVERRIDES ...] [seed=N] [run=I | run_seed=S] [--brief] [--events FILE]

Tell the story of one run: each breach, what the monitoring saw, what the commission found,
which trigger rule fired, each state's decision and its reason, and the funnel stage.
Run I of root seed N (default run 0, seed from the config) is the row with run == I of
`guarantee-sim OVERRIDES seed=N runs=R` for any R > I.

  OVERRIDES   as for guarantee-sim, e.g. breach=hybrid trigger=count_window coalition=teaching
  seed=N      the root seed (as for guarantee-sim)
  run=I       which run of that root seed (default 0)
  run_seed=S  a run by its own seed (the `seed` column of runs.parquet)
  --brief     the decisive events only (the first armed attack, triggers, invocations, consultations,
              activations) and the states' decisions summed up per support type
  --events F  also write the run's events as a table to F (.csv or .parquet; columns: docs/architecture.md)
"""


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return
    try:
        req = parse_args(argv)
        told = tell(req.overrides, req.run, req.run_seed)
    except ConfigError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    if req.events:
        write_events(told.model, req.events)
    text = render(told, brief=req.brief, command=shlex.join(["guarantee-sim", "explain", *argv]))
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader has gone, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
