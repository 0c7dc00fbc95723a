"""The population's columns: declared once, one spelling to read and write, uids for life."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyojosim.core.population import Column, Households, Population

SRC = Path(__file__).resolve().parents[1] / "src" / "kyojosim"


def small_population() -> Population:
    pop = Population()
    pop.add_households(2, district=[0, 1], block=[0, 1])
    pop.add(4, age=[30, 40, 50, 60], household=[0, 0, 1, 1])
    return pop


def test_a_column_is_a_live_view_for_reading_and_writing():
    pop = small_population()
    assert isinstance(Population.age, Column) and Population.age.dtype == np.int16
    assert pop.age.tolist() == [30, 40, 50, 60] and pop.age.dtype == np.int16
    pop.age[[0, 2]] += 1
    pop.will[1, 3] = 2
    assert pop.age.tolist() == [31, 40, 51, 60] and pop.will[1].tolist() == [0, 0, 0, 2, 0, 0, 0, 0]
    assert pop.groups.shape == (4, len(pop.groups[0])) and (pop.groups == -1).all()  # groups fill with -1
    with pytest.raises(AttributeError, match=r"age\[slots\] = "):
        pop.age = np.zeros(4, dtype=np.int16)
    with pytest.raises(AttributeError, match="kind"):
        pop.hh.kind = np.zeros(2, dtype=np.int8)
    assert pop.hh.district.tolist() == [0, 1] and pop.n_households == 2


def test_add_refuses_unknown_columns_and_given_uids():
    pop = small_population()
    with pytest.raises(KeyError, match="'agee'"):
        pop.add(1, agee=3)
    with pytest.raises(KeyError, match="uid"):
        pop.add(1, uid=99)
    with pytest.raises(KeyError, match="'kinds'"):
        pop.add_households(1, kinds=2)
    assert pop.n == 4 and pop.n_households == 2


def test_uids_count_from_one_are_never_reused_and_slots_follow_them():
    pop = small_population()
    assert pop.uid.tolist() == [1, 2, 3, 4]
    pop.remove(np.array([1]))
    assert pop.slots_of(np.array([1, 2, 3, 4])).tolist() == [0, -1, 2, 3]  # gone at once, before compaction
    new_slot = pop.compact()
    assert new_slot.tolist() == [0, -1, 1, 2]
    assert pop.slots_of(np.array([1, 2, 3, 4])).tolist() == [0, -1, 1, 2]
    slots = pop.add(2, age=0, household=1)
    assert pop.uid[slots].tolist() == [5, 6] and pop.next_uid == 7  # uid 2 is not given again
    assert pop.slots_of(np.array([6, 5, 4])).tolist() == [4, 3, 2]
    assert pop.slots_of(np.array([0, 7, 10**9, -3])).tolist() == [-1, -1, -1, -1]  # never were
    assert int(pop.slots_of(5)) == 3 and pop.slots_of(np.zeros(0, dtype=np.int64)).size == 0
    # the reused slot was cleared: nothing of the resident who had it before
    assert pop.age[slots].tolist() == [0, 0] and (pop.groups[slots] == -1).all()


def test_every_column_is_declared_once_and_written_through_its_name():
    """``grep "age = Column"`` finds each column's one definition, and nothing writes ``cols[...]`` elsewhere."""
    for table in (Population, Households):
        body = inspect.getsource(table)
        for name in table.columns():
            assert len(re.findall(rf"^    {name} = Column\(", body, flags=re.M)) == 1, (table.__name__, name)
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "population.py":
            continue
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\.cols\[|\.hh\[|hcol\(", source), f"{path.name} reaches a column by its key"


def _classify_array(pop):
    """The household kinds on whole columns (the array form of kyojosim.core.households.classify)."""
    from kyojosim.constants import HH, ROLE_CHILD, ROLE_ELDER, ROLE_SPOUSE

    live = pop.live()
    h = pop.household[live].astype(np.int64)
    nh = pop.n_households
    age, role = pop.age[live], pop.role[live]
    size = np.bincount(h, minlength=nh)
    n_old = np.bincount(h, weights=age >= 65, minlength=nh)
    n_child = np.bincount(h, weights=role == ROLE_CHILD, minlength=nh)
    n_spouse = np.bincount(h, weights=role == ROLE_SPOUSE, minlength=nh)
    n_elder = np.bincount(h, weights=role == ROLE_ELDER, minlength=nh)
    kind = np.full(nh, HH["three_generation"], dtype=np.int8)
    kind[(size == 2) & (n_spouse == 1) & (n_child == 0)] = HH["couple_only"]
    kind[(n_child > 0) & (n_spouse == 0) & (size == n_child + 1)] = HH["single_parent"]
    kind[(n_child > 0) & (n_spouse == 1) & (size == n_child + 2)] = HH["couple_with_children"]
    kind[(size >= 2) & (n_old == size)] = HH["elderly_couple"]
    kind[(n_elder > 0) & (size > n_elder)] = HH["three_generation"]
    kind[size == 1] = np.where(n_old[size == 1] > 0, HH["single_elderly"], HH["single_adult"])
    kind[size == 0] = -1
    return kind


def test_household_kinds_kernel_equals_the_array_rules():
    from kyojosim.core.households import classify
    from kyojosim.model import KyojoModel

    model = KyojoModel("ikoma", seed=5, scale=0.05, years=0, agents=False)
    pop = model.population
    rng = np.random.default_rng(3)
    for _ in range(3):
        assert np.array_equal(classify(pop), _classify_array(pop))
        pop.alive[: pop.n] = rng.random(pop.n) < 0.8  # empty and broken-up households too
        pop.cols["role"][: pop.n] = rng.integers(0, 4, pop.n)
    # households of 4096 members or more (beyond the packed counts) and just below
    for size in (4095, 4096, 5000):
        big = Population()
        big.add_households(3, district=0, block=np.arange(3))
        big.add(size + 7, age=rng.integers(0, 100, size + 7), household=np.r_[np.zeros(size, dtype=np.int64),
                                                                               np.ones(7, dtype=np.int64)],
                role=rng.integers(0, 4, size + 7))
        assert np.array_equal(classify(big), _classify_array(big))
        big.cols["age"][:size] = 70  # an elderly household of its size
        big.cols["role"][:size] = 0
        assert np.array_equal(classify(big), _classify_array(big))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distinct_slots_are_unique_with_counts_in_the_order_of_first_occurrence(seed):
    rng = np.random.default_rng(seed)
    pop = Population()
    pop.add(40, age=30)
    for size in (0, 1, 25, 300):
        slots = rng.integers(0, 40, size)
        who, count = pop.distinct_slots(slots)
        values, first, counts = np.unique(slots, return_index=True, return_counts=True)
        order = np.argsort(first)
        assert who.dtype == np.int64 and count.dtype == counts.dtype
        assert np.array_equal(who, values[order]) and np.array_equal(count, counts[order])
        assert not pop.slot_marks().any()  # the scratch is left all zeros
    # a slot outside the population: np.unique's answer
    who, count = pop.distinct_slots(np.array([-1, 3, 3, 50]))
    assert np.array_equal(who, [-1, 3, 50]) and np.array_equal(count, [1, 2, 1])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), n_households=st.integers(1, 40),
       drop=st.floats(0.0, 1.0))
def test_compaction_moves_every_column_as_the_array_form(seed, n, n_households, drop):
    """The compiled compaction keeps the same rows of every column, uid index and inhabited households."""
    rng = np.random.default_rng(seed)
    pop = Population()
    pop.add_households(n_households, district=0, block=0)
    pop.add(n, age=rng.integers(0, 100, n), household=rng.integers(0, n_households, n))
    for name, a in pop.cols.items():  # random bits in every column, padding rows included
        if name not in ("uid", "household"):
            a.view(np.uint8)[...] = rng.integers(0, 256, a.nbytes, dtype=np.uint8).reshape(a.view(np.uint8).shape)
    pop.remove(np.flatnonzero(rng.random(n) < drop))
    keep = pop.alive[: pop.n].copy()
    before = {k: getattr(pop, k).copy() for k in pop.cols}
    uids = pop.uid.copy()
    new_slot = pop.compact()
    kept = np.flatnonzero(keep)
    want = np.full(keep.size, -1)
    want[kept] = np.arange(kept.size)
    assert new_slot.dtype == np.int64 and np.array_equal(new_slot, want)
    assert pop.n == kept.size and pop.alive[: pop.n].all() and not pop.alive[pop.n : keep.size].any()
    for k, v in before.items():
        assert np.array_equal(getattr(pop, k).view(np.uint8), v[kept].view(np.uint8)), k
    assert np.array_equal(pop.slots_of(uids), want)
    assert np.array_equal(pop.hh.alive[:n_households], np.bincount(pop.household, minlength=n_households) > 0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300))
def test_band_counts_are_the_bincount_of_the_living(seed, n):
    from kyojosim.constants import N_AGE_BANDS, age_band

    rng = np.random.default_rng(seed)
    pop = Population()
    pop.add_households(1, district=0, block=0)
    pop.add(n, age=rng.integers(0, 110, n), sex=rng.integers(0, 2, n), household=0)
    pop.remove(np.flatnonzero(rng.random(n) < 0.3))
    live = pop.live()
    want = np.bincount(pop.sex[live].astype(np.int64) * N_AGE_BANDS + age_band(pop.age[live]),
                       minlength=2 * N_AGE_BANDS).reshape(2, N_AGE_BANDS)
    got = pop.band_counts()
    assert got.dtype == want.dtype and np.array_equal(got, want)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), n_households=st.integers(1, 40),
       n_slots=st.integers(0, 20))
def test_household_member_and_block_kernels_equal_the_array_forms(seed, n, n_households, n_slots):
    """The members of some households and the neighbours' blocks, compiled, are those of the array forms."""
    from kyojosim.core.households_kernel import members_of, neighbour_blocks

    rng = np.random.default_rng(seed)
    household = rng.integers(0, n_households, n).astype(np.int32)
    alive = rng.random(n) < 0.8
    age = rng.integers(0, 100, n).astype(np.int16)
    hh_block = rng.integers(0, 10, n_households).astype(np.int32)
    slots = rng.integers(0, max(n, 1), n_slots if n else 0)
    live = np.flatnonzero(alive)
    selected = np.zeros(n_households, dtype=bool)
    selected[household[slots]] = True
    assert np.array_equal(members_of(household, alive, slots, n_households), live[selected[household[live]]])
    block = np.full(n, -1, dtype=np.int64)
    adults = live[age[live] >= 15]
    block[adults] = hh_block[household[adults]]
    got = neighbour_blocks(household, age, alive, hh_block, 15)
    assert got.dtype == np.int64 and np.array_equal(got, block)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 25), st.lists(st.integers(0, 2**15 - 1), max_size=50))
def test_band_table_gives_the_bands_of_the_division(width, n_bands, ages):
    """The band read from the table is ``min(age // width, n_bands - 1)`` for every age, past the table's end too."""
    from kyojosim.core.population_kernel import band_of, band_table

    table = band_table(width, n_bands)
    assert table.size == width * (n_bands - 1) + 1
    for age in [*ages, 0, table.size - 1, table.size, 2**15 - 1]:
        assert band_of(table, age) == min(age // width, n_bands - 1)
