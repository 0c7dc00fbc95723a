"""Run an experiment: every run in parallel, each saved as it finishes, then one table per kind.

``kyojosim.sweep("yamae-quick")`` (or ``kyojosim sweep yamae-quick --jobs 2``) writes::

    results/<experiment name>/
        experiment.json        the resolved experiment, its hash and the runs (written first)
        runs/<run_id>/         one folder per run: the tables a sweep keeps (steps, years, age_structure,
                               money, tsunagari, community_value, channel_months) and its summary (Parquet), and
                               status.json written last (with the size and SHA-256 hash of each file)
        design.parquet         one row per run: scenario, variant, point, replicate, seed, status ...
        summary.parquet        one row per finished run (matching rates, つながり力, money, population)
        steps.parquet  years.parquet  ...   the kept tables of every finished run, consolidated
        manifest.json          written last (see the experiment-results contract; with the size and
                               SHA-256 hash of each consolidated table)

The tables and the summary's columns are declared in :mod:`kyojosim.measures.outcomes` (``Table.swept`` marks
the tables a sweep keeps; the summary has one column per metric with a summary).

Each worker runs one model (:func:`kyojosim.runs.results.run_one`, which releases it), writes the run's
tables atomically and returns only a small status dict, so memory does not grow with the number of
runs. The workers are local processes or a dask cluster (:func:`kyojosim.runs.executor.map_runs`). A run
that fails is recorded (status ``failed`` with the error and traceback) and the others go on; a run
whose worker process dies (killed, out of memory) is run again, alone, up to :data:`RETRIES` more times,
then recorded as failed (``lost: ...``), and the others go on.
Running the same command again resumes: runs whose status is ``done`` are skipped if their files are
what they wrote (each run's status records the size and SHA-256 hash of every file, :func:`verify_run`);
a damaged run (a file truncated, emptied, deleted or changed) is run again. The manifest's ``recovered``
lists the runs found damaged and those run again after their worker died. Consolidation and
:func:`kyojosim.load` never skip a missing table of a finished run: they name the file
(:class:`DamagedError`). A folder made by
a different experiment (other hash) is refused unless ``restart=True``. The consolidated tables list
the runs in their fixed order, so they are identical whatever the number of jobs or the backend.

``kyojosim.sweep`` is this module's function :func:`sweep`; import the module's other names with
``from kyojosim.runs.sweep import summary_row``.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import json
import multiprocessing
import os
import shutil
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import (
    TMP_SUFFIX,
    bytes_digest,
    check_file,
    parquet_bytes,
    sync_file,
    table_bytes,
    write_bytes,
    write_json,
    write_parquet,
)
from ..errors import KyojoError, ScenarioWarning
from ..measures.outcomes import (
    FORMAT_VERSION,
    columns_of,
    experiment_tables,
    missing_allowed,
    rows_arrow,
    summarise,
    swept_tables,
    table_arrow,
    typed_frame,
)
from ..params.experiment import Experiment, Run, load_experiment
from .executor import BACKENDS, ExecutorError, check_options, map_runs, usable_cores
from .gather import DamagedError, Gatherer, conform, read_schema, read_table, table_schema
from .kernels import compile_ahead, to_stderr
from .results import results_folder

RUNS_DIR = "runs"
STATUS = "status.json"
PLAN = "experiment.json"
MANIFEST = "manifest.json"
FORMAT = "kyojosim-experiment"
RETRIES = 2
"""How many more times a run is run when its worker process dies (each time alone), before it is recorded as lost."""


class SweepError(KyojoError):
    """A sweep cannot start (bad options, or a results folder that is not this experiment's)."""


def run_files() -> list[str]:
    """Return the files a finished run folder holds besides its status: the kept tables and ``summary.parquet``."""
    return [*(f"{name}.parquet" for name in swept_tables()), "summary.parquet"]


def verify_run(run_dir: Path, status: Mapping[str, Any], full: bool = True) -> str | None:
    """Check that a finished run's files are what it wrote; return the first problem (``None`` if none).

    A run records the size and SHA-256 hash of every file it wrote in its status (``files``). A run
    folder written before it did (no ``files``) is checked for its files being there and readable
    (a table added to the format later may be missing).

    Args:
        run_dir: The run's folder.
        status: Its status (``read_status``).
        full: Compare the hashes too (reads every file); else only presence and sizes.

    Returns:
        ``None``, or what is wrong, naming the file (``years.parquet is missing``).
    """
    import pyarrow.parquet as pq

    files = status.get("files")
    if isinstance(files, Mapping):
        for name in run_files():
            if name not in files:
                return f"{name} was not recorded as written"
        for name, expected in files.items():
            problem = check_file(run_dir / str(name), expected, full=full)
            if problem is not None:
                return problem
        return None
    for name in run_files():  # written before runs recorded their files
        file = run_dir / name
        if not file.is_file():
            if name != "summary.parquet" and missing_allowed(name.removesuffix(".parquet"), 1):
                continue
            return f"{name} is missing"
        try:
            pq.read_metadata(file)
        except (OSError, ValueError) as exc:
            return f"{name} cannot be read ({_first_line(exc)})"
    return None


def _first_line(exc: BaseException, width: int = 120) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= width else text[: width - 3] + "..."


# --------------------------------------------------------------------------------------
# one run
# --------------------------------------------------------------------------------------


def summary_row(result: Any, run_id: str) -> dict[str, Any]:
    """Return the ``summary`` row of a finished run.

    Args:
        result: A :class:`~kyojosim.runs.results.RunResult`; its :attr:`~kyojosim.runs.results.RunResult.summary`
            (computed while its model was at hand), or else a summary of its tables.
        run_id: The run's id.

    Returns:
        The row: ``run_id`` and every metric with a summary (:func:`kyojosim.measures.outcomes.summary_metrics`).
    """
    return {"run_id": run_id, **(getattr(result, "summary", None) or summarise(result))}


def summary_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Return summary rows as a typed table.

    The columns are those of :func:`kyojosim.measures.outcomes.columns_of` ``("summary")``.
    """
    return typed_frame("summary", rows)


_FROZEN = False
_FROZEN_AFTER_RUN = False


def in_worker() -> bool:
    """Whether this is a sweep's worker process (loky or dask), not the user's own (``jobs=1``)."""
    return multiprocessing.current_process().name != "MainProcess"


def freeze_imports() -> None:
    """Before a worker's first run, move what is alive out of the collector's sight (``gc.freeze``), once.

    What is alive then is what the worker has imported (kyojosim, Mesa, pandas, pyarrow: some 100,000
    objects) and lives as long as the worker; frozen, it is never walked again. The first run then imports
    and loads more (the model's modules, numba's compiled kernels), which :func:`release_memory` freezes after
    that run's collection. So the first collection walks only what the first run made and loaded, and later
    ones only what their run made (a few ms). Collecting before this freeze would walk the imports once more
    (some 50-90 ms a worker) to free the little garbage they left; that garbage stays. Nothing is done in
    the main process (``jobs=1``), so that nothing of the caller's is frozen.
    """
    global _FROZEN
    if not _FROZEN and in_worker():
        gc.freeze()
        _FROZEN = True


def release_memory() -> None:
    """Collect what a finished run left (``gc.collect``); in a worker, then freeze what is still alive, once.

    In a worker process a collection walks only what was made since the last freeze: after its first run, what
    that run loaded and is still alive (modules, compiled kernels, caches, which live as long as the worker) is
    frozen as well. In the main process (``jobs=1``) this is a plain full collection.
    """
    global _FROZEN_AFTER_RUN
    gc.collect()
    if _FROZEN and not _FROZEN_AFTER_RUN:
        gc.freeze()
        _FROZEN_AFTER_RUN = True


def run_in_folder(run_id: str, scenario: Any, run_dir: str, sync: bool = True) -> dict[str, Any]:
    """Run one model and save its tables and status into ``run_dir`` (what a worker does).

    The tables are written atomically, and ``status.json`` last: ``{"status": "done", "seconds", "files"}``
    (``files``: the size and SHA-256 hash of every file written, :func:`kyojosim.atomic.bytes_digest` of the
    bytes before they are written, which :func:`verify_run` checks when the sweep resumes), or ``{"status":
    "failed", "error", "traceback"}`` if anything raised (the error is not re-raised, so that the other runs go
    on). Only the status is flushed to disk (``fsync``): a table that a crash of the machine left incomplete
    differs from what the status records, and the resumed sweep runs the run again.

    The status also splits the run's ``seconds`` (the whole task) into ``model_seconds`` (building the
    model and running it: what :func:`kyojosim.run` would take) and ``build_seconds`` (building the
    municipality's scenario from the census tables, for a run whose scenario is a
    :class:`~kyojosim.params.experiment.MunicipalScenario` not yet in the cache; 0 otherwise); the rest
    is the sweep's own work in the worker (tables, summary, files).

    Args:
        run_id: The run's id.
        scenario: The run's resolved :class:`~kyojosim.params.scenario.Scenario`, or the
            :class:`~kyojosim.params.experiment.MunicipalScenario` of a run of a municipality, built here
            (:func:`kyojosim.runs.builder.run_scenario`) or taken from the cache.
        run_dir: The run's folder.
        sync: Flush the status to disk here; ``False`` leaves it to the caller (a local sweep's process flushes
            each status it is handed, :func:`kyojosim.atomic.sync_file`, while the worker goes on to its next run).

    Returns:
        A small status dict: ``run_id``, ``status``, ``seconds``, ``model_seconds``, ``build_seconds``,
        ``error``, ``pid``.
    """
    from ..params.experiment import MunicipalScenario
    from .results import run_one

    folder = Path(run_dir)
    t0 = time.perf_counter()
    build_seconds = model_seconds = 0.0
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / STATUS).unlink(missing_ok=True)
        for stale in folder.glob(f".*{TMP_SUFFIX}"):  # left by a worker that was killed mid-write
            stale.unlink(missing_ok=True)
        freeze_imports()
        if isinstance(scenario, MunicipalScenario):
            from .builder import run_scenario

            scenario, build_seconds = run_scenario(scenario)
        # the model is kept until its tables are taken, then released: a worker runs many and keeps none alive
        result = run_one(scenario, keep_model=True, summary_only=True, agents=False)
        model_seconds = float(result.manifest.get("elapsed_s") or 0.0)
        try:  # the tables as Arrow tables, straight from the recorded columns (the files table_frame's frames make)
            tables = {f"{name}.parquet": table_arrow(result.model.datacollector, name) for name in swept_tables()}
        finally:
            result.model.release()
            result.model = None
        tables["summary.parquet"] = rows_arrow("summary", [summary_row(result, run_id)])
        del result
        # each file is made in memory, hashed there and renamed into place atomically, but not flushed one by one:
        # the status, written last and flushed, records their sizes and hashes (checked when the sweep resumes),
        # and a resumed sweep runs again a run whose files differ
        files = {}
        for name, tab in tables.items():
            data = table_bytes(tab)
            write_bytes(folder / name, data, sync=False)
            files[name] = bytes_digest(data)
        del tables, data
        release_memory()
        seconds = time.perf_counter() - t0
        status = {"run_id": run_id, "status": "done", "seconds": round(seconds, 6),
                  "model_seconds": round(model_seconds, 6), "build_seconds": round(build_seconds, 6), "error": "",
                  "pid": os.getpid()}
        write_json(folder / STATUS, {**status, "files": files}, sync=sync)
    except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        seconds = time.perf_counter() - t0
        error = f"{type(exc).__name__}: {exc}"
        status = {"run_id": run_id, "status": "failed", "seconds": round(seconds, 6),
                  "model_seconds": round(model_seconds, 6), "build_seconds": round(build_seconds, 6), "error": error,
                  "pid": os.getpid()}
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            write_json(folder / STATUS, {**status, "traceback": traceback.format_exc()})
    return status


def read_status(run_dir: Path) -> dict[str, Any] | None:
    """Return the status of a run folder (``None`` if it has none or it cannot be read)."""
    try:
        data = json.loads((run_dir / STATUS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("status") in ("done", "failed") else None


# --------------------------------------------------------------------------------------
# the results folder
# --------------------------------------------------------------------------------------


def plan_dict(exp: Experiment) -> dict[str, Any]:
    """Return what ``experiment.json`` records: the hash, the resolved experiment and the runs (design rows)."""
    return {"format": FORMAT + "-plan", "hash": exp.hash, "identity": exp.identity, "replicates": exp.replicates,
            "name": exp.name, "baseline": exp.baseline,
            "variants": list(exp.variants), "parameters": exp.parameters, "experiment": exp.to_dict(),
            "runs": [r.design_row() for r in exp.runs]}


def _prepare(out: Path, exp: Experiment, restart: bool) -> None:
    """Check the folder is this experiment's (or new); write ``experiment.json``; drop a stale manifest."""
    if out.exists() and not out.is_dir():
        raise SweepError(f"cannot write results to {out}: it exists and is not a folder")
    plan_path = out / PLAN
    if plan_path.is_file():
        old_hash, old_identity = _plan_keys(plan_path)
        # the same experiment with another number of replicates (identity) is this one: its runs are shared
        if old_hash != exp.hash and not (old_identity and old_identity == exp.identity):
            if not restart:
                raise SweepError(
                    f"{out} holds results of a different experiment (hash {str(old_hash)[:12]}, this one "
                    f"{exp.hash[:12]}): choose another --out, or pass --restart to delete those results and start "
                    "again")
            _clear(out)
        elif restart:
            _clear(out)
    elif out.is_dir() and any(out.iterdir()):
        raise SweepError(f"{out} is not empty and is not a sweep results folder (no {PLAN}); choose another --out")
    try:
        (out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
        for stale in out.glob(f".*{TMP_SUFFIX}"):  # left by a consolidation that was killed mid-write
            stale.unlink(missing_ok=True)
        (out / MANIFEST).unlink(missing_ok=True)  # the consolidated tables are stale until the end
        write_json(plan_path, plan_dict(exp))
    except OSError as exc:
        raise SweepError(f"cannot write results to {out}: {exc.strerror or exc}") from exc


def _plan_keys(plan_path: Path) -> tuple[str | None, str | None]:
    """Return the ``hash`` and ``identity`` recorded in a folder's ``experiment.json`` (``None`` if unreadable)."""
    try:
        old = json.loads(plan_path.read_text(encoding="utf-8"))
        return old.get("hash"), old.get("identity")
    except (OSError, ValueError, AttributeError):
        return None, None


def held_replicates(out: str | Path, exp: Experiment) -> int | None:
    """Return how many replicates the folder ``out`` holds of ``exp`` (``None``: not this experiment's folder).

    A folder holds more replicates than the experiment file asks for after ``kyojosim sweep
    --target-halfwidth`` added some; :func:`sweep` keeps them all.
    """
    plan_path = Path(out) / PLAN
    if not plan_path.is_file():
        return None
    old_hash, old_identity = _plan_keys(plan_path)
    if old_hash == exp.hash:
        return exp.replicates
    if not old_identity or old_identity != exp.identity:
        return None
    try:
        n = json.loads(plan_path.read_text(encoding="utf-8")).get("replicates")
    except (OSError, ValueError, AttributeError):
        return None
    return int(n) if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else None


def _clear(out: Path) -> None:
    """Remove what a sweep wrote in ``out`` (and nothing else)."""
    (out / MANIFEST).unlink(missing_ok=True)
    for name in experiment_tables():
        (out / f"{name}.parquet").unlink(missing_ok=True)
    shutil.rmtree(out / RUNS_DIR, ignore_errors=True)
    (out / PLAN).unlink(missing_ok=True)


def _statuses(out: Path, runs: tuple[Run, ...] | list[Run]) -> dict[str, dict[str, Any] | None]:
    return statuses_by_id(out, [r.run_id for r in runs])


def statuses_by_id(out: Path, run_ids: list[str]) -> dict[str, dict[str, Any] | None]:
    return {rid: read_status(out / RUNS_DIR / rid) for rid in run_ids}


def design_frame(rows: list[dict[str, Any]], parameters: list[str],
                 statuses: Mapping[str, dict[str, Any] | None]) -> pd.DataFrame:
    """Return the ``design`` table from the runs' design rows and their statuses."""
    out = []
    for row in rows:
        st = statuses.get(row["run_id"]) or {}
        out.append({
            "run_id": row["run_id"], "scenario": row["scenario"], "variant": row["variant"], "point": row["point"],
            "replicate": row["replicate"], "seed": row["seed"], "status": st.get("status", "pending"),
            "error": st.get("error", "") or "", "seconds": float(st.get("seconds", float("nan"))),
            "intervention_start": row["intervention_start"], **{p: row.get(p) for p in parameters},
        })
    cols = columns_of("design")
    df = pd.DataFrame(out, columns=[*cols, *parameters])
    return df.astype(cols)


def optional_runs(statuses: Mapping[str, Mapping[str, Any] | None], name: str) -> set[str]:
    """Return the runs that may lack table ``name``: written before runs recorded their files, the table added later."""
    if not missing_allowed(name, 1):
        return set()
    return {rid for rid, st in statuses.items() if st is not None and not isinstance(st.get("files"), Mapping)}


def _run_table_file(out: Path, name: str, run_id: str) -> Path:
    return out / RUNS_DIR / run_id / f"{name}.parquet"


def consolidate_table(out: Path, name: str, run_ids: list[str], target: Path | None,
                      optional: Collection[str] = ()) -> pd.DataFrame | None:
    """Concatenate one table of the given runs in order, adding ``run_id`` first.

    With ``target``, the rows are streamed run by run into that Parquet file (atomically; see
    :mod:`kyojosim.runs.gather`), so memory holds about a row group at a time, and ``None`` is returned;
    without, the table is returned.

    Raises:
        DamagedError: If a run's file of the table is missing (unless the run is in ``optional``: written by
            an older kyojosim before the table existed) or cannot be read; the message names the file.
    """
    import pyarrow as pa

    if target is not None:
        gatherer = _gatherer(out, [name], run_ids, {name: optional}, lambda _: target)
        for rid in run_ids:
            gatherer.mark(rid, True)
        gatherer.finish()
        return None
    present = []
    for rid in run_ids:
        file = _run_table_file(out, name, rid)
        if file.is_file():
            present.append((rid, file))
        elif rid not in optional:  # never silently: the tables would disagree with the manifest's count
            raise DamagedError(f"{file}: missing from a finished run; run the sweep again to redo the run")
    schema = table_schema([read_schema(f) for _, f in present])
    parts = [conform(read_table(f), rid, schema) for rid, f in present]
    if not parts:
        return empty_table(name)
    return pa.concat_tables(parts).to_pandas()


def _gatherer(out: Path, names: list[str], run_ids: list[str], optional: Mapping[str, Collection[str]],
              target_of: Callable[[str], Path] | None = None) -> Gatherer:
    """Return a :class:`~kyojosim.runs.gather.Gatherer` of the tables ``names`` of a results folder."""
    return Gatherer(target_of or (lambda name: out / f"{name}.parquet"), names, run_ids,
                    functools.partial(_run_table_file, out), optional,
                    lambda name, path: write_parquet(path, empty_table(name)))


def empty_table(name: str) -> pd.DataFrame:
    """Return an empty consolidated table: ``run_id`` and the declared columns."""
    df = typed_frame(name)
    if "run_id" not in df.columns:
        df.insert(0, "run_id", pd.Series([], dtype="str"))
    return df


def consolidate(out: Path, exp: Experiment, timings: dict[str, Any] | None = None,
                recovered: Mapping[str, Any] | None = None, jobs: int = 1,
                gathered: Gatherer | None = None, flush: Collection[Path] = ()) -> dict[str, Any]:
    """Write the consolidated tables and ``manifest.json`` (last) from the run folders.

    Args:
        out: The results folder.
        exp: The experiment.
        timings: Timing figures to record in the manifest.
        recovered: What the sweep recovered from, recorded as the manifest's ``recovered``: ``damaged`` (runs
            found damaged on resuming and run again: ``run_id``, ``problem``) and ``retried`` (runs run again
            after their worker process died: ``run_id``, ``attempts``, ``reason``).
        jobs: Tables written at the same time, in threads of this process; the tables are the same whatever
            the number.
        gathered: What the sweep gathered while its runs went on (used if it holds the runs done now).
        flush: Files written without ``fsync`` (a last run's status) flushed to disk while the tables are written,
            before the manifest.

    Returns:
        The manifest (its ``files``: size and SHA-256 hash of every consolidated table).

    Raises:
        DamagedError: If a finished run's file is missing, of another size than written, or unreadable.
    """
    from .results import utc_now, versions

    t0 = time.perf_counter()
    statuses = _statuses(out, exp.runs)
    done = [r.run_id for r in exp.runs if (statuses[r.run_id] or {}).get("status") == "done"]
    for rid in done:  # sizes only: a resume has checked the hashes (verify_run) and redone what was damaged
        problem = verify_run(out / RUNS_DIR / rid, statuses[rid] or {}, full=False)
        if problem is not None:
            if gathered is not None:
                gathered.discard()
            raise DamagedError(f"{out / RUNS_DIR / rid}: {problem}; run the sweep again to redo the run")
    (out / MANIFEST).unlink(missing_ok=True)
    names = ["summary", *swept_tables()]
    optional = {name: sorted(runs) for name in names if (runs := optional_runs(statuses, name))}
    if gathered is None or not gathered.matches(done, optional):
        if gathered is not None:
            gathered.discard()
        gathered = _gatherer(out, names, [r.run_id for r in exp.runs], optional)
        for rid in done:
            gathered.mark(rid, True)

    design = design_frame([r.design_row() for r in exp.runs], exp.parameters, statuses)

    def write_design() -> dict[str, Any]:
        data = parquet_bytes(design)
        write_bytes(out / "design.parquet", data)
        return bytes_digest(data)

    def flush_files() -> None:
        for file in flush:
            sync_file(file)

    # the design table is written and the files to flush are flushed in the threads that write the tables
    threads = max(1, min(jobs if jobs != -1 else usable_cores(), len(names) + 1))
    written = gathered.finish(threads, also={"design": write_design, **({"flush": flush_files} if flush else {})})
    files = {"design.parquet": written["design"], **{f"{name}.parquet": written[name] for name in names}}
    counts = {k: int((design["status"] == k).sum()) for k in ("done", "failed", "pending")}
    failures = [{"run_id": r["run_id"], "error": r["error"]} for r in design.to_dict("records")
                if r["status"] == "failed"]
    seconds = design.loc[design["status"] == "done", "seconds"]
    finished = [statuses[rid] or {} for rid in done]
    timing = {"run_seconds_total": round(float(seconds.sum()), 3),
              "run_seconds_mean": round(float(seconds.mean()), 3) if len(seconds) else None,
              "model_seconds_total": round(sum(float(st.get("model_seconds") or 0.0) for st in finished), 3),
              "build_seconds_total": round(sum(float(st.get("build_seconds") or 0.0) for st in finished), 3),
              **(timings or {}), "consolidate_seconds": round(time.perf_counter() - t0, 3)}
    manifest = manifest_dict(exp.to_dict(), exp.hash, exp.name, exp.baseline, list(exp.variants), exp.design,
                             counts, failures, timing, created=utc_now(), vers=versions())
    manifest["recovered"] = dict(recovered or {"damaged": [], "retried": []})
    manifest["files"] = files  # what the tables held when written: kyojosim.load checks the sizes
    write_json(out / MANIFEST, manifest)
    return manifest


def manifest_dict(experiment: dict[str, Any], hash_: str, name: str, baseline: str, variants: list[str],
                  design: dict[str, Any], counts: dict[str, int], failures: list[dict[str, str]],
                  timings: dict[str, Any], created: str, vers: dict[str, Any]) -> dict[str, Any]:
    """Build the manifest of a results folder (the contract's fields, plus ``format`` and ``variants``)."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "experiment": experiment, "hash": hash_, "name": name,
            "seed": int(experiment["seed"]), "replicates": int(experiment["replicates"]), "baseline": baseline,
            "variants": variants, "design": design, "versions": vers, "created": created, "timings": timings,
            "failures": failures, "runs": counts, "tables": experiment_tables()}


# --------------------------------------------------------------------------------------
# the sweep
# --------------------------------------------------------------------------------------


def execution_order(runs: list[Run]) -> list[Run]:
    """Return the order in which the runs are handed to the workers.

    The runs of an experiment's scenarios go the longest first, as far as their size and channels tell
    (residents simulated x years, more for each intervention that runs: :func:`predicted_cost`), runs of the
    same expected cost in the experiment's order: a long run handed out last would keep one worker busy while
    the others wait, and the shortest last let the workers end closest together. Runs of municipalities whose scenario
    is built in the worker (``municipalities:``) come after them, first run of each municipality first, then
    the second of each, and so on: every municipality is built once, by its first run, while the workers
    build different municipalities at the same time; its other runs come later and find it in the cache.
    The results do not depend on the order (the tables are consolidated in the experiment's order).
    """
    plain = sorted((r for r in runs if r.recipe is None), key=predicted_cost, reverse=True)  # stable: ties keep order
    built = [r for r in runs if r.recipe is not None]
    if not built:
        return plain
    rank: dict[str, int] = {}
    keyed = []
    for i, r in enumerate(built):
        k = rank.get(r.scenario, 0)
        rank[r.scenario] = k + 1
        keyed.append((k, i, r))
    return plain + [r for _, _, r in sorted(keyed, key=lambda t: (t[0], t[1]))]


CHANNEL_COST: dict[str, float] = {"local_sns": 0.25, "sharing_platform": 0.2, "reporting_hub": 0.1,
                                   "offline_events": 0.05}
"""The part a run's cost grows by for each intervention that runs all its years (for the order of the runs only).

assumption: from runs of Ikoma (scale 0.1) and Yamae (scale 0.5), 10 years, each intervention alone from the
first year, CPU time over the baseline's: the local SNS +9 to +28%, the sharing platform +21 to +24%, the
reporting hub +4 to +13%; plausible range 0 to 2.5 each (the SNS of Koto at full scale, with every channel
about 3.5 times the offline run). Only the order in which the runs are handed out depends on it, never a result.
"""


def predicted_cost(run: Run) -> float:
    """Return the expected cost of a run of a resolved scenario, to order the runs (never a result).

    Residents simulated (population x scale) x years x (1 + for each intervention that runs, its
    :data:`CHANNEL_COST` x the share of the run's years it runs).
    """
    scn = run.resolved
    years = int(scn.simulation.years)
    size = float(scn.municipality.population) * float(scn.municipality.scale) * float(years)
    first = int(scn.municipality.start_year)
    extra = 0.0
    for name, weight in CHANNEL_COST.items():
        iv = getattr(scn.interventions, name, None)
        if iv is None or not iv.enabled or years <= 0:
            continue
        end = first + years if iv.end_year is None else min(first + years, int(iv.end_year) + 1)
        extra += weight * max(0, end - max(first, int(iv.start_year))) / years
    return size * (1.0 + extra)


def _run_task(task: tuple[str, Any, str, bool]) -> dict[str, Any]:
    """Run one task of :func:`sweep` in a worker: ``(run_id, scenario, run_dir, sync)``."""
    return run_in_folder(*task)


def _lost_run(task: tuple[str, Any, str, bool], reason: str) -> dict[str, Any]:
    """Record a run whose worker process died every time it ran (in the parent): its status says so."""
    run_id, _, run_dir, _ = task
    status = {"run_id": run_id, "status": "failed", "seconds": 0.0, "error": f"lost: {reason}", "pid": os.getpid()}
    with contextlib.suppress(OSError):
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        write_json(Path(run_dir) / STATUS, status)
    return status


def _execute(out: Path, todo: list[Run], jobs: int, backend: str, scheduler: str | None,
             retried: dict[str, dict[str, Any]] | None = None, sync: bool = True,
             idle: Callable[[], bool] | None = None) -> Iterator[dict[str, Any]]:
    """Run the given runs; yield each status dict as its run finishes (in any order).

    A run whose worker process dies is run again, alone, up to :data:`RETRIES` more times; a run lost
    every time is recorded as failed (``lost: ...``) and the others go on. ``retried`` (if given)
    collects the runs run again: ``{run_id: {"run_id", "attempts", "reason"}}``. ``sync``: the workers
    flush each status to disk (else the caller does). ``idle``: see :func:`~kyojosim.runs.executor.map_runs`.
    """
    base = out.resolve()  # absolute: workers (dask) may run in another directory
    tasks = [(r.run_id, r.recipe if r.recipe is not None else r.resolved, str(base / RUNS_DIR / r.run_id), sync)
             for r in execution_order(todo)]

    def on_retry(task: tuple[str, Any, str, bool], attempt: int, reason: str) -> None:
        if retried is not None:
            retried[task[0]] = {"run_id": task[0], "attempts": attempt, "reason": reason}

    return map_runs(_run_task, tasks, jobs=jobs, backend=backend, scheduler=scheduler, retries=RETRIES,
                    lost=_lost_run, on_retry=on_retry, idle=idle)


# --------------------------------------------------------------------------------------
# scenarios compared as the variants of one experiment
# --------------------------------------------------------------------------------------


def _differences(base: Mapping[str, Any], other: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return the dotted overrides that turn the scenario data ``base`` into ``other`` (sections descended)."""
    import dataclasses

    from ..params.scenario import Scenario
    from ..params.schema import type_at

    out: dict[str, Any] = {}
    for key in dict.fromkeys([*other, *base]):
        a, b = base.get(key), other.get(key)
        if a == b:
            continue
        path = f"{prefix}{key}"
        if isinstance(a, Mapping) and isinstance(b, Mapping) and dataclasses.is_dataclass(type_at(Scenario, path)):
            out.update(_differences(a, b, path + "."))
        else:
            out[path] = b
    return out


def _variants_name(names: list[str]) -> str:
    """Return ``a-vs-b-vs-c``, or, past the length of a name, the first and a hash of all (still one per list)."""
    import hashlib

    from ..params.scenario import MAX_NAME_LENGTH

    joined = "-vs-".join(names)
    if len(joined) <= MAX_NAME_LENGTH:
        return joined
    digest = hashlib.sha256(joined.encode("utf-8")).hexdigest()[:10]
    return f"{names[0][:MAX_NAME_LENGTH - 40]}-vs-{len(names) - 1}-more-{digest}"


def variants_experiment(scenarios: list[Any], replicates: int = 3, seed: int = 1, years: int | None = None,
                        overrides: Mapping[str, Any] | None = None, name: str | None = None) -> Experiment:
    """Return an experiment that compares scenarios as the variants of the first (what ``kyojosim variants`` runs).

    Each scenario after the first becomes a variant of the first, written as the dotted overrides in
    which it differs from it (typically a municipality and its variant files with interventions), so
    that replicate ``k`` of every variant shares its seed (common random numbers) and
    :func:`kyojosim.analysis.compare.compare` pairs them.

    Args:
        scenarios: Scenario names, files or :class:`~kyojosim.params.scenario.Scenario` objects; the first is the
            baseline.
        replicates: Runs per variant.
        seed: The experiment seed (the replicates' seeds are drawn from it).
        years: Length of every run (default: the first scenario's).
        overrides: Dotted overrides applied to every scenario.
        name: The experiment's name (default: the scenario names joined by ``-vs-``; past 100 characters the
            first name, the number of others and a hash of them all).

    Returns:
        The resolved :class:`~kyojosim.params.experiment.Experiment`.

    Raises:
        ScenarioError: For a bad scenario or override, or a scenario that cannot be written as overrides
            of the first.
    """
    from ..errors import ScenarioError
    from ..params.scenario import Scenario, find_scenario, load_scenario

    over = dict(overrides or {})
    if years is not None:
        over["simulation.years"] = int(years)
    if not scenarios:
        raise ScenarioError("<variants>", "scenarios", [], "allowed: one or more scenario names or files", "empty")
    if isinstance(scenarios[0], Scenario):
        raise ScenarioError("<variants>", "scenarios[0]", scenarios[0].name,
                            "allowed: the baseline as a scenario name or file", "a scenario object")
    loaded = [s.replace(**over) if isinstance(s, Scenario) and over else s if isinstance(s, Scenario)
              else load_scenario(find_scenario(s), over) for s in scenarios]
    names: list[str] = []
    for given, scn in zip(scenarios, loaded, strict=True):
        label = scn.name or (Path(given).stem if not isinstance(given, Scenario) else "variant")
        n, unique = 2, label
        while unique in names:
            unique, n = f"{label}-{n}", n + 1
        names.append(unique)
    base = loaded[0]
    variants: dict[str, Any] = {}
    for vname, scn in zip(names, loaded, strict=True):
        diff = _differences(base.to_dict(), scn.to_dict())
        if base.replace(**diff).digest() != scn.digest():
            raise ScenarioError(str(scenarios[names.index(vname)]), "<top level>", vname,
                                f"allowed: a scenario that differs from {names[0]!r} in keys an override can set",
                                "cannot be written as a variant")
        variants[vname] = {"overrides": diff, "description": scn.description}
    spec: dict[str, Any] = {
        "name": name or _variants_name(names), "description": "kyojosim variants " + " ".join(names), "seed": seed,
        "replicates": replicates, "overrides": {k: v for k, v in over.items() if k != "simulation.years"},
        "scenarios": [str(find_scenario(scenarios[0]))], "variants": variants,
    }
    if years is not None:
        spec["years"] = years
    return load_experiment(spec)


PACE_SECONDS = 0.05
"""Time a sweep's process gives to gathering the consolidated tables after each run that ends (:func:`keep_pace`)."""


def keep_pace(gatherer: Gatherer, budget: float = PACE_SECONDS) -> None:
    """Gather the consolidated tables of the runs ended so far, for at most about ``budget`` seconds.

    Called as each run ends: reading the run's files (a few ms) and writing the row groups they fill, taken from
    the workers' cores, so that little is left for the end of the sweep, when the cores would wait for it. A
    resumed sweep's runs done before are gathered the same way, a budget at a time, and while a core is free; the
    budget bounds how long the next run's hand-out can wait (a piece of work, one run read or one row group
    written, is not cut). The files do not depend on when each piece is done.
    """
    deadline = time.perf_counter() + budget
    while gatherer.step() and time.perf_counter() < deadline:
        pass


def sweep(
    experiment: str | Path | Mapping[str, Any] | Experiment,
    out: str | Path | None = None,
    jobs: int = 1,
    backend: str = "loky",
    scheduler: str | None = None,
    progress: bool = True,
    restart: bool = False,
    replicates: int | None = None,
) -> Path:
    """Run every run of an experiment that is not done yet, then consolidate the results folder.

    A folder that holds more replicates of the same experiment than asked (added by ``kyojosim sweep
    --target-halfwidth``) keeps them all: the sweep runs the larger number.

    Example::

        import kyojosim
        path = kyojosim.sweep("yamae-quick", jobs=2)
        res = kyojosim.load(path)
        res.summary.groupby(res.design["variant"])["matching_rate"].mean()

    Args:
        experiment: An experiment file, a bundled experiment name, a mapping or an
            :class:`~kyojosim.params.experiment.Experiment`.
        out: The results folder (default ``results/<experiment name>``).
        jobs: Parallel workers (loky processes, or dask tasks at once; -1 for all cores).
        backend: ``"loky"`` (local processes) or ``"dask"`` (a dask.distributed cluster).
        scheduler: Address of the dask scheduler (``tcp://host:port``); without it, the dask backend
            starts a local cluster of ``jobs`` worker processes on 127.0.0.1.
        progress: Show a progress bar (runs finished, with the time left) on stderr.
        restart: Delete the results of a different experiment (or of this one) in ``out`` and start
            again, instead of refusing (or resuming).
        replicates: Run this many replicates instead of the experiment's (at least those the folder
            holds); new replicates get new seeds, existing ones keep theirs.

    Returns:
        The results folder.

    Raises:
        ExperimentError: For a bad experiment.
        SweepError: For a bad option or a folder holding another experiment's results.
        ExecutorError: If the dask scheduler cannot be reached.
        MissingExtraError: For the dask backend without dask (``kyojosim[cluster]``).
        DamagedError: If a finished run's file is damaged while the sweep consolidates (it is checked, and
            run again if damaged, when the sweep starts).
        KeyboardInterrupt: When interrupted; the runs already done are kept and the same call resumes.
    """
    from tqdm import tqdm

    try:
        check_options(jobs, backend, scheduler)
    except ExecutorError as exc:
        raise SweepError(str(exc)) from None
    exp = load_experiment(experiment)
    for note in exp.warnings:
        warnings.warn(note, ScenarioWarning, stacklevel=2)
    folder = Path(out) if out is not None else results_folder(exp.name)
    wanted = exp.replicates if replicates is None else int(replicates)
    if not restart:
        wanted = max(wanted, held_replicates(folder, exp) or 0)
    exp = exp.with_replicates(wanted)
    _prepare(folder, exp, restart)
    t0 = time.perf_counter()
    statuses = _statuses(folder, exp.runs)
    damaged = []
    for r in exp.runs:  # a finished run is trusted only if its files are what it wrote
        st = statuses[r.run_id]
        if st is not None and st.get("status") == "done":
            problem = verify_run(folder / RUNS_DIR / r.run_id, st)
            if problem is not None:
                damaged.append({"run_id": r.run_id, "problem": problem})
                statuses[r.run_id] = None
    todo = [r for r in exp.runs if (statuses[r.run_id] or {}).get("status") != "done"]
    skipped = len(exp.runs) - len(todo)
    if todo:  # once after installing: the workers load the kernels instead of each compiling them
        compile_ahead(notify=to_stderr if progress else None)
    failed = built = 0
    retried: dict[str, dict[str, Any]] = {}
    names = ["summary", *swept_tables()]
    # the consolidated tables are gathered while the runs go on, from the runs done (those skipped first)
    gatherer = _gatherer(folder, names, [r.run_id for r in exp.runs],
                         {name: runs for name in names if (runs := optional_runs(statuses, name))})
    for r in exp.runs:
        if (statuses[r.run_id] or {}).get("status") == "done":
            gatherer.mark(r.run_id, True)
    local = backend == "loky"  # the statuses of local workers are flushed here, while the workers go on
    finishing: Iterator[dict[str, Any]] = iter(())
    unflushed: list[Path] = []
    try:
        finishing = _execute(folder, todo, jobs, backend, scheduler, retried, sync=not local,
                             idle=gatherer.step)  # local workers start here, before the bar
        # no bar at all without progress: even a disabled tqdm bar leaves its monitor thread running, and local
        # workers are forked only from a process without other threads
        with (tqdm(total=len(exp.runs), initial=skipped, desc=exp.name, unit="run", file=sys.stderr, smoothing=0.1,
                   dynamic_ncols=True) if progress else contextlib.nullcontext()) as bar:
            # one status per run: the last taken, the workers end while the tables are consolidated
            for taken, status in enumerate(itertools.islice(finishing, len(todo)), 1):
                done = status.get("status") == "done"
                if done and local:
                    if taken == len(todo):  # the last: flushed while the tables are consolidated, before the manifest
                        unflushed.append(folder / RUNS_DIR / status["run_id"] / STATUS)
                    else:
                        sync_file(folder / RUNS_DIR / status["run_id"] / STATUS)
                gatherer.mark(status["run_id"], done)
                keep_pace(gatherer)
                failed += not done
                built += float(status.get("build_seconds") or 0.0) > 0
                if bar is None:
                    continue
                if failed or built:  # scenarios of municipalities built from the census tables, into the cache
                    bar.set_postfix({k: v for k, v in (("built", built), ("failed", failed)) if v})
                bar.update(1)
    except BaseException:
        gatherer.discard()
        _close(finishing)
        raise
    run_wall = time.perf_counter() - t0
    try:
        consolidate(folder, exp, jobs=jobs, gathered=gatherer, flush=unflushed,
                    timings={"wall_seconds": round(run_wall, 3), "runs_executed": len(todo),
                             "runs_skipped": skipped, "scenarios_built": built, "jobs": jobs, "backend": backend},
                    recovered={"damaged": damaged, "retried": list(retried.values())})
    except BaseException:
        _close(finishing)
        raise
    for _ in finishing:  # the end of the runs (one status each): waits for the workers, which ended meanwhile
        pass
    return folder


def _close(finishing: Iterator[Any]) -> None:
    """Stop the runs still going (Ctrl-C, an error) and wait for the workers."""
    close = getattr(finishing, "close", None)
    if close is not None:
        close()


__all__ = ["BACKENDS", "CHANNEL_COST", "DamagedError", "PACE_SECONDS", "RETRIES", "SweepError",
           "consolidate", "execution_order", "freeze_imports", "held_replicates", "in_worker", "keep_pace",
           "predicted_cost", "read_status", "release_memory", "run_files", "run_in_folder", "summary_frame",
           "summary_row", "sweep", "variants_experiment", "verify_run"]
