"""Named, independent random streams derived from one seed (common random numbers).

Each subsystem draws only from its own stream, derived from the model's seed and the
subsystem's name with :class:`numpy.random.SeedSequence`. Switching one subsystem's
option therefore leaves every other subsystem's draws unchanged, which makes paired
comparisons of interventions far less noisy.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAM_NAMES = (
    "synthesis",
    "network",
    "communities",
    "ict",
    "demography",
    "migration",
    "households",
    "needs",
    "willingness",
    "matching",
    "trust",
    "survey",
    "community_dynamics",
    "community_value",
)
"""Subsystems with a stream of their own. Names outside this list are allowed too."""


def stream_key(name: str) -> int:
    """Return the stable 32-bit key of a stream name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """A family of independent generators, one per subsystem name.

    Args:
        seed: The model's seed.

    Example:
        >>> s = Streams(42)
        >>> x = s["demography"].random(3)
    """

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._gens: dict[str, np.random.Generator] = {}

    def sequence(self, name: str) -> np.random.SeedSequence:
        """Return the seed sequence of a stream (the same for the same seed and name)."""
        return np.random.SeedSequence(entropy=self.seed, spawn_key=(stream_key(name),))

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._gens.get(name)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(self.sequence(name)))
            self._gens[name] = gen
        return gen

    def fresh(self, name: str, *index: int) -> np.random.Generator:
        """Return a new generator for ``name`` at ``index`` (e.g. the year), independent of call order."""
        seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(stream_key(name), *[int(i) for i in index]))
        return np.random.Generator(np.random.PCG64(seq))
