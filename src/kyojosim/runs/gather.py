"""The consolidated tables of a sweep, gathered from the finished runs' files while the runs go on.

Each consolidated table (``steps.parquet``, ``years.parquet`` ...) holds the rows of every finished run, in
the experiment's order, with ``run_id`` first, in row groups of at least :data:`ROW_GROUP` rows (the runs are
gathered until they reach it). A :class:`Gatherer` is told which runs have finished (:meth:`Gatherer.mark`);
each call of :meth:`Gatherer.step` does one small piece of the work: read one finished run's files, or write
a row group whose runs, and all runs before them, have finished. The sweep calls it as each run ends, until
nothing is left to do for the runs ended so far or a short budget is spent
(:func:`kyojosim.runs.sweep.keep_pace`), and while its process waits for the workers and a core is free, so
that at the end little more than the last run's files is left to read (:meth:`Gatherer.finish`, which also
writes the last row groups, the tables at the same time in threads).

The files are the same, byte for byte, whatever the order in which the runs finished, whether they were read
early or at the end, and however many threads write them: the same runs in the same order, the same schema
(the runs' schemas unified in the experiment's order), the same row groups. A table whose early row groups
no longer fit (a later run's schema widened it) is written again from the start; a file that cannot be read
early is read again at the end, where a damaged file raises :class:`DamagedError` naming it.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import atomic_open
from ..errors import KyojoError

if TYPE_CHECKING:
    import pyarrow as pa

ROW_GROUP = 32_768
"""Rows per Parquet row group of the consolidated tables (runs are gathered until they reach it).

Row groups are written while the runs go on, as soon as their runs are done; the last one of each table is
written at the end, while the workers' cores wait. Groups of this size (a few hundred kB to a few MB) leave
little for the end, and are still large enough for readers (a column read in a few pieces per table)."""
READ_AHEAD = 256 * 2**20
"""Bytes of runs' tables read ahead of the row groups written (runs that finished before earlier ones)."""


class DamagedError(KyojoError):
    """A stored run or table is damaged: missing, truncated, changed since it was written, or unreadable."""


def _first_line(exc: BaseException, width: int = 120) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= width else text[: width - 3] + "..."


def unreadable(file: Path, exc: BaseException) -> DamagedError:
    """Return the error for a run's file that cannot be read."""
    return DamagedError(f"{file}: damaged, cannot be read ({_first_line(exc)}); run the sweep again to redo the run")


def missing(file: Path) -> DamagedError:
    """Return the error for a finished run's file that is not there."""
    return DamagedError(f"{file}: missing from a finished run; run the sweep again to redo the run")


def read_table(file: Path) -> pa.Table:
    """Read one run's table, in this thread, without its schema's metadata.

    Raises:
        DamagedError: If it cannot be read (naming the file).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:  # the files are small: decoded in this thread, without the dataset layer
        with pq.ParquetFile(file) as pf:
            return pf.read(use_threads=False).replace_schema_metadata(None)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise unreadable(file, exc) from None


def read_schema(file: Path) -> pa.Schema:
    """Read the schema of one run's table (its footer only), without metadata.

    Raises:
        DamagedError: If it cannot be read (naming the file).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(file).remove_metadata()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise unreadable(file, exc) from None


def table_schema(schemas: list[pa.Schema]) -> pa.Schema:
    """Return the schema of a consolidated table: ``run_id`` first, then the runs' schemas unified in their order."""
    import pyarrow as pa

    unified = pa.unify_schemas(schemas, promote_options="permissive") if schemas else pa.schema([])
    return pa.schema([pa.field("run_id", pa.string()), *[f for f in unified if f.name != "run_id"]])


def conform(t: pa.Table, run_id: str, schema: pa.Schema) -> pa.Table:
    """Return one run's table as rows of the consolidated table: ``run_id`` first, columns and types of ``schema``."""
    import pyarrow as pa

    names = t.column_names
    if "run_id" in names:
        t = t.drop_columns(["run_id"])
    t = t.add_column(0, "run_id", pa.array([run_id] * t.num_rows, pa.string()))
    have = set(t.column_names)
    for fld in schema:
        if fld.name not in have:
            t = t.append_column(fld.name, pa.nulls(t.num_rows, fld.type))
    if t.column_names != schema.names:
        t = t.select(schema.names)
    return t if t.schema.equals(schema) else t.cast(schema)


class _HashingSink:
    """A file that hashes what is written to it (SHA-256 and size), so that a table is not read back to hash it."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: Any) -> int:
        self.sha.update(data)
        n = memoryview(data).nbytes
        self.size += n
        self.fh.write(data)
        return n

    def flush(self) -> None:
        self.fh.flush()

    @property
    def closed(self) -> bool:
        return bool(self.fh.closed)

    def digest(self) -> dict[str, Any]:
        return {"bytes": self.size, "sha256": self.sha.hexdigest()}


class _Discarded(Exception):
    """Thrown into a consolidated file's atomic write to discard it (its temporary file is removed)."""


class TableWriter:
    """One consolidated table, written row group by row group as the runs before them are known.

    Args:
        target: The consolidated file.
        run_ids: Every run of the experiment, in its order.
        file_of: The file of a run's table.
        optional: Runs that may lack the table (written by an older kyojosim before it existed).
        empty: Writes the empty table to a path (when no run has the table).
    """

    def __init__(self, target: Path, run_ids: list[str], file_of: Callable[[str], Path],
                 optional: Collection[str], empty: Callable[[Path], Any]) -> None:
        self.target = target
        self.run_ids = run_ids
        self.file_of = file_of
        self.optional = set(optional)
        self.empty = empty
        self.broken = False  # a file could not be read early: the table is gathered again at the end
        self._reset()

    def _reset(self) -> None:
        self.tables: dict[int, pa.Table | None] = {}  # read, not yet gathered (None: the run lacks the table)
        self.schemas: list[pa.Schema] = []  # of the runs gathered, in order
        self.gathered = 0  # the runs before this index (in the experiment's order) are gathered or skipped
        self.schema: pa.Schema | None = None  # fixed by the first row group written
        self.group: list[tuple[str, pa.Table]] = []  # the runs of the next row group
        self.rows = 0
        self.stack: contextlib.ExitStack | None = None
        self.writer: Any = None
        self.sink: _HashingSink | None = None

    def _read(self, index: int) -> pa.Table | None:
        file = self.file_of(self.run_ids[index])
        if not file.is_file():
            if self.run_ids[index] in self.optional:
                return None
            raise missing(file)  # never silently: the tables would disagree with the manifest's count
        return read_table(file)

    def held(self) -> int:
        """Return the bytes of the runs' tables held in memory, read and not yet written (what is left to write)."""
        return sum(int(t.nbytes) for _, t in self.group) + sum(int(t.nbytes) for t in self.tables.values()
                                                                if t is not None)

    def load(self, index: int) -> int:
        """Read run ``index``'s table into memory (unless gathered already); return its size in bytes."""
        if self.broken or index < self.gathered or index in self.tables:
            return 0
        t = self._read(index)
        self.tables[index] = t
        return 0 if t is None else int(t.nbytes)

    def advance(self, state: Callable[[int], bool | None]) -> tuple[bool, int]:
        """Gather the runs read, from the first not gathered, while each is known; write a row group once full.

        Args:
            state: For a run's index: ``True`` if it is done, ``False`` if it failed, ``None`` if not finished.

        Returns:
            Whether a row group was written (at most one), and the bytes of read tables now gathered.
        """
        released = 0
        while not self.broken and self.gathered < len(self.run_ids):
            done = state(self.gathered)
            if done is None or (done and self.gathered not in self.tables):
                break
            t = self.tables.pop(self.gathered, None) if done else None
            rid = self.run_ids[self.gathered]
            self.gathered += 1
            if t is None:
                continue
            released += int(t.nbytes)
            if self._add(rid, t):
                return True, released
        return False, released

    def _add(self, run_id: str, t: pa.Table) -> bool:
        self.schemas.append(t.schema)
        self.group.append((run_id, t))
        self.rows += t.num_rows
        if self.rows < ROW_GROUP:
            return False
        self._write_group()
        return True

    def _open(self, schema: pa.Schema) -> None:
        import pyarrow.parquet as pq

        self.schema = schema
        self.stack = contextlib.ExitStack()
        self.sink = _HashingSink(self.stack.enter_context(atomic_open(self.target, "wb")))
        self.writer = self.stack.enter_context(pq.ParquetWriter(self.sink, schema))

    def _write_group(self) -> None:
        import pyarrow as pa

        if self.writer is None:
            self._open(table_schema(self.schemas))
        parts = [conform(t, rid, self.schema) for rid, t in self.group]
        self.writer.write_table(pa.concat_tables(parts), row_group_size=max(self.rows, 1))
        self.group, self.rows = [], 0

    def finish(self, state: Callable[[int], bool | None]) -> dict[str, Any]:
        """Gather the runs left (every run is done or failed by now), write the file; return its size and hash.

        Raises:
            DamagedError: If a finished run's file is missing (and the run may not lack it) or cannot be read.
        """
        if self.broken:
            self.discard()
        rest = [i for i in range(self.gathered, len(self.run_ids)) if state(i)]
        schemas = []
        for i in rest:  # the schemas of the runs left, from their footers for those not read yet
            if i in self.tables:
                t = self.tables[i]
                if t is not None:
                    schemas.append(t.schema)
                continue
            file = self.file_of(self.run_ids[i])
            if file.is_file():
                schemas.append(read_schema(file))
            elif self.run_ids[i] in self.optional:
                self.tables[i] = None
            else:
                raise missing(file)  # never silently: the tables would disagree with the manifest's count
        schema = table_schema(self.schemas + schemas)
        if self.schema is not None and not schema.equals(self.schema):
            self.discard()  # a later run widened the schema: the row groups written early do not fit it
            return self.finish(state)
        if not self.schemas and not schemas:
            from ..atomic import file_digest

            self.empty(self.target)
            return file_digest(self.target)
        if self.writer is None:
            self._open(schema)
        for i in rest:
            t = self.tables.pop(i) if i in self.tables else read_table(self.file_of(self.run_ids[i]))
            if t is None:
                continue
            self.group.append((self.run_ids[i], t))
            self.rows += t.num_rows
            if self.rows >= ROW_GROUP:
                self._write_group()
        self.gathered = len(self.run_ids)
        if self.group:
            self._write_group()
        stack, sink = self.stack, self.sink
        assert stack is not None and sink is not None
        self.stack = None
        stack.close()  # the footer, then the file flushed and renamed into place
        return sink.digest()

    def discard(self) -> None:
        """Remove the partly written file (its temporary file) and forget what was gathered."""
        if self.stack is not None:
            stack, self.stack = self.stack, None
            with contextlib.suppress(_Discarded):
                stack.__exit__(_Discarded, _Discarded(), None)
        self.broken = False
        self._reset()


class Gatherer:
    """The consolidated tables of a sweep, gathered as its runs finish (see the module's description).

    Args:
        target_of: The consolidated file of a table (name).
        names: The tables.
        run_ids: Every run of the experiment, in its order.
        file_of: The file of a table (name) of a run (id).
        optional: For each table, the runs that may lack it (written before it existed).
        empty: Writes the empty table ``name`` to a path.
    """

    def __init__(self, target_of: Callable[[str], Path], names: list[str], run_ids: list[str],
                 file_of: Callable[[str, str], Path], optional: Mapping[str, Collection[str]],
                 empty: Callable[[str, Path], Any]) -> None:
        self.names = list(names)
        self.run_ids = list(run_ids)
        self.optional = {name: frozenset(optional.get(name, ())) for name in self.names}
        self.index = {rid: i for i, rid in enumerate(self.run_ids)}
        self.states: list[bool | None] = [None] * len(self.run_ids)
        self.writers = {
            name: TableWriter(target_of(name), self.run_ids, lambda rid, name=name: file_of(name, rid),
                              self.optional[name], lambda path, name=name: empty(name, path))
            for name in self.names}
        self.unread: list[int] = []  # done, not read yet, in the experiment's order (a heap)
        self.ahead = 0  # bytes of tables read and not gathered yet

    def mark(self, run_id: str, done: bool) -> None:
        """Record that a run has finished: done (its files are written) or failed."""
        import heapq

        i = self.index[run_id]
        self.states[i] = bool(done)
        if done:
            heapq.heappush(self.unread, i)

    def _state(self, index: int) -> bool | None:
        return self.states[index]

    def step(self) -> bool:
        """Do one piece of the work: write one row group, or read one finished run's tables; ``False`` if none is left.

        A file that cannot be read here is read again by :meth:`finish`, which names it.
        """
        import heapq

        for name, w in self.writers.items():
            wrote, released = self._guard(name, lambda w=w: w.advance(self._state), (False, 0))
            self.ahead -= released
            if wrote:
                return True
        if not self.unread:
            return False
        first = min(w.gathered for w in self.writers.values())
        if self.ahead >= READ_AHEAD and self.unread[0] != first:
            return False  # enough read ahead: the next row group waits for a run still going
        i = heapq.heappop(self.unread)
        for name, w in self.writers.items():
            self.ahead += self._guard(name, lambda w=w: w.load(i), 0)
        for name, w in self.writers.items():
            _, released = self._guard(name, lambda w=w: w.advance(self._state), (False, 0))
            self.ahead -= released
        return True

    def _guard(self, name: str, work: Callable[[], Any], otherwise: Any) -> Any:
        w = self.writers[name]
        if w.broken:
            return otherwise
        try:
            return work()
        except Exception:  # noqa: BLE001 - read again, and reported if still damaged, at the end
            w.broken = True
            self.ahead -= sum(int(t.nbytes) for t in w.tables.values() if t is not None)
            w.tables.clear()
            return otherwise

    def matches(self, done: list[str], optional: Mapping[str, Collection[str]]) -> bool:
        """Whether the runs marked done are ``done`` and the runs that may lack each table are ``optional``'s."""
        marked = [rid for rid, st in zip(self.run_ids, self.states, strict=True) if st]
        return marked == list(done) and all(self.optional[n] == frozenset(optional.get(n, ())) for n in self.names)

    def finish(self, threads: int = 1, also: Mapping[str, Callable[[], Any]] | None = None) -> dict[str, Any]:
        """Write every table (the runs not marked done are failed); return each file's size and hash by table name.

        Args:
            threads: Tables written at the same time (the Parquet encoding runs outside Python's lock).
            also: Other pieces of work done in the same threads (name: function); their results are returned too.

        Raises:
            DamagedError: If a finished run's file is missing or cannot be read (naming the file).
        """
        state = [bool(st) for st in self.states]

        def known(index: int) -> bool:
            return state[index]

        # the table with the most left to write first, then the other work, then the other tables by size: the threads
        # end close together (the files do not depend on the order)
        largest = sorted(self.names, key=lambda name: -self.writers[name].held())
        tables = {name: (lambda w=self.writers[name]: w.finish(known)) for name in largest}
        work: dict[str, Callable[[], Any]] = dict(itertools.islice(tables.items(), 1))
        work.update(also or {})
        work.update(tables)
        try:
            if threads <= 1 or len(work) <= 1:
                return {name: fn() for name, fn in work.items()}
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(threads, len(work)), thread_name_prefix="kyojosim-gather") as pool:
                futures = {name: pool.submit(fn) for name, fn in work.items()}
                return {name: fut.result() for name, fut in futures.items()}
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove every partly written file and forget what was read (after :meth:`finish`, or when interrupted)."""
        for w in self.writers.values():
            w.discard()
        self.unread.clear()
        self.ahead = 0


