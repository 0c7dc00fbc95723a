"""Running many independent tasks (model runs) in worker processes: the one place that knows joblib and dask.

:func:`map_runs` applies a function to every item, in this process (one job), in local worker
processes (``backend="loky"``, joblib's default) or on a dask.distributed cluster
(``backend="dask"``: a local cluster of ``jobs`` worker processes, or the running scheduler at
``scheduler``), and yields the results as they finish (``ordered=False``) or in the order of the
items. Sweeps (:func:`kyojosim.runs.sweep.sweep`), projections (:func:`kyojosim.analysis.projection.track`) and the
validation experiments (:mod:`kyojosim.analysis.validation`) all run through it.

Ctrl-C: loky workers ignore SIGINT (a terminal sends it to the whole process group), so only the
parent is interrupted; it stops the workers and the ``KeyboardInterrupt`` reaches the caller.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from ..distribution import require_extra
from ..errors import KyojoError

BACKENDS: tuple[str, ...] = ("loky", "dask")
"""Where the tasks run: ``loky`` (local processes) or ``dask`` (a dask.distributed cluster)."""

T = TypeVar("T")
R = TypeVar("R")


class ExecutorError(KyojoError):
    """Tasks cannot be run as asked (unknown backend, bad number of jobs, unreachable dask scheduler)."""


def _ignore_sigint() -> None:
    """Make a worker process ignore SIGINT (its parent handles Ctrl-C and stops it)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def check_options(jobs: Any, backend: str = "loky", scheduler: str | None = None) -> None:
    """Check the options of :func:`map_runs`.

    Raises:
        ExecutorError: For an unknown backend, a number of jobs that is not >= 1 or -1, or a scheduler
            without the dask backend.
        MissingExtraError: For the dask backend without dask installed (``kyojosim[cluster]``).
    """
    if backend not in BACKENDS:
        raise ExecutorError(f"--backend: unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs == 0 or jobs < -1:
        raise ExecutorError(f"--jobs: got {jobs!r}; allowed: a number of workers >= 1, or -1 for all cores")
    if scheduler is not None and backend != "dask":
        raise ExecutorError("--scheduler: only with --backend dask")
    if backend == "dask":
        require_extra("cluster")


def map_runs(fn: Callable[[T], R], items: Iterable[T], jobs: int = 1, backend: str = "loky",
             scheduler: str | None = None, ordered: bool = False) -> Iterator[R]:
    """Apply ``fn`` to every item in worker processes; yield the results as they finish.

    Args:
        fn: A function of one item, importable by the workers (a module-level function or a
            :func:`functools.partial` of one).
        items: The items (picklable).
        jobs: Workers: loky processes, or dask tasks at once; -1 for all cores. With ``loky`` and one job
            the items run in this process, one after the other.
        backend: ``"loky"`` or ``"dask"`` (:data:`BACKENDS`).
        scheduler: Address of a running dask scheduler (``tcp://host:port``); without it the dask
            backend starts a local cluster of ``jobs`` worker processes on 127.0.0.1.
        ordered: Yield the results in the order of ``items`` instead of as they finish.

    Returns:
        An iterator over the results.

    Raises:
        ExecutorError: For an unknown backend, a bad ``jobs``, a scheduler without the dask backend, or a
            dask scheduler that cannot be reached (raised when the iteration starts).
    """
    check_options(jobs, backend, scheduler)
    return _iterate(fn, list(items), jobs, backend, scheduler, ordered)


def _iterate(fn: Callable[[T], R], items: list[T], jobs: int, backend: str, scheduler: str | None,
             ordered: bool) -> Iterator[R]:
    if not items:
        return
    if backend == "loky" and jobs == 1:
        for item in items:
            yield fn(item)
        return
    from joblib import Parallel, delayed, parallel_config

    return_as = "generator" if ordered else "generator_unordered"
    tasks = (delayed(fn)(item) for item in items)
    if backend == "loky":
        n_jobs = jobs if jobs != -1 else (os.cpu_count() or 1)
        # workers ignore Ctrl-C (the terminal sends it to them too): the parent stops them and reports
        with parallel_config(backend="loky", initializer=_ignore_sigint):
            yield from Parallel(n_jobs=n_jobs, return_as=return_as, pre_dispatch="2*n_jobs", batch_size=1)(tasks)
        return
    from dask.distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler:
            try:
                client = stack.enter_context(Client(scheduler, set_as_default=True, timeout="20s"))
            except (OSError, TimeoutError, ValueError) as exc:
                raise ExecutorError(f"--scheduler: cannot connect to the dask scheduler at {scheduler!r}: {exc}; "
                                    "allowed: the address of a running scheduler, e.g. tcp://127.0.0.1:8786") from None
        else:
            n_workers = jobs if jobs != -1 else (os.cpu_count() or 1)
            cluster = stack.enter_context(LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                                       dashboard_address=None, host="127.0.0.1"))
            client = stack.enter_context(Client(cluster, set_as_default=True))
        stack.enter_context(parallel_config(backend="dask", n_jobs=jobs if jobs > 0 else -1))
        del client
        yield from Parallel(return_as=return_as, batch_size=1)(tasks)


__all__ = ["BACKENDS", "ExecutorError", "check_options", "map_runs"]
