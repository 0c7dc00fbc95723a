"""Tests of the yearly summary row (kyojosim.measures.yearly): the compiled counts against the array form."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.constants import HOUSEHOLD_KINDS, PARTICIPATION_GROUPS, WILL_FREE, WILL_PAID
from kyojosim.core.communities import participation_group
from kyojosim.core.population import Population
from kyojosim.measures.yearly import FRAME_AGES, year_record, year_summary


def _array_row(pop: Population, degree: np.ndarray) -> dict:
    """The row's counts, shares and means as masks, gathers and numpy's means give them."""
    live = pop.live()
    n = live.size
    age = pop.age[live]
    nan = float("nan")
    row = {
        "population": n,
        "share_65plus": float((age >= 65).mean()) if n else nan,
        "share_75plus": float((age >= 75).mean()) if n else nan,
        "share_under15": float((age < 15).mean()) if n else nan,
        "mean_age": float(age.mean()) if n else nan,
        "isolated": int((degree[live] == 0).sum()),
        "smartphone_share": float(pop.smartphone[live].mean()) if n else nan,
        "sns_share": float(pop.sns[live].mean()) if n else nan,
    }
    frame = live[(age >= FRAME_AGES[0]) & (age <= FRAME_AGES[1])]
    will = pop.will[frame]
    row["willing_free_share"] = float((will == WILL_FREE).mean()) if frame.size else 0.0
    row["willing_paid_share"] = float((will == WILL_PAID).mean()) if frame.size else 0.0
    row["ask_factor_mean"] = float(pop.ask_factor[frame].mean()) if frame.size else 1.0
    part = np.bincount(participation_group(pop)[live], minlength=len(PARTICIPATION_GROUPS))
    row.update({f"part_{g}": int(c) for g, c in zip(PARTICIPATION_GROUPS, part, strict=True)})
    return row


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.floats(0, 1))
def test_year_record_counts_are_those_of_the_array_form(seed, n, dead):
    """Shares, means, counts and the living by sex and band equal the array code's to the bit, dead slots or not."""
    rng = np.random.default_rng(seed)
    pop = Population()
    pop.add(n)
    pop.alive[:n] = rng.random(n) >= dead
    pop.age[:] = rng.integers(0, 105, n)
    pop.sex[:] = rng.integers(0, 2, n)
    pop.smartphone[:] = rng.random(n) < 0.6
    pop.sns[:] = rng.random(n) < 0.3
    pop.will[:] = rng.integers(0, 3, pop.will.shape)
    pop.ask_factor[:] = rng.random(n).astype(np.float32)
    pop.groups[:] = np.where(rng.random(pop.groups.shape) < 0.1, rng.integers(0, 5, pop.groups.shape), -1)
    pop.online[:] = rng.integers(0, 4, n) * (rng.random(n) < 0.4)
    degree = rng.integers(0, 3, n)
    ties = type("Ties", (), {"degree": lambda self, k: degree[:k], "__len__": lambda self: 7})()
    scenario = SimpleNamespace(municipality=SimpleNamespace(scale=0.5))
    model = SimpleNamespace(population=pop, ties=ties, scenario=scenario, year=2030, aid=None)
    row, bands = year_record(model, None)
    want = _array_row(pop, degree)
    for key, value in want.items():
        assert np.array_equal(row[key], value, equal_nan=True), key
    again = year_summary(model, None)
    assert list(again) == list(row) and all(np.array_equal(again[k], row[k], equal_nan=True) for k in row)
    assert row["ties"] == 7 and row["population_scaled"] == row["population"] / 0.5
    assert sum(row[f"hh_{k}"] for k in HOUSEHOLD_KINDS) == row["households"]
    assert np.array_equal(bands, pop.band_counts())


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 40), st.integers(1, 17))
def test_will_words_count_the_codes_as_the_bytes_do(seed, n, width):
    """Every byte value counted in the words of a row equals the row's count of that code, padded rows included."""
    from kyojosim.measures.yearly import will_words
    from kyojosim.measures.yearly_kernel import bytes_equal

    rng = np.random.default_rng(seed)
    will = rng.integers(-128, 128, (n, width)).astype(np.int8)
    will[:, : width // 2] = rng.integers(0, 3, (n, width // 2))  # the codes in use, and any other byte
    words = will_words(will)
    assert words.dtype == np.uint64 and words.shape == (n, -(-width // 8))
    for value in (0, 1, 2, -1, 127, -128):
        got = [sum(int(bytes_equal(w, np.uint64(value & 0xFF))) for w in row) for row in words]
        want = (will == value).sum(axis=1).tolist()
        if value == -1:  # the padding byte
            want = [c + words.shape[1] * 8 - width for c in want]
        assert got == want, value
