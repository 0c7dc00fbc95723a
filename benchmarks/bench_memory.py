"""Peak memory of a run and what it is made of: libraries, simulation state, Mesa handles, records, transients.

The script builds one model and runs it to its end, then assembles its tables as ``kyojosim.run``
does. It meters every phase: the build, each yearly submodel of the turn of the year
(``kyojosim.model.YEARLY``, by name), the weekly round, the DataCollector's weekly record, the
monthly records (the channels' month, つながり力, Community Value) and the assembly of the tables.
For each phase it takes the resident set size (RSS) at its start and the highest RSS during it
(Linux: ``VmHWM``, reset at the start of every phase through ``/proc/self/clear_refs``; elsewhere only
the process's peak is known, ``ru_maxrss``). It prints:

* the libraries after import: the interpreter, the packages ``kyojosim.model`` imports (Mesa brings
  pandas, pyarrow, scipy and networkx), numba and the compiled matching;
* the model after the build: its arrays by owner (resident columns, ties, the need book, the mutual
  aid's yearly arrays and each channel's, the records' groups, the meeting log), the Mesa handles
  (measured with ``tracemalloc`` while they are made: the objects, their ``unique_id`` numbers and
  Mesa's registration entries), the DataCollector's records;
* the peak: in which step and phase it happens, and what the RSS is made of at that moment:
  libraries + arrays (at the start of the phase) + Mesa handles + records + the rest held before the
  phase (memory the allocator keeps after it was freed, Python objects, kernels loaded since) + the
  phase's own transient (its highest RSS above its start);
* the highest RSS of each phase over the run (which parts push the peak), how much each phase grew
  glibc's heap (the memory the allocator keeps once it has it), and the RSS year by year.

With glibc, ``mallinfo2`` adds how much of the RSS before the peak phase is memory the allocator holds
free (freed arrays not returned to the system).

    .venv/bin/python benchmarks/bench_memory.py --scenario koto-all --years 20              # about 1 minute, quiet
    .venv/bin/python benchmarks/bench_memory.py --scenario koto-all --years 20 --no-agents  # without handles
    .venv/bin/python benchmarks/bench_memory.py --scenario yamae --scale 0.2 --years 2      # seconds

Prints figures; asserts nothing (``tests/test_benchmarks.py`` runs a small case in process).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

MB = 2**20
OUTSIDE = "(between the metered phases)"
ROOM = "room to grow of kept arrays"
"""The part of arrays kept from year to year (``Refill``) beyond what is in use: allocated, not state."""
"""Where a rise of the RSS outside every metered phase is counted (the rest of a step: its clock, its month)."""
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


# -- reading the process's memory ----------------------------------------------------------------

def max_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (rss if sys.platform == "darwin" else rss * 1024) / MB


def _status(key: str) -> float | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Meter:
    """The RSS now and the highest RSS since the last :meth:`reset` (Linux), else the process's peak only."""

    def __init__(self) -> None:
        self.per_phase = _status("VmHWM") is not None and self._can_reset()
        self.highest = 0.0

    @staticmethod
    def _can_reset() -> bool:
        try:
            _CLEAR_REFS.write_text("5")  # 5: reset the peak RSS (VmHWM) to the current RSS
            return True
        except OSError:
            return False

    def rss(self) -> float:
        """The RSS now in MB (the process's peak where the current RSS cannot be read)."""
        now = _status("VmRSS") if self.per_phase else None
        return max_rss_mb() if now is None else now

    def reset(self) -> float:
        """Start a phase: return the RSS now and make :meth:`peak` the highest RSS from now on."""
        if self.per_phase:
            self.highest = max(self.highest, _status("VmHWM") or 0.0)
            _CLEAR_REFS.write_text("5")
        return self.rss()

    def peak(self) -> float:
        """The highest RSS since the last :meth:`reset` (Linux), else the process's peak so far."""
        now = _status("VmHWM") if self.per_phase else None
        value = max_rss_mb() if now is None else now
        self.highest = max(self.highest, value)
        return value


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _mallinfo2() -> Callable[[], _MallInfo2] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    fn.restype = _MallInfo2
    return fn


_MALLINFO2 = _mallinfo2()


def malloc_free_mb() -> float | None:
    """Memory glibc's allocator holds free (``mallinfo2().fordblks``), in MB; ``None`` elsewhere."""
    return None if _MALLINFO2 is None else _MALLINFO2().fordblks / MB


def heap_mb() -> float | None:
    """Size of glibc's heap (``mallinfo2().arena``: the memory it got by extending its heaps), in MB; else ``None``.

    Arrays too large for the heap (glibc's ``mmap`` threshold) are mapped one by one and returned when
    freed; what the heap gets is kept (only its free top is given back), so its growth over a run is
    where memory the allocator keeps comes from.
    """
    return None if _MALLINFO2 is None else _MALLINFO2().arena / MB


# -- what the model holds ---------------------------------------------------------------------------

def _owner(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def array_bytes(obj: Any, seen: set[int], depth: int = 0, room: list[int] | None = None) -> int:
    """Bytes of the numpy buffers reachable from ``obj`` through kyojosim objects, containers and sparse matrices.

    Each buffer is counted once (``seen`` holds the ids of the buffers and objects already counted). Of an
    array kept to be filled again (:class:`kyojosim.core.buffers.Refill`) only the part in use is counted, and of
    the tie columns (the front of arrays with room for the next merges) only the columns;
    the rest, room to grow, is added to ``room[0]`` if given.
    """
    from kyojosim.core.buffers import Refill  # here: importing kyojosim at the top would count it as the interpreter
    from kyojosim.core.network import Ties

    if depth > 10 or id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, Ties) and isinstance(obj.__dict__.get("_room_of"), tuple):
        # the tie columns are the front of larger arrays (room for the next merges, written only then): the
        # columns are state, the rest room
        arrays = obj.__dict__["_room_of"]
        columns = (obj._a, obj._b, obj._kind, obj._strength)
        if all(c.base is x for c, x in zip(columns, arrays, strict=True)):
            seen.update(id(x) for x in arrays)
            used = sum(int(c.nbytes) for c in columns)
            if room is not None:
                room[0] += sum(int(x.nbytes) for x in arrays) - used
            rest = {k: v for k, v in obj.__dict__.items() if k not in ("_a", "_b", "_kind", "_strength", "_room_of")}
            return used + sum(array_bytes(v, seen, depth + 1, room) for v in rest.values())
    if isinstance(obj, Refill):
        kept = obj.__dict__.get("_owner")
        if kept is None:
            return 0
        seen.add(id(kept))
        used = obj.in_use * kept.itemsize
        if room is not None:
            room[0] += kept.nbytes - used
        return used
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return 0
        base = _owner(obj)
        if base is not obj:
            if id(base) in seen:
                return 0
            seen.add(id(base))
        return int(base.nbytes)
    if isinstance(obj, dict):
        return sum(array_bytes(v, seen, depth + 1, room) for v in obj.values())
    if isinstance(obj, list | tuple):
        if len(obj) > 64 and not isinstance(obj[0], np.ndarray | dict | list | tuple):
            return 0  # a list of plain values (records): counted by :func:`records_bytes`
        return sum(array_bytes(v, seen, depth + 1, room) for v in obj)
    module = type(obj).__module__ or ""
    if module.startswith("scipy.sparse"):
        return sum(array_bytes(getattr(obj, a, None), seen, depth + 1, room) for a in ("data", "indices", "indptr"))
    if module.startswith("kyojosim"):
        fields = dict(getattr(obj, "__dict__", {}))
        for name in getattr(type(obj), "__slots__", ()):
            fields[name] = getattr(obj, name, None)
        return sum(array_bytes(v, seen, depth + 1, room) for k, v in fields.items() if k not in ("model", "aid", "ctx"))
    return 0


def records_bytes(dc: Any) -> int:
    """Bytes of the DataCollector's records: its lists and the numbers and strings in them (estimated per column)."""
    total = 0
    columns = list(dc.model_vars.values()) + [c for t in dc.tables.values() for c in t.values()]
    for col in columns:
        total += sys.getsizeof(col)
        if col:
            last = col[-1]
            small = isinstance(last, int) and -5 <= last <= 256 or last is None or isinstance(last, bool)
            total += 0 if small else len(col) * sys.getsizeof(last)
    return total


def holdings(model: Any) -> dict[str, float]:
    """The model's arrays by owner and its DataCollector's records, in MB."""
    seen: set[int] = set()
    out: dict[str, float] = {}
    room = [0]
    # the kept arrays first (their views elsewhere are then not counted again): their part in use is state
    add_first = sum(array_bytes(r, seen, room=room) for r in vars(model.ties).get("_adjacency_room", ())) / MB

    def add(name: str, obj: Any) -> None:
        out[name] = out.get(name, 0.0) + array_bytes(obj, seen, room=room) / MB

    add("resident columns", model.population)
    add("ties", model.ties)
    aid = model.aid
    add("need book", aid.book)
    for ch in aid.channels:
        add(f"channel {ch.name}", ch)
    add("mutual aid's yearly arrays", {k: v for k, v in vars(aid).items() if k not in ("book", "channels", "model")})
    add("records' groups (つながり力)", model.tsunagari_groups)
    add("meeting log", model.meeting_log)
    add("other arrays", {k: v for k, v in vars(model).items() if k not in (
        "population", "ties", "aid", "tsunagari_groups", "meeting_log", "_handles", "datacollector", "scenario",
        "streams")})
    out["ties"] += add_first
    out[ROOM] = room[0] / MB
    out["DataCollector records"] = records_bytes(model.datacollector) / MB
    return out


# -- metering the phases of a run ---------------------------------------------------------------------

class Phases:
    """Per phase of a run: its RSS at the start, its highest RSS, and how far it pushed the process's highest RSS.

    What the model holds (:func:`holdings`) is taken at the end of a phase that set a new highest RSS
    (the one that sets the last is where the peak happened).
    """

    def __init__(self, meter: Meter, model: Any = None) -> None:
        self.meter = meter
        self.model = model
        self.by_name: dict[str, dict[str, Any]] = {}
        self.by_year: dict[int, dict[str, Any]] = {}
        self.top: dict[str, Any] | None = None
        self.highest = 0.0
        self.heap: float | None = None  # glibc's heap at the end of the last phase (MB)

    def run(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        heap = heap_mb()
        if self.model is not None:  # the code between the metered phases
            gap = self.meter.peak() if self.meter.per_phase else 0.0
            if gap > self.highest:
                self._note(OUTSIDE, self.model, gap, gap)
            if heap is not None and self.heap is not None and heap != self.heap:
                self._grew(OUTSIDE, heap - self.heap)
        start = self.meter.reset()
        result = fn(*args, **kwargs)
        self.heap = heap_mb()
        grown = None if heap is None else self.heap - heap
        self._note(name, self.model if self.model is not None else result, start, self.meter.peak(), grown)
        return result

    def _grew(self, name: str, mb: float) -> None:
        stats = self.by_name.setdefault(name, {"calls": 0, "push_mb": 0.0, "transient_mb": 0.0, "step": 0,
                                               "highest_mb": 0.0, "heap_mb": 0.0})
        stats["heap_mb"] += mb

    def _note(self, name: str, m: Any, start: float, peak: float, heap_grown: float | None = None) -> None:
        step, year = int(getattr(m, "steps", 0)), int(getattr(m, "year", 0))
        push = max(0.0, peak - self.highest)
        self.highest = max(self.highest, peak)
        stats = self.by_name.setdefault(name, {"calls": 0, "push_mb": 0.0, "transient_mb": 0.0, "step": 0,
                                               "highest_mb": 0.0, "heap_mb": 0.0})
        stats["calls"] += 1
        stats["push_mb"] += push
        stats["heap_mb"] += heap_grown or 0.0
        stats["highest_mb"] = max(stats["highest_mb"], peak)
        if peak - start > stats["transient_mb"]:
            stats["transient_mb"], stats["step"] = peak - start, step
        yr = self.by_year.get(year)
        if yr is None or peak > yr["peak_mb"]:
            self.by_year[year] = {"phase": name, "peak_mb": peak}
        if self.top is None or peak > self.top["peak_mb"]:
            self.top = {"phase": name, "step": step, "year": year, "rss_start_mb": start, "peak_mb": peak,
                        "rss_end_mb": self.meter.rss(), "held": holdings(m) if hasattr(m, "aid") else {},
                        "malloc_free_mb": malloc_free_mb(), "heap_mb": heap_mb(),
                        "handles": len(m.agents) if getattr(m, "keeps_agents", False) else 0}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def metered(*args: Any, **kwargs: Any) -> Any:
            return self.run(name, fn, *args, **kwargs)
        return metered


@contextmanager
def metered_turn(phases: Phases):
    """Meter each yearly submodel of ``kyojosim.model.YEARLY`` by name (restored afterwards)."""
    from kyojosim import model as model_module

    original = model_module.YEARLY
    model_module.YEARLY = tuple((name, phases.wrap(name, fn)) for name, fn in original)
    try:
        yield
    finally:
        model_module.YEARLY = original


def handle_bytes(model_cls: Any) -> Callable[[], tuple[int, int]]:
    """Measure, with ``tracemalloc``, the bytes kept by the Mesa handles made at the build; return a reader."""
    seen = {"bytes": 0, "count": 0}
    original = model_cls._attach_handles

    def attach(self: Any, slots: np.ndarray) -> None:
        if self._handles is None or seen["count"]:
            return original(self, slots)
        tracing = tracemalloc.is_tracing()  # already on (python -X tracemalloc): count the difference, leave it on
        if not tracing:
            tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            original(self, slots)
            seen["bytes"], seen["count"] = tracemalloc.get_traced_memory()[0] - before, int(slots.size)
        finally:
            if not tracing:
                tracemalloc.stop()
        return None

    model_cls._attach_handles = attach

    def read() -> tuple[int, int]:
        model_cls._attach_handles = original
        return seen["bytes"], seen["count"]

    return read


def run(scenario: str, scale: float, years: int, seed: int, agents: bool = True) -> dict[str, Any]:
    """Build and run one model, metering every phase; return the figures."""
    meter = Meter()
    libs = {"interpreter": meter.rss()}
    import kyojosim.model as model_module
    from kyojosim.measures.outcomes import run_tables, table_frame

    gc.collect()
    libs["packages"] = meter.rss() - libs["interpreter"]
    from kyojosim.aid.matching import Candidates, match

    one = np.zeros(1, dtype=np.int64)
    match(Candidates(one, one, np.ones(1), one.astype(np.int8)), np.ones(1), np.ones(1))  # numba + a kernel
    gc.collect()
    libs["numba and the compiled matching"] = meter.rss() - libs["interpreter"] - libs["packages"]
    libraries = meter.rss()

    phases = Phases(meter)
    phases.highest = libraries
    heap_start = heap_mb()
    read_handles = handle_bytes(model_module.KyojoModel)
    t0 = time.perf_counter()
    model = phases.run("build", model_module.KyojoModel, scenario, scale=scale, seed=seed, years=years, agents=agents)
    build_s = time.perf_counter() - t0
    h_bytes, h_count = read_handles()
    per_handle = h_bytes / h_count if h_count else 0.0
    after_build = {"rss_mb": meter.rss(), "held": holdings(model), "malloc_free_mb": malloc_free_mb()}
    phases.model = model
    aid = model.aid
    aid.week = phases.wrap("weekly round", aid.week)
    aid.monthly = phases.wrap("monthly: channels", aid.monthly)
    model._record_tsunagari = phases.wrap("monthly: つながり力", model._record_tsunagari)
    model._record_community_value = phases.wrap("monthly: Community Value", model._record_community_value)
    model.datacollector.collect = phases.wrap("weekly record (DataCollector)", model.datacollector.collect)
    t0 = time.perf_counter()
    with metered_turn(phases):
        while model.running:
            model.step()
    run_s = time.perf_counter() - t0
    phases.run("table assembly", lambda: {name: table_frame(model.datacollector, name) for name in run_tables()})
    handles_end = len(model.agents) if agents else 0
    result = {
        "scenario": scenario, "scale": scale, "years": years, "seed": seed, "agents": agents,
        "per_phase_rss": meter.per_phase, "build_s": build_s, "run_s": run_s,
        "residents_end": int(model.population.n), "ties_end": len(model.ties),
        "libraries_mb": libraries, "libraries": libs, "heap_start_mb": heap_start, "heap_end_mb": phases.heap,
        "handle_bytes": per_handle, "handles_build": h_count, "handles_end": handles_end,
        "after_build": after_build, "peak_mb": phases.highest if meter.per_phase else max_rss_mb(),
        "top": phases.top, "by_name": phases.by_name, "by_year": phases.by_year,
    }
    model.release()
    return result


# -- printing ----------------------------------------------------------------------------------------

def _lines_held(held: dict[str, float], indent: str = "    ") -> list[str]:
    return [f"{indent}{k:<34} {v:8.1f} MB" for k, v in sorted(held.items(), key=lambda kv: -kv[1]) if v >= 0.05]


def breakdown(r: dict[str, Any]) -> list[tuple[str, float]]:
    """The peak RSS as parts that add up to it (the state at the end of the phase that reached it)."""
    top = r["top"]
    held = dict(top["held"])
    records = held.pop("DataCollector records", 0.0)
    room = held.pop(ROOM, 0.0)
    arrays = sum(held.values())
    handles = top["handles"] * r["handle_bytes"] / MB
    free = top["malloc_free_mb"]
    rest = top["peak_mb"] - r["libraries_mb"] - arrays - room - handles - records - (free or 0.0)
    parts = [("libraries (after import)", r["libraries_mb"]), ("simulation state (arrays)", arrays),
             (ROOM, room), ("Mesa handles", handles), ("DataCollector records", records)]
    if free is not None:
        parts.append(("freed, kept by the allocator", free))
    return parts + [("the rest (objects, kernels, transient)", rest)]


def format_run(r: dict[str, Any]) -> str:
    """Return the figures of one run as text."""
    head = (f"{r['scenario']} scale {r['scale']:g}, {r['years']} years, seed {r['seed']}, Mesa handles "
            f"{'kept' if r['agents'] else 'not kept'}")
    lines = [head, "-" * len(head)]
    lines.append(f"libraries after import: {r['libraries_mb']:,.0f} MB RSS ("
                 + ", ".join(f"{k} {v:,.0f}" for k, v in r["libraries"].items()) + ")")
    ab = r["after_build"]
    lines.append(f"after the build ({r['build_s']:.1f} s): RSS {ab['rss_mb']:,.0f} MB (the build's own highest "
                 f"{r['by_name']['build']['highest_mb']:,.0f} MB); the model holds:")
    lines += _lines_held(ab["held"])
    if r["agents"]:
        lines.append(f"    {'Mesa handles':<34} {r['handles_build'] * r['handle_bytes'] / MB:8.1f} MB "
                     f"({r['handles_build']:,} x {r['handle_bytes']:.0f} B)")
    if ab["malloc_free_mb"] is not None:
        lines.append(f"    {'freed, kept by the allocator':<34} {ab['malloc_free_mb']:8.1f} MB")
    top = r["top"]
    where = "the build" if top["phase"] == "build" else f"step {top['step']} (year {top['year']}), {top['phase']}"
    lines.append(f"run: {r['run_s']:.1f} s, {r['residents_end']:,} residents and {r['ties_end']:,} ties at the end")
    lines.append(f"PEAK RSS {r['peak_mb']:,.0f} MB, reached in {where} (+{top['peak_mb'] - top['rss_start_mb']:.1f} MB "
                 "in that phase); at the end of that phase:")
    for name, mb in breakdown(r):
        lines.append(f"    {name:<38} {mb:8.1f} MB")
    lines.append("  the simulation state then:")
    lines += _lines_held({k: v for k, v in top["held"].items() if k not in ("DataCollector records", ROOM)}, "      ")
    if not r["per_phase_rss"]:
        lines.append("  (no per-phase RSS on this platform: the phase is the first that reached the process's peak)")
    lines.append("what raised the highest RSS, by phase (MB added to the process's highest RSS over the run; the "
                 "phase's largest rise above its own start, in which step; calls):")
    for name, st in sorted(r["by_name"].items(), key=lambda kv: -kv[1]["push_mb"]):
        if st["push_mb"] >= 0.5 or st["transient_mb"] >= 5:
            lines.append(f"    {name:<34} {st['push_mb']:7.1f}   largest rise +{st['transient_mb']:6.1f} "
                         f"(step {st['step']:>5})  {st['calls']:>5} calls")
    if top.get("heap_mb") is not None:
        lines.append(f"what grew glibc's heap, by phase (MB, net over the run; the heap was {top['heap_mb']:,.0f} MB "
                     "at the peak, of which the allocator held free the figure above):")
        for name, st in sorted(r["by_name"].items(), key=lambda kv: -kv[1]["heap_mb"]):
            if abs(st["heap_mb"]) >= 1:
                lines.append(f"    {name:<34} {st['heap_mb']:+8.1f}")
    lines.append("highest RSS by year: " + ", ".join(
        f"{y} {rec['peak_mb']:,.0f} ({rec['phase']})" for y, rec in sorted(r["by_year"].items())))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="koto-all", help="bundled scenario or file (default koto-all)")
    p.add_argument("--scale", type=float, default=1.0, help="fraction of residents simulated (default 1.0)")
    p.add_argument("--years", type=int, default=20, help="years to run (default 20)")
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument("--no-agents", action="store_true", help="build the model without Mesa handles")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH (atomically)")
    args = p.parse_args(argv)
    if args.years < 1:
        p.error("--years must be at least 1")
    if args.scale <= 0:
        p.error("--scale must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures (and write JSON if asked); return them."""
    args = parse_args(argv)
    # the kernels compiled (once after installing) in a child process, as a run or sweep does: this process
    # loads them from the cache, and its memory is that of every run after the first; asked from another
    # process, so that numba is not imported here before the libraries are metered
    ask = "from kyojosim.runs.kernels import compile_ahead; print(compile_ahead(notify=print))"
    done = subprocess.run([sys.executable, "-c", ask], capture_output=True, text=True, check=False)
    print(f"compiled kernels: {(done.stdout.strip().splitlines() or ['(no answer)'])[-1]}", flush=True)
    result = run(args.scenario, args.scale, args.years, args.seed, not args.no_agents)
    print(format_run(result), flush=True)
    if args.json:
        from kyojosim.atomic import write_json

        write_json(args.json, result)
        print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
