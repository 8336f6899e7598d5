"""The ``study`` block of ``conf/sensitivity.yaml`` as a structured config, so that Hydra checks
its keys and types before a study starts (registered as ``guarantee_sim_sensitivity_schema``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from guarantee_sim.scenario.schema import GuaranteeConfig

DESIGNS = ("sobol", "lhs")
SCALES = ("linear", "log")
AMONG = ("all", "attacked")


@dataclass
class LeverSpec:
    """One continuous lever: a key (or keys set together) and its plausible range."""

    key: Any = MISSING  # a key as typed on the command line, or a list of keys with the same range
    low: float = MISSING
    high: float = MISSING
    scale: str = "linear"  # linear (uniform) | log (log-uniform, for rates spanning >= 10x)
    label: str = ""
    unit: str = ""
    breach: Optional[str] = None  # the lever exists only under this breach pattern
    unless_breach: Optional[str] = None  # the lever does nothing under this breach pattern (left out there)


@dataclass
class DiscoverySpec:
    among: str = "all"  # all runs | attacked: only runs with an armed attack
    late_days: Optional[float] = None  # also fail when activation comes later than this (days)
    max_depth: int = 3
    min_leaf_share: float = 0.05
    min_density: float = 0.5


@dataclass
class StudyConfig:
    name: str = "sensitivity"
    question: str = ""
    design: str = "sobol"  # sobol | lhs
    n: int = 256  # base sample size; the study runs n * (levers + 2) points
    replicates: int = 32  # runs per sample point (the same seeds at every point of a Saltelli row)
    bootstrap: int = 999  # bootstrap resamples for the index intervals
    confidence: float = 0.95
    precision: float = 0.1  # warn when a total index's interval is wider than +/- this (study.n too small)
    noise_points: int = 32  # points re-run with fresh seeds to measure the seed noise
    support_type: Optional[str] = None  # null: binding support pooled (activation); or one type, e.g. military
    # name -> LeverSpec fields; a plain mapping so that `+study.levers.<name>={key: ..., low: ..., high: ...}`
    # adds a lever and `~study.levers.<name>` drops one (checked in levers_from_study)
    levers: Dict[str, Any] = field(default_factory=dict)
    discovery: DiscoverySpec = field(default_factory=DiscoverySpec)


@dataclass
class SensitivityConfig(GuaranteeConfig):
    study: StudyConfig = field(default_factory=StudyConfig)


ConfigStore.instance().store(name="guarantee_sim_sensitivity_schema", node=SensitivityConfig)
