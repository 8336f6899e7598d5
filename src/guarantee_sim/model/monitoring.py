"""The US-led monitoring and verification mechanism, with coalition members taking part.

Detection is by breach kind; an aggregated incident of ``count`` violations is detected if any
of them is, and the number detected is binomially thinned (never one draw per shot). Coverage
can be restricted by the violator; intelligence sharing raises detection. Reports reach the
special commission after a delay. False alarms arrive as a Poisson process. Without the
monitoring lead (the United States) in the coalition, detection falls by
``monitoring.lead_absent_factor``; intelligence sharing needs at least one participating state.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import special

from guarantee_sim.model.breaches import KINDS, Breach, BreachKind, BreachPlan

_ROW_LIMIT = 1024  # incidents of up to this many violations read the binomial CDF from stored rows


class _CdfRows:
    """Rows ``bdtr(k, n, p)`` for k = 0 .. n + 1 (a search may look one past n), n up to
    ``_ROW_LIMIT``, end to end in one array: the same n and p recur across incidents and runs, and a
    row costs what a few searches do. Bounded: emptied when full."""

    def __init__(self, max_values: int = 1 << 21, max_p: int = 256):
        self.max_values, self.max_p = max_values, max_p
        self.clear()

    def clear(self) -> None:
        self.flat, self.used = np.empty(1 << 14), 0  # grown by doubling; rows fill flat[:used]
        self.p_row: dict[float, int] = {}
        self.start = np.empty((0, _ROW_LIMIT + 1), np.int64)  # where (p, n)'s row begins, -1 if absent

    def find(self, n: np.ndarray, p: np.ndarray) -> np.ndarray | None:
        """Where each incident's row begins in ``flat`` (None if they would not fit)."""
        p_values = p[:1] if (p == p[0]).all() else np.unique(p)
        p_list = p_values.tolist()
        new_p = [v for v in p_list if v not in self.p_row]
        if len(self.p_row) + len(new_p) > self.max_p:
            if len(p_list) > self.max_p:
                return None
            self.clear()
            return self.find(n, p)
        for v in new_p:
            self.p_row[v] = len(self.p_row)
        if new_p:
            self.start = np.vstack([self.start, np.full((len(new_p), _ROW_LIMIT + 1), -1, np.int64)])
        row = np.array([self.p_row[v] for v in p_list])[np.searchsorted(p_values, p)]
        start = self.start[row, n]
        missing = start < 0
        if missing.any():
            rows, sizes = np.divmod(np.unique(row[missing] * (_ROW_LIMIT + 1) + n[missing]), _ROW_LIMIT + 1)
            lengths = sizes + 2
            end = self.used + int(lengths.sum())
            if end > self.max_values:
                if end - self.used > self.max_values:
                    return None
                self.clear()
                return self.find(n, p)
            if end > len(self.flat):
                grown = np.empty(min(self.max_values, max(2 * len(self.flat), end)))
                grown[: self.used] = self.flat[: self.used]
                self.flat = grown
            offsets = np.cumsum(lengths) - lengths
            k = np.arange(end - self.used, dtype=np.int64) - np.repeat(offsets, lengths)
            p_of_row = np.empty(len(self.p_row))
            p_of_row[list(self.p_row.values())] = list(self.p_row)
            self.flat[self.used : end] = special.bdtr(k, np.repeat(sizes, lengths), np.repeat(p_of_row[rows], lengths))
            self.start[rows, sizes] = self.used + offsets
            self.used = end
            start = self.start[row, n]
        return start


_CDF_ROWS = _CdfRows()


def binomial_quantile(q: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The smallest k with P(Binomial(n, p) <= k) >= q: ``scipy.stats.binom.ppf``'s answer (a test
    holds them equal) at a fraction of its cost, which matters for ~700 aggregated incidents a run.

    Starts from the Cornish-Fisher approximation and steps to the exact answer with
    ``scipy.special.bdtr``, the binomial CDF (usually two evaluations); for n up to ``_ROW_LIMIT``
    the evaluations are read from stored rows of the same numbers.
    """
    n, p, q = np.asarray(n, np.int64), np.asarray(p, float), np.asarray(q, float)
    sd = np.sqrt(n * p * (1.0 - p))
    z = np.clip(special.ndtri(q), -40.0, 40.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(sd > 0, (1.0 - 2.0 * p) / sd, 0.0)
    k = np.clip(np.ceil(n * p + sd * (z + skew * (z * z - 1.0) / 6.0) - 0.5), 0, n).astype(np.int64)
    # rows hold k = 0 .. n + 1, all a search from 0 <= k <= n reads (NaN q or p stay off them)
    rowed = (n <= _ROW_LIMIT) & (p > 0) & (k >= 0) & (k <= n)
    if rowed.all():
        _search(k, q, n, p, True)
        return k
    for group, in_rows in ((np.flatnonzero(rowed), True), (np.flatnonzero(~rowed), False)):
        if len(group):
            kg = k[group]
            _search(kg, q[group], n[group], p[group], in_rows)
            k[group] = kg
    return k


def _search(k: np.ndarray, q: np.ndarray, n: np.ndarray, p: np.ndarray, in_rows: bool) -> None:
    """Move each start ``k`` (in place) to the smallest k with ``bdtr(k, n, p) >= q``, reading the
    CDF from the stored rows or computing it. Each incident's answer depends on its numbers only."""
    if not len(k):
        return
    start = _CDF_ROWS.find(n, p) if in_rows else None
    if start is not None:
        flat = _CDF_ROWS.flat

        def cdf(i, j):
            return flat[start[i] + j]
    else:
        def cdf(i, j):
            return special.bdtr(j, n[i], p[i])

    below = cdf(slice(None), k) < q
    up = np.flatnonzero(below)
    while len(up):
        k[up] += 1
        up = up[cdf(up, k[up]) < q[up]]
    down = np.flatnonzero(~below & (k > 0))  # a k reached from below is the answer already
    down = down[cdf(down, k[down] - 1) >= q[down]]
    while len(down):
        k[down] -= 1
        down = down[k[down] > 0]
        down = down[cdf(down, k[down] - 1) >= q[down]]


@functools.lru_cache(maxsize=1024)
def _single_p_any(p: float) -> float:
    """``observe_arrays``' chance that one violation is detected, worked out by the same array
    operations (numpy's power need not round as Python's does); the same few values recur."""
    return (1.0 - (1.0 - np.array([p], float)) ** np.ones(1, np.int64)).item(0)


@dataclass(slots=True)
class Observation:
    """What the monitoring saw of one incident."""

    detected: bool
    n_detected: int
    report_day: float


@dataclass(slots=True)
class FalseAlarm:
    day: float
    kind: BreachKind
    severity: float
    index: int
    report_day: float


class MonitoringMechanism:
    """Model component (not an agent): the mechanism's instruments and procedures."""

    FALSE_ALARM_KINDS = (BreachKind.SMALL_ARMS, BreachKind.ARTILLERY, BreachKind.DRONE_MISSILE)

    def __init__(self, scenario, streams, coverage: float = 1.0):
        self.s = scenario
        self.lead_present = any(s.monitoring_lead for s in scenario.states)
        self.participants = sum(s.monitoring for s in scenario.states)
        boost = scenario.intelligence_detection_boost if scenario.intelligence_sharing and self.participants else 0.0
        if not self.lead_present:  # without the lead's drones, satellites and sensors
            coverage *= scenario.lead_absent_factor
        self.p = {k: min(1.0, (p + boost) * coverage) for k, p in scenario.detection.items()}
        self._p_by_kind = np.array([self.p[k] for k in KINDS])
        self._u_detect = streams.uniforms("detection")
        self._u_count = streams.uniforms("detected_count")
        self._u_delay = streams.uniforms("report_delay")
        self._streams = streams

    def observe(self, breaches: list[Breach]) -> list[Observation]:
        """Screen incidents (vectorised over the list; each reads its own stream positions)."""
        if not breaches:
            return []
        if len(breaches) == 1 and breaches[0].count == 1 and breaches[0].index >= 0:
            return [self._observe_single(breaches[0])]
        index = np.array([b.index for b in breaches], dtype=np.int64)
        detected, n_detected, report_days = self.observe_arrays(BreachPlan.of(breaches), index)
        return [Observation(bool(d), int(k), float(t)) for d, k, t in zip(detected, n_detected, report_days)]

    def _observe_single(self, b: Breach) -> Observation:
        """``observe_arrays`` for one single violation, as adaptive and strategic violators commit
        them one at a time: the same stream positions and numbers without a plan's arrays (a single
        violation never reads the detected-count stream)."""
        i = b.index
        detected = self._u_detect(i) < _single_p_any(self.p[b.kind])
        d = self.s.report_delay  # a fixed delay needs no uniform; others as their array form draws them
        delay = d.from_uniform(0.0) if d.is_fixed else d.from_uniforms(self._u_delay.span(i, 1)).item(0)
        return Observation(detected, int(detected), float(b.day) + delay)

    def observe_arrays(self, plan: BreachPlan, index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(detected, violations detected, report day) per incident; incident i reads ``index[i]``
        (default: its position in the plan)."""
        if not len(plan):
            return np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(0)
        if index is None:
            idx = np.arange(len(plan))
            u, u_delay = self._u_detect.span(0, len(plan)), self._u_delay.span(0, len(plan))
        else:
            idx = index
            u, u_delay = self._take(self._u_detect, idx), self._take(self._u_delay, idx)
        p = self._p_by_kind[plan.kind]
        n = plan.count
        p_any = 1.0 - (1.0 - p) ** n
        detected = u < p_any
        n_detected = detected.astype(np.int64)
        multi = detected & (n > 1)
        if multi.any():
            # inverse CDF of Binomial(n, p) conditioned on at least one detection
            v = self._take(self._u_count, idx[multi])
            f0 = (1.0 - p[multi]) ** n[multi]
            n_detected[multi] = np.maximum(1, binomial_quantile(f0 + v * (1.0 - f0), n[multi], p[multi]))
        delays = self.s.report_delay.from_uniforms(u_delay)
        return detected, n_detected, plan.day + delays

    @staticmethod
    def _take(stream, idx: np.ndarray) -> np.ndarray:
        if len(idx) == 0:
            return np.empty(0)
        return stream.span(0, int(idx.max()) + 1)[idx]

    def false_alarms(self, horizon: float) -> list[FalseAlarm]:
        """False alarms over the whole run, from their own streams."""
        rate = self.s.false_alarm_rate
        if rate <= 0:
            return []
        rng = self._streams.rng("false_alarms")
        n = rng.poisson(rate * horizon)
        days = np.sort(rng.uniform(0.0, horizon, n))
        kinds = rng.integers(0, len(self.FALSE_ALARM_KINDS), n)
        delays = self.s.report_delay.from_uniforms(self._streams.uniforms("fa/report_delay").span(0, n))
        kind = self.FALSE_ALARM_KINDS
        return [FalseAlarm(d, kind[k], kind[k].default_severity, j, d + dl)
                for j, (d, k, dl) in enumerate(zip(days.tolist(), kinds.tolist(), delays.tolist()))]
