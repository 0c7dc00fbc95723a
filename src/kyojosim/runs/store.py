"""Reading the results folder of an experiment (written by :func:`kyojosim.sweep`).

``kyojosim.load(path)`` returns an :class:`ExperimentResults` with one tidy table per kind
(:func:`kyojosim.measures.outcomes.experiment_tables`: ``design``, ``summary``, and the tables a sweep keeps
of every run: ``years``, ``steps``, ``age_structure``, ``money``, ``tsunagari``,
``community_value``) and the manifest. It also reads a folder whose sweep has not finished
(interrupted, or still running): then the tables are gathered from the finished runs in ``runs/``
and the manifest is rebuilt from ``experiment.json``, with the counts of done, failed and pending
runs. A folder written before a table existed (its ``format_version`` below the table's
:attr:`~kyojosim.measures.outcomes.Table.since`) loads with that table empty.

A damaged folder is an error that names the damaged file (:class:`StoreError`), never a raw Parquet
error and never a table that silently lacks a run: a consolidated table of another size than the
manifest records, a finished run's file missing, of another size than its status records, or
unreadable. Running the sweep again redoes the damaged runs and rebuilds the tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import check_file
from ..errors import KyojoError
from ..measures.outcomes import experiment_tables, missing_allowed, swept_tables
from . import display
from .sweep import (
    FORMAT,
    MANIFEST,
    PLAN,
    RUNS_DIR,
    DamagedError,
    consolidate_table,
    design_frame,
    empty_table,
    manifest_dict,
    optional_runs,
    statuses_by_id,
    verify_run,
)

DESIGN_COLUMNS: tuple[str, ...] = ("scenario", "variant", "point", "replicate", "seed", "intervention_start")
"""Columns of ``design`` that :meth:`ExperimentResults.table` adds to a table."""


class StoreError(KyojoError):
    """A folder is not an experiment results folder, or cannot be read."""


@dataclass(frozen=True)
class ExperimentResults:
    """The results of an experiment: tidy tables (``run_id`` in each) and the manifest.

    The tables (:func:`kyojosim.measures.outcomes.experiment_tables`) are in :attr:`tables` and are also read
    as attributes: ``res.design``, ``res.summary``, ``res.steps``, ``res.years``, ``res.tsunagari``,
    ``res.age_structure``, ``res.money``, ``res.community_value``.

    Attributes:
        tables: The tables by name. ``design``: one row per run: run_id, scenario, variant, point,
            replicate, seed, status, error, seconds, intervention_start and one column per design
            parameter (dotted key). ``summary``: one row per finished run, one column per summary
            metric (:data:`kyojosim.measures.outcomes.METRICS`). The others: the runs' tables
            (:data:`kyojosim.measures.outcomes.TABLES`).
        manifest: The experiment, its hash, design, versions, timings, failures and run counts.
        path: The results folder.
    """

    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any]
    path: Path | None = field(default=None, compare=False)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables")
        if tables is not None and name in tables:
            return tables[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute or table {name!r}")

    @property
    def variants(self) -> list[str]:
        """Variant names in the experiment's order, the baseline first."""
        names = list(self.manifest.get("variants") or dict.fromkeys(self.design["variant"]))
        base = self.baseline
        return [base, *(v for v in names if v != base)] if base in names else names

    @property
    def baseline(self) -> str:
        """Name of the baseline variant."""
        return str(self.manifest["baseline"])

    @property
    def parameters(self) -> list[str]:
        """Dotted keys of the design parameters."""
        return list((self.manifest.get("design") or {}).get("parameters") or {})

    @property
    def complete(self) -> bool:
        """Whether every run has finished (done or failed)."""
        return int(self.manifest["runs"].get("pending", 0)) == 0

    def table(self, name: str) -> pd.DataFrame:
        """Return a table merged with the design columns of its runs.

        Args:
            name: A table of :func:`kyojosim.measures.outcomes.experiment_tables` (``"summary"``, ``"steps"``,
                ``"years"``, ``"tsunagari"``, ``"age_structure"``, ``"money"``, ``"community_value"``
                or ``"design"``).

        Returns:
            The table with ``scenario``, ``variant``, ``point``, ``replicate``, ``seed``,
            ``intervention_start`` (and the design parameters) after ``run_id``.

        Raises:
            KeyError: For an unknown table name.
        """
        if name not in self.tables:
            raise KeyError(f"unknown table {name!r}; tables: {', '.join(self.tables)}")
        df = self.tables[name]
        if name == "design":
            return df.copy()
        cols = ["run_id", *DESIGN_COLUMNS, *(p for p in self.parameters if p in self.design.columns)]
        return self.design[cols].merge(df, on="run_id", how="right", validate="one_to_many" if name != "summary"
                                       else "one_to_one")

    def _repr_html_(self) -> str:
        """Return a summary for notebooks: the experiment, its runs, each variant's mean headline metrics, tables."""
        m = self.manifest
        runs = m.get("runs", {})
        spec = m.get("experiment") or {}
        lines = [str(spec.get("description") or ""),
                 f"{len(self.design)} runs: {runs.get('done', 0)} done, {runs.get('failed', 0)} failed, "
                 f"{runs.get('pending', 0)} pending; baseline {self.baseline}"
                 + (f"; design parameters: {', '.join(self.parameters)}" if self.parameters else ""),
                 f"tables: {display.tables_line(self.tables)}"]
        if self.path is not None:
            lines.append(f"results folder {self.path}")
        blocks = []
        summary = self.tables.get("summary")
        if summary is not None and len(summary):
            merged = self.table("summary")
            metrics = [k for k in display.BY_VARIANT if k in merged.columns]
            means = merged.groupby("variant", sort=False)[metrics].mean()
            rows = [(v, int((merged["variant"] == v).sum()), *(display.metric_text(k, means.at[v, k]) for k in metrics))
                    for v in self.variants if v in means.index]
            header = ("variant", "runs", *(display.metric_label(k) for k in metrics))
            blocks.append(display.html_table(header, rows))
            lines.append("mean over the finished runs of each variant (counts and yen of the simulated residents):")
        return display.card(f"ExperimentResults: {m.get('name')}", [x for x in lines if x], blocks)

    def __repr__(self) -> str:
        runs = self.manifest.get("runs", {})
        return (f"ExperimentResults({self.manifest.get('name')!r}, {len(self.design)} runs: "
                f"{runs.get('done', 0)} done, {runs.get('failed', 0)} failed, {runs.get('pending', 0)} pending; "
                f"variants {', '.join(self.variants)})")


def _read_parquet(file: Path) -> pd.DataFrame:
    import pyarrow as pa

    try:
        return pd.read_parquet(file, engine="pyarrow")
    except (OSError, ValueError, pa.ArrowException) as exc:
        text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"{file}: damaged, cannot read the table ({text}); run the sweep again to rebuild it") \
            from None


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"{file}: cannot read it: {exc}") from exc


def load(path: str | Path) -> ExperimentResults:
    """Read the results folder of an experiment.

    Args:
        path: The folder given to :func:`kyojosim.sweep` (or its ``manifest.json``).

    Returns:
        The :class:`ExperimentResults`. For a sweep that has not finished, the tables hold the runs
        done so far and ``manifest["runs"]`` counts the pending ones.

    Raises:
        StoreError: If the folder is not an experiment results folder, or a table cannot be read.
    """
    folder = Path(path)
    if folder.name in (MANIFEST, PLAN) and folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise StoreError(f"{folder}: no such results folder")
    mpath = folder / MANIFEST
    if mpath.is_file():
        manifest = _read_json(mpath)
        if isinstance(manifest, dict) and manifest.get("format") == "kyojosim-run":
            raise StoreError(f"{folder}: this is the results folder of a single run; read it with kyojosim.load_run")
        if isinstance(manifest, dict) and manifest.get("format") == FORMAT:
            files = {name: folder / f"{name}.parquet" for name in experiment_tables()}
            missing = [name for name, f in files.items() if not f.is_file()]
            version = manifest.get("format_version")
            if all(missing_allowed(name, version) for name in missing):  # an older kyojosim wrote no such table
                written = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
                for f in files.values():  # sizes as written (a folder of an older kyojosim records none)
                    if f.is_file() and f.name in written:
                        problem = check_file(f, written[f.name], full=False)
                        if problem is not None:
                            raise StoreError(f"{folder}: {problem}; run the sweep again to rebuild the table")
                tables = {name: _read_parquet(f) if f.is_file() else empty_table(name) for name, f in files.items()}
                return ExperimentResults(tables=tables, manifest=manifest, path=folder)
    if (folder / PLAN).is_file():
        return _load_partial(folder)
    raise StoreError(f"{folder}: not an experiment results folder (no {MANIFEST} or {PLAN}); "
                     "make one with `kyojosim sweep EXPERIMENT --out DIR`")


def _load_partial(folder: Path) -> ExperimentResults:
    """Gather the tables of a folder whose sweep did not finish, from ``runs/``."""
    from .results import versions

    plan = _read_json(folder / PLAN)
    if not isinstance(plan, dict) or plan.get("format") != FORMAT + "-plan" or not isinstance(plan.get("runs"), list):
        raise StoreError(f"{folder / PLAN}: not a kyojosim experiment plan")
    rows = plan["runs"]
    parameters = list(plan.get("parameters") or [])
    statuses = statuses_by_id(folder, [r["run_id"] for r in rows])
    design = design_frame(rows, parameters, statuses)
    done = [r for r, st in zip(design["run_id"], design["status"], strict=True) if st == "done"]
    try:
        for rid in done:
            problem = verify_run(folder / RUNS_DIR / rid, statuses[rid] or {}, full=False)
            if problem is not None:
                raise DamagedError(f"{folder / RUNS_DIR / rid}: {problem}; run the sweep again to redo the run")
        tables = {"design": design,
                  **{name: consolidate_table(folder, name, done, None, optional_runs(statuses, name))
                     for name in ("summary", *swept_tables())}}
    except DamagedError as exc:
        raise StoreError(str(exc)) from None
    counts = {k: int((design["status"] == k).sum()) for k in ("done", "failed", "pending")}
    failures = [{"run_id": r["run_id"], "error": r["error"]} for r in design.to_dict("records")
                if r["status"] == "failed"]
    exp = plan.get("experiment") or {}
    manifest = manifest_dict(exp, plan.get("hash", ""), plan.get("name", ""), plan.get("baseline", ""),
                             list(plan.get("variants") or []), exp.get("design") or {}, counts, failures,
                             {"run_seconds_total": round(float(design.loc[design["status"] == "done", "seconds"]
                                                               .sum()), 3)},
                             created="", vers=versions())
    manifest["partial"] = True
    return ExperimentResults(tables=tables, manifest=manifest, path=folder)


__all__ = ["ExperimentResults", "StoreError", "load"]
