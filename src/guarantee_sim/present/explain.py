"""``guarantee-sim explain``: the story of one run, told in plain language.

    guarantee-sim explain breach=hybrid trigger=count_window seed=7          # run 0 of root seed 7
    guarantee-sim explain breach=hybrid trigger=count_window seed=7 run=12   # run 12 of root seed 7
    guarantee-sim explain breach=hybrid run_seed=123456789                   # a run by its own seed
    guarantee-sim explain breach=surge_offensive seed=3 --brief              # leave out routine incidents

Run ``I`` of root seed ``N`` is the row with ``run == I`` of ``guarantee-sim <same overrides>
seed=N runs=R`` (any ``R > I``): the same scenario, the same run seed, the same model. The story
comes from the model's own narration (``GuaranteeModel(narrate=True)``), which draws no random
numbers, so the told run is the tabled run. ``chain()`` and ``why()`` are shared with the
dashboard (``app.py``).
"""

from __future__ import annotations

import functools
import math
import os
import shlex
import sys
from collections import Counter
from dataclasses import dataclass

from guarantee_sim.model.agents import SupportStatus
from guarantee_sim.errors import EXIT_BAD_INPUT, ConfigError
from guarantee_sim.model.outcomes import Stage
from guarantee_sim.model.triggers import SUPPORT_TYPES

PROG = "guarantee-sim explain"
OWN_KEYS = ("run", "run_seed")

STAGE_MEANING = {
    Stage.NO_BREACH: "no real breach within the horizon",
    Stage.UNDETECTED: "real breaches, none reported to the commission",
    Stage.UNATTRIBUTED: "incidents reached the commission but none was attributed",
    Stage.BELOW_TRIGGER: "attributed findings, but the trigger rule never fired",
    Stage.NOT_APPROVED: "the trigger fired but too few states approved and delivered",
    Stage.PENDING_AT_HORIZON: "the trigger fired and decisions were still under way at the horizon",
    Stage.ACTIVATED: "binding support activated within the horizon",
}

# kinds of story line that --brief keeps (plus the finding that fires each trigger)
DECISIVE_KINDS = ("trigger", "invocation", "consultation", "decision", "approval", "delivery", "activation")


@dataclass
class Request:
    """What the command line asks for: a scenario, which run, and how much detail."""

    overrides: list[str]
    run: int = 0
    run_seed: int | None = None
    brief: bool = False


@dataclass
class Told:
    """One narrated run: the model after the horizon, its row, and where the run came from."""

    model: object
    row: dict
    run: int | None
    root_seed: int | None

    @property
    def story(self) -> list[tuple[float, str, str]]:
        return self.model.story


def _n(k: int, word: str, plural: str | None = None) -> str:
    return f"{k} {word if k == 1 else (plural or word + 's')}"


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
    for arg in argv:
        if arg == "--brief":
            req.brief = True
        elif arg in ("-m", "--multirun"):
            raise ConfigError(arg, "explain tells one run, not a sweep", "overrides with one value each")
        elif arg.startswith("-"):
            raise ConfigError(arg, "unknown option", "--brief, --help, overrides such as breach=hybrid, seed=N, run=I, run_seed=S")
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
    model = GuaranteeModel(scenario, seed=seed, collect=False, narrate=True)
    row = model.run()
    release(model)
    if run_seed is None:
        row["run"] = run
    return Told(model, row, None if run_seed is not None else run, root)


# reading a run -------------------------------------------------------------------------------
def story_stage(story: list[tuple[float, str, str]]) -> str:
    """The funnel stage read from the narrated events alone.

    ``triggered`` stands for both ``not_approved`` and ``pending_at_horizon``: the story shows
    that the trigger fired; whether decisions were still under way is a fact about the queue.
    """
    kinds = {kind for _, kind, _ in story}
    if any(kind == "activation" and text == "binding support activated" for _, kind, text in story):
        return Stage.ACTIVATED.value
    if "trigger" in kinds:
        return "triggered"
    if any(kind == "finding" and text.startswith("commission attributes") for _, kind, text in story):
        return Stage.BELOW_TRIGGER.value
    if any(kind == "referral" and not text.startswith("false alarm") for _, kind, text in story):
        return Stage.UNATTRIBUTED.value
    if "breach" in kinds:
        return Stage.UNDETECTED.value
    return Stage.NO_BREACH.value


def story_activation_day(story: list[tuple[float, str, str]]) -> float:
    """The day the story says binding support activated (NaN if it never says so)."""
    return next((d for d, kind, text in story if kind == "activation" and text == "binding support activated"), math.nan)


def pending(model) -> list[tuple[float, str]]:
    """Decisions and deliveries still in the model's queue, as (due day, plain text)."""
    out = []
    for day, kind, args in model.scheduled():
        if kind == "approval":
            state, stype, _ = args
            out.append((day, f"{state.name}'s {state.procedure(stype).replace('_', ' ')} decision on {stype} support"))
        elif kind == "delivery":
            state, stype = args
            out.append((day, f"{state.name}'s first delivery of {stype} support"))
        elif kind == "eu_package":
            out.append((day, "the EU sanctions package"))
        elif kind == "invoked":
            out.append((day, "Ukraine's formal invocation of the guarantees"))
        elif kind == "decide":
            out.append((day, "the end of the coordination cell's consultation round"))
        elif kind == "trigger":
            out.append((day, "the coalition's response to the trigger"))
    return out


@dataclass
class Step:
    """One link of the chain breach -> ... -> activation, as far as a run has got."""

    label: str
    reached: bool
    detail: str


def chain(model) -> list[Step]:
    """The funnel of one run (also mid-run, for the dashboard)."""
    m = model
    trig = min(m.trigger_day.values(), default=math.nan)
    acting = sum(a.acting for a in m.coalition)
    share = m.binding_share()
    need = m.spec.activation_share
    return [
        Step("Breaches", m.n_incidents > 0, f"{_n(m.n_breaches, 'violation')} in {_n(m.n_incidents, 'incident')}"),
        Step("Reported to the commission", m.n_referred_real > 0,
             f"{_n(m.n_referred_real, 'incident')} referred ({m.n_detected} violations seen by the monitoring, "
             f"{m.n_reported_by_ukraine} reported by Ukraine)"),
        Step("Attributed", m.n_attributed > 0,
             f"{m.n_attributed} of {m.n_findings} findings attribute an incident to the violator"),
        Step("Trigger fired", bool(m.trigger_day), "not yet" if math.isnan(trig) else f"day {trig:.1f}"),
        Step("States acting", acting > 0, f"{acting} of {len(m.coalition)} states approved or delivering"),
        Step("Binding support activated", not math.isnan(m.activation_day),
             (f"day {m.activation_day:.1f}; " if not math.isnan(m.activation_day) else "")
             + f"{share:.0%} of committed binding capacity delivering (needs {need:.0%})"),
    ]


def _rule_text(model) -> str:
    rules = [tier.rule.describe() for tier in model.spec.tiers]
    if len(rules) == 1:
        return rules[0]
    return "; ".join(f"{', '.join(t.types)}: {r}" for t, r in zip(model.spec.tiers, rules))


def why(model) -> str:
    """Why the run stopped where it did, in one or two sentences."""
    m = model
    stage = m.stage()
    if stage is Stage.NO_BREACH:
        return ("The violator committed no breach within the horizon"
                + (f"; {_n(m.n_false_alarms, 'false alarm')} reached the commission." if m.n_false_alarms else "."))
    if stage is Stage.UNDETECTED:
        return (f"{_n(m.n_incidents, 'incident')} happened, but none reached the commission: the monitoring mechanism "
                "missed them and Ukraine did not report them (or the reports were still due at the horizon).")
    if stage is Stage.UNATTRIBUTED:
        split = Counter("inconclusive" if "inconclusive" in text else "split"
                        for _, kind, text in m.story
                        if kind == "finding" and text.startswith("commission cannot") and "false alarm" not in text)
        open_ = m.n_referred_real - split["inconclusive"] - split["split"]
        parts = [f"{split['inconclusive']} with inconclusive evidence" if split["inconclusive"] else "",
                 f"{split['split']} with the evidence conclusive but the members split" if split["split"] else "",
                 f"{open_} still under investigation at the horizon" if open_ else ""]
        return (f"{_n(m.n_referred_real, 'incident')} reached the commission, which attributed none: "
                + "; ".join(p for p in parts if p) + ".")
    if stage is Stage.BELOW_TRIGGER:
        return (f"The commission attributed {_n(m.n_attributed, 'incident')}, but the trigger rule was never met: "
                f"{_rule_text(m)}.")
    trig = min(m.trigger_day.values())
    delivering = m.binding_share()
    need = m.spec.activation_share
    if m.total_binding <= 0:
        helping = sum(a.acting for a in m.coalition)
        return (f"The trigger fired on day {trig:.1f}, but nothing in this design is binding: the {helping} states that "
                "help do so at their own discretion, so binding support cannot activate.")
    if stage is Stage.ACTIVATED:
        return (f"The trigger fired on day {trig:.1f}; by day {m.activation_day:.1f} states holding {need:.0%} of the "
                f"committed binding capacity were delivering ({delivering:.0%} at the horizon).")
    blocked = Counter()
    for state in m.coalition:
        for t in set(m.decided_types):
            if not state.binding(t) or state.status[t] is SupportStatus.NOT_COMMITTED:
                continue
            status = state.status[t]
            if status is SupportStatus.DECLINED:
                blocked["declined: " + state.reason[t]] += 1
            elif status is SupportStatus.DECIDING:
                blocked["still deciding: " + _deciding_text(m, state, t)[0]] += 1
    top = "; ".join(f"{reason} ({n})" for reason, n in blocked.most_common(4))
    if stage is Stage.PENDING_AT_HORIZON:
        due = pending(m)
        shown = ", ".join(f"{what} (due day {day:.1f})" for day, what in due[:3])
        more = f" and {len(due) - 3} more" if len(due) > 3 else ""
        return (f"The trigger fired on day {trig:.1f}, but at the horizon only {delivering:.0%} of the committed binding "
                f"capacity was delivering (needs {need:.0%}) and decisions were still under way: {shown}{more}.")
    return (f"The trigger fired on day {trig:.1f}, but only {delivering:.0%} of the committed binding capacity was "
            f"delivering at the horizon (needs {need:.0%}), and nothing was left in train. "
            f"Binding commitments that did not turn into support (state x support type): {top or 'none'}.")


def _deciding_text(model, state, stype) -> tuple[str, float]:
    for day, kind, args in model.scheduled():
        if kind == "approval" and args[0] is state and args[1] == stype:
            return f"{state.procedure(stype).replace('_', ' ')} procedure under way, decision due day {day:.1f}", day
    if any(s is state and t == stype for s, t in model.waiting_for_eu):
        return "waits for the EU sanctions package", math.nan
    reason = state.reason.get(stype, "")
    return (reason[len("willing; "):] if reason.startswith("willing; ") else reason) or "willing", math.nan


def support_text(model, state, stype: str) -> str:
    """Where one state's commitment of one support type ended, and why."""
    status = state.status[stype]
    proc = state.procedure(stype).replace("_", " ")
    if status is SupportStatus.COMMITTED:
        return "committed; never asked (its trigger did not fire or the consultation was still under way)"
    if status is SupportStatus.DECIDING:
        return "deciding: " + _deciding_text(model, state, stype)[0]
    if status is SupportStatus.APPROVED:
        due = next((d for d, k, a in model.scheduled() if k == "delivery" and a[0] is state and a[1] == stype), math.nan)
        tail = "" if math.isnan(due) else f"; delivery starts day {due:.1f}"
        return f"approved on day {state.approved_day[stype]:.1f} ({proc} procedure){tail}"
    if status is SupportStatus.DELIVERING:
        return (f"delivering since day {state.delivery_day[stype]:.1f} "
                f"(approved day {state.approved_day[stype]:.1f}, {proc} procedure)")
    if status is SupportStatus.DECLINED:
        return f"declined: {state.reason[stype]}"
    return "not committed"


def state_header(model, state) -> str:
    """Name, legal regime, joining threshold and conditions of one coalition state."""
    p = state.profile
    s = model.spec
    parts = [f"{p.regime.replace('_', ' ')} regime"]
    if s.cascade:
        parts.append("acts first (threshold 0%)" if state.threshold <= 0 else f"joins once {state.threshold:.0%} of the coalition acts")
    if p.us_conditional and s.honour_us_conditionality and not p.is_us:
        parts.append("waits for the United States")
    if p.is_us and s.us_role != "binding":
        parts.append(f"US role {s.us_role}: its support does not count as binding")
    if p.eu and s.eu_sanctions:
        parts.append("EU member (sanctions by EU package)")
    return f"{state.name} ({', '.join(parts)})"


# telling -------------------------------------------------------------------------------------
def _day(d: float) -> str:
    return f"day {d:.1f}"


def brief_story(story: list[tuple[float, str, str]]) -> list[tuple[float, str, str]]:
    """The decisive events only: each trigger with the finding that fired it, and what followed."""
    kept, last_finding = [], None
    for event in story:
        kind = event[1]
        if kind == "finding":
            last_finding = event
        elif kind in DECISIVE_KINDS:
            if kind == "trigger" and last_finding is not None and last_finding not in kept:
                kept.append(last_finding)
            kept.append(event)
    return kept


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
    events = brief_story(m.story) if brief else m.story
    lines += ["", "What happened" + (" (--brief: the trigger and what followed; the incidents are counted below)"
                                     if brief else "")]
    for day, kind, text in events:
        lines.append(f"  {_day(day):>10}  {kind:<12} {text}")
    if not events:
        lines.append("  nothing: no breach, no false alarm" if not brief else "  the trigger never fired")

    lines += ["", "The coalition's decisions"]
    if not m.decided_types:
        lines.append("  No state was asked to decide: the trigger never fired.")
    else:
        decided = [t for t in SUPPORT_TYPES if t in set(m.decided_types)]
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
        f"  Breaches: {_n(row['n_breaches'], 'violation')} in {_n(row['n_incidents'], 'incident')}; seen by the "
        f"monitoring: {row['n_detected']}; reported by Ukraine: {row['n_reported_by_ukraine']}",
        f"  Commission: {_n(m.n_referred_real, 'incident')} and {_n(row['n_false_alarms'], 'false alarm')} referred; "
        f"{row['n_attributed']} attributed",
        f"  Trigger: {'never fired' if math.isnan(trig) else 'fired on ' + _day(trig)} (rule: {_rule_text(m)})",
        f"  Binding support activated: {'not within the horizon' if math.isnan(act) else _day(act)}",
        f"  States delivering support: {row['states_activated']} of {len(m.coalition)}; committed binding capacity "
        f"delivering: {m.binding_share():.0%} (needs {s.activation_share:.0%})",
        f"  Funnel stage: {stage.value} ({STAGE_MEANING[stage]})",
        f"  Why: {why(m)}",
    ]
    return "\n".join(lines)


USAGE = f"""usage: {PROG} [OVERRIDES ...] [seed=N] [run=I | run_seed=S] [--brief]

Tell the story of one run: each breach, what the monitoring saw, what the commission found,
which trigger rule fired, each state's decision and its reason, and the funnel stage.
Run I of root seed N (default run 0, seed from the config) is the row with run == I of
`guarantee-sim OVERRIDES seed=N runs=R` for any R > I.

  OVERRIDES   as for guarantee-sim, e.g. breach=hybrid trigger=count_window coalition=teaching
  seed=N      the root seed (as for guarantee-sim)
  run=I       which run of that root seed (default 0)
  run_seed=S  a run by its own seed (the `seed` column of runs.parquet)
  --brief     leave out incidents that the commission did not attribute
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
    text = render(told, brief=req.brief, command=shlex.join(["guarantee-sim", "explain", *argv]))
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader has gone, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
