"""Named, independent random streams derived from one seed (common random numbers).

Each subsystem draws only from its own stream, derived from the model's seed and the
subsystem's name with :class:`numpy.random.SeedSequence`. Switching one subsystem's
option therefore leaves every other subsystem's draws unchanged, which makes paired
comparisons of interventions far less noisy.

Every stream name is declared once: the model's subsystems in :data:`STREAM_NAMES`, each
channel's own streams when the channel is registered (``surface_<channel>`` and the like, see
:func:`kyojosim.aid.channels.base.register_channel`). :class:`Streams` refuses a name that is not declared,
so two subsystems cannot end up sharing a stream through a typo.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAM_NAMES: tuple[str, ...] = (
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
    "traits",
    "ict_uptake",
    "willingness_turnover",
    "lifecourse",
)
"""The streams of the model's own subsystems (the channels declare theirs when registered)."""

_DECLARED: dict[str, str] = dict.fromkeys(STREAM_NAMES, "kyojosim.core.streams")
"""Every declared stream name -> who declared it."""


def declare_streams(owner: str, *names: str) -> None:
    """Declare stream names owned by ``owner`` (a module or channel); a name is declared only once.

    Raises:
        ValueError: If a name is already declared (by anyone).
    """
    for name in names:
        if name in _DECLARED:
            raise ValueError(f"random stream {name!r} of {owner} is already declared by {_DECLARED[name]}")
    for name in names:
        _DECLARED[name] = owner


def declared_streams() -> tuple[str, ...]:
    """Return every declared stream name, in the order of declaration."""
    return tuple(_DECLARED)


def stream_key(name: str) -> int:
    """Return the stable 32-bit key of a stream name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def _check(name: str) -> None:
    if name not in _DECLARED:
        raise KeyError(f"random stream {name!r} is not declared; declared: {', '.join(_DECLARED)} "
                       "(declare a new one with kyojosim.core.streams.declare_streams)")


FRESH_AHEAD = 15
"""How many generators :meth:`Streams.fresh` makes ahead for a stream asked for at consecutive indices."""


class Streams:
    """A family of independent generators, one per declared subsystem name.

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
        _check(name)
        return np.random.SeedSequence(entropy=self.seed, spawn_key=(stream_key(name),))

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._gens.get(name)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(self.sequence(name)))
            self._gens[name] = gen
        return gen

    def started(self) -> tuple[str, ...]:
        """Return the names of the running streams drawn from so far (``streams[name]``), in order of first use."""
        return tuple(self._gens)

    def fresh(self, name: str, *index: int) -> np.random.Generator:
        """Return a new generator for ``name`` at ``index`` (e.g. the year), independent of call order.

        The generator is the one of the seed sequence ``(seed, (stream_key(name), *index))``, never handed out
        before. When a name is asked for at consecutive last indices (a stream of every step, or of every year),
        the generators of the next :data:`FRESH_AHEAD` indices are made with this one and kept until asked for:
        making several in a row costs far less than one at a time between other work, when the code and data of
        numpy's seeding have left the caches. A kept generator has drawn nothing, so it is the one that would be
        made when asked for.
        """
        _check(name)
        index = tuple(int(i) for i in index)
        if not index:
            return self._make(name, index)
        ahead = self.__dict__.get("_ahead")
        if ahead is None:
            ahead = self._ahead = {}
        key = (name, index[:-1])
        last, kept = ahead.get(key, (None, {}))
        at = index[-1]
        gen = kept.pop(at, None)
        if gen is None:
            if last is not None and at == last + 1:  # asked for at consecutive indices: make the next ones now
                kept = {at + k: self._make(name, (*index[:-1], at + k)) for k in range(1, FRESH_AHEAD + 1)}
            gen = self._make(name, index)
        ahead[key] = (at, kept)
        return gen

    def _make(self, name: str, index: tuple[int, ...]) -> np.random.Generator:
        """Return a new generator of the seed sequence ``(seed, (stream_key(name), *index))``."""
        seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(stream_key(name), *index))
        return np.random.Generator(np.random.PCG64(seq))


GEOMETRIC_FAST = (1e-9, 0.333333333333333333333333)
"""The chances for which :func:`bernoulli_positions` draws the gaps by numpy's inversion in compiled code: numpy's
``Generator.geometric`` inverts a standard exponential below a third (above, it searches), and a chance of at
least 1e-9 keeps every running sum of gaps far below ``2**63``."""


def bernoulli_positions(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Return where ``n`` independent Bernoulli(``p``) trials succeed (ascending int64 indices).

    The same distribution as ``np.flatnonzero(rng.random(n) < p)``, drawn as geometric gaps between
    successes: the cost grows with the successes (``n p``), not with ``n``. The gaps are drawn in
    blocks of a little more than the expected number of successes until they pass the end
    (``rng.geometric(p, size=block)``). For ``GEOMETRIC_FAST[0] <= p < GEOMETRIC_FAST[1]`` numpy draws a
    gap as ``ceil(-E / log1p(-p))`` from one standard exponential ``E``: the block's exponentials are drawn
    and turned into positions in one compiled pass (:func:`kyojosim.core.streams_kernel.gap_positions`), the
    same positions and the same state of ``rng`` afterwards.
    """
    if n <= 0 or p <= 0:
        return np.zeros(0, dtype=np.int64)
    p = min(float(p), 1.0)
    mean = n * p
    block = int(mean + 6.0 * np.sqrt(mean) + 16)
    parts = []
    end = 0  # trials covered so far
    if GEOMETRIC_FAST[0] <= p < GEOMETRIC_FAST[1]:
        from .streams_kernel import gap_positions

        log_q = float(np.log1p(-p))
        while end < n:
            at, end = gap_positions(rng.standard_exponential(size=block), log_q, end, n)
            parts.append(at)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
    while end < n:
        at = end + np.cumsum(rng.geometric(p, size=block))  # 1-based trial of each success
        parts.append(at)
        end = int(at[-1])
    at = np.concatenate(parts)
    return at[at <= n] - 1



def skip_uniforms(rng: np.random.Generator, n: int) -> None:
    """Move ``rng`` past ``n`` uniforms, as ``rng.random(n)`` would, without drawing them.

    A float64 uniform of :class:`numpy.random.PCG64` takes exactly one 64-bit output, so the generator is
    advanced ``n`` steps (constant time); later draws are the same as after ``rng.random(n)``. Advancing
    drops a buffered half of a 64-bit output (which ``rng.random`` would keep), so when one is buffered, or
    with another bit generator, the uniforms are drawn and dropped.
    """
    if n <= 0:
        return
    bg = rng.bit_generator
    if type(bg) is np.random.PCG64 and not bg.state["has_uint32"]:
        bg.advance(int(n))
    else:
        rng.random(n)


def uniforms_at(rng: np.random.Generator, n: int, pos: np.ndarray) -> np.ndarray:
    """Return ``rng.random(n)[pos]`` for ascending ``pos``, leaving ``rng`` where ``rng.random(n)`` leaves it.

    Only the uniforms from the first to the last position are drawn; those before and after are skipped
    (:func:`skip_uniforms`).
    """
    if pos.size == 0:
        skip_uniforms(rng, n)
        return np.zeros(0)
    first, last = int(pos[0]), int(pos[-1])
    skip_uniforms(rng, first)
    u = rng.random(last - first + 1)
    skip_uniforms(rng, n - last - 1)
    return u[pos - first]
