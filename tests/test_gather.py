"""Consolidated tables gathered while the runs finish are the bytes of the tables written at once, in run order."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kyojosim.atomic import file_digest
from kyojosim.runs import gather
from kyojosim.runs.gather import DamagedError, Gatherer

RUNS = [f"r{i}" for i in range(9)]
NAMES = ["a", "b", "c"]


def reference(folder: Path, name: str, run_ids: list[str], target: Path, optional: set[str], row_group: int) -> None:
    """The table as the format describes it: the runs in order, ``run_id`` first, schemas unified in that order,
    runs gathered into row groups until they hold ``row_group`` rows; written in one go."""
    files = [(rid, folder / rid / f"{name}.parquet") for rid in run_ids]
    files = [(rid, f) for rid, f in files if f.is_file() or rid not in optional]
    schemas = [pq.read_schema(f).remove_metadata() for _, f in files]
    unified = pa.unify_schemas(schemas, promote_options="permissive") if schemas else pa.schema([])
    schema = pa.schema([pa.field("run_id", pa.string()), *[f for f in unified if f.name != "run_id"]])
    with open(target, "wb") as fh, pq.ParquetWriter(fh, schema) as writer:
        pending, rows = [], 0
        for rid, f in files:
            t = pq.read_table(f).replace_schema_metadata(None)
            if "run_id" in t.column_names:
                t = t.drop_columns(["run_id"])
            t = t.add_column(0, "run_id", pa.array([rid] * t.num_rows, pa.string()))
            for fld in schema:
                if fld.name not in t.column_names:
                    t = t.append_column(fld.name, pa.nulls(t.num_rows, fld.type))
            t = t.select(schema.names)
            pending.append(t if t.schema.equals(schema) else t.cast(schema))
            rows += t.num_rows
            if rows >= row_group:
                writer.write_table(pa.concat_tables(pending), row_group_size=rows)
                pending, rows = [], 0
        if pending:
            writer.write_table(pa.concat_tables(pending), row_group_size=max(rows, 1))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Runs of three tables; run r4 of table b has an extra column, r6 has no table c (an older run), b has a
    text column and run r2 none of its rows."""
    root = tmp_path_factory.mktemp("gather")
    rng = np.random.default_rng(3)
    for i, rid in enumerate(RUNS):
        d = root / rid
        d.mkdir()
        n = int(rng.integers(0, 40)) if i != 2 else 0
        pd.DataFrame({"step": np.arange(n, dtype=np.int64), "x": rng.normal(size=n)}).to_parquet(d / "a.parquet")
        b = pd.DataFrame({"run_id": [rid] * 3, "label": ["p", "q", None], "v": rng.integers(0, 9, 3)})
        if rid == "r4":
            b["extra"] = 1.5
        b.to_parquet(d / "b.parquet")
        if rid != "r6":
            pd.DataFrame({"y": rng.normal(size=5)}).to_parquet(d / "c.parquet")
    return root


def make(folder: Path, out: Path) -> Gatherer:
    return Gatherer(lambda name: out / f"{name}.parquet", NAMES, RUNS,
                    lambda name, rid: folder / rid / f"{name}.parquet", {"c": {"r6"}},
                    lambda name, path: pd.DataFrame({"run_id": []}).to_parquet(path))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(len(RUNS))), failed=st.sets(st.sampled_from(range(len(RUNS))), max_size=3),
       steps=st.lists(st.integers(0, 4), min_size=len(RUNS), max_size=len(RUNS)),
       row_group=st.sampled_from([1, 10, 45, 10_000]))
def test_tables_gathered_in_any_order_are_the_tables_written_at_once(folder, tmp_path_factory, monkeypatch, order,
                                                                     failed, steps, row_group):
    monkeypatch.setattr(gather, "ROW_GROUP", row_group)
    out = tmp_path_factory.mktemp("out")
    g = make(folder, out)
    for k, i in enumerate(order):  # runs finish in this order; between two, some pieces of work are done
        g.mark(RUNS[i], i not in failed)
        for _ in range(steps[k]):
            g.step()
    files = g.finish(threads=2)
    done = [rid for i, rid in enumerate(RUNS) if i not in failed]
    for name in NAMES:
        expected = out / f"expected-{name}.parquet"
        reference(folder, name, done, expected, {"r6"} if name == "c" else set(), row_group)
        assert (out / f"{name}.parquet").read_bytes() == expected.read_bytes(), name
        assert files[name] == file_digest(out / f"{name}.parquet")
    assert not list(out.glob(".*.tmp"))


def test_read_ahead_is_bounded_and_every_run_is_still_gathered(folder, tmp_path, monkeypatch):
    monkeypatch.setattr(gather, "READ_AHEAD", 1)  # a run read ahead fills it: nothing more until r0 is in
    g = make(folder, tmp_path)
    for rid in RUNS[1:]:
        g.mark(rid, True)
    assert g.step() and not g.step()  # one run read ahead, then it waits for r0
    g.mark("r0", True)
    while g.step():
        pass
    g.finish()
    reference(folder, "a", RUNS, tmp_path / "expected.parquet", set(), gather.ROW_GROUP)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "expected.parquet").read_bytes()


def test_a_damaged_file_is_named_at_the_end_and_nothing_is_left_half_written(folder, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setattr(gather, "ROW_GROUP", 1)  # row groups are written early
    copy = tmp_path / "runs"
    shutil.copytree(folder, copy)
    victim = copy / "r3" / "a.parquet"
    intact = victim.read_bytes()
    victim.write_bytes(intact[:-8] + b"\x00" * 8)
    out = tmp_path / "out"
    out.mkdir()
    g = make(copy, out)
    for rid in random.Random(1).sample(RUNS, len(RUNS)):
        g.mark(rid, True)
        g.step()
    while g.step():  # the damaged file is not reported here: it is read again at the end
        pass
    with pytest.raises(DamagedError, match=r"r3/a\.parquet: damaged, cannot be read"):
        g.finish(threads=2)
    assert not list(out.glob(".*.tmp"))
    victim.write_bytes(intact)
    (copy / "r5" / "b.parquet").unlink()
    g = make(copy, out)
    for rid in RUNS:
        g.mark(rid, True)
    with pytest.raises(DamagedError, match=r"r5/b\.parquet: missing from a finished run"):
        g.finish()
    g = make(copy, out)
    g.mark("r0", True)
    g.step()
    g.discard()  # an interrupted sweep leaves no temporary file
    assert not list(out.glob(".*.tmp"))
