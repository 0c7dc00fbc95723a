"""Named random streams: reproducible, independent of each other and of the order of use."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.core.streams import (
    STREAM_NAMES,
    Streams,
    bernoulli_positions,
    declare_streams,
    declared_streams,
    skip_uniforms,
    stream_key,
    uniforms_at,
)


def draws(gen: np.random.Generator, k: int = 8) -> np.ndarray:
    return gen.random(k)


def test_same_seed_and_name_give_the_same_draws():
    for name in STREAM_NAMES:
        assert np.array_equal(draws(Streams(7)[name]), draws(Streams(7)[name]))


def test_a_stream_continues_rather_than_restarting():
    s = Streams(7)
    first, second = draws(s["needs"]), draws(s["needs"])
    assert not np.array_equal(first, second)
    assert np.array_equal(np.r_[first, second], Streams(7)["needs"].random(16))


def test_different_names_and_seeds_give_different_draws():
    s = Streams(7)
    seen = [draws(s[name]) for name in STREAM_NAMES]
    for i in range(len(seen)):
        for j in range(i + 1, len(seen)):
            assert not np.array_equal(seen[i], seen[j]), (STREAM_NAMES[i], STREAM_NAMES[j])
    assert not np.array_equal(draws(Streams(7)["demography"]), draws(Streams(8)["demography"]))


def test_order_of_first_use_does_not_matter():
    a, b = Streams(3), Streams(3)
    a_demo = draws(a["demography"])
    a_net = draws(a["network"])
    b_net = draws(b["network"])
    b.__getitem__("synthesis").random(1000)  # heavy use of another stream in between
    b_demo = draws(b["demography"])
    assert np.array_equal(a_demo, b_demo) and np.array_equal(a_net, b_net)


def test_fresh_generators_are_indexed_and_independent_of_other_use():
    s = Streams(5)
    y1 = draws(s.fresh("demography", 2015))
    s["demography"].random(500)  # using the running stream does not shift fresh ones
    assert np.array_equal(draws(s.fresh("demography", 2015)), y1)
    assert np.array_equal(draws(Streams(5).fresh("demography", 2015)), y1)
    assert not np.array_equal(draws(s.fresh("demography", 2016)), y1)
    assert not np.array_equal(draws(s.fresh("migration", 2015)), y1)
    assert not np.array_equal(draws(s["demography"]), y1)
    assert not np.array_equal(draws(Streams(6).fresh("demography", 2015)), y1)
    # fresh generators are new objects each time
    assert s.fresh("demography", 2015) is not s.fresh("demography", 2015)


def _made_now(seed: int, name: str, *index: int) -> np.random.Generator:
    """The generator of ``fresh(name, *index)`` made on its own (the reference)."""
    seq = np.random.SeedSequence(entropy=seed, spawn_key=(stream_key(name), *index))
    return np.random.Generator(np.random.PCG64(seq))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["needs", "matching", "surface_offline"]), st.integers(0, 2),
                          st.integers(0, 40), st.booleans(), st.integers(0, 3)), max_size=60),
       st.integers(0, 2**32))
def test_fresh_generators_made_ahead_are_those_made_when_asked(calls, seed):
    # runs of consecutive indices (kept generators handed out), jumps back and forth, repeats, an index of one or
    # two numbers, and draws from the generators handed out: each is the generator of its seed sequence, new
    s = Streams(seed)
    seen = []
    at = {}
    for name, sub, jump, pair, n_draws in calls:
        i = max(0, at.get((name, sub, pair), 0) + (1 if jump < 30 else jump - 35))
        at[(name, sub, pair)] = i
        index = (sub, i) if pair else (i,)
        gen = s.fresh(name, *index)
        assert all(gen is not g for g in seen)
        seen.append(gen)
        assert gen.bit_generator.state == _made_now(seed, name, *index).bit_generator.state
        ref = _made_now(seed, name, *index)
        assert np.array_equal(gen.random(n_draws), ref.random(n_draws))
        assert gen.integers(0, 2**62) == ref.integers(0, 2**62)


def test_fresh_generators_of_consecutive_steps_are_made_ahead_and_not_kept_beyond():
    from kyojosim.core.streams import FRESH_AHEAD

    s = Streams(3)
    first = [s.fresh("needs", step) for step in range(3 * FRESH_AHEAD)]
    assert len({id(g) for g in first}) == len(first)
    for step, gen in enumerate(first):
        assert gen.random() == _made_now(3, "needs", step).random()
    # no more than one batch is kept for a stream, and a copied model's kept generators are its own
    import copy

    kept = s._ahead[("needs", ())][1]
    assert 0 < len(kept) <= FRESH_AHEAD
    twin = copy.deepcopy(s)
    step = 3 * FRESH_AHEAD
    a, b = s.fresh("needs", step), twin.fresh("needs", step)
    assert a is not b and a.random(4).tolist() == b.random(4).tolist()
    assert s.fresh("needs", 0).random() == _made_now(3, "needs", 0).random()  # back: made again


def test_undeclared_names_are_refused():
    s = Streams(1)
    assert not np.array_equal(draws(s["traits"]), draws(s["ict_uptake"]))  # declared names are distinct
    for use in (lambda: s["demograhpy"], lambda: s.fresh("demograhpy", 2015), lambda: s.fresh("surface_offlin", 1)):
        with pytest.raises(KeyError, match="demograhpy|surface_offlin"):
            use()


def test_every_channel_declares_its_streams_once():
    from kyojosim.aid.channels.base import CHANNEL_TYPES, STREAM_KINDS

    names = declared_streams()
    assert len(names) == len(set(names))
    assert set(STREAM_NAMES) <= set(names)
    for channel in CHANNEL_TYPES:
        for kind in STREAM_KINDS:
            assert f"{kind}_{channel}" in names
    with pytest.raises(ValueError, match="already declared"):
        declare_streams("a test", "needs")
    assert declared_streams() == names  # a refused declaration leaves the registry as it was


def test_stream_key_is_stable_across_processes():
    # CRC-32, not Python's salted hash(): runs are reproducible on every machine and interpreter
    assert stream_key("demography") == zlib.crc32(b"demography") == 3726106045
    assert stream_key("需要") == zlib.crc32("需要".encode())


def test_draws_are_pinned():
    """Changing how streams are derived changes every published run: this pins the derivation."""
    assert Streams(0)["synthesis"].random() == pytest.approx(0.468962757660044, abs=0, rel=0)
    assert Streams(12345).fresh("demography", 2015).random() == pytest.approx(0.7631001669240999, abs=0, rel=0)


def test_large_seeds():
    s = Streams(2**63 - 1)
    assert 0 <= s["synthesis"].random() < 1
    assert Streams(2**63 - 1)["synthesis"].random() == s.__class__(2**63 - 1)["synthesis"].random()


def test_bernoulli_positions_are_bernoulli_trials():
    """Geometric gaps give independent Bernoulli(p) trials: each trial's frequency, the count per run and the pairs.

    Chi-square tests at level 1e-4 (fixed seed) against the exact binomial: of the successes of each
    of the n trials over many runs, of the number of successes per run, and of successes of two
    neighbouring trials together (independence).
    """
    from scipy import stats

    rng = np.random.default_rng(7)
    n, p, runs = 40, 0.3, 20000
    hits = np.zeros((runs, n), dtype=bool)
    for r in range(runs):
        at = bernoulli_positions(n, p, rng)
        assert np.all(np.diff(at) > 0) and (at.size == 0 or (at[0] >= 0 and at[-1] < n))
        hits[r, at] = True
    per_trial = hits.sum(axis=0)
    chi2 = (((per_trial - runs * p) ** 2) / (runs * p * (1 - p))).sum()
    assert stats.chi2.sf(chi2, df=n) > 1e-4
    count = np.bincount(hits.sum(axis=1), minlength=n + 1)
    expected = runs * stats.binom.pmf(np.arange(n + 1), n, p)
    cells = expected >= 5
    observed = np.r_[count[cells], count[~cells].sum()]
    expect = np.r_[expected[cells], expected[~cells].sum()]
    assert stats.chisquare(observed, expect * observed.sum() / expect.sum()).pvalue > 1e-4
    both = (hits[:, :-1] & hits[:, 1:]).sum()
    exp_both = runs * (n - 1) * p * p
    assert abs(both - exp_both) < 4 * np.sqrt(exp_both)  # well within 4 sd (p = 6e-5 two-sided)


def test_bernoulli_positions_edge_cases():
    rng = np.random.default_rng(1)
    assert bernoulli_positions(0, 0.5, rng).size == 0
    assert bernoulli_positions(100, 0.0, rng).size == 0
    assert np.array_equal(bernoulli_positions(100, 1.0, rng), np.arange(100))
    at = bernoulli_positions(1_000_000, 0.2, rng)  # several blocks of gaps may be needed; all in range
    assert at[-1] < 1_000_000 and abs(at.size - 200_000) < 5 * np.sqrt(200_000 * 0.8)



def _bernoulli_positions_array_form(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """The positions as numpy's geometric gaps give them: blocks of gaps, their running sums, those up to ``n``."""
    if n <= 0 or p <= 0:
        return np.zeros(0, dtype=np.int64)
    p = min(float(p), 1.0)
    mean = n * p
    block = int(mean + 6.0 * np.sqrt(mean) + 16)
    parts, end = [], 0
    while end < n:
        at = end + np.cumsum(rng.geometric(p, size=block))
        parts.append(at)
        end = int(at[-1])
    at = np.concatenate(parts)
    return at[at <= n] - 1


@settings(max_examples=150, deadline=None)
@given(n=st.integers(0, 3000), p=st.one_of(st.floats(1e-12, 1), st.floats(1e-9, 1e-3), st.sampled_from(
    [0.0, 1e-9, 5e-10, 0.2, 1 / 3, np.nextafter(1 / 3, 0), 0.5, 1.0, 1.5])), seed=st.integers(0, 2**32 - 1))
def test_bernoulli_positions_equal_the_geometric_gaps_of_numpy(n, p, seed):
    """The same positions as numpy's geometric gaps, and the generator left in the same state.

    (Chances below about 1e-17 make numpy's gaps as long as ``2**63 - 1``, whose running sums overflow.)
    """
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    got, want = bernoulli_positions(n, p, a), _bernoulli_positions_array_form(n, p, b)
    assert got.dtype == want.dtype == np.int64 and np.array_equal(got, want)
    assert a.bit_generator.state == b.bit_generator.state


@settings(max_examples=100, deadline=None)
@given(size=st.integers(0, 200), p=st.floats(1e-6, 0.33), end=st.integers(0, 50), n=st.integers(0, 400),
       seed=st.integers(0, 2**32 - 1))
def test_gap_positions_equal_the_running_sums_of_numpys_gaps(size, p, end, n, seed):
    """A block of exponentials gives the running sums of numpy's geometric gaps from them (any end, any block)."""
    from kyojosim.core.streams_kernel import gap_positions

    gaps = np.random.default_rng(seed).geometric(p, size=size)
    at = end + np.cumsum(gaps)
    got, last = gap_positions(np.random.default_rng(seed).standard_exponential(size), float(np.log1p(-p)), end, n)
    assert np.array_equal(got, at[at <= n] - 1)
    past = at[at > n]
    assert last == (past[0] if past.size else (at[-1] if size else end))


@pytest.mark.parametrize("make", [lambda s: np.random.Generator(np.random.PCG64(s)),
                                  lambda s: np.random.Generator(np.random.Philox(s))])
@pytest.mark.parametrize("half_buffered", [False, True])
@pytest.mark.parametrize("n", [0, 1, 7, 1000])
def test_skipped_uniforms_leave_the_stream_where_drawing_them_does(make, half_buffered, n):
    a, b = make(11), make(11)
    for g in (a, b):
        g.poisson(3.0, 5)
        if half_buffered:  # a 32-bit draw keeps half of a 64-bit output for the next one
            g.integers(0, 100, dtype=np.int32)
    b.random(n)
    skip_uniforms(a, n)
    assert np.array_equal(a.random(4), b.random(4))
    assert np.array_equal(a.integers(0, 1000, 6, dtype=np.int32), b.integers(0, 1000, 6, dtype=np.int32))


@pytest.mark.parametrize("pos", [[], [0], [5], [0, 9], [2, 3, 7], list(range(10))])
def test_uniforms_at_positions_are_those_of_the_whole_draw(pos):
    pos = np.array(pos, dtype=np.int64)
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    assert np.array_equal(uniforms_at(a, 10, pos), b.random(10)[pos])
    assert a.random() == b.random()
