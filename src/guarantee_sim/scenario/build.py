"""From a composed config to a checked, immutable ``Scenario`` the model runs.

All checks that Hydra's schema cannot make live here (probabilities in [0, 1], non-negative
delays, known state names, registry entries and their parameters), each failing with a
one-line ``ConfigError`` that names the key.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from guarantee_sim.model.breaches import BREACH_PATTERNS, KIND_KEYS, BreachKind
from guarantee_sim.model.commission import DECISION_RULES
from guarantee_sim.model.delays import Delay, parse_delay
from guarantee_sim.errors import ConfigError
from guarantee_sim.model.registry import build_params
from guarantee_sim.model.triggers import SUPPORT_TYPES, Tier, build_tiers

REGIMES = ("executive", "notify_parliament", "parliamentary", "congressional")
US_ROLES = ("binding", "discretionary", "none")


@dataclass(frozen=True)
class Regime:
    name: str
    delay: Delay
    approval_probability: float


@dataclass(frozen=True)
class StateProfile:
    name: str
    iso: str
    regime: str
    capacity: dict[str, float]
    eu: bool
    force_troops: float
    commission_seat: bool
    monitoring: bool
    monitoring_lead: bool
    us_conditional: bool
    bilateral_agreement: bool
    threshold: float | None
    is_us: bool


@dataclass(frozen=True)
class SupportType:
    name: str
    binding: bool
    follow_through: float
    delivery_delay: Delay
    national_procedure: bool


@dataclass(frozen=True)
class Scenario:
    """Everything one run needs, checked. Built once and shared by every replication."""

    horizon: float
    states: tuple[StateProfile, ...]
    regimes: dict[str, Regime]
    threshold_mean: float
    threshold_sd: float
    support: dict[str, SupportType]
    us_role: str
    honour_us_conditionality: bool
    cascade: bool
    activation_share: float
    eu_sanctions: bool
    eu_package_delay: Delay
    eu_veto_probability: float
    eu_veto_delay: Delay
    unsc_referral: bool
    breach_pattern: type
    breach_params: Any
    tiers: tuple[Tier, ...]
    require_invocation: bool
    require_consultation: bool
    detection: dict[BreachKind, float]
    report_delay: Delay
    false_alarm_rate: float
    false_alarm_attribution: float
    intelligence_sharing: bool
    intelligence_detection_boost: float
    intelligence_attribution_boost: float
    ukraine_recall: float
    ukraine_report_delay: Delay
    ukraine_evidence_weight: float
    lead_absent_factor: float
    decision_rule: Any
    qualified_share: float
    commission_lead: str
    investigation_time: Delay
    attribution_probability: float
    agree_if_conclusive: float
    agree_if_inconclusive: float
    consultation_delay: Delay
    force_deployed: bool
    force_min_troops: float
    force_hazard_multiplier: float
    force_exposure: float
    invocation_delay: Delay
    holding_days: float
    initial_capacity: float
    support_growth: float
    damage_per_severity: float
    damage_min_severity: float
    labels: dict[str, str] = field(default_factory=dict)

    @cached_property
    def procedures(self) -> tuple[dict[str, str], ...]:
        """Per state and support type, the procedure that decides it (fixed by the design, so
        worked out once per scenario rather than once per run)."""
        return tuple({t: procedure(self, p, t) for t in SUPPORT_TYPES} for p in self.states)

    @cached_property
    def regime_of(self) -> tuple[dict[str, Regime], ...]:
        """Per state and support type, the regime (delay, approval probability) of its procedure;
        the EU package's members have none (the package approves them)."""
        return tuple({t: self.regimes.get(proc) for t, proc in procs.items()} for procs in self.procedures)

    @cached_property
    def binding(self) -> tuple[dict[str, bool], ...]:
        """Per state and support type: is the commitment legally binding?"""
        return tuple({t: (not p.is_us or self.us_role == "binding") and self.support[t].binding
                      for t in SUPPORT_TYPES} for p in self.states)


    @cached_property
    def initial_status(self) -> tuple[dict, ...]:
        """Per state, where each support type stands before any decision (copied by each run)."""
        from guarantee_sim.model.agents import initial_status

        return tuple(initial_status(p) for p in self.states)

    @cached_property
    def committed(self) -> dict[str, float]:
        """Capacity committed per support type, all states."""
        return {t: float(np.array([p.capacity[t] for p in self.states]).sum()) for t in SUPPORT_TYPES}

    @cached_property
    def committed_binding(self) -> dict[str, float]:
        """Capacity committed per support type under legally binding commitments."""
        return {t: float(np.array([p.capacity[t] for p, b in zip(self.states, self.binding) if b[t]]).sum())
                for t in SUPPORT_TYPES}


def procedure(scenario: Scenario, profile: StateProfile, stype: str) -> str:
    """EU members' economic support goes through the EU's sanctions package; support types with
    national procedures follow the state's regime; otherwise the executive decides where the
    design has one."""
    if stype == "economic" and scenario.eu_sanctions and profile.eu:
        return "eu_package"
    if scenario.support[stype].national_procedure:
        return profile.regime
    return "executive" if "executive" in scenario.regimes else profile.regime



def _prob(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(key, f"expected a probability, got {value!r}", "a number in [0, 1]")
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ConfigError(key, f"probability {value} is outside [0, 1]", "a number in [0, 1]")
    return float(value)


def _nonneg(value: Any, key: str, unit: str = "a non-negative number") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigError(key, f"expected a number, got {value!r}", unit)
    if value < 0:
        raise ConfigError(key, f"must be >= 0, got {value}", unit)
    return float(value)


def _choice(value: Any, key: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(key, f"unknown value {value!r}", ", ".join(allowed))
    return value


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(key, f"expected true or false, got {value!r}", "true, false")
    return value


def _state_spec(spec: Any, key: str) -> dict:
    """A roster entry with the schema's defaults filled in and its keys and types checked.

    The roster is typed loosely in the Hydra schema (composing a typed 35-state roster costs
    more than the rest of the config), so its keys are checked here.
    """
    from guarantee_sim.scenario.schema import StateSpec

    if not isinstance(spec, dict):
        raise ConfigError(key, f"expected a mapping of state attributes, got {spec!r}")
    fields = {f.name: f for f in dataclasses.fields(StateSpec)}
    unknown = sorted(set(spec) - set(fields))
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", "unknown key", ", ".join(sorted(fields)))
    out = {}
    for name, f in fields.items():
        if name in spec:
            value = spec[name]
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            value = f.default
        if value == "???" or value is dataclasses.MISSING:
            raise ConfigError(f"{key}.{name}", "missing value")
        default = f.default if f.default is not dataclasses.MISSING else None
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"{key}.{name}", f"expected true or false, got {value!r}", "true, false")
        if isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{key}.{name}", f"expected a string, got {value!r}")
        out[name] = value
    return out


def build_scenario(cfg: Any) -> Scenario:
    """Check a composed config (DictConfig or plain dict) and build the run's ``Scenario``."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(cfg, DictConfig):
        cfg = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    c = cfg

    known = {"coalition", "commitments", "breach", "trigger", "monitoring", "commission", "coordination",
             "force", "ukraine", "horizon", "runs", "seed", "workers", "batch_size", "precision", "max_runs",
             "baseline", "hydra"}
    unknown = sorted(set(c) - known)
    if unknown:
        raise ConfigError(unknown[0], "unknown key", ", ".join(sorted(known - {"hydra"})))
    horizon = c.get("horizon")
    if isinstance(horizon, bool) or not isinstance(horizon, (int, float)) or not horizon > 0:
        raise ConfigError("horizon", f"must be a number of days > 0, got {horizon!r}", "a positive number of days")
    for key in ("workers", "batch_size", "max_runs"):
        if key in c and (isinstance(c[key], bool) or not isinstance(c[key], int) or c[key] < 1):
            raise ConfigError(key, f"must be a whole number >= 1, got {c[key]!r}", "1, 2, 3, ...")
    runs = c.get("runs", 1)
    if runs != "auto" and (isinstance(runs, bool) or not isinstance(runs, int) or runs < 1):
        raise ConfigError("runs", f"must be a whole number >= 1 or auto, got {runs!r}", "1, 2, 3, ... or auto")
    precision = c.get("precision", 0.02)
    if isinstance(precision, bool) or not isinstance(precision, (int, float)) or not 0 < precision <= 0.5:
        raise ConfigError("precision", f"must be a Wilson half-width in (0, 0.5], got {precision!r}", "e.g. 0.02")

    coal, com, br, tr, mon = (c[k] for k in ("coalition", "commitments", "breach", "trigger", "monitoring"))
    cm, co, fo, ua = (c[k] for k in ("commission", "coordination", "force", "ukraine"))

    # coalition ---------------------------------------------------------------------------
    regimes = {}
    for name, spec in coal["regimes"].items():
        _choice(name, f"coalition.regimes.{name}", REGIMES)
        regimes[name] = Regime(
            name,
            parse_delay(spec["delay"], f"coalition.regimes.{name}.delay"),
            _prob(spec["approval_probability"], f"coalition.regimes.{name}.approval_probability"),
        )
    names = list(coal["states"])
    for i, excluded in enumerate(coal.get("exclude") or []):
        if excluded not in coal["states"]:
            raise ConfigError(f"coalition.exclude[{i}]", f"unknown state {excluded!r}", ", ".join(names))
    bilateral_only = _bool(com["bilateral_only"], "commitments.bilateral_only")
    us_role = _choice(com["us_role"], "commitments.us_role", US_ROLES)
    states = []
    for name, s in coal["states"].items():
        if name in (coal.get("exclude") or []):
            continue
        key = f"coalition.states.{name}"
        s = _state_spec(s, key)
        regime = _choice(s["regime"], f"{key}.regime", tuple(regimes) or REGIMES)
        weight = _nonneg(s["weight"], f"{key}.weight")
        capacity = {t: weight for t in SUPPORT_TYPES}
        for t, v in (s.get("capacity") or {}).items():
            _choice(t, f"{key}.capacity.{t}", SUPPORT_TYPES)
            capacity[t] = _nonneg(v, f"{key}.capacity.{t}")
        is_us = s["iso"] == "USA"
        if (is_us and us_role == "none") or (bilateral_only and not s["bilateral_agreement"]):
            capacity = {t: 0.0 for t in SUPPORT_TYPES}
        threshold = s.get("threshold")
        if threshold is not None:
            threshold = _prob(threshold, f"{key}.threshold")
        states.append(
            StateProfile(
                name=name,
                iso=s["iso"],
                regime=regime,
                capacity=capacity,
                eu=s["eu"],
                force_troops=_nonneg(s["force_troops"], f"{key}.force_troops", "troops >= 0"),
                commission_seat=s["commission_seat"],
                monitoring=s["monitoring"],
                monitoring_lead=s["monitoring_lead"],
                us_conditional=s["us_conditional"],
                bilateral_agreement=s["bilateral_agreement"],
                threshold=threshold,
                is_us=is_us,
            )
        )
    if not states:
        raise ConfigError("coalition.states", "no state left in the coalition", "at least one state")
    state_names = [s.name for s in states]
    threshold_mean = _prob(coal["threshold_mean"], "coalition.threshold_mean")
    threshold_sd = _nonneg(coal["threshold_sd"], "coalition.threshold_sd")

    # commitments -------------------------------------------------------------------------
    support = {}
    missing = [t for t in SUPPORT_TYPES if t not in com["types"]]
    if missing:
        raise ConfigError(f"commitments.types.{missing[0]}", "missing support type", ", ".join(SUPPORT_TYPES))
    for t, spec in com["types"].items():
        key = f"commitments.types.{t}"
        _choice(t, key, SUPPORT_TYPES)
        support[t] = SupportType(
            t,
            _bool(spec["binding"], f"{key}.binding"),
            _prob(spec["follow_through"], f"{key}.follow_through"),
            parse_delay(spec["delivery_delay"], f"{key}.delivery_delay"),
            _bool(spec["national_procedure"], f"{key}.national_procedure"),
        )

    # breach pattern and trigger ----------------------------------------------------------
    pattern = BREACH_PATTERNS.get(br["pattern"], "breach.pattern")
    breach_params = build_params(pattern.Params, br.get("params"), "breach.params")
    tiers = tuple(build_tiers(tr["rule"], tr.get("params") or {}, "trigger"))

    # monitoring --------------------------------------------------------------------------
    detection = {}
    for k, v in (mon.get("detection") or {}).items():
        detection[BreachKind.parse(k, f"monitoring.detection.{k}")] = _prob(v, f"monitoring.detection.{k}")
    for kind in BreachKind:
        if kind not in detection:
            raise ConfigError(f"monitoring.detection.{kind.key}", "missing detection probability", ", ".join(KIND_KEYS))

    # commission --------------------------------------------------------------------------
    rule = DECISION_RULES.get(cm["decision_rule"], "commission.decision_rule")
    lead = cm["lead"]
    members = [s.name for s in states if s.commission_seat]
    if rule.name == "lead_nation" and lead not in members:
        problem = "is not on the commission" if lead in state_names else "unknown state"
        raise ConfigError("commission.lead", f"{problem} {lead!r}", ", ".join(members) or "no state has a seat")

    return Scenario(
        horizon=float(horizon),
        states=tuple(states),
        regimes=regimes,
        threshold_mean=threshold_mean,
        threshold_sd=threshold_sd,
        support=support,
        us_role=us_role,
        honour_us_conditionality=_bool(com["honour_us_conditionality"], "commitments.honour_us_conditionality"),
        cascade=_bool(com["cascade"], "commitments.cascade"),
        activation_share=_prob(com["activation_share"], "commitments.activation_share"),
        eu_sanctions=_bool(com["eu_sanctions"], "commitments.eu_sanctions"),
        eu_package_delay=parse_delay(com["eu_package_delay"], "commitments.eu_package_delay"),
        eu_veto_probability=_prob(com["eu_veto_probability"], "commitments.eu_veto_probability"),
        eu_veto_delay=parse_delay(com["eu_veto_delay"], "commitments.eu_veto_delay"),
        unsc_referral=_bool(com["unsc_referral"], "commitments.unsc_referral"),
        breach_pattern=pattern,
        breach_params=breach_params,
        tiers=tiers,
        require_invocation=_bool(tr["require_invocation"], "trigger.require_invocation"),
        require_consultation=_bool(tr["require_consultation"], "trigger.require_consultation"),
        detection=detection,
        report_delay=parse_delay(mon["report_delay"], "monitoring.report_delay"),
        false_alarm_rate=_nonneg(mon["false_alarm_rate"], "monitoring.false_alarm_rate", "a rate per day >= 0"),
        false_alarm_attribution=_prob(mon["false_alarm_attribution"], "monitoring.false_alarm_attribution"),
        intelligence_sharing=_bool(mon["intelligence_sharing"], "monitoring.intelligence_sharing"),
        intelligence_detection_boost=_prob(mon["intelligence_detection_boost"], "monitoring.intelligence_detection_boost"),
        intelligence_attribution_boost=_prob(
            mon["intelligence_attribution_boost"], "monitoring.intelligence_attribution_boost"
        ),
        ukraine_recall=_prob(mon["ukraine_recall"], "monitoring.ukraine_recall"),
        ukraine_report_delay=parse_delay(mon["ukraine_report_delay"], "monitoring.ukraine_report_delay"),
        ukraine_evidence_weight=_prob(mon["ukraine_evidence_weight"], "monitoring.ukraine_evidence_weight"),
        lead_absent_factor=_prob(mon["lead_absent_factor"], "monitoring.lead_absent_factor"),
        decision_rule=rule,
        qualified_share=_prob(cm["qualified_share"], "commission.qualified_share"),
        commission_lead=lead,
        investigation_time=parse_delay(cm["investigation_time"], "commission.investigation_time"),
        attribution_probability=_prob(cm["attribution_probability"], "commission.attribution_probability"),
        agree_if_conclusive=_prob(cm["agree_if_conclusive"], "commission.agree_if_conclusive"),
        agree_if_inconclusive=_prob(cm["agree_if_inconclusive"], "commission.agree_if_inconclusive"),
        consultation_delay=parse_delay(co["consultation_delay"], "coordination.consultation_delay"),
        force_deployed=_bool(fo["deployed"], "force.deployed"),
        force_min_troops=_nonneg(fo["min_troops"], "force.min_troops", "troops >= 0"),
        force_hazard_multiplier=_nonneg(fo["hazard_multiplier"], "force.hazard_multiplier", "a multiplier >= 0"),
        force_exposure=_prob(fo["exposure"], "force.exposure"),
        invocation_delay=parse_delay(ua["invocation_delay"], "ukraine.invocation_delay"),
        holding_days=_nonneg(ua["holding_days"], "ukraine.holding_days", "days >= 0"),
        initial_capacity=_nonneg(ua["initial_capacity"], "ukraine.initial_capacity"),
        support_growth=_nonneg(ua["support_growth"], "ukraine.support_growth", "a rate per day >= 0"),
        damage_per_severity=_nonneg(ua["damage_per_severity"], "ukraine.damage_per_severity"),
        damage_min_severity=_nonneg(ua["damage_min_severity"], "ukraine.damage_min_severity"),
        labels={
            "coalition": coal["name"],
            "commitments": com["name"],
            "breach": br["pattern"],
            "trigger": tr["rule"],
            "monitoring": mon["name"],
        },
    )
