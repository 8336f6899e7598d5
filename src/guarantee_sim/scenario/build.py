"""From a composed config to a checked, immutable ``Scenario`` the model runs.

The checks Hydra's schema cannot make are made here, each failing with a one-line
``ConfigError`` that names the key: every section is checked against its schema dataclass
(``scenario/schema.py`` declares each field's unit, delay or options; ``check_fields`` in
``model/registry.py`` checks them), and the checks that relate one part of the config to another
(known state names, the coalition's regimes, registry entries and their parameters) are below.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from guarantee_sim.errors import ConfigError
from guarantee_sim.model.breaches import BREACH_PATTERNS, KIND_KEYS, BreachKind
from guarantee_sim.model.commission import DECISION_RULES
from guarantee_sim.model.delays import Delay, parse_delay
from guarantee_sim.model.registry import MAX_AMOUNT, bound, build_params, check_fields, check_option
from guarantee_sim.model.triggers import SUPPORT_TYPES, Tier, build_tiers
from guarantee_sim.scenario import schema
from guarantee_sim.scenario.schema import REGIMES, US_ROLES

# REGIMES and US_ROLES are the schema's (scenario/schema.py); named here too for present/app.py
__all__ = ["REGIMES", "US_ROLES", "Regime", "Scenario", "StateProfile", "SupportType", "build_scenario", "procedure"]


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
    evidence_scale: float
    evidence_per_violation: float
    ukraine_share: float
    war_daily_violations: float
    war_days: float
    war_period: float
    overt_attack_path: bool
    military_unit: float
    follow_through_correlation: float
    reconsider_weight: float
    review_days: float
    patience_days: float
    military_support_needed: float
    force_us_backstop_share: float
    roster_capacity: dict[str, float]  # per support type, the whole roster's (US included, whatever the design)
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
    def memo(self) -> dict:
        """What a run's components work out from the scenario alone (the violator's reading of the
        design), kept here so each run of the scenario reuses it."""
        return {}

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


def _delay(value: Any, key: str) -> Delay:
    """``parse_delay`` with the bound every amount of days has (a distribution's parameters have theirs)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > MAX_AMOUNT:
        raise ConfigError(key, f"delay {value} is outside [0, {bound(MAX_AMOUNT)}]",
                          f"a non-negative number of days, at most {bound(MAX_AMOUNT)}")
    return parse_delay(value, key)


def _checked(values: Any, spec: type, key: str, **kwargs) -> dict:
    """A config section checked against its schema dataclass, with the schema's defaults filled in."""
    return check_fields(values, spec, key, defaults=True, parsers={"delay": _delay}, **kwargs)


def check_finite(value: Any, key: str = "") -> None:
    """No NaN or infinity anywhere in a config (numbers in free mappings and lists included): they
    pass range checks written as comparisons and give plausible wrong results."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(key, f"expected a finite number, got {value}", "a finite number")
    if isinstance(value, dict):
        for k, v in value.items():
            if key == "" and k == "hydra":
                continue
            check_finite(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_finite(v, f"{key}[{i}]")


_DEFAULT_LEAD = next(f.default for f in dataclasses.fields(schema.CommissionConfig) if f.name == "lead")
_PROFILE_FIELDS = {f.name for f in dataclasses.fields(StateProfile)}
# A checked config value the Scenario keeps as it is goes to the Scenario field of the same name,
# or to the name here (section, key) -> field, where the field's name says where it comes from.
_RENAMED = {("force", name): f"force_{name}"
            for name in ("deployed", "min_troops", "hazard_multiplier", "exposure", "us_backstop_share")}
_RENAMED[("commission", "lead")] = "commission_lead"


def _passed_on(sections: dict[str, dict]) -> dict:
    """The Scenario fields that checked config values fill as they are."""
    names = {f.name for f in dataclasses.fields(Scenario)}
    out = {}
    for section, values in sections.items():
        for key, value in values.items():
            name = _RENAMED.get((section, key), key)
            if name in names:
                out[name] = value
    return out


def build_scenario(cfg: Any) -> Scenario:
    """Check a composed config (DictConfig or plain dict) and build the run's ``Scenario``."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(cfg, DictConfig):
        cfg = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    check_finite(cfg)
    # the top: horizon and the run settings (Hydra's own node passes unchecked)
    c = _checked(cfg, schema.GuaranteeConfig, "", what="a config mapping", hidden=("hydra",))

    # coalition ---------------------------------------------------------------------------
    coal = _checked(c["coalition"], schema.CoalitionConfig, "coalition")
    regimes = {}
    for name, spec in coal["regimes"].items():
        key = f"coalition.regimes.{name}"
        check_option(name, key, schema.REGIMES)
        spec = _checked(spec, schema.RegimeSpec, key)
        regimes[name] = Regime(name, spec["delay"], spec["approval_probability"])
    names = list(coal["states"])
    exclude = coal["exclude"] or []
    for i, excluded in enumerate(exclude):
        if excluded not in coal["states"]:
            raise ConfigError(f"coalition.exclude[{i}]", f"unknown state {excluded!r}", ", ".join(names))
    com = _checked(c["commitments"], schema.CommitmentsConfig, "commitments")
    states, iso_of = [], {}
    roster_capacity = dict.fromkeys(SUPPORT_TYPES, 0.0)
    for name, s in coal["states"].items():
        key = f"coalition.states.{name}"
        s = _checked(s, schema.StateSpec, key, what="a mapping of state attributes")
        if s["iso"] in iso_of.values():
            other = next(n for n, iso in iso_of.items() if iso == s["iso"])
            raise ConfigError(f"{key}.iso", f"ISO code {s['iso']!r} is already {other}'s",
                              "a code no other state of the roster has")
        iso_of[name] = s["iso"]
        if name in exclude:
            continue
        regime = check_option(s["regime"], f"{key}.regime", tuple(regimes) or schema.REGIMES)
        for t in s["capacity"]:
            check_option(t, f"{key}.capacity.{t}", SUPPORT_TYPES)
        capacity = {t: s["weight"] for t in SUPPORT_TYPES} | s["capacity"]
        for t in SUPPORT_TYPES:
            roster_capacity[t] += capacity[t]
        is_us = s["iso"] == "USA"
        if (is_us and com["us_role"] == "none") or (com["bilateral_only"] and not s["bilateral_agreement"]):
            capacity = {t: 0.0 for t in SUPPORT_TYPES}
        fields = {k: v for k, v in s.items() if k in _PROFILE_FIELDS}
        states.append(StateProfile(**{**fields, "name": name, "regime": regime, "capacity": capacity, "is_us": is_us}))
    if not states:
        raise ConfigError("coalition.states", "no state left in the coalition", "at least one state")
    state_names = [s.name for s in states]

    # commitments -------------------------------------------------------------------------
    missing = [t for t in SUPPORT_TYPES if t not in com["types"]]
    if missing:
        raise ConfigError(f"commitments.types.{missing[0]}", "missing support type", ", ".join(SUPPORT_TYPES))
    support = {}
    for t, spec in com["types"].items():
        key = f"commitments.types.{t}"
        check_option(t, key, SUPPORT_TYPES)
        support[t] = SupportType(t, **_checked(spec, schema.SupportTypeSpec, key))

    # breach pattern and trigger ----------------------------------------------------------
    br, tr = c["breach"], c["trigger"]
    pattern = BREACH_PATTERNS.get(br["pattern"], "breach.pattern")
    breach_params = build_params(pattern.Params, br.get("params"), "breach.params")
    tiers = tuple(build_tiers(tr["rule"], tr.get("params") or {}, "trigger"))
    brc = _checked(br, schema.BreachConfig, "breach")
    trig = _checked(tr, schema.TriggerConfig, "trigger")

    # monitoring --------------------------------------------------------------------------
    mon = _checked(c["monitoring"], schema.MonitoringConfig, "monitoring")
    detection = {BreachKind.parse(k, f"monitoring.detection.{k}"): v for k, v in mon["detection"].items()}
    for kind in BreachKind:
        if kind not in detection:
            raise ConfigError(f"monitoring.detection.{kind.key}", "missing detection probability", ", ".join(KIND_KEYS))

    # commission --------------------------------------------------------------------------
    rule = DECISION_RULES.get(c["commission"]["decision_rule"], "commission.decision_rule")
    cm = _checked(c["commission"], schema.CommissionConfig, "commission")
    lead = cm["lead"]
    members = [s.name for s in states if s.commission_seat]
    if rule.name == "lead_nation" and lead not in members:
        problem = "is not on the commission" if lead in state_names else "unknown state"
        raise ConfigError("commission.lead", f"{problem} {lead!r}", ", ".join(members) or "no state has a seat")
    if lead not in coal["states"] and lead != _DEFAULT_LEAD:  # the default names a state most rosters have
        raise ConfigError("commission.lead", f"unknown state {lead!r}",
                          ", ".join(members) or "a state of the roster")

    sections = {
        "top": c,
        "coalition": coal,
        "commitments": com,
        "breach": brc,
        "trigger": trig,
        "monitoring": mon,
        "commission": cm,
        "coordination": _checked(c["coordination"], schema.CoordinationConfig, "coordination"),
        "force": _checked(c["force"], schema.ForceConfig, "force"),
        "ukraine": _checked(c["ukraine"], schema.UkraineConfig, "ukraine"),
    }
    # a design without the force (Budapest-like) has none, whatever force.deployed says
    sections["force"]["deployed"] = bool(sections["force"]["deployed"] and com["multinational_force"])
    return Scenario(**{
        **_passed_on(sections),  # horizon, threshold_mean, us_role, report_delay, holding_days, ...
        "states": tuple(states),
        "regimes": regimes,
        "support": support,
        "breach_pattern": pattern,
        "breach_params": breach_params,
        "tiers": tiers,
        "detection": detection,
        "decision_rule": rule,
        "roster_capacity": roster_capacity,
        "labels": {
            "coalition": coal["name"],
            "commitments": com["name"],
            "breach": br["pattern"],
            "trigger": tr["rule"],
            "monitoring": mon["name"],
        },
    })
