"""The coordination cell at the Coalition Operational HQ in Paris.

Between a trigger and the members' decisions sits a consultation round; the bilateral
agreements promise consultations within 24 hours [S: France-Ukraine and UK-Ukraine
agreements]; NATO's Article 4 took four days in September 2025 [S].
"""

from __future__ import annotations


class CoordinationCell:
    """Model component: one consultation round per trigger tier."""

    def __init__(self, scenario, streams):
        self.delay = scenario.consultation_delay
        self._u = streams.uniforms("consultation")

    def consultation_delay(self, tier: int) -> float:
        return self.delay.from_uniform(self._u(tier))
