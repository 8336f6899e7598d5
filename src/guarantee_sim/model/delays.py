"""Delay distributions. Every delay in a scenario is a plain number (fixed) or one of these.

Each delay is drawn from one uniform number by its inverse CDF, so a run's i-th delay comes
from the i-th uniform of its stream whatever the distribution's parameters: raising a mean
lengthens that same delay instead of reshuffling all later draws (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from guarantee_sim.errors import ConfigError
from guarantee_sim.model.registry import Registry, build_params, param

DISTRIBUTIONS: Registry[type["Delay"]] = Registry("delay distribution")


class Delay:
    """A non-negative delay in days."""

    name = "delay"
    Params: type

    def __init__(self, params):
        self.params = params

    def from_uniform(self, u: float) -> float:
        raise NotImplementedError

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        """Vectorised ``from_uniform``: the same numbers for the same uniforms."""
        raise NotImplementedError

    @property
    def mean(self) -> float:
        raise NotImplementedError

    @property
    def is_fixed(self) -> bool:
        return False

    def describe(self) -> str:
        fields = ", ".join(f"{k}={v:g}" for k, v in vars(self.params).items())
        return f"{self.name}({fields})"


@DISTRIBUTIONS.register("fixed")
class Fixed(Delay):
    @dataclass(frozen=True)
    class Params:
        value: float = param(0.0, "days")

    def from_uniform(self, u: float) -> float:
        return self.params.value

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        return np.full(len(u), self.params.value)

    @property
    def mean(self) -> float:
        return self.params.value

    @property
    def is_fixed(self) -> bool:
        return True


@DISTRIBUTIONS.register("exponential")
class Exponential(Delay):
    @dataclass(frozen=True)
    class Params:
        mean: float = param(1.0, "days")

    def from_uniform(self, u: float) -> float:
        return -self.params.mean * math.log1p(-u)

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        return -self.params.mean * np.log1p(-u)

    @property
    def mean(self) -> float:
        return self.params.mean


@DISTRIBUTIONS.register("lognormal")
class LogNormal(Delay):
    """Parametrised by its median (days) and sigma (sd of the log): right-skewed waits."""

    @dataclass(frozen=True)
    class Params:
        median: float = param(1.0, "positive")
        sigma: float = param(0.5, "non-negative")

    def from_uniform(self, u: float) -> float:
        return self.params.median * math.exp(self.params.sigma * float(special.ndtri(u)))

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        return self.params.median * np.exp(self.params.sigma * special.ndtri(u))

    @property
    def mean(self) -> float:
        return self.params.median * math.exp(self.params.sigma**2 / 2)


@DISTRIBUTIONS.register("gamma")
class Gamma(Delay):
    @dataclass(frozen=True)
    class Params:
        mean: float = param(1.0, "positive")
        shape: float = param(2.0, "positive")

    def from_uniform(self, u: float) -> float:
        k = self.params.shape
        return float(special.gammaincinv(k, u)) * self.params.mean / k

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        k = self.params.shape
        return special.gammaincinv(k, u) * self.params.mean / k

    @property
    def mean(self) -> float:
        return self.params.mean


@DISTRIBUTIONS.register("uniform")
class Uniform(Delay):
    @dataclass(frozen=True)
    class Params:
        low: float = param(0.0, "days")
        high: float = param(1.0, "days")

    def from_uniform(self, u: float) -> float:
        return self.params.low + (self.params.high - self.params.low) * u

    def from_uniforms(self, u: np.ndarray) -> np.ndarray:
        return self.params.low + (self.params.high - self.params.low) * np.asarray(u)

    @property
    def mean(self) -> float:
        return (self.params.low + self.params.high) / 2


def parse_delay(value, key: str) -> Delay:
    """A number means a fixed delay; a mapping ``{dist: name, ...params}`` any registered one."""
    if isinstance(value, bool):
        raise ConfigError(key, f"expected a delay in days, got {value!r}", "a number or {dist: ..., ...}")
    if isinstance(value, (int, float)):
        if value < 0 or math.isnan(value):
            raise ConfigError(key, f"delay must be >= 0, got {value}", "a non-negative number of days")
        return Fixed(Fixed.Params(value=float(value)))
    if isinstance(value, dict):
        spec = dict(value)
        name = spec.pop("dist", None)
        if name is None:
            raise ConfigError(f"{key}.dist", "missing distribution name", ", ".join(DISTRIBUTIONS.names()))
        cls = DISTRIBUTIONS.get(name, f"{key}.dist")
        delay = cls(build_params(cls.Params, spec, key))
        if isinstance(delay, Uniform) and delay.params.high < delay.params.low:
            raise ConfigError(f"{key}.high", "must be >= low", f"high >= {delay.params.low}")
        return delay
    raise ConfigError(key, f"expected a delay in days, got {value!r}", "a number or {dist: name, ...}")
