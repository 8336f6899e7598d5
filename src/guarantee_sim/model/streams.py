"""Named random streams for one run, each derived from the run's seed.

Every kind of random decision (breach timing, detection, attribution, votes, approvals, ...)
has its own stream, and within a stream the k-th decision about entity i reads position
``i * width + k``. A lever downstream of the breach plan (detection, attribution, votes, delays,
follow-through, approvals, thresholds) therefore never shifts the draws of another: the basis of
the common-random-number comparisons and the metamorphic tests. What the plan itself depends on
(the breach pattern's parameters, the horizon, the force's reassurance) redraws the incidents,
and changing the roster or the commission's seats re-indexes the states' and votes' draws.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    return zlib.crc32(name.encode())


class IndexedUniforms:
    """Uniform numbers addressed by position, generated lazily in blocks."""

    __slots__ = ("_gen", "_buf", "_list", "_seed", "_key", "width")

    def __init__(self, seed: int, name: str, width: int = 1):
        self._seed, self._key = seed, stream_key(name)
        self._gen = None  # created on first use: most runs never touch most streams
        self._buf = np.empty(0)
        self._list: list[float] = []  # a prefix of the buffer as Python floats, for fast one-at-a-time reads
        self.width = width

    def __call__(self, i: int, k: int = 0) -> float:
        pos = i * self.width + k
        if pos >= len(self._list):
            self._extend(pos)
            self._list += self._buf[len(self._list):].tolist()  # only streams read one at a time keep a list
        return self._list[pos]

    def _extend(self, pos: int) -> None:
        """Draw up to ``pos`` (at least doubling)."""
        if pos < len(self._buf):
            return
        if self._gen is None:
            ss = np.random.SeedSequence(self._seed, spawn_key=(self._key,))
            self._gen = np.random.Generator(np.random.PCG64(ss))
        more = self._gen.random(max(pos + 1 - len(self._buf), 64, len(self._buf)))
        self._buf = np.concatenate([self._buf, more]) if len(self._buf) else more

    def span(self, start: int, n: int) -> np.ndarray:
        """Positions ``start .. start + n - 1`` (for streams of width 1)."""
        if n > 0:
            self._extend(start + n - 1)
        return self._buf[start : start + n]

    def matrix(self, n: int) -> np.ndarray:
        """The uniforms of entities ``0 .. n-1`` as an (n, width) array."""
        if n > 0:
            self._extend(n * self.width - 1)
        return self._buf[: n * self.width].reshape(n, self.width)

    def block(self, i: int, n: int) -> np.ndarray:
        """The ``n`` uniforms of entity ``i`` (``n <= width``)."""
        start = i * self.width
        self._extend(start + n - 1)
        return self._buf[start : start + n]


class RunStreams:
    """The streams of one run; ``streams.rng(name)`` gives a plain Generator for sequential draws."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._uniforms: dict[str, IndexedUniforms] = {}
        self._gens: dict[str, np.random.Generator] = {}

    def uniforms(self, name: str, width: int = 1) -> IndexedUniforms:
        u = self._uniforms.get(name)
        if u is None:
            u = self._uniforms[name] = IndexedUniforms(self.seed, "u/" + name, width)
        return u

    def rng(self, name: str) -> np.random.Generator:
        g = self._gens.get(name)
        if g is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(stream_key(name),))
            g = self._gens[name] = np.random.Generator(np.random.PCG64(ss))
        return g
