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

from guarantee_sim.model.binomial import binomial_quantile
from guarantee_sim.model.breaches import KINDS, Breach, BreachKind, BreachPlan


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
