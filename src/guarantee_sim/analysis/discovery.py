"""Scenario discovery: the lever regions where binding support fails, as plain-language rules.

A CART decision tree (scikit-learn's ``DecisionTreeClassifier``) is grown on the runs of a
sensitivity sample: every sample point enters twice, once as "failed" weighted by its failed
runs and once as "not failed" weighted by the rest, which is the same as growing the tree on
the runs themselves (the lever values are the same for every run of a point). Each leaf is a
box in lever space; the leaves where most runs fail are the failure regions. For each box:

- density: the share of runs inside the box that fail;
- coverage: the share of all failed runs that fall inside the box;
- mass: the share of all runs that fall inside the box.

A well-kept implementation (CART) finds the boxes; this module only reads them off the tree,
re-applies them to other samples and words them. PRIM (EMA Workbench's ``prim.Prim``, with the
optional extra ``ema``) finds one box beside them, measured the same way.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Condition:
    """One side of a box: ``lever <= threshold`` or ``lever > threshold`` (CART's own split)."""

    lever: str
    op: str  # "<=" or ">"
    threshold: float

    def mask(self, X: pd.DataFrame) -> np.ndarray:
        x = X[self.lever].to_numpy(dtype=float)
        return x <= self.threshold if self.op == "<=" else x > self.threshold


@dataclass(frozen=True)
class Rule:
    """A box of lever space and how failure concentrates in it (``text``: the rule in words)."""

    conditions: list[Condition]
    density: float
    coverage: float
    mass: float
    failures: float
    runs: float
    points: int
    failure_region: bool = True
    text: str = ""

    def mask(self, X: pd.DataFrame) -> np.ndarray:
        m = np.ones(len(X), dtype=bool)
        for c in self.conditions:
            m &= c.mask(X)
        return m

    def as_dict(self) -> dict:
        d = asdict(self)
        d["conditions"] = [asdict(c) for c in self.conditions]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Rule":
        d = dict(d)
        d["conditions"] = [Condition(**c) for c in d["conditions"]]
        return cls(**d)


@dataclass
class Discovery:
    """The failure regions found in one sample, with the sample's totals."""

    rules: list[Rule]
    failure_rate: float
    failures: float
    runs: float
    min_density: float
    importances: dict[str, float] = field(default_factory=dict)


def _tightest(conditions: list[Condition]) -> list[Condition]:
    """Merge a path's conditions: one upper and one lower bound per lever at most."""
    out: dict[tuple[str, str], Condition] = {}
    for c in conditions:
        k = (c.lever, c.op)
        old = out.get(k)
        if old is None or (c.op == "<=" and c.threshold < old.threshold) or (c.op == ">" and c.threshold > old.threshold):
            out[k] = c
    order = list(dict.fromkeys(c.lever for c in conditions))
    return sorted(out.values(), key=lambda c: (order.index(c.lever), c.op != ">"))


def _boxes(tree, names: list[str], failure: np.ndarray) -> list[tuple[list[Condition], bool, int]]:
    """The tree's boxes: maximal subtrees whose leaves are all failure regions become one box
    (sibling failure leaves merged into their parent), every other leaf is a box of its own.

    Returns (conditions, is failure region, node) per box.
    """
    t = tree.tree_

    def walk(node: int, conds: list[Condition]):
        if t.children_left[node] == -1:
            return [(_tightest(conds), bool(failure[node]), node)], bool(failure[node])
        name, thr = names[t.feature[node]], float(t.threshold[node])
        left, lf = walk(t.children_left[node], conds + [Condition(name, "<=", thr)])
        right, rf = walk(t.children_right[node], conds + [Condition(name, ">", thr)])
        if lf and rf:
            return [(_tightest(conds), True, node)], True
        return left + right, False

    return walk(0, [])[0]


def measure(rule_masks: list[np.ndarray], failed: np.ndarray, considered: np.ndarray) -> list[tuple[float, float, float, float, float, int]]:
    """(density, coverage, mass, failures, runs, points) of each box on a sample."""
    failed = np.asarray(failed, dtype=float)
    considered = np.asarray(considered, dtype=float)
    total_f, total_n = failed.sum(), considered.sum()
    out = []
    for m in rule_masks:
        f, n = failed[m].sum(), considered[m].sum()
        out.append((
            f / n if n > 0 else math.nan,
            f / total_f if total_f > 0 else math.nan,
            n / total_n if total_n > 0 else math.nan,
            float(f), float(n), int(m.sum()),
        ))
    return out


def find_failure_rules(
    X: pd.DataFrame,
    failed: np.ndarray,
    considered: np.ndarray,
    max_depth: int = 3,
    min_leaf_share: float = 0.05,
    min_density: float = 0.5,
    seed: int = 0,
) -> Discovery:
    """Grow a CART tree on the runs and return its leaves as boxes, failure regions first.

    ``X`` holds one row of lever values per sample point, ``failed`` and ``considered`` the
    point's failed runs and the runs that count (e.g. only runs with an armed attack). Leaves
    hold at least ``min_leaf_share`` of the runs, so no box rests on a handful of points; a box
    is a failure region when its density reaches ``min_density``. Boxes are sorted by
    coverage within each kind (failure regions, then the rest by density).
    """
    from sklearn.tree import DecisionTreeClassifier

    failed = np.asarray(failed, dtype=float)
    considered = np.asarray(considered, dtype=float)
    if np.any(failed > considered) or np.any(failed < 0):
        raise ValueError("failed runs must lie between 0 and the runs considered")
    total_f, total_n = float(failed.sum()), float(considered.sum())
    rate = total_f / total_n if total_n > 0 else math.nan
    names = list(X.columns)
    if total_n == 0 or total_f == 0 or total_f == total_n:
        return Discovery([], rate, total_f, total_n, min_density)

    values = X.to_numpy(dtype=float)
    ok = considered - failed
    keep_f, keep_o = failed > 0, ok > 0
    Xw = np.vstack([values[keep_f], values[keep_o]])
    yw = np.concatenate([np.ones(keep_f.sum(), dtype=int), np.zeros(keep_o.sum(), dtype=int)])
    ww = np.concatenate([failed[keep_f], ok[keep_o]])
    tree = DecisionTreeClassifier(max_depth=max_depth, min_weight_fraction_leaf=min_leaf_share, random_state=seed)
    tree.fit(Xw, yw, sample_weight=ww)

    in_node = tree.decision_path(values).toarray().astype(bool)  # points x nodes
    node_f = failed @ in_node
    node_n = considered @ in_node
    with np.errstate(divide="ignore", invalid="ignore"):
        node_density = np.where(node_n > 0, node_f / node_n, 0.0)
    boxes = _boxes(tree, names, node_density >= min_density)
    masks = [in_node[:, node] for _, _, node in boxes]
    rules = []
    for (conds, is_failure, _), (density, coverage, mass, f, n, pts) in zip(boxes, measure(masks, failed, considered)):
        if n == 0:
            continue
        rules.append(Rule(conds, density, coverage, mass, f, n, pts, is_failure))
    rules.sort(key=lambda r: (not r.failure_region, -(r.coverage if r.failure_region else r.density)))
    importances = {name: float(v) for name, v in zip(names, tree.feature_importances_)}
    return Discovery(rules, rate, total_f, total_n, min_density, importances)


def reapply(rules: list[Rule], X: pd.DataFrame, failed: np.ndarray, considered: np.ndarray) -> pd.DataFrame:
    """The boxes' density, coverage and mass on another sample (e.g. a fresh one)."""
    stats = measure([r.mask(X) for r in rules], failed, considered)
    return pd.DataFrame(stats, columns=["density", "coverage", "mass", "failures", "runs", "points"])


# PRIM beside CART ------------------------------------------------------------------------------
def prim_available() -> bool:
    """EMA Workbench (the optional extra ``ema``) is installed, so PRIM can run."""
    from importlib.util import find_spec

    return find_spec("ema_workbench") is not None


def prim_box(X: pd.DataFrame, y: np.ndarray, min_density: float = 0.5, mass_min: float = 0.05,
             peel_alpha: float = 0.05, max_restricted: int = 3) -> list[Condition]:
    """The first PRIM box (EMA Workbench's ``prim.Prim``) on cases ``X`` where ``y`` marks the cases
    of interest: of the points of its peeling trajectory that restrict at most ``max_restricted``
    levers (as CART's depth 3 does; more overfits a small sample), the one that covers most cases
    of interest among those with density >= ``min_density`` (else the densest). Returns the box's
    restricted sides."""
    import inspect

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ipyparallel not installed")  # EMA's optional evaluator
        from ema_workbench.analysis import prim

    x = X.reset_index(drop=True).astype(float)
    y = np.asarray(y, dtype=bool)
    # EMA 2.x marks the cases of interest by y >= threshold (and returns the whole space when its last
    # box is less dense than that); 3.x takes y as the cases of interest
    extra = {"threshold": min_density} if "threshold" in inspect.signature(prim.Prim).parameters else {}
    log = logging.getLogger("EMA")  # EMA logs each box at INFO; a library stays quiet
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # EMA drops a "scenario" column with pandas' deprecated inplace=True
            warnings.filterwarnings("ignore", message="The inplace keyword")
            box = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min, **extra).find_box()
    finally:
        log.setLevel(level)
    trajectory = box.peeling_trajectory
    trajectory = trajectory[trajectory["res_dim"] <= max_restricted]  # the first point restricts none
    dense = trajectory[trajectory["density"] >= min_density]
    i = int(dense["coverage"].idxmax() if len(dense) else trajectory["density"].idxmax())
    limits = box.box_lims[i]
    conditions = []
    for lever in x.columns:
        lo, hi = float(limits[lever].iloc[0]), float(limits[lever].iloc[1])
        if lo > x[lever].min():
            conditions.append(Condition(lever, ">", float(np.nextafter(lo, -np.inf))))  # PRIM's sides are closed
        if hi < x[lever].max():
            conditions.append(Condition(lever, "<=", hi))
    return conditions


def find_prim_rule(X: pd.DataFrame, failed: np.ndarray, considered: np.ndarray, min_density: float = 0.5,
                   mass_min: float = 0.05) -> Rule | None:
    """PRIM's failure box on the runs of a sample (each point's runs as cases: ``failed`` of its
    ``considered`` runs are cases of interest), measured like CART's boxes; None if nothing fails
    or everything does."""
    failed = np.asarray(failed, dtype=int)
    considered = np.asarray(considered, dtype=int)
    if failed.sum() == 0 or failed.sum() == considered.sum():
        return None
    cases = X.loc[X.index.repeat(considered)].reset_index(drop=True)
    y = np.concatenate([np.arange(n) < f for f, n in zip(failed, considered)])
    conditions = prim_box(cases, y, min_density, mass_min)
    mask = np.ones(len(X), dtype=bool)
    for c in conditions:
        mask &= c.mask(X)
    density, coverage, mass, f, n, pts = measure([mask], failed, considered)[0]
    return Rule(conditions, density, coverage, mass, f, n, pts, bool(density >= min_density))


# words ---------------------------------------------------------------------------------------
def _num(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}" if abs(x) >= 0.01 else f"{x:.2g}"


def _with_unit(x: float, unit: str) -> str:
    return f"{_num(x)} {unit}" if unit in ("days", "per day") else _num(x)


def condition_text(c: Condition, label: str, unit: str = "") -> str:
    op = "≤" if c.op == "<=" else ">"
    return f"{label} {op} {_with_unit(c.threshold, unit)}"


def conditions_text(conditions: list[Condition], labels: dict[str, str], units: dict[str, str]) -> list[str]:
    """One phrase per lever: "x ≤ a", "x > b" or "b < x ≤ a"."""
    parts = []
    for lever in dict.fromkeys(c.lever for c in conditions):
        label, unit = labels.get(lever, lever), units.get(lever, "")
        lo = next((c for c in conditions if c.lever == lever and c.op == ">"), None)
        hi = next((c for c in conditions if c.lever == lever and c.op == "<="), None)
        if lo and hi:
            parts.append(f"{_num(lo.threshold)} < {label} ≤ {_with_unit(hi.threshold, unit)}")
        else:
            parts.append(condition_text(lo or hi, label, unit))
    return parts


def rule_text(rule: Rule, labels: dict[str, str] | None = None, units: dict[str, str] | None = None,
              what: str = "binding support fails to activate", among: str = "runs") -> str:
    """One rule in plain language, e.g. "when attribution probability ≤ 0.55 and ..., ..."."""
    labels, units = labels or {}, units or {}
    parts = conditions_text(rule.conditions, labels, units)
    where = ("when " + " and ".join(parts)) if parts else "everywhere in the sampled ranges"
    return (f"{where}, {what} in {rule.density:.0%} of {among} "
            f"(covers {rule.coverage:.0%} of failures; {rule.mass:.0%} of {among} fall in this region)")


def describe(result: Discovery, labels: dict[str, str] | None = None, units: dict[str, str] | None = None,
             what: str = "binding support fails to activate", among: str = "runs") -> str:
    """The failure regions as numbered plain-language rules (or why there are none)."""
    lines = [f"Overall, {what} in {result.failure_rate:.0%} of {among} "
             f"({result.failures:.0f} of {result.runs:.0f})."] if result.runs else [f"No {among} to study."]
    regions = [r for r in result.rules if r.failure_region]
    if not result.rules:
        if result.runs:
            lines.append("Failure does not vary across the sample, so there is no region to find.")
        return "\n".join(lines)
    if not regions:
        best = max(result.rules, key=lambda r: r.density)
        lines.append(f"No region reaches a failure density of {result.min_density:.0%}; the densest is:")
        lines.append("  " + rule_text(best, labels, units, what, among))
        return "\n".join(lines)
    union = sum(r.coverage for r in regions)
    lines.append(f"Failure regions (CART leaves with density ≥ {result.min_density:.0%}; together they cover {union:.0%} of failures):")
    for i, r in enumerate(regions, 1):
        lines.append(f"  {i}. " + rule_text(r, labels, units, what, among))
    return "\n".join(lines)


def rules_frame(result: Discovery, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per box: its rule (machine- and human-readable), density, coverage and mass."""
    labels = labels or {}
    rows = []
    for i, r in enumerate(result.rules, 1):
        rows.append({
            "rank": i,
            "failure_region": r.failure_region,
            "rule": " and ".join(f"{c.lever} {c.op} {c.threshold:.6g}" for c in r.conditions) or "(all)",
            "text": r.text,
            "density": r.density,
            "coverage": r.coverage,
            "mass": r.mass,
            "failures": r.failures,
            "runs": r.runs,
            "points": r.points,
        })
    return pd.DataFrame(rows, columns=["rank", "failure_region", "rule", "text", "density", "coverage", "mass",
                                       "failures", "runs", "points"])
