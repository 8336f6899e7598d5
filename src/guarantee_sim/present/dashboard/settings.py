"""What the lecturer sets: the scenario presets (the config groups of ``conf/``), the key levers
and the seed, and the run they make.

Levers that differ between presets (detection per breach kind, follow-through per support type,
breach rates per pattern) are "x the preset's values", so switching preset keeps its own figures;
levers with one default (attribution, investigation time, approval delays) are absolute. Only
what differs from the defaults becomes an override, so the page's ``guarantee-sim explain``
command is the shortest one that tells the same run.
"""

from __future__ import annotations

import functools
import importlib.resources
import math
import shlex
import threading
from dataclasses import dataclass

from guarantee_sim.errors import ConfigError
from guarantee_sim.model.engine import GuaranteeModel

GROUPS = ("coalition", "commitments", "breach", "trigger", "monitoring")
# special cases for the analytic check, not classroom scenarios
HIDDEN = {"coalition": {"single"}, "commitments": {"analytic"}, "monitoring": {"analytic"}}
# the dashboard opens on the built-in defaults; with seed 6 the chain goes all the way to activation
DEFAULT_SEED = 6
AS_DESIGNED = "as designed"  # the US role the commitments preset sets
PRESET_LABELS = {"coalition": "Coalition roster", "commitments": "Commitments design", "breach": "Breach pattern",
                 "trigger": "Trigger rule", "monitoring": "Monitoring"}
_lock = threading.Lock()  # Hydra's global state is not thread-safe; Solara serves from threads


@dataclass(frozen=True)
class Lever:
    """A slider: its label and how its value reads in the domain's units."""

    key: str
    label: str
    low: float
    high: float
    step: float
    unit: str  # "x" (times the preset's values), "p" (a probability) or "days"

    def text(self, value: float) -> str:
        if self.unit == "x":
            return f"{value:.2f} x the preset's values"
        if self.unit == "p":
            return f"{value:.0%}"
        return f"{value:.0f} days"


LEVERS = (
    Lever("detection", "Detection by the monitoring", 0.0, 1.5, 0.05, "x"),
    Lever("attribution", "Commission attributes an incident", 0.0, 1.0, 0.05, "p"),
    Lever("investigation_days", "Commission's investigation", 1, 120, 1, "days"),
    Lever("parliament_days", "Parliamentary approval", 1, 90, 1, "days"),
    Lever("congress_days", "US Congress approval", 1, 365, 1, "days"),
    Lever("follow_through", "States follow through", 0.0, 2.0, 0.05, "x"),
    Lever("breach_rate", "Breach rate", 0.0, 5.0, 0.1, "x"),
)


def options(group: str) -> list[str]:
    """The classroom options of a config group: its YAML files, the default first."""
    folder = importlib.resources.files("guarantee_sim.conf") / group
    names = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))
    names = [n for n in names if n not in HIDDEN.get(group, set())]
    default = defaults()[group]
    return [default] + [n for n in names if n != default]


@functools.lru_cache(maxsize=1)
def defaults() -> dict:
    """The built-in default of every preset and lever (from ``conf/config.yaml``)."""
    import yaml

    entries = yaml.safe_load((importlib.resources.files("guarantee_sim.conf") / "config.yaml").read_text())["defaults"]
    choices = {k: v for e in entries if isinstance(e, dict) for k, v in e.items() if k in GROUPS}
    base = _composed(())
    return {
        **choices,
        "decision_rule": base["commission"]["decision_rule"],
        "us_role": AS_DESIGNED,
        "detection": 1.0,
        "attribution": float(base["commission"]["attribution_probability"]),
        "investigation_days": _mean(base["commission"]["investigation_time"]),
        "parliament_days": _mean(base["coalition"]["regimes"]["parliamentary"]["delay"]),
        "congress_days": _mean(base["coalition"]["regimes"]["congressional"]["delay"]),
        "follow_through": 1.0,
        "breach_rate": 1.0,
    }


@functools.lru_cache(maxsize=128)
def _composed(overrides: tuple[str, ...]) -> dict:
    """The composed config as plain data (cached: composing costs ~0.1 s)."""
    from omegaconf import OmegaConf

    from guarantee_sim.scenario.compose import compose_config

    with _lock:
        cfg = compose_config(overrides)
    return OmegaConf.to_container(cfg, resolve=True)


def _mean(delay) -> float:
    if isinstance(delay, (int, float)):
        return float(delay)
    for key in ("mean", "median", "value"):
        if key in delay:
            return float(delay[key])
    return 1.0


def _num(x: float) -> str:
    return f"{round(float(x), 4):g}"


def _delay(old, mean: float) -> str:
    """A delay override with its mean set to ``mean``, keeping the preset's distribution."""
    if isinstance(old, dict) and "mean" in old:
        spec = {**old, "mean": mean}
        return "{" + ", ".join(f"{k}: {_num(v) if isinstance(v, (int, float)) else v}" for k, v in spec.items()) + "}"
    if isinstance(old, (int, float)):
        return _num(mean)
    return "{" + f"dist: gamma, mean: {_num(mean)}, shape: 3.0" + "}"


def build_overrides(
    coalition: str,
    commitments: str,
    breach: str,
    trigger: str,
    monitoring: str,
    decision_rule: str,
    us_role: str = AS_DESIGNED,
    detection: float = 1.0,
    attribution: float | None = None,
    investigation_days: float | None = None,
    parliament_days: float | None = None,
    congress_days: float | None = None,
    follow_through: float = 1.0,
    breach_rate: float = 1.0,
) -> list[str]:
    """Hydra overrides for the chosen presets and levers; only what differs from the defaults."""
    d = defaults()
    groups = {"coalition": coalition, "commitments": commitments, "breach": breach, "trigger": trigger,
              "monitoring": monitoring}
    out = [f"{g}={v}" for g, v in groups.items() if v != d[g]]
    base = _composed(tuple(out))
    if decision_rule != base["commission"]["decision_rule"]:
        out.append(f"commission.decision_rule={decision_rule}")
    if us_role != AS_DESIGNED and us_role != base["commitments"]["us_role"]:
        out.append(f"commitments.us_role={us_role}")
    if attribution is not None and not math.isclose(attribution, base["commission"]["attribution_probability"]):
        out.append(f"commission.attribution_probability={_num(attribution)}")
    if investigation_days is not None and not math.isclose(investigation_days, _mean(base["commission"]["investigation_time"])):
        out.append(f"commission.investigation_time={_delay(base['commission']['investigation_time'], investigation_days)}")
    regimes = base["coalition"]["regimes"]
    for regime, days in (("parliamentary", parliament_days), ("congressional", congress_days)):
        if days is not None and regime in regimes and not math.isclose(days, _mean(regimes[regime]["delay"])):
            out.append(f"coalition.regimes.{regime}.delay={_delay(regimes[regime]['delay'], days)}")
    if not math.isclose(detection, 1.0):
        for kind, p in base["monitoring"]["detection"].items():
            out.append(f"monitoring.detection.{kind}={_num(min(1.0, p * detection))}")
    if not math.isclose(follow_through, 1.0):
        for stype, spec in base["commitments"]["types"].items():
            out.append(f"commitments.types.{stype}.follow_through={_num(min(1.0, spec['follow_through'] * follow_through))}")
    if not math.isclose(breach_rate, 1.0):
        params = base["breach"]["params"]
        for key in ("rate", "daily_violations", "escalation_rate"):
            if isinstance(params.get(key), (int, float)):
                out.append(f"breach.params.{key}={_num(params[key] * breach_rate)}")
        for kind, rate in (params.get("rates") or {}).items():
            out.append(f"breach.params.rates.{kind}={_num(rate * breach_rate)}")
    return out


def parse_seed(seed) -> tuple[int, str | None]:
    """The root seed, or 0 and a one-line reason."""
    try:
        root = int(str(seed).strip())
        if root < 0:
            raise ValueError
        return root, None
    except (TypeError, ValueError):
        return 0, f"seed: expected a whole number >= 0, got {seed!r}; using seed 0"


def scenario_of(settings: dict) -> tuple[object, list[str], str | None]:
    """(scenario, its overrides, an error or None) for the page's settings; bad input runs the
    default scenario and says why, so the page never breaks."""
    from guarantee_sim.scenario.compose import load_scenario

    chosen = {**defaults(), **{k: v for k, v in settings.items() if v is not None and k != "seed"}}
    try:
        overrides = build_overrides(**{k: chosen[k] for k in (*GROUPS, "decision_rule", "us_role", *(lv.key for lv in LEVERS))})
        with _lock:
            return load_scenario(tuple(overrides)), overrides, None
    except ConfigError as err:
        with _lock:
            return load_scenario(()), [], f"{err} (the default scenario runs instead)"


def explain_command(overrides: list[str], root: int) -> str:
    return shlex.join(["guarantee-sim", "explain", *overrides, f"seed={root}"])


class DashboardModel(GuaranteeModel):
    """GuaranteeModel built from the page's settings (presets, levers, seed), events recorded.

    ``seed`` is the root seed: the run shown is run 0 of it, the row ``run == 0`` of
    ``guarantee-sim ... seed=N``. Bad input never breaks the page: the default scenario runs and
    ``error`` says why.
    """

    def __init__(self, seed: int | str = DEFAULT_SEED, rng: int | None = None, **settings):
        from guarantee_sim.runs.runner import run_seeds

        root, seed_error = parse_seed(rng if rng is not None and seed in (None, "") else seed)
        scenario, overrides, error = scenario_of(settings)
        self.error = seed_error or error
        self.root_seed = root
        self.levers = {lv.key: settings.get(lv.key, defaults()[lv.key]) for lv in LEVERS if lv.unit == "x"}
        self.overrides = overrides
        self.command = explain_command(overrides, root)
        self.lock = threading.RLock()  # Play steps the run in a thread while the page reads it
        super().__init__(scenario, seed=run_seeds(root, 1)[0], record=True)
