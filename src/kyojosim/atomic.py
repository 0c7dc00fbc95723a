"""Atomic file writes: a reader sees either the old file or the complete new one, never half.

Each function writes to a hidden temporary file in the *same directory* as the target
(``.<name>.<random>.tmp``), flushes and ``fsync``-s it, renames it over the target with
:func:`os.replace` (atomic on POSIX and Windows), and ``fsync``-s the directory. If anything
fails the temporary file is removed, so no file is ever left outside the target directory or
half-written inside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

TMP_SUFFIX = ".tmp"
"""Suffix of the temporary files (they also start with a dot)."""

_umask: int | None = None


def _file_mode() -> int:
    """Return the mode a newly created file would get (0o666 minus the umask)."""
    global _umask
    if _umask is None:
        _umask = os.umask(0o022)
        os.umask(_umask)
    return 0o666 & ~_umask


def _fsync_dir(directory: Path) -> None:
    """Flush a directory entry to disk (no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", encoding: str | None = None,
                sync: bool = True) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` atomically when the block ends without error.

    Args:
        path: The target file. Its directory must exist.
        mode: ``"wb"`` or ``"w"``.
        encoding: Text encoding for ``mode="w"`` (default UTF-8).
        sync: ``fsync`` the file before the rename and the directory after it, so that the new file
            survives a crash of the machine. ``False`` keeps the rename atomic (a reader never sees half a
            file) but leaves the flush to the system: for files that a record written later with
            ``sync=True`` describes by size and hash and that are checked against it (a sweep's run
            tables, checked by its status).

    Yields:
        The open temporary file.

    Raises:
        ValueError: For a mode other than ``"wb"`` or ``"w"``.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open: mode must be 'wb' or 'w', got {mode!r}")
    target = Path(path)
    directory = target.parent
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=TMP_SUFFIX)
    tmp = Path(tmp_name)
    try:
        kwargs: dict[str, Any] = {} if mode == "wb" else {"encoding": encoding or "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync:
        _fsync_dir(directory)


def write_bytes(path: str | os.PathLike[str], data: bytes | memoryview | Any, sync: bool = True) -> Path:
    """Write bytes to ``path`` atomically.

    Args:
        path: The target file (its directory must exist).
        data: The content (bytes, or any object with the buffer protocol, such as a ``pyarrow.Buffer``).
        sync: ``fsync`` the file and its directory (see :func:`atomic_open`).

    Returns:
        The target path.
    """
    with atomic_open(path, "wb", sync=sync) as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8", sync: bool = True) -> Path:
    """Write text to ``path`` atomically.

    Args:
        path: The target file (its directory must exist).
        text: The content.
        encoding: Text encoding.
        sync: ``fsync`` the file and its directory (see :func:`atomic_open`).

    Returns:
        The target path.
    """
    return write_bytes(path, text.encode(encoding), sync=sync)


def _json_default(obj: Any) -> Any:
    """Turn numpy scalars and arrays, paths and sets into JSON values."""
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def write_json(path: str | os.PathLike[str], obj: Any, indent: int | None = 2, sync: bool = True) -> Path:
    """Write ``obj`` as UTF-8 JSON (non-ASCII kept as is) to ``path`` atomically.

    Numpy scalars and arrays, paths and sets are converted; ``NaN`` is refused (it is not JSON).

    Args:
        path: The target file (its directory must exist).
        obj: A JSON-serialisable value.
        indent: Indentation (``None`` for one line).
        sync: ``fsync`` the file and its directory (see :func:`atomic_open`); ``False`` leaves that to a later
            :func:`sync_file`.

    Returns:
        The target path.
    """
    text = json.dumps(obj, indent=indent, ensure_ascii=False, allow_nan=False, default=_json_default)
    return write_text(path, text + "\n", sync=sync)


def sync_file(path: str | os.PathLike[str]) -> None:
    """Flush a file written with ``sync=False`` to disk, and its directory entry: what ``sync=True`` would have done.

    Another process may do it (a sweep flushes the status its worker wrote). Once it returns, the file survives a
    crash of the machine; a crash before may leave it empty or missing (never half of it under its name and
    unnoticed: a reader of a file checked by size and hash, or of JSON, sees that it is not what was written).

    Raises:
        OSError: If the file cannot be opened or flushed.
    """
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(Path(path).parent)


def parquet_bytes(df: pd.DataFrame, index: bool = False) -> pa.Buffer:
    """Return a DataFrame as the bytes of a Parquet file, in memory.

    The file is what ``df.to_parquet(engine="pyarrow", index=index)`` writes (the same schema, pandas
    metadata and compression), converted with one thread: the tables of a run are small, and starting
    pyarrow's conversion threads for each would cost more than the conversion.

    Args:
        df: The table.
        index: Whether to store the DataFrame's index as well.

    Returns:
        The file's bytes (a ``pyarrow.Buffer``: write it with :func:`write_bytes`, hash it with :func:`bytes_digest`).
    """
    import pyarrow as pa

    return table_bytes(pa.Table.from_pandas(df, preserve_index=index, nthreads=1))


def table_bytes(table: pa.Table) -> pa.Buffer:
    """Return an Arrow table as the bytes of a Parquet file, in memory, written as :func:`parquet_bytes` writes.

    An Arrow table with the schema (pandas metadata included) and values ``pyarrow.Table.from_pandas`` gives a
    frame has the bytes :func:`parquet_bytes` gives the frame.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def write_parquet(path: str | os.PathLike[str], df: pd.DataFrame, index: bool = False, sync: bool = True) -> Path:
    """Write a DataFrame to Parquet (pyarrow) at ``path`` atomically.

    Args:
        path: The target file (its directory must exist).
        df: The table.
        index: Whether to store the DataFrame's index as well.
        sync: ``fsync`` the file and its directory (see :func:`atomic_open`).

    Returns:
        The target path.
    """
    return write_bytes(path, parquet_bytes(df, index=index), sync=sync)


def bytes_digest(data: bytes | memoryview | Any) -> dict[str, Any]:
    """Return :func:`file_digest` of a file holding ``data``, from the bytes in memory (no reading back)."""
    view = memoryview(data)
    return {"bytes": view.nbytes, "sha256": hashlib.sha256(view).hexdigest()}


def file_digest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return what a file holds, to check later that it is unchanged: ``{"bytes": size, "sha256": hex digest}``.

    Raises:
        OSError: If the file cannot be read.
    """
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return {"bytes": size, "sha256": digest.hexdigest()}


def check_file(path: str | os.PathLike[str], expected: Any, full: bool = True) -> str | None:
    """Check a file against what :func:`file_digest` recorded; return what is wrong (``None`` if nothing).

    Args:
        path: The file.
        expected: The record ``{"bytes", "sha256"}``.
        full: Also compare the SHA-256 hash (reads the whole file); else only the size.

    Returns:
        ``None``, or a short description naming the file: missing, of another size, changed, not readable.
    """
    target = Path(path)
    if not isinstance(expected, dict) or not isinstance(expected.get("bytes"), int):
        return f"{target.name}: no record of what was written"
    if not target.is_file():
        return f"{target.name} is missing"
    try:
        size = target.stat().st_size
        if size != expected["bytes"]:
            return f"{target.name} has {size:,} bytes, {expected['bytes']:,} were written"
        if full and file_digest(target)["sha256"] != expected.get("sha256"):
            return f"{target.name} has changed since it was written (its SHA-256 hash differs)"
    except OSError as exc:
        return f"{target.name} cannot be read ({exc.strerror or exc})"
    return None


__all__ = ["TMP_SUFFIX", "atomic_open", "bytes_digest", "check_file", "file_digest", "parquet_bytes", "sync_file",
           "table_bytes", "write_bytes", "write_json", "write_parquet", "write_text"]
