"""The chapter lists of the local kinds read once a turn: the same memberships and ties as passes over the town."""

from __future__ import annotations

import cloudpickle
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import step_years
from kyojosim.constants import N_AGE_BANDS, OFFLINE_COMMUNITIES
from kyojosim.core import synthesis
from kyojosim.core.chapters_kernel import ids_after_joining
from kyojosim.core.communities import LOCAL_KIND_INDEX
from kyojosim.core.community_kernel import chapter_members, chapters_joined
from kyojosim.model import KyojoModel

K = len(OFFLINE_COMMUNITIES)


def _ids_of(groups: np.ndarray, kinds: np.ndarray, start: np.ndarray, members: np.ndarray) -> np.ndarray:
    """The group of each listed member in the kind it is listed in, gathered list by list (int64)."""
    ids = np.empty(members.size, dtype=np.int64)
    for j, k in enumerate(kinds):
        ids[start[j, 0]:start[j, -1]] = groups[members[start[j, 0]:start[j, -1]], k]
    return ids


@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(1, 5), st.integers(1, len(LOCAL_KIND_INDEX)))
@settings(max_examples=60, deadline=None)
def test_chapters_joined_equal_the_lists_read_after_the_joining(seed, n, n_districts, n_kinds):
    """The lists before the joining merged with the joiners: what :func:`chapter_members` reads after it."""
    rng = np.random.default_rng(seed)
    groups = np.where(rng.random((n, K)) < 0.3, rng.integers(0, 40, (n, K)), -1).astype(np.int32)
    groups[rng.random(n) < 0.4] = -1  # many residents in no group
    alive = rng.random(n) < 0.9
    district = rng.integers(0, n_districts, n).astype(np.int16)
    kinds = np.sort(rng.choice(np.array(LOCAL_KIND_INDEX), n_kinds, replace=False)).astype(np.int64)
    none = np.zeros(n, dtype=np.uint16)
    start, members, _ = chapter_members(groups, alive, district, kinds, none, -1)
    before = groups.copy()
    joiners = np.flatnonzero(alive & (rng.random(n) < 0.3))
    joined = (rng.random((joiners.size, K)) < 0.4) & (groups[joiners] < 0)
    # a joiner takes an existing group or a new one (an entry marked but left without a group is not listed)
    took = np.where(rng.random(joined.shape) < 0.9, rng.integers(0, 60, joined.shape), -1)
    groups[joiners] = np.where(joined, took, groups[joiners])
    got_start, got_members = chapters_joined(start, members, kinds, joiners.astype(np.int64),
                                             np.ascontiguousarray(joined), groups, district)
    want_start, want_members, _ = chapter_members(groups, alive, district, kinds, none, -1)
    np.testing.assert_array_equal(got_start, want_start)
    np.testing.assert_array_equal(got_members, want_members)
    # the group of each listed member after the joining, from those listed before and the joiners' groups
    got_ids = ids_after_joining(start, members, _ids_of(before, kinds, start, members), got_start, got_members, kinds,
                                groups)
    np.testing.assert_array_equal(got_ids, _ids_of(groups, kinds, want_start, want_members))
    assert got_ids.dtype == np.int64
    if joiners.size > 1:
        with pytest.raises(ValueError, match="ascending"):
            chapters_joined(start, members, kinds, joiners[::-1].astype(np.int64), np.ascontiguousarray(joined[::-1]),
                            groups, district)


def _turn(model: KyojoModel) -> KyojoModel:
    step_years(model, 1)
    return model


def test_a_turn_with_the_chapter_lists_read_once_equals_reading_the_town(scenario_from, monkeypatch):
    """In-migrants, those coming of age and the newcomers' ties: the same with the lists as by passes over the town."""
    scn = scenario_from(demography__migration__net_rate=[0.03] * N_AGE_BANDS, municipality__scale=0.3)
    model = KyojoModel.from_scenario(scn, years=2, seed=5)
    blob = cloudpickle.dumps(model)
    fast_lists = []
    newcomer_lists = synthesis.newcomer_lists

    def noting(*args):
        lists = newcomer_lists(*args)
        fast_lists.append(lists is not None)
        return lists

    monkeypatch.setattr(synthesis, "newcomer_lists", noting)
    with_lists = _turn(model)
    assert fast_lists == [True]  # the newcomers' groups were read from the lists
    monkeypatch.setattr("kyojosim.model.chapters_of", lambda pop: None)  # every read a pass over the town
    by_passes = _turn(cloudpickle.loads(blob))
    assert fast_lists == [True]
    a, b = with_lists.population, by_passes.population
    assert a.n == b.n
    for name in a.cols:
        np.testing.assert_array_equal(a.cols[name][: a.n], b.cols[name][: b.n], err_msg=name)
    for col in ("a", "b", "kind", "strength"):
        np.testing.assert_array_equal(getattr(with_lists.ties, col), getattr(by_passes.ties, col), err_msg=col)
    assert with_lists.last_events.in_migrants.size > 20
