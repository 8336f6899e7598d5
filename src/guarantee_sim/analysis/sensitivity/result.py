"""A finished sensitivity study as typed data: what ``guarantee-sim-sensitivity`` writes as
``study_result.json`` beside its tables, and what the summary Markdown and the report's study
section are rendered from, so that no reader re-parses text or recombines the CSV files.

    from guarantee_sim.analysis.sensitivity.result import load_result
    result = load_result("results/sensitivity/<run>")
    [(x.label, x.ST) for x in result.outcomes[0].levers[:3]]   # the three levers that matter most
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from guarantee_sim.analysis.discovery import Rule
from guarantee_sim.analysis.sensitivity.levers import Lever
from guarantee_sim.errors import ConfigError

MARKER = "study.json"  # a finished study's marker: its metadata, timing and file list
KIND = "guarantee_sim.analysis.sensitivity"  # the marker's kind: a format name, kept when modules move
RESULT = "study_result.json"
VERSION = 1
INDEX_COLUMNS = ["lever", "label", "key", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]


@dataclass(frozen=True)
class LeverIndex:
    """One lever's Sobol' indices for one outcome with their bootstrap intervals; NaN where the
    outcome varies too little for an estimate."""

    lever: str
    label: str
    key: str  # as typed on the command line; several keys set together read "[a, b]"
    S1: float
    S1_low: float
    S1_high: float
    ST: float  # the total index, which ranks the levers
    ST_low: float
    ST_high: float


@dataclass(frozen=True)
class OutcomeIndices:
    """The levers of one outcome, ranked by total index (highest first, ties in lever order)."""

    outcome: str  # a column of the sample, e.g. activation_probability
    label: str
    unit: str
    noise_share: float | None  # the run seeds' share of the output variance; None: not measured
    levers: tuple[LeverIndex, ...]
    figure: str | None = None  # the index figure in the study folder (PNG; an SVG beside it)

    @property
    def estimated(self) -> bool:
        return any(not math.isnan(x.ST) for x in self.levers)


@dataclass(frozen=True)
class Failures:
    """Where binding support fails: the CART boxes (failure regions first), in words and numbers.

    It has a ``Discovery``'s ``rules`` and ``importances``, so the failure-region figure takes it."""

    what: str  # e.g. "binding support fails to activate within the horizon"
    among: str  # the runs that count, e.g. "runs with an armed attack"
    rate: float
    min_density: float
    rules: tuple[Rule, ...]
    importances: dict[str, float]
    figure: str | None = None

    @property
    def regions(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.failure_region)


@dataclass(frozen=True)
class StudyResult:
    """A finished study: what was varied, over which scenario and design, which levers drive each
    outcome, and where support fails. Timing and the file list stay in ``study.json``."""

    name: str
    question: str
    scenario: dict[str, str]  # the scenario's labels: breach=..., trigger=...
    design: str
    n: int
    replicates: int  # runs per sample point
    points: int
    runs: int  # all runs, the noise check's included
    seed: int
    horizon: float
    support_type: str | None  # None: binding support of any type
    median_reached_share: float  # the share of points whose median is reached within the horizon
    git_commit: str | None
    levers: tuple[Lever, ...]
    outcomes: tuple[OutcomeIndices, ...]
    failures: Failures
    precision: float = 0.1  # the half-width asked of the total indices' intervals (study.precision)

    def indices_frame(self) -> pd.DataFrame:
        """The index table as ``indices.csv`` lays it out (one row per outcome and lever), ranked."""
        rows = [{"outcome": o.outcome, **asdict(x)} for o in self.outcomes for x in o.levers]
        return pd.DataFrame(rows, columns=["outcome", *INDEX_COLUMNS])

    def to_json(self) -> str:
        return json.dumps({"kind": KIND, "version": VERSION, **json_ready(asdict(self))}, indent=2, ensure_ascii=False)


def json_ready(value):
    """Plain JSON: tuples as lists, numpy scalars as numbers, NaN and infinities as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return json_ready(value.item())
    return value


def _nan(d: dict, keys) -> dict:
    """null back to NaN where JSON could not hold the number."""
    return {k: math.nan if k in keys and v is None else v for k, v in d.items()}


def from_dict(data: dict) -> StudyResult:
    """The result from its JSON form (``StudyResult.to_json``)."""
    nested = ("kind", "version", "levers", "outcomes", "failures")
    f = data["failures"]
    rules = tuple(Rule.from_dict(_nan(r, ("density", "coverage", "mass"))) for r in f["rules"])
    return StudyResult(
        **{k: v for k, v in data.items() if k not in nested},
        levers=tuple(Lever(**dict(lv, keys=tuple(lv["keys"]))) for lv in data["levers"]),
        outcomes=tuple(OutcomeIndices(**dict(o, levers=tuple(LeverIndex(**_nan(x, INDEX_COLUMNS[3:])) for x in o["levers"])))
                       for o in data["outcomes"]),
        failures=Failures(**_nan(dict(f, rules=rules), ("rate",))),
    )


def load_result(folder: Path | str) -> StudyResult:
    """Read a study folder's ``study_result.json``; ConfigError (one line) if it is missing or of
    another format: the study is then to be run again."""
    path = Path(folder) / RESULT
    rerun = "rerun the study: guarantee-sim-sensitivity with the overrides in its provenance.json (\"command\")"
    if not path.is_file():
        raise ConfigError(str(path), f"not found: the study was written before studies kept their typed result; {rerun}")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), f"cannot be read ({type(exc).__name__}: {exc}); {rerun}") from None
    if data.get("kind") != KIND or data.get("version") != VERSION:
        raise ConfigError(str(path), f"holds format {data.get('kind')!r} version {data.get('version')!r}, not version "
                          f"{VERSION}; {rerun}")
    return from_dict(data)


def is_study(folder: Path | str) -> bool:
    """Does ``folder`` hold a finished sensitivity study (its ``study.json`` marker)?"""
    p = Path(folder) / MARKER
    if not p.is_file():
        return False
    try:
        return json.loads(p.read_text()).get("kind") == KIND
    except (OSError, ValueError):
        return False


def find_studies(results: Path | str) -> list[Path]:
    """Every sensitivity study folder under ``results`` (newest last)."""
    return sorted((p.parent for p in Path(results).rglob(MARKER) if is_study(p.parent)), key=lambda p: p.name)
