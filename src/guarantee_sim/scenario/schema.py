"""The scenario schema: structured-config dataclasses that Hydra checks every YAML and override against.

Group YAMLs in ``conf/`` are the menu; these dataclasses are the schema. Registry-specific
parameters (a breach pattern's, a trigger rule's) live in free ``params`` mappings that the
registry entry's own ``Params`` dataclass checks when the scenario is built (``scenario.py``).
Sources: see ``docs/parameters.md`` ([S] sourced, [E] assumption).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf


@dataclass
class StateSpec:
    """One coalition member (or the United States)."""

    iso: str = MISSING
    regime: str = "executive"
    weight: float = 1.0
    capacity: Dict[str, float] = field(default_factory=dict)
    eu: bool = False
    force_troops: float = 0.0
    commission_seat: bool = False
    monitoring: bool = False
    monitoring_lead: bool = False
    us_conditional: bool = False
    bilateral_agreement: bool = False
    threshold: Optional[float] = None
    source: str = ""


@dataclass
class RegimeSpec:
    """A national procedure for deploying or activating support."""

    delay: Any = 1.0
    approval_probability: float = 0.95
    source: str = ""


@dataclass
class CoalitionConfig:
    name: str = MISSING
    states: Dict[str, Any] = field(default_factory=dict)
    regimes: Dict[str, RegimeSpec] = field(default_factory=dict)
    threshold_mean: float = 0.25
    threshold_sd: float = 0.15
    exclude: List[str] = field(default_factory=list)


@dataclass
class SupportTypeSpec:
    binding: bool = True
    follow_through: float = 0.85
    delivery_delay: Any = 0.0
    national_procedure: bool = False


@dataclass
class CommitmentsConfig:
    name: str = MISSING
    types: Dict[str, SupportTypeSpec] = field(default_factory=dict)
    us_role: str = "discretionary"
    honour_us_conditionality: bool = True
    cascade: bool = True
    bilateral_only: bool = False
    activation_share: float = 0.5
    eu_sanctions: bool = True
    eu_package_delay: Any = 14.0
    eu_veto_probability: float = 0.3
    eu_veto_delay: Any = 30.0
    unsc_referral: bool = False


@dataclass
class BreachConfig:
    pattern: str = MISSING
    params: Dict[str, Any] = field(default_factory=dict)


@dataclass
class TriggerConfig:
    rule: str = MISSING
    params: Dict[str, Any] = field(default_factory=dict)
    require_invocation: bool = False
    require_consultation: bool = True


@dataclass
class MonitoringConfig:
    name: str = MISSING
    detection: Dict[str, float] = field(default_factory=dict)
    report_delay: Any = 1.0
    false_alarm_rate: float = 0.005
    false_alarm_attribution: float = 0.1
    intelligence_sharing: bool = True
    intelligence_detection_boost: float = 0.05
    intelligence_attribution_boost: float = 0.05
    ukraine_recall: float = 0.9
    ukraine_report_delay: Any = 0.5
    ukraine_evidence_weight: float = 0.6
    lead_absent_factor: float = 0.8


@dataclass
class CommissionConfig:
    decision_rule: str = "qualified_majority"
    qualified_share: float = 0.6667
    lead: str = "United States"
    investigation_time: Any = field(default_factory=lambda: {"dist": "gamma", "mean": 14.0, "shape": 4.0})
    attribution_probability: float = 0.7
    agree_if_conclusive: float = 0.9
    agree_if_inconclusive: float = 0.1


@dataclass
class CoordinationConfig:
    consultation_delay: Any = 1.0


@dataclass
class ForceConfig:
    deployed: bool = True
    min_troops: float = 15000.0
    hazard_multiplier: float = 0.4
    exposure: float = 0.05


@dataclass
class UkraineConfig:
    invocation_delay: Any = 1.0
    holding_days: float = 30.0
    initial_capacity: float = 1.0
    support_growth: float = 0.002
    damage_per_severity: float = 0.02
    damage_min_severity: float = 3.0


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
    horizon: float = 365.0
    runs: Any = 200  # a whole number, or "auto" (add batches until the precision is reached)
    seed: int = 0
    workers: int = 1
    batch_size: int = 500
    precision: float = 0.02
    max_runs: int = 20000
    baseline: Optional[str] = None


def register_schema() -> None:
    ConfigStore.instance().store(name="guarantee_sim_schema", node=GuaranteeConfig)


def cell_name(override_dirname: str) -> str:
    """A sweep cell's folder: its levers as ``key=value,...``, or ``default`` when it sets none."""
    return override_dirname or "default"


register_schema()
if not OmegaConf.has_resolver("gs_cell"):
    OmegaConf.register_new_resolver("gs_cell", cell_name)
