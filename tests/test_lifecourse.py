"""Life course: the compiled yearly transitions equal their array forms."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.constants import AGE_BAND_WIDTH, MALE, N_AGE_BANDS, age_band
from kyojosim.core.lifecourse import ADULT_AGE, follow_rate


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), n_skip=st.integers(0, 30),
       width=st.sampled_from([AGE_BAND_WIDTH, 1, 3, 7]), last=st.sampled_from([AGE_BAND_WIDTH * (N_AGE_BANDS - 1), 0,
                                                                                 43, 101]))
def test_transitions_due_are_the_array_selection(seed, n, n_skip, width, last):
    from kyojosim.core.lifecourse_kernel import transitions_due

    rng = np.random.default_rng(seed)
    alive = rng.random(n) < 0.8
    age = rng.integers(0, 101, n).astype(np.int16)
    skip = rng.integers(0, n, n_skip if n else 0)
    live = np.flatnonzero(alive)
    keep = np.ones(n, dtype=bool)
    keep[skip] = False
    live = live[keep[live]]
    a = age[live]
    entering, adults = transitions_due(alive, age, skip, width, last, ADULT_AGE)
    assert np.array_equal(entering, live[(a % width == 0) & (a > 0) & (a <= last)])
    assert np.array_equal(adults, live[a == ADULT_AGE])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300))
def test_follow_rates_kernel_equals_the_array_rule(seed, n):
    """Employment and driving of those entering a band, compiled, to the bit (rates of 0 and 1 included)."""
    from kyojosim.core.lifecourse_kernel import follow_rates

    rng = np.random.default_rng(seed)
    age = (rng.integers(1, 22, n) * AGE_BAND_WIDTH).astype(np.int16)
    sex = rng.integers(0, 2, n).astype(np.int8)
    frail = rng.random(n) < 0.2
    employed, drives = rng.random(n) < 0.5, rng.random(n) < 0.5
    emp = rng.choice([0.0, 1.0, 0.3, 0.7, 0.55], (2, N_AGE_BANDS))
    drv = rng.choice([0.0, 1.0, 0.2, 0.9], N_AGE_BANDS)
    u = rng.random((2, n))
    entering = np.arange(n)
    band = age_band(age)
    prev = band - 1
    male = (sex == MALE).astype(int)
    want_emp = follow_rate(employed, emp[male, prev], emp[male, band], u[0]) & ~frail
    want_drv = follow_rate(drives, drv[prev], drv[band], u[1]) & ~frail
    follow_rates(entering, age, sex, frail, employed, drives, emp, drv, MALE, AGE_BAND_WIDTH, N_AGE_BANDS, u)
    assert np.array_equal(employed, want_emp) and np.array_equal(drives, want_drv)
