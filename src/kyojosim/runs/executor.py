"""Running many independent tasks (model runs) in worker processes: the one place that knows joblib and dask.

:func:`map_runs` applies a function to every item, in this process (one job), in local worker
processes (``backend="loky"``, joblib's default) or on a dask.distributed cluster
(``backend="dask"``: a local cluster of ``jobs`` worker processes, or the running scheduler at
``scheduler``), and yields the results as they finish (``ordered=False``) or in the order of the
items. Sweeps (:func:`kyojosim.runs.sweep.sweep`), projections (:func:`kyojosim.analysis.projection.track`) and the
validation experiments (:mod:`kyojosim.analysis.validation`) all run through it.

Ctrl-C: loky workers ignore SIGINT (a terminal sends it to the whole process group), so only the
parent is interrupted; it stops the workers and the ``KeyboardInterrupt`` reaches the caller.

A worker process that dies (killed, out of memory, a crash in compiled code) does not stop the others:
with ``loky`` at most ``jobs`` items are in the workers at a time, and when the pool breaks, the items
that were in it are run again (``retries`` times at most), each alone, so that the one that kills its
worker is found and the others finish; an item still lost is handed to ``lost`` (a sweep records the
run as failed) and the rest go on. The dask backend reschedules the tasks of a lost worker itself
(``distributed.scheduler.allowed-failures``, 3 by default).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import deque
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
             scheduler: str | None = None, ordered: bool = False, retries: int = 0,
             lost: Callable[[T, str], R] | None = None,
             on_retry: Callable[[T, int, str], None] | None = None) -> Iterator[R]:
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
        retries: How many more times an item whose worker process died is run (loky with more than one
            job); after the first loss each runs alone.
        lost: Called in this process with an item whose worker died ``1 + retries`` times and the reason;
            what it returns is yielded as the item's result. Without it such an item raises
            :class:`ExecutorError`.
        on_retry: Called in this process with an item, its next attempt (2, 3 ...) and the reason, each
            time an item is run again.

    Returns:
        An iterator over the results.

    Raises:
        ExecutorError: For an unknown backend, a bad ``jobs``, a scheduler without the dask backend, a
            dask scheduler that cannot be reached (raised when the iteration starts), or an item lost
            with its worker without ``lost``.
    """
    check_options(jobs, backend, scheduler)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ExecutorError(f"retries: got {retries!r}; allowed: an integer >= 0")
    return _iterate(fn, list(items), jobs, backend, scheduler, ordered, retries, lost, on_retry)


def worker_death(exc: BaseException) -> str:
    """Describe why a pool of worker processes broke, in one line (``a worker process died (SIGKILL(-9))``)."""
    codes = re.search(r"exit codes of the workers are \{([^}]*)\}", str(exc))
    return "a worker process died" + (f" ({codes.group(1)})" if codes else "")


def _loky(fn: Callable[[T], R], items: list[T], n_jobs: int, ordered: bool, retries: int,
          lost: Callable[[T, str], R] | None, on_retry: Callable[[T, int, str], None] | None) -> Iterator[R]:
    """Run the items on loky worker processes, at most ``n_jobs`` at a time; run again those lost with a worker."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from joblib.externals.loky import get_reusable_executor

    pending = deque(range(len(items)))  # not yet run
    suspects: deque[int] = deque()  # in a pool that broke: run again one at a time, alone
    losses = [0] * len(items)
    in_flight: dict[Any, int] = {}
    done: dict[int, R] = {}
    next_out = 0
    executor = None
    failed_starts = 0
    try:
        while pending or suspects or in_flight:
            if executor is None:
                executor = get_reusable_executor(max_workers=n_jobs, initializer=_ignore_sigint)
            try:  # an item leaves its queue once it is submitted
                if suspects and not in_flight:
                    fut = executor.submit(fn, items[suspects[0]])
                    in_flight[fut] = suspects.popleft()
                while pending and not suspects and len(in_flight) < n_jobs:
                    fut = executor.submit(fn, items[pending[0]])
                    in_flight[fut] = pending.popleft()
            except BrokenProcessPool as exc:  # broke between two waits: the next wait reports the items it held
                if not in_flight:
                    executor = None
                    failed_starts += 1
                    if failed_starts > 3:
                        raise ExecutorError(f"cannot start worker processes: {worker_death(exc)}") from None
                    continue
            failed_starts = 0
            finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for fut in finished:
                i = in_flight.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool as exc:
                    executor = None  # loky starts a new pool
                    reason = worker_death(exc)
                    losses[i] += 1
                    if losses[i] <= retries:
                        suspects.append(i)
                        if on_retry is not None:
                            on_retry(items[i], losses[i] + 1, reason)
                        continue
                    if lost is None:
                        raise ExecutorError(f"{reason} while running an item, {losses[i]} time(s); the other "
                                            "items were stopped") from None
                    result = lost(items[i], f"{reason}, {losses[i]} time(s)")
                if not ordered:
                    yield result
                    continue
                done[i] = result
                while next_out in done:
                    yield done.pop(next_out)
                    next_out += 1
    except BaseException:
        for fut in in_flight:
            fut.cancel()
        if executor is not None and in_flight:  # Ctrl-C, an error, or the caller stopped early: stop the workers
            executor.shutdown(wait=False, kill_workers=True)
        raise


def _iterate(fn: Callable[[T], R], items: list[T], jobs: int, backend: str, scheduler: str | None,
             ordered: bool, retries: int = 0, lost: Callable[[T, str], R] | None = None,
             on_retry: Callable[[T, int, str], None] | None = None) -> Iterator[R]:
    if not items:
        return
    if backend == "loky" and jobs == 1:
        for item in items:
            yield fn(item)
        return
    if backend == "loky":
        # workers ignore Ctrl-C (the terminal sends it to them too): the parent stops them and reports
        yield from _loky(fn, items, jobs if jobs != -1 else (os.cpu_count() or 1), ordered, retries, lost, on_retry)
        return
    from joblib import Parallel, delayed, parallel_config

    return_as = "generator" if ordered else "generator_unordered"
    tasks = (delayed(fn)(item) for item in items)
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


__all__ = ["BACKENDS", "ExecutorError", "check_options", "map_runs", "worker_death"]
