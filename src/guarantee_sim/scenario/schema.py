"""The scenario schema: structured-config dataclasses that Hydra checks every YAML and override against.

Group YAMLs in ``conf/`` are the menu; these dataclasses are the schema. Hydra checks the types;
what Hydra cannot check is declared here once, on the field, and ``scenario/build.py`` checks it
from the declaration: a number's unit (``param(0.5, "probability")``, ranges in
``model/registry.py``'s ``UNITS``), a delay (``"delay"``), the allowed options (``options=``), the
run settings (``run_setting``). Registry-specific parameters (a breach pattern's, a trigger
rule's) live in free ``params`` mappings that the registry entry's own ``Params`` dataclass
checks when the scenario is built. Sources: see ``docs/parameters.md`` ([S] sourced, [E] assumption).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from guarantee_sim.model.registry import param

CONFIG_MODULE = "guarantee_sim.conf"  # the YAML menus (conf/), a package so that installs carry them

REGIMES = ("executive", "notify_parliament", "parliamentary", "congressional")
US_ROLES = ("binding", "discretionary", "none")
# what runs=auto makes precise: the headline measures (P(protected) first), or the pooled one
PRECISION_MEASURES = ("protected_probability", "support_in_time_given_attack", "attack_probability",
                      "activation_probability")


@dataclass
class StateSpec:
    """One coalition member (or the United States)."""

    iso: str = MISSING
    regime: str = "executive"  # one of the coalition's regimes (checked against them when built)
    weight: float = param(1.0, "non-negative")
    capacity: Dict[str, float] = param({}, "non-negative")  # support type -> capacity (default: weight)
    eu: bool = False
    force_troops: float = param(0.0, "troops")
    commission_seat: bool = False
    monitoring: bool = False
    monitoring_lead: bool = False
    us_conditional: bool = False
    bilateral_agreement: bool = False
    threshold: Optional[float] = param(None, "probability")
    source: str = ""


@dataclass
class RegimeSpec:
    """A national procedure for deploying or activating support."""

    delay: Any = param(1.0, "delay")
    approval_probability: float = param(0.95, "probability")
    source: str = ""


@dataclass
class CoalitionConfig:
    name: str = MISSING
    states: Dict[str, Any] = field(default_factory=dict)
    regimes: Dict[str, RegimeSpec] = field(default_factory=dict)
    threshold_mean: float = param(0.25, "probability")
    threshold_sd: float = param(0.15, "non-negative")
    exclude: List[str] = field(default_factory=list)
    military_unit: float = param(0.3, "non-negative")  # EUR bn a year of military aid per capacity point
    follow_through_correlation: float = param(0.3, "probability")  # the common political factor's share
    reconsider_weight: float = param(0.25, "probability")  # how far a state's stance moves at a review
    review_days: float = param(30.0, "non-negative")  # states review refusals this often (0: never)
    patience_days: float = param(60.0, "non-negative")  # a waiting state gives up after this (0: never)


@dataclass
class SupportTypeSpec:
    binding: bool = True
    follow_through: float = param(0.85, "probability")
    delivery_delay: Any = param(0.0, "delay")
    national_procedure: bool = False


@dataclass
class CommitmentsConfig:
    name: str = MISSING
    types: Dict[str, SupportTypeSpec] = field(default_factory=dict)
    us_role: str = param("discretionary", options=US_ROLES)
    honour_us_conditionality: bool = True
    cascade: bool = True
    bilateral_only: bool = False
    activation_share: float = param(0.5, "probability")
    eu_sanctions: bool = True
    eu_package_delay: Any = param(14.0, "delay")
    eu_veto_probability: float = param(0.3, "probability")
    eu_veto_delay: Any = param(30.0, "delay")
    unsc_referral: bool = False
    overt_attack_path: bool = False  # an overt armed attack fires the trigger when referred, before the finding
    multinational_force: bool = True  # the design deploys the multinational force (its size and effect: force.*)


@dataclass
class BreachConfig:
    pattern: str = MISSING
    params: Dict[str, Any] = field(default_factory=dict)
    ukraine_share: float = param(0.4, "probability")  # share of mutual low-level fire that is Ukraine's [E]
    war_daily_violations: float = param(20000.0, "non-negative")  # fire a day after an armed attack
    war_days: float = param(90.0, "days")  # how long the model follows the war after the first armed attack
    war_period: float = param(7.0, "positive")  # days of war fire aggregated into one incident per kind


@dataclass
class TriggerConfig:
    rule: str = MISSING
    params: Dict[str, Any] = field(default_factory=dict)
    require_invocation: bool = False
    require_consultation: bool = True


@dataclass
class MonitoringConfig:
    name: str = MISSING
    detection: Dict[str, float] = param({}, "probability")  # breach kind -> probability
    report_delay: Any = param(1.0, "delay")
    false_alarm_rate: float = param(0.005, "per day")
    false_alarm_attribution: float = param(0.1, "probability")
    intelligence_sharing: bool = True
    intelligence_detection_boost: float = param(0.05, "probability")
    intelligence_attribution_boost: float = param(0.05, "probability")
    ukraine_recall: float = param(0.9, "probability")
    ukraine_report_delay: Any = param(0.5, "delay")
    ukraine_evidence_weight: float = param(0.6, "probability")
    lead_absent_factor: float = param(0.8, "probability")


@dataclass
class CommissionConfig:
    decision_rule: str = "qualified_majority"  # a registered rule (model/commission.py)
    qualified_share: float = param(0.6667, "probability")
    lead: str = "United States"  # a state with a commission seat (checked when built)
    investigation_time: Any = param({"dist": "gamma", "mean": 14.0, "shape": 4.0}, "delay")
    attribution_probability: float = param(0.7, "probability")
    agree_if_conclusive: float = param(0.9, "probability")
    agree_if_inconclusive: float = param(0.1, "probability")
    evidence_scale: float = param(1.0, "non-negative")  # looks per severity point above 1 (0: one look, flat)
    evidence_per_violation: float = param(0.001, "non-negative")  # looks per violation of aggregated fire


@dataclass
class CoordinationConfig:
    consultation_delay: Any = param(1.0, "delay")


@dataclass
class ForceConfig:
    deployed: bool = True
    min_troops: float = param(15000.0, "troops")
    hazard_multiplier: float = param(0.4, "multiplier")
    exposure: float = param(0.05, "probability")
    us_backstop_share: float = param(0.25, "probability")  # of the force's effect that rests on the US


@dataclass
class UkraineConfig:
    invocation_delay: Any = param(1.0, "delay")
    holding_days: float = param(30.0, "days")
    military_support_needed: float = param(8.0, "non-negative")  # EUR bn a year delivered: support in time
    initial_capacity: float = param(1.0, "non-negative")
    support_growth: float = param(0.002, "per day")
    damage_per_severity: float = param(0.02, "non-negative")
    damage_min_severity: float = param(3.0, "non-negative")


def run_setting(default: Any, unit: str | None = None, same_store: bool = False, options: tuple | None = None) -> Any:
    """A run setting: how many runs and how they are made, not what is simulated (a sweep's cells
    are not named by them, and they are no sweep lever). ``same_store``: a stored result does not
    depend on it (a rerun with another value finds the same cell and sweep folders)."""
    return param(default, unit, options=options, run_setting=True, same_store=same_store)


@dataclass
class GuaranteeConfig:
    coalition: CoalitionConfig = MISSING
    commitments: CommitmentsConfig = MISSING
    breach: BreachConfig = MISSING
    trigger: TriggerConfig = MISSING
    monitoring: MonitoringConfig = MISSING
    commission: CommissionConfig = field(default_factory=CommissionConfig)
    coordination: CoordinationConfig = field(default_factory=CoordinationConfig)
    force: ForceConfig = field(default_factory=ForceConfig)
    ukraine: UkraineConfig = field(default_factory=UkraineConfig)
    horizon: float = param(365.0, "horizon")
    runs: Any = run_setting(200, "runs")  # a whole number, or "auto" (add batches until the precision is reached)
    seed: int = run_setting(0, "seed")
    workers: int = run_setting(1, "workers", same_store=True)
    executor: str = run_setting("local", same_store=True)  # where the runs go: runs/executors.py
    batch_size: int = run_setting(500, "count")
    precision: float = run_setting(0.02, "half-width")
    precision_on: str = run_setting("protected_probability", options=PRECISION_MEASURES)  # the measure runs=auto makes precise
    max_runs: int = run_setting(20000, "count")
    baseline: Optional[str] = run_setting(None, same_store=True)  # which cell the tables compare with


# The run settings, as the schema declares them (``run_setting``): runs, seed, workers, ...
RUN_SETTINGS = tuple(f.name for f in dataclasses.fields(GuaranteeConfig) if f.metadata.get("run_setting"))
# What a sweep's cells are not named by and is no lever: the run settings and the preset
# (``experiment``, a defaults group). conf/config.yaml's hydra.job.config.override_dirname.exclude_keys
# reads it through the ``gs_not_levers`` resolver; runs/sweep.py through this name.
NOT_LEVERS = (*RUN_SETTINGS, "experiment")
# Run settings a stored result does not depend on (``same_store``): a cell's fingerprint
# (runs/store.py) and a sweep's folder (runs/cli.py) leave them out.
STORE_NEUTRAL = tuple(f.name for f in dataclasses.fields(GuaranteeConfig) if f.metadata.get("same_store"))


def register_schema() -> None:
    ConfigStore.instance().store(name="guarantee_sim_schema", node=GuaranteeConfig)


MAX_NAME_BYTES = 200  # a cell folder's name (file systems allow 255 bytes; room for Hydra's and our suffixes)


def cell_name(overrides) -> str:
    """A sweep cell's folder: its levers as ``key=value,...`` (sorted), or ``default`` when it sets none.

    ``overrides``: the job's overrides (``${hydra.overrides.task}``; the run settings and the preset
    are left out, and an override's ``+``/``++``) or a name made already. Always one folder, never a
    path: ``%``, ``/`` and ``\\`` in a value are written ``%25``, ``%2F`` and ``%5C``; a name longer
    than ``MAX_NAME_BYTES`` keeps its start and ends with a hash of the whole (the levers themselves
    are in the cell's ``cell.json``).
    """
    if isinstance(overrides, str):
        name = overrides
    else:
        lines = [str(o).lstrip("+") for o in overrides]
        name = ",".join(sorted(o for o in lines if o.lstrip("~").split("=", 1)[0].split(".")[0] not in NOT_LEVERS))
    name = name or "default"
    for char, code in (("%", "%25"), ("/", "%2F"), ("\\", "%5C"), ("\0", "%00")):
        name = name.replace(char, code)
    if len(name.encode()) > MAX_NAME_BYTES:
        digest = hashlib.sha1(name.encode()).hexdigest()[:12]
        head = name.encode()[: MAX_NAME_BYTES - len(digest) - 1].decode(errors="ignore")
        name = f"{head}~{digest}"
    return name


def not_levers() -> list[str]:
    """``${gs_not_levers:}`` in conf/config.yaml: ``NOT_LEVERS`` for Hydra's override_dirname."""
    return list(NOT_LEVERS)


register_schema()
for _name, _resolver in (("gs_cell", cell_name), ("gs_not_levers", not_levers)):
    if not OmegaConf.has_resolver(_name):
        OmegaConf.register_new_resolver(_name, _resolver)
