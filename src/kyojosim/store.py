"""Reading the results folder of an experiment (written by :func:`kyojosim.sweep`).

``kyojosim.load(path)`` returns an :class:`ExperimentResults` with one tidy table per kind
(``design``, ``summary``, ``steps``, ``years``, ``tsunagari``, ``age_structure``, ``money``,
``community_value``) and the
manifest. It also reads a folder whose sweep has not finished (interrupted, or still running): then
the tables are gathered from the finished runs in ``runs/`` and the manifest is rebuilt from
``experiment.json``, with the counts of done, failed and pending runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import KyojoError
from .sweep import (
    FORMAT,
    MANIFEST,
    PLAN,
    RUN_TABLES,
    TABLES,
    _consolidate_table,
    _empty_table,
    _statuses_by_id,
    design_frame,
    manifest_dict,
)

LATER_TABLES: tuple[str, ...] = ("community_value",)
"""Tables added after the first format: a results folder without them still loads (they are empty)."""
DESIGN_COLUMNS: tuple[str, ...] = ("scenario", "variant", "point", "replicate", "seed", "intervention_start")
"""Columns of ``design`` that :meth:`ExperimentResults.table` adds to a table."""


class StoreError(KyojoError):
    """A folder is not an experiment results folder, or cannot be read."""


@dataclass(frozen=True)
class ExperimentResults:
    """The results of an experiment: tidy tables (``run_id`` in each) and the manifest.

    Attributes:
        design: One row per run: run_id, scenario, variant, point, replicate, seed, status, error,
            seconds, intervention_start and one column per design parameter (dotted key).
        summary: One row per finished run (see :data:`kyojosim.sweep.SUMMARY_COLUMNS`).
        steps: The runs' weekly series.
        years: The runs' yearly rows.
        tsunagari: The runs' monthly つながり力 summaries.
        age_structure: The runs' residents by year, sex and age band.
        money: The runs' payments for paid help.
        community_value: The runs' monthly Community Value of the local SNS (empty without one).
        manifest: The experiment, its hash, design, versions, timings, failures and run counts.
        path: The results folder.
    """

    design: pd.DataFrame
    summary: pd.DataFrame
    steps: pd.DataFrame
    years: pd.DataFrame
    tsunagari: pd.DataFrame
    age_structure: pd.DataFrame
    money: pd.DataFrame
    community_value: pd.DataFrame
    manifest: dict[str, Any]
    path: Path | None = field(default=None, compare=False)

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
            name: ``"summary"``, ``"steps"``, ``"years"``, ``"tsunagari"``, ``"age_structure"``,
                ``"money"`` or ``"design"``.

        Returns:
            The table with ``scenario``, ``variant``, ``point``, ``replicate``, ``seed``,
            ``intervention_start`` (and the design parameters) after ``run_id``.

        Raises:
            KeyError: For an unknown table name.
        """
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
        df = getattr(self, name)
        if name == "design":
            return df.copy()
        cols = ["run_id", *DESIGN_COLUMNS, *(p for p in self.parameters if p in self.design.columns)]
        return self.design[cols].merge(df, on="run_id", how="right", validate="one_to_many" if name != "summary"
                                       else "one_to_one")

    def __repr__(self) -> str:
        runs = self.manifest.get("runs", {})
        return (f"ExperimentResults({self.manifest.get('name')!r}, {len(self.design)} runs: "
                f"{runs.get('done', 0)} done, {runs.get('failed', 0)} failed, {runs.get('pending', 0)} pending; "
                f"variants {', '.join(self.variants)})")


def _read_parquet(file: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(file, engine="pyarrow")
    except (OSError, ValueError) as exc:
        raise StoreError(f"{file}: cannot read the table: {exc}") from exc


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
            files = {name: folder / f"{name}.parquet" for name in TABLES}
            missing = [name for name, f in files.items() if not f.is_file()]
            if all(name in LATER_TABLES for name in missing):  # a folder of an older kyojosim lacks these
                tables = {name: _read_parquet(f) if f.is_file() else _empty_table(name) for name, f in files.items()}
                return ExperimentResults(**tables, manifest=manifest, path=folder)
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
    statuses = _statuses_by_id(folder, [r["run_id"] for r in rows])
    design = design_frame(rows, parameters, statuses)
    done = [r for r, st in zip(design["run_id"], design["status"], strict=True) if st == "done"]
    tables = {name: _consolidate_table(folder, name, done, None) for name in ("summary", *RUN_TABLES)}
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
    return ExperimentResults(design=design, **tables, manifest=manifest, path=folder)


__all__ = ["ExperimentResults", "StoreError", "load"]
