"""Random numbers for the simulator.

Two kinds, both derived from one integer ``seed`` through :class:`numpy.random.SeedSequence`:

* one :class:`numpy.random.Generator` per component (``streams.generator("world")``), spawned
  from the seed with a fixed spawn key per component name, for draws that happen once
  (population sizes, covariates, the pilot selection);
* *keyed* uniforms ``streams.uniform(name, person, round)``: a counter-based generator
  (the SplitMix64 finaliser applied to ``key(name) + counter * golden``) that gives the same
  number for the same (component, person, spell number) however the arrays are ordered or
  chunked. This gives common random numbers across potential outcomes: the same person's
  same spell is simulated with and without a programme with the very same draws.
"""

from __future__ import annotations

import numpy as np

#: Component names; the position is the spawn key, so never reorder (only append).
COMPONENTS = (
    "world",
    "inflow",
    "exit_E",
    "exit_cause",
    "exit_reason",
    "jobcoaching_E",
    "jobcoaching_duration",
    "jobcoaching_provider",
    "nazorg_draw",
    "nazorg_duration",
    "return_E",
    "sianesi_E",
    "parttime",
    "earnings",
    "amount",
    "ladder",
    "ww",
    "pilot",
    "pilot_duration",
)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


class Streams:
    """All randomness of one simulation, derived from ``seed``."""

    def __init__(self, seed: int) -> None:
        if int(seed) < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self.seed = int(seed)
        self._keys: dict[str, np.uint64] = {}

    def _ss(self, name: str) -> np.random.SeedSequence:
        if name not in COMPONENTS:
            raise KeyError(f"unknown random-number component {name!r}")
        return np.random.SeedSequence(self.seed, spawn_key=(COMPONENTS.index(name),))

    def generator(self, name: str) -> np.random.Generator:
        """A fresh Generator for component ``name`` (same seed → same stream)."""
        return np.random.Generator(np.random.PCG64(self._ss(name)))

    def key(self, name: str) -> np.uint64:
        if name not in self._keys:
            self._keys[name] = np.uint64(self._ss(name).generate_state(1, dtype=np.uint64)[0])
        return self._keys[name]

    def uniform(self, name: str, person: np.ndarray, rnd: np.ndarray | int, sub: int = 0):
        """Keyed uniforms in (0, 1), one per element of ``person`` (int ids < 2**40).

        ``rnd`` is the spell number of the person (0 for the first spell), ``sub`` separates
        several draws of the same component for the same spell (< 4096).
        """
        p = np.asarray(person, dtype=np.uint64)
        r = np.asarray(rnd, dtype=np.uint64)
        counter = (p << np.uint64(20)) | (r << np.uint64(12)) | np.uint64(sub)
        with np.errstate(over="ignore"):
            z = _mix64(self.key(name) + counter * _GOLDEN)
        return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)

    def exponential(self, name: str, person: np.ndarray, rnd: np.ndarray | int, sub: int = 0):
        """Keyed standard exponential draws (``-log U``)."""
        return -np.log(self.uniform(name, person, rnd, sub))
