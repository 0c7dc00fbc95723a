"""Running many independent tasks (model runs) in worker processes: the one place that knows joblib and dask.

:func:`map_runs` applies a function to every item, in this process (one job), in local worker
processes (``backend="loky"``, joblib's default) or on a dask.distributed cluster
(``backend="dask"``: a local cluster of ``jobs`` worker processes, or the running scheduler at
``scheduler``), and yields the results as they finish (``ordered=False``) or in the order of the
items.

Local worker processes are forked from this process where that is safe (Linux, and no other Python
thread running in this process: a script or ``kyojosim sweep``), with the standard library's process
pool: they start in milliseconds with everything this process has imported (kyojosim, Mesa, pandas,
pyarrow), instead of importing it all again (about a second per worker, paid by every sweep). Elsewhere
(macOS, Windows, a notebook kernel with its threads) they are loky's, started afresh and reused from one
call to the next. Either way the workers ignore SIGINT and run the same function on the same items.

Sweeps (:func:`kyojosim.runs.sweep.sweep`), projections (:func:`kyojosim.analysis.projection.track`) and the
validation experiments (:mod:`kyojosim.analysis.validation`) all run through it.

Ctrl-C: local workers ignore SIGINT (a terminal sends it to the whole process group), so only the
parent is interrupted; it stops the workers and the ``KeyboardInterrupt`` reaches the caller.

A worker process that dies (killed, out of memory, a crash in compiled code) does not stop the others:
with local workers at most ``jobs`` items are in the workers at a time, and when the pool breaks, the items
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
             on_retry: Callable[[T, int, str], None] | None = None,
             idle: Callable[[], bool] | None = None) -> Iterator[R]:
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
        idle: Work for this process while it waits for local workers and a core is free (a worker has no
            item left to run, or the machine has more cores than workers): called again and again, between
            checks for finished items, until it returns ``False`` (nothing more to do until the next result).
            Each call should be short: a finished item is handed out only between calls. Not called with one
            job or the dask backend.

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
    items = list(items)
    n_jobs = jobs if jobs != -1 else (os.cpu_count() or 1)
    pool = None
    if backend == "loky" and n_jobs > 1 and items and can_fork():
        # forked now, before the caller starts any thread (a progress bar's): the workers are ready when it iterates
        pool = _ForkedPool(n_jobs)
    return _iterate(fn, items, jobs, backend, scheduler, ordered, retries, lost, on_retry, pool, n_jobs, idle)


def worker_death(exc: BaseException) -> str:
    """Describe why a pool of worker processes broke, in one line (``a worker process died (SIGKILL(-9))``)."""
    codes = re.search(r"exit codes of the workers are \{([^}]*)\}", str(exc))
    return "a worker process died" + (f" ({codes.group(1)})" if codes else "")


def can_fork() -> bool:
    """Whether local workers can be forked from this process safely.

    On Linux, from the main thread, with no other Python thread running: a thread that holds a lock as the
    process forks would leave that lock held, forever, in the worker.
    """
    import multiprocessing
    import sys
    import threading

    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.current_thread() is threading.main_thread() and threading.active_count() == 1)


class _ForkedPool:
    """The standard library's process pool with ``n_jobs`` workers forked from this process, all started at once.

    The objects this process holds are frozen for the garbage collector while it forks (``gc.freeze``, then
    unfrozen here), so that the workers' collections do not walk, and copy, the pages of what they inherited.
    """

    def __init__(self, n_jobs: int) -> None:
        import gc
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        before = set(multiprocessing.active_children())
        self.executor = ProcessPoolExecutor(max_workers=n_jobs, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_ignore_sigint)
        self._reason: str | None = None
        freeze = gc.get_freeze_count() == 0  # a process that froze objects itself keeps them frozen
        if freeze:
            gc.freeze()
        try:  # the first task forks every worker now, from this thread, before the pool's own thread starts
            self.executor.submit(os.getpid).result()
        finally:
            if freeze:
                gc.unfreeze()
        self.processes = [p for p in multiprocessing.active_children() if p not in before]

    def submit(self, fn: Callable[[T], R], item: T) -> Any:
        return self.executor.submit(fn, item)

    def reason(self, exc: BaseException) -> str:
        """Wait for the broken pool to stop; say how its workers ended (``a worker process died (SIGKILL(-9))``)."""
        import signal

        if self._reason is None:
            self.executor.shutdown(wait=True)  # the pool stops the other workers (SIGTERM) and joins them
            codes = {p.exitcode for p in self.processes if p.exitcode not in (None, 0)}
            if len(codes) > 1:  # the workers the pool stopped are not the one that died
                codes.discard(-signal.SIGTERM)

            def name(code: int) -> str:
                try:
                    return f"{signal.Signals(-code).name}({code})" if code < 0 else str(code)
                except ValueError:
                    return str(code)

            self._reason = "a worker process died" + (f" ({', '.join(map(name, sorted(codes)))})" if codes else "")
        return self._reason

    def stop(self) -> None:
        """Stop the workers now (Ctrl-C, an error, or the caller stopped early)."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        for p in self.processes:
            if p.is_alive():
                p.kill()
        for p in self.processes:
            p.join(timeout=5)


class _LokyPool:
    """loky's reusable pool of ``n_jobs`` worker processes (started afresh, kept for the next call)."""

    def __init__(self, n_jobs: int) -> None:
        from joblib.externals.loky import get_reusable_executor

        self.executor = get_reusable_executor(max_workers=n_jobs, initializer=_ignore_sigint)

    def submit(self, fn: Callable[[T], R], item: T) -> Any:
        return self.executor.submit(fn, item)

    def reason(self, exc: BaseException) -> str:
        return worker_death(exc)

    def stop(self) -> None:
        self.executor.shutdown(wait=False, kill_workers=True)


def _local_pool(n_jobs: int, fork: bool) -> _ForkedPool | _LokyPool:
    return _ForkedPool(n_jobs) if fork else _LokyPool(n_jobs)


def usable_cores() -> int:
    """Return the number of cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _local(fn: Callable[[T], R], items: list[T], n_jobs: int, ordered: bool, retries: int,
           lost: Callable[[T, str], R] | None, on_retry: Callable[[T, int, str], None] | None,
           pool: _ForkedPool | _LokyPool | None = None, idle: Callable[[], bool] | None = None) -> Iterator[R]:
    """Run the items on local worker processes, at most ``n_jobs`` at a time; run again those lost with a worker.

    ``pool`` is the first pool (started by the caller; loky's if none); a pool that breaks is replaced by one of
    the same kind, forked only if that is still safe (:func:`can_fork`: a progress bar's thread may run by then).
    The workers are given their next items before the finished ones are yielded, so that what the caller does
    with a result never keeps a worker waiting. ``idle`` (see :func:`map_runs`) is called while a core is free.
    Once nothing is left to run, forked workers are told to end before the last results are yielded, so that they
    end while the caller works on them; the iteration's end waits for them.
    """
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    fork = isinstance(pool, _ForkedPool)
    spare_core = usable_cores() > n_jobs
    pending = deque(range(len(items)))  # not yet run
    suspects: deque[int] = deque()  # in a pool that broke: run again one at a time, alone
    losses = [0] * len(items)
    in_flight: dict[Any, tuple[int, Any]] = {}
    done: dict[int, R] = {}
    outbox: deque[R] = deque()  # finished, to be yielded once the workers have their next items
    next_out = 0
    failed_starts = 0
    more_idle = idle is not None
    stopping = None  # the forked workers told to stop once nothing is left to run (a thread waits for them)
    try:
        while pending or suspects or in_flight or outbox:
            try:  # an item leaves its queue once it is submitted
                if pool is None and (pending or suspects):
                    pool = _local_pool(n_jobs, fork and can_fork())
                if suspects and not in_flight:
                    fut = pool.submit(fn, items[suspects[0]])
                    in_flight[fut] = (suspects.popleft(), pool)
                while pending and not suspects and len(in_flight) < n_jobs:
                    fut = pool.submit(fn, items[pending[0]])
                    in_flight[fut] = (pending.popleft(), pool)
            except BrokenProcessPool as exc:  # broke between two waits: the next wait reports the items it held
                if not in_flight:
                    reason = pool.reason(exc) if pool is not None else worker_death(exc)
                    pool = None
                    failed_starts += 1
                    if failed_starts > 3:
                        raise ExecutorError(f"cannot start worker processes: {reason}") from None
                    continue
            failed_starts = 0
            if outbox:
                if fork and pool is not None and stopping is None and not (pending or suspects or in_flight):
                    # nothing left to run: the workers end while the caller takes the last results (and works on)
                    stopping = _stop_later(pool)
                while outbox:
                    yield outbox.popleft()
                more_idle = idle is not None  # a result may bring work for the idle time
                continue
            if not in_flight:
                continue
            if more_idle and (spare_core or len(in_flight) < n_jobs):
                finished, _ = wait(list(in_flight), timeout=0, return_when=FIRST_COMPLETED)
                if not finished:
                    more_idle = bool(idle())  # type: ignore[misc]
                    continue
            else:
                finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for fut in finished:
                i, owner = in_flight.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool as exc:
                    reason = owner.reason(exc)
                    if owner is pool:
                        pool = None  # a new pool is started
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
                    outbox.append(result)
                    continue
                done[i] = result
                while next_out in done:
                    outbox.append(done.pop(next_out))
                    next_out += 1
    except BaseException:
        for fut in in_flight:
            fut.cancel()
        if stopping is not None:
            stopping.join()
        if pool is not None and (in_flight or fork):  # Ctrl-C, an error, or the caller stopped early: stop the workers
            pool.stop()
        raise
    if stopping is not None:
        stopping.join()
    elif fork and pool is not None:
        pool.executor.shutdown(wait=True)


def _stop_later(pool: _ForkedPool) -> Any:
    """Tell a pool's idle workers to end, and return the thread that waits for them (join it before returning)."""
    import threading

    thread = threading.Thread(target=pool.executor.shutdown, kwargs={"wait": True}, name="kyojosim-workers-end",
                              daemon=True)
    thread.start()
    return thread


def release_workers() -> None:
    """Stop the local worker processes kept for the next call (loky's), freeing their memory and threads.

    Forked workers are never kept: they stop when their call ends. After this, this process has no thread of
    loky's left, so the next call can fork its workers again (:func:`can_fork`).
    """
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor(reuse=True).shutdown(wait=True, kill_workers=True)


def _iterate(fn: Callable[[T], R], items: list[T], jobs: int, backend: str, scheduler: str | None,
             ordered: bool, retries: int = 0, lost: Callable[[T, str], R] | None = None,
             on_retry: Callable[[T, int, str], None] | None = None, pool: _ForkedPool | None = None,
             n_jobs: int = 1, idle: Callable[[], bool] | None = None) -> Iterator[R]:
    if not items:
        return
    if backend == "loky" and jobs == 1:
        for item in items:
            yield fn(item)
        return
    if backend == "loky":
        # workers ignore Ctrl-C (the terminal sends it to them too): the parent stops them and reports
        yield from _local(fn, items, n_jobs, ordered, retries, lost, on_retry, pool, idle)
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


__all__ = ["BACKENDS", "ExecutorError", "can_fork", "check_options", "map_runs", "release_workers", "usable_cores",
           "worker_death"]
