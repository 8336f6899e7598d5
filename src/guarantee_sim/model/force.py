"""The multinational force: European-led contributions that reassure, and may act as a trip-wire."""

from __future__ import annotations

import numpy as np


class MultinationalForce:
    """Model component. Deployed when contributions reach the minimum viable size.

    Its presence (with the monitoring and the commission) scales the violator's escalation
    hazard by ``force.hazard_multiplier`` [S: Fortna 2003, 2004, peacekeepers cut the risk of
    renewed war by 50-75%]; incidents of severity 3 or more hit it with probability
    ``force.exposure`` [E], which a trip-wire trigger rule can count. Without the US backstop
    (``us_role: none``) the share ``force.us_backstop_share`` [E] of that reduction is lost.
    """

    TRIP_WIRE_SEVERITY = 3.0

    def __init__(self, scenario, streams):
        self.troops = sum(s.force_troops for s in scenario.states)
        self.deployed = scenario.force_deployed and self.troops >= scenario.force_min_troops
        m = scenario.force_hazard_multiplier
        if scenario.us_role == "none":  # no US backstop (air cover, intelligence, logistics): part of the effect goes
            m += (1.0 - m) * scenario.force_us_backstop_share
        self.hazard_multiplier = m if self.deployed else 1.0
        self.exposure = scenario.force_exposure if self.deployed else 0.0
        self._u = streams.uniforms("force_target")

    def is_targeted(self, breach) -> bool:
        return breach.severity >= self.TRIP_WIRE_SEVERITY and self._u(breach.index) < self.exposure

    def targeted(self, plan, offset: int = 0) -> np.ndarray:
        """``is_targeted`` for every incident of a ``BreachPlan`` (incident i reads position
        ``offset + i``: the war's incidents are numbered after the plan's)."""
        hit = np.zeros(len(plan), dtype=bool)
        if self.exposure <= 0:
            return hit
        heavy = np.flatnonzero(plan.severity >= self.TRIP_WIRE_SEVERITY)
        if len(heavy):
            hit[heavy] = self._u.span(offset, int(heavy[-1]) + 1)[heavy] < self.exposure
        return hit
