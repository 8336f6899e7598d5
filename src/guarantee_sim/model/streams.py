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
from numpy.random.bit_generator import ISeedSequence


def stream_key(name: str) -> int:
    return zlib.crc32(name.encode())


# numpy's SeedSequence (numpy/random/bit_generator.pyx), written out. The run seeds (``runs/runner.py:
# run_seeds``) are words of the root seed's state, derived for a batch of runs alone; a stream's seed,
# ``SeedSequence(seed, spawn_key=(stream_key(name),))``, is the run seed's pool with the key mixed
# in, worked out for all of a run's streams at once: a stream then costs a ninth of a SeedSequence
# and a PCG64 built from it, with the same numbers (tests/test_store.py and tests/test_determinism.py
# hold them equal to numpy's).
_M32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_XSHIFT = 16
_POOL = 4
_KEY_HASH = _INIT_A * pow(_MULT_A, _POOL * _POOL, 1 << 32) & _M32  # when the key is mixed in: 4 + 12 hashes on


def _hash_constants(first: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For words ``first .. first + n - 1``: which pool word each mixes, INIT_B * MULT_B**j and that
    times MULT_B (uint32)."""
    j = np.arange(first, first + n, dtype=np.uint64)
    power = np.ones(n, dtype=np.uint32)  # MULT_B ** j mod 2**32, by square-and-multiply on arrays
    base = np.array([_MULT_B], dtype=np.uint32)
    for bit in range(max(int(first + n).bit_length(), 1)):
        use = ((j >> np.uint64(bit)) & np.uint64(1)).astype(bool)
        power[use] *= base[0:1]
        base *= base
    hash_const = power * np.array([_INIT_B], dtype=np.uint32)
    return (j % np.uint64(_POOL)).astype(np.intp), hash_const, hash_const * np.array([_MULT_B], dtype=np.uint32)


def seed_sequence_words(pool: np.ndarray, first: int, n: int, constants=None) -> np.ndarray:
    """Words ``first .. first + n - 1`` of ``SeedSequence.generate_state`` (uint32) for a pool of 4
    words, or for each of a stack of pools (..., 4): word j is the pool's word j mod 4 mixed with
    INIT_B * MULT_B**j, so any range can be derived without the words before it (``constants``:
    ``_hash_constants(first, n)``, where the caller keeps them)."""
    word, hash_const, mult = constants or _hash_constants(first, n)
    data = pool[..., word] ^ hash_const
    data *= mult
    return data ^ (data >> np.uint32(_XSHIFT))


def uint64_pairs(words: np.ndarray) -> np.ndarray:
    """uint32 words as the uint64 words numpy reads them as (little-endian pairs)."""
    words = words.astype(np.uint64)
    return words[..., 0::2] | (words[..., 1::2] << np.uint64(32))


def _key_terms(key: int) -> list[int]:
    """``MIX_MULT_R * hashmix(key)`` for each pool word: what a stream's key adds to the pool."""
    hash_const, terms = _KEY_HASH, []
    for _ in range(_POOL):
        value = key ^ hash_const
        hash_const = hash_const * _MULT_A & _M32
        value = value * hash_const & _M32
        terms.append(_MIX_R * (value ^ value >> _XSHIFT) & _M32)
    return terms


class _KeyTable:
    """The stream keys met so far in this process and their terms: a run works out the PCG64
    seeds of all of them in one array pass, as most runs use most of them."""

    def __init__(self):
        self.row: dict[int, int] = {}
        self.terms = np.zeros((0, _POOL), np.uint32)

    def add(self, key: int) -> None:
        self.row[key] = len(self.row)
        self.terms = np.vstack([self.terms, np.array([_key_terms(key)], np.uint32)])

    def states(self, pool: np.ndarray) -> np.ndarray:
        """PCG64 seeds (4 uint64 words) of every known key, one row each, for a seed's pool (uint32)."""
        mixed = np.uint32(_MIX_L) * pool - self.terms  # numpy's mix(), wrapping as uint32 does
        mixed ^= mixed >> np.uint32(_XSHIFT)
        words = seed_sequence_words(mixed, 0, 2 * _POOL, _STREAM_SEED_CONSTANTS)
        return np.ascontiguousarray(uint64_pairs(words))  # PCG64 reads a row's memory


_KEYS = _KeyTable()
_STREAM_SEED_CONSTANTS = _hash_constants(0, 2 * _POOL)  # every stream's PCG64 seed: words 0 .. 7


class _StreamSeed(ISeedSequence):
    """A seed sequence whose PCG64 seed is already worked out."""

    __slots__ = ("_state",)

    def __init__(self, state: np.ndarray):
        self._state = state

    def generate_state(self, n_words, dtype=np.uint32):
        return self._state


class IndexedUniforms:
    """Uniform numbers addressed by position, generated lazily in blocks."""

    __slots__ = ("_block", "_buf", "_gen", "_key", "_streams", "width")

    def __init__(self, streams: RunStreams, name: str, width: int = 1, block: int = 64):
        self._streams, self._key = streams, stream_key(name)
        self._gen = None  # created on first use: most runs never touch most streams
        self._buf = np.empty(0)
        self.width = width
        self._block = block  # drawn at least at the first use (the numbers do not depend on it)

    def __call__(self, i: int, k: int = 0) -> float:
        pos = i * self.width + k
        if pos >= len(self._buf):
            self._extend(pos)
        return self._buf.item(pos)

    def _extend(self, pos: int) -> None:
        """Draw up to ``pos`` (at least doubling)."""
        if pos < len(self._buf):
            return
        if self._gen is None:
            self._gen = self._streams.generator(self._key)
        n = len(self._buf)
        buf = np.empty(n + max(pos + 1 - n, self._block, n))
        buf[:n] = self._buf
        self._gen.random(out=buf[n:])
        self._buf = buf

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
        self._states: np.ndarray | None = None  # every known stream's PCG64 seed, at the first use
        self._uniforms: dict[str, IndexedUniforms] = {}
        self._gens: dict[str, np.random.Generator] = {}

    def uniforms(self, name: str, width: int = 1, block: int = 64) -> IndexedUniforms:
        """Stream ``name``'s uniforms; ``block``: how many to draw at its first use (a stream read
        round after round by every state draws a few rounds' worth at once)."""
        u = self._uniforms.get(name)
        if u is None:
            u = self._uniforms[name] = IndexedUniforms(self, "u/" + name, width, block)
        return u

    def rng(self, name: str) -> np.random.Generator:
        g = self._gens.get(name)
        if g is None:
            g = self._gens[name] = self.generator(stream_key(name))
        return g

    def generator(self, key: int) -> np.random.Generator:
        """``Generator(PCG64(SeedSequence(seed, spawn_key=(key,))))``."""
        if not 0 <= self.seed < 1 << 32 * _POOL:  # negative (numpy says why) or longer than the pool
            return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(key,))))
        row = _KEYS.row.get(key)
        if row is None:
            _KEYS.add(key)
            row = _KEYS.row[key]
        if self._states is None or row >= len(self._states):  # a key new to this run (another run may have met it)
            self._states = _KEYS.states(np.random.SeedSequence(self.seed).pool.astype(np.uint32))
        return np.random.Generator(np.random.PCG64(_StreamSeed(self._states[row])))
