"""Arrays kept from one yearly rebuild to the next and filled again in place (kyojosim.core.buffers)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from kyojosim.core.buffers import Refill


def _address(x: np.ndarray) -> int:
    return x.__array_interface__["data"][0]


def test_refill_hands_out_the_same_memory_while_nobody_else_holds_it():
    r = Refill(np.int32, growth=1.5)
    x = r.take(100)
    assert x.dtype == np.int32 and x.size == 100 and r.capacity == 150 and r.in_use == 100
    where = _address(x)
    del x
    y = r.take(120)  # within the room: the same array again
    assert y.size == 120 and _address(y) == where and r.capacity == 150
    del y
    z = r.take(151)  # beyond the room: a new array, with room again
    assert z.size == 151 and r.capacity == 226


def test_refill_scratch_is_taken_memory_that_counts_as_room():
    r = Refill(np.uint64, growth=1.25)
    x = r.scratch(80)
    assert x.size == 80 and r.capacity == 100 and r.in_use == 0  # kept, but none of it in use between calls
    where = _address(x)
    del x
    assert _address(r.scratch(100)) == where and r.in_use == 0  # the same memory again, up to its room


def test_refill_never_writes_under_a_view_someone_holds():
    r = Refill(np.float32)
    x = r.take(50)
    x[:] = 7.0
    part = x[10:20]  # any view of it keeps it
    del x
    y = r.take(50)
    assert not np.shares_memory(y, part)
    y[:] = -1.0
    assert np.all(part == 7.0)
    del part, y
    where = _address(r.take(40))
    assert where == _address(r.take(50))  # nothing held any more: filled in place again


def test_refill_release_pickle_and_bad_growth():
    r = Refill(np.uint8)
    r.take(10)
    copy = pickle.loads(pickle.dumps(r))
    assert copy.capacity == 0 == copy.in_use and copy.take(4).dtype == np.uint8  # the kept array is not pickled
    r.release()
    assert r.capacity == 0 == r.in_use
    with pytest.raises(ValueError, match="growth must be at least 1"):
        Refill(np.int8, growth=0.5)
