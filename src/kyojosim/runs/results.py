"""Results of a run: tidy tables, a manifest, and the folder they are saved in.

A :class:`RunResult` holds the tidy :mod:`pandas` tables a run records, declared once in
:data:`kyojosim.measures.outcomes.TABLES` (columns, dtypes, when they are recorded):

``years``
    One row per year (the start year and the end of every simulated year): population
    (simulated and ``population_scaled`` to the whole municipality), 65+/75+/under-15 shares,
    households by kind (``hh_*``), residents by participation group (``part_*``), the year's
    births, deaths and moves, ties and isolated residents. See
    :func:`kyojosim.measures.yearly.year_summary`.
``steps``
    The weekly series of the Mesa ``DataCollector``, one row per step, with a ``step`` column
    (0 is the initial state) and the ``month`` whose monthly records the week counts towards.
``age_structure``
    Long form: ``year``, ``sex`` (``male``/``female``), ``age_band`` (``"0-4"`` ... ``"85+"``),
    ``count`` (simulated residents) and ``count_scaled`` (``count / municipality.scale``).
``needs``
    Long form, one row per week and category of need: ``arisen``, ``surfaced``, ``matched``,
    ``lapsed``, ``open`` (at the end of the week) and ``hours`` of help given.
``aid_years``
    One row per simulated year: helpers, hours given, ``top10_helper_share`` (helper burden:
    share of the year's hours given by the top 10% of helpers) and the cumulative matching rate
    by the requester's age group and district (``matching_rate_age_group_75plus`` ...).
``money``
    Payments for paid help (:class:`kyojosim.aid.money.MoneyLedger`), one row per week, channel and
    category with a match through a paying channel: ``matches``, ``paid_matches``, ``hours`` and,
    in whole yen, ``paid_by_requesters``, ``subsidy`` and ``received_by_helpers`` (always the sum
    of the two). Empty when no paying channel ran.
``tsunagari``
    つながり力 (:mod:`kyojosim.measures.tsunagari`) of the living residents aged 20+, recorded at the start,
    in the week each calendar month ends and at the end of the run, long form: ``step``, ``year``,
    ``month`` (``YYYY-MM``, the month the record closes), ``group_type`` (``all``,
    ``participation``, ``age_group``, ``district``), ``group``, ``n``, ``mean`` and the quantiles
    ``q10``, ``q25``, ``q50``, ``q75``, ``q90`` (``nan`` for an empty group).
``community_value``
    The local SNS's monthly KPI (:mod:`kyojosim.measures.community_value`), recorded with つながり力 while
    the SNS runs: ``step``, ``year``, ``month``, ``users``, ``mau``, ``posts``, ``need_posts``, ``replies``,
    ``reactions``, ``activity``, ``unique_connections``, ``active_connections`` and
    ``community_value``. Empty when no local SNS ran.
``channel_months``
    One row per channel and calendar month (in the week the month ends and at the last step):
    ``members`` (the sharing platform's registered members, the local SNS's adopters, the reporting
    hub's reporters), ``certified`` (the platform's certified supporters), ``roster`` (the hub's roster
    volunteers), and the month's ``surfaced``, ``matched``, ``answered`` (by the channel's office),
    ``closed_matched`` and ``closed_lapsed`` (needs the channel surfaced that were matched through any
    channel, or lapsed). See :meth:`kyojosim.aid.round.MutualAid.monthly`.

It also holds the run's :attr:`RunResult.summary`: the value of every metric of
:data:`kyojosim.measures.outcomes.METRICS` that summarises a run (the row a sweep writes).

Results folder layout (written by :meth:`RunResult.save`, read by :func:`load_run`)::

    <out>/
        manifest.json          what was run: resolved scenario, its hash, seed, times, versions,
                               command line, and the list of tables (written last)
        years.parquet          the tables above, one Parquet file each (pyarrow)
        steps.parquet
        age_structure.parquet
        needs.parquet
        aid_years.parquet
        money.parquet
        tsunagari.parquet
        community_value.parquet
        channel_months.parquet

A folder written by an older kyojosim (its manifest's ``format_version`` below a table's
:attr:`~kyojosim.measures.outcomes.Table.since`) may lack that table: it loads with the table empty.
Every file is written atomically (:mod:`kyojosim.atomic`), and ``manifest.json`` last, so a
folder with a manifest holds a complete run. Nothing is written outside ``<out>``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..atomic import bytes_digest, check_file, parquet_bytes, write_bytes, write_json
from ..distribution import version
from ..errors import KyojoError, ScenarioError, ScenarioWarning
from ..measures.outcomes import FORMAT_VERSION, missing_allowed, run_tables, summarise, table_frame, typed_frame
from ..params.scenario import Scenario, load_scenario, safe_name, scenario_warnings
from . import display
from .kernels import compile_ahead, to_stderr

if TYPE_CHECKING:
    from ..model import KyojoModel

MANIFEST = "manifest.json"
"""File name of the manifest in a results folder."""
FORMAT = "kyojosim-run"
RESULTS_DIR = Path("results")
"""Where results go when no folder is given: ``results/<name>`` in the current folder."""


class ResultsError(KyojoError):
    """A results folder cannot be written or read."""


def results_folder(name: str, root: str | Path = RESULTS_DIR) -> Path:
    """Return the default results folder ``root/<name>`` of a scenario or experiment name, always inside ``root``.

    The name is made a safe folder name first (:func:`kyojosim.params.scenario.safe_name`: no slash,
    backslash or control character, no leading dot), so that a name such as ``../elsewhere`` or an
    absolute path cannot put results outside ``root``.

    Raises:
        ResultsError: If the folder would not be a child of ``root`` (it cannot, after the name is made safe).
    """
    base = Path(root)
    folder = base / safe_name(str(name))
    if folder.parent != base or folder.name in ("", ".", ".."):  # pragma: no cover - safe_name prevents it
        raise ResultsError(f"the name {name!r} does not name a folder inside {base}")
    return folder


def package_version() -> str:
    """Return the installed kyojosim version (``"0.0.0"`` when not installed)."""
    return version()


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """Return the versions of kyojosim, Python and the main libraries (for the manifest)."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str | None]:
    """Return the versions, looked up once per process (reading installed packages' metadata takes milliseconds)."""
    return {
        "kyojosim": package_version(),
        "python": platform.python_version(),
        "mesa": _dist_version("mesa"),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pyarrow": _dist_version("pyarrow"),
    }


def utc_now() -> str:
    """Return the current time as ISO-8601 UTC, to the second (``2025-01-01T12:00:00+00:00``)."""
    return _dt.datetime.now(tz=_dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------
# RunResult
# --------------------------------------------------------------------------------------


class TablesOnDemand(dict):
    """A finished model's tables, each made from its records when first read, then kept.

    The frames of :meth:`RunResult.from_model` (:func:`~kyojosim.measures.outcomes.table_frame`), only those read,
    while the model is at hand (its DataCollector is read). A sweep's worker reads only the tables of the run's
    summary as frames: it writes the tables from the records as Arrow tables itself. Only the tables read so far
    are in the dict (its length, keys and items): read each by name.
    """

    def __init__(self, datacollector: Any) -> None:
        super().__init__()
        self._datacollector = datacollector

    def __missing__(self, name: str) -> pd.DataFrame:
        if name not in run_tables():
            raise KeyError(name)
        frame = self[name] = table_frame(self._datacollector, name)
        return frame


@dataclass
class RunResult:
    """The outcome of one run: its tables and a manifest describing it.

    Build it with :meth:`from_model` (or get one from :func:`kyojosim.run`), or read a saved
    one with :func:`load_run`.

    Attributes:
        tables_: The tables by name (see the module docstring).
        manifest: What was run (see :meth:`save`); the ``tables`` entry is filled on saving.
        scenario: The resolved scenario (``None`` if a saved one could not be rebuilt).
        model: The finished model (``None`` for a loaded run, or once released).
        path: The folder the run was saved to or loaded from (``None`` if not saved).
        summary: The summary metrics of the run (:func:`kyojosim.measures.outcomes.summarise`), computed
            while the model is at hand; for a loaded run, from its tables.
        observed: What :func:`run_one`'s ``observe`` returned at the start and the end of the run.
        observed_years: What ``observe`` returned in the first week of each of :func:`run_one`'s
            ``observe_years``, by year.
    """

    tables_: dict[str, pd.DataFrame]
    manifest: dict[str, Any]
    scenario: Scenario | None = None
    model: KyojoModel | None = field(default=None, repr=False)
    path: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict, repr=False)
    observed: tuple[Any, ...] = field(default=(), repr=False)
    observed_years: dict[int, Any] = field(default_factory=dict, repr=False)

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_model(
        cls,
        model: KyojoModel,
        started: str | None = None,
        finished: str | None = None,
        command: Sequence[str] | None = None,
        elapsed_s: float | None = None,
        on_demand: bool = False,
    ) -> RunResult:
        """Collect the tables and the manifest of a finished model.

        Args:
            model: The model, stepped until ``model.running`` is False (or as far as wanted).
            started: Start time (ISO-8601 UTC); default: now.
            finished: End time (ISO-8601 UTC); default: now.
            command: The command line that ran it, if any.
            elapsed_s: Wall-clock seconds of the run, if measured.
            on_demand: Make each table when it is first read (:class:`TablesOnDemand`), while the model is kept:
                the summary reads four of them. The manifest's ``scenario`` and ``scenario_digest`` are then ``None``
                (``result.scenario`` is the scenario): the result is for reading the summary and the tables by name
                (a sweep's worker), not for saving.

        Returns:
            The result.
        """
        scn = model.scenario
        now = utc_now()
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "scenario_name": scn.name,
            "municipality": scn.municipality.name_en,
            "scenario_digest": None if on_demand else scn.digest(),
            "seed": int(scn.simulation.seed),
            "years": int(scn.simulation.years),
            "scale": float(scn.municipality.scale),
            "start_year": int(model.start_year),
            "end_year": int(model.year),
            "steps": int(model.steps),
            "started": started or now,
            "finished": finished or now,
            "elapsed_s": None if elapsed_s is None else round(float(elapsed_s), 3),
            "versions": versions(),
            "platform": platform.platform(),
            "command": list(command) if command is not None else None,
            "scenario": None if on_demand else scn.to_dict(),
        }
        tables = (TablesOnDemand(model.datacollector) if on_demand
                  else {name: table_frame(model.datacollector, name) for name in run_tables()})
        result = cls(tables_=tables, manifest=manifest, scenario=scn, model=model)
        result.summary = summarise(result)
        return result

    # -- access --------------------------------------------------------------------------
    @property
    def seed(self) -> int:
        """The seed of the run."""
        return int(self.manifest["seed"])

    @property
    def scenario_digest(self) -> str:
        """SHA-256 hash of the resolved scenario."""
        return str(self.manifest["scenario_digest"])

    def to_pandas(self, table: str = "years") -> pd.DataFrame:
        """Return one table as a pandas DataFrame (a copy).

        Args:
            table: A table of :func:`kyojosim.measures.outcomes.run_tables` (``"years"``, ``"steps"``,
                ``"age_structure"``, ``"needs"``, ``"aid_years"``, ``"money"``, ``"tsunagari"``,
                ``"community_value"``).

        Raises:
            KeyError: For an unknown table name.
        """
        if table not in self.tables_:
            raise KeyError(f"unknown table {table!r}; tables: {', '.join(self.tables_)}")
        return self.tables_[table].copy()

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return all tables by name (copies)."""
        return {name: df.copy() for name, df in self.tables_.items()}

    # -- saving --------------------------------------------------------------------------
    def save(self, out_dir: str | Path, command: Sequence[str] | None = None) -> Path:
        """Write the tables as Parquet and ``manifest.json`` into ``out_dir``, atomically.

        The folder (and its parents) is created if missing; files of an earlier run in it are
        replaced. An old manifest is removed first and the new one written last, so the folder
        never claims a run it does not hold completely.

        Args:
            out_dir: The results folder.
            command: The command line to record (overrides the one given at construction).

        Returns:
            The results folder.

        Raises:
            ResultsError: If the folder cannot be created or written, or the result holds its tables on demand
                (made for its summary: ``run_one``'s ``summary_only``).
        """
        out = Path(out_dir)
        if isinstance(self.tables_, TablesOnDemand):
            raise ResultsError(f"cannot write results to {out}: this result was made for its summary only "
                               "(run_one's summary_only); run the scenario without it to save its tables")
        manifest = dict(self.manifest)
        if command is not None:
            manifest["command"] = list(command)
        try:
            if out.exists() and not out.is_dir():
                raise ResultsError(f"cannot write results to {out}: it exists and is not a folder")
            out.mkdir(parents=True, exist_ok=True)
            (out / MANIFEST).unlink(missing_ok=True)
            entries = {}
            for name, df in self.tables_.items():
                file = f"{name}.parquet"
                data = parquet_bytes(df)
                write_bytes(out / file, data)
                entries[name] = {"file": file, "rows": int(len(df)), "columns": [str(c) for c in df.columns],
                                 **bytes_digest(data)}  # bytes and sha256, checked by load_run
            manifest["tables"] = entries
            write_json(out / MANIFEST, manifest)
        except OSError as exc:
            raise ResultsError(f"cannot write results to {out}: {exc.strerror or exc}") from exc
        self.manifest = manifest
        self.path = out
        return out

    def _repr_html_(self) -> str:
        """Return a summary for notebooks: what was run, the headline metrics and the tables."""
        m = self.manifest
        where = f"{m.get('municipality', '')}, " if m.get("municipality") else ""
        lines = [f"{where}{m.get('start_year')}-{m.get('end_year')}, seed {m.get('seed')}, scale {m.get('scale')} "
                 "(counts and yen are of the simulated residents)",
                 f"tables: {display.tables_line(self.tables_)}"]
        if self.path is not None:
            lines.append(f"saved in {self.path}")
        rows = [(display.metric_label(k), display.metric_text(k, self.summary[k]))
                for k in display.HEADLINE if k in self.summary]
        blocks = [display.html_table(("metric", "value"), rows)] if rows else []
        return display.card(f"RunResult: {m.get('scenario_name')}", lines, blocks)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {len(v)} rows" for k, v in self.tables_.items())
        return f"RunResult({self.manifest.get('scenario_name')!r}, seed={self.manifest.get('seed')}, {shapes})"


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------


def _int_keys(obj: Any) -> Any:
    """Undo JSON's conversion of integer mapping keys to strings (``{"2015": 1.0}``)."""
    if isinstance(obj, dict):
        if obj and all(isinstance(k, str) and k.lstrip("-").isdigit() for k in obj):
            return {int(k): _int_keys(v) for k, v in obj.items()}
        return {k: _int_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_int_keys(v) for v in obj]
    return obj


def _rebuild_scenario(data: Any) -> Scenario | None:
    if not isinstance(data, Mapping):
        return None
    try:
        return load_scenario(_int_keys(dict(data)))
    except ScenarioError:
        return None


def load_run(path: str | Path) -> RunResult:
    """Read a results folder written by :meth:`RunResult.save`.

    Args:
        path: The results folder (or its ``manifest.json``).

    Returns:
        A :class:`RunResult` with the same tables and manifest (``model`` is ``None``;
        ``scenario`` is rebuilt from the manifest when it still loads).

    Raises:
        ResultsError: If the folder has no readable manifest, or a table is missing, is not what was
            written (size, SHA-256 hash or rows the manifest records) or cannot be read; the message names
            the file.
    """
    folder = Path(path)
    if folder.name == MANIFEST and folder.is_file():
        folder = folder.parent
    mpath = folder / MANIFEST
    if not mpath.is_file():
        raise ResultsError(f"{folder}: not a results folder (no {MANIFEST})")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{mpath}: cannot read the manifest: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ResultsError(f"{mpath}: not a kyojosim run manifest")
    import pyarrow as pa

    tables: dict[str, pd.DataFrame] = {}
    for name, entry in (manifest.get("tables") or {}).items():
        file = folder / str(entry.get("file", f"{name}.parquet"))
        if not file.is_file():
            raise ResultsError(f"{folder}: table {name!r} is missing ({file.name})")
        if "sha256" in entry:  # recorded since runs record what they wrote
            problem = check_file(file, entry)
            if problem is not None:
                raise ResultsError(f"{folder}: {problem}: the table is damaged; run the scenario again")
        try:
            tables[name] = pd.read_parquet(file, engine="pyarrow")
        except (OSError, ValueError, pa.ArrowException) as exc:
            text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise ResultsError(f"{file}: damaged, cannot read the table ({text})") from None
        if len(tables[name]) != entry.get("rows", len(tables[name])):
            raise ResultsError(f"{file}: damaged: {len(tables[name])} rows, {entry['rows']} were written")
    for name in run_tables():  # a table added after this folder was written: empty
        if name not in tables and missing_allowed(name, manifest.get("format_version")):
            tables[name] = typed_frame(name)
    result = RunResult(tables_=tables, manifest=manifest, scenario=_rebuild_scenario(manifest.get("scenario")),
                       path=folder)
    result.summary = summarise(result)
    return result


# --------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------


def run_one(
    scenario: Scenario | str | Path = "yamae",
    *,
    seed: int | None = None,
    years: int | None = None,
    scale: float | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: bool | None = False,
    keep_model: bool = False,
    summary_only: bool = False,
    agents: bool | None = None,
    observe: Callable[[KyojoModel], Any] | None = None,
    observe_years: Sequence[int] = (),
    command: Sequence[str] | None = None,
    **kw_overrides: Any,
) -> RunResult:
    """Build a model, run it to the end (:meth:`~kyojosim.model.KyojoModel.run_model`) and collect its results.

    Every runner goes through this function: :func:`run`, a sweep's workers, the projections and the
    validation experiments. The model is released (:meth:`~kyojosim.model.KyojoModel.release`) when
    the run is done or fails, unless ``keep_model``: a process that runs model after model keeps none
    of them alive.

    Args:
        scenario: A :class:`~kyojosim.params.scenario.Scenario`, a scenario file, or a bundled name.
        seed: Seed (overrides ``simulation.seed``).
        years: Length of the run in years (overrides ``simulation.years``).
        scale: Fraction of residents simulated (overrides ``municipality.scale``).
        overrides: Dotted-path overrides, e.g. ``{"demography.fertility.tfr": 1.6}``.
        progress: Show a progress bar in years on stderr: ``True`` always, ``False`` never,
            ``None`` only when stderr is a terminal.
        keep_model: Keep the finished model in ``result.model`` (not released).
        summary_only: With ``keep_model``, make only the tables the summary reads now, and the others when they are
            read by name while the model is kept (``RunResult.from_model``'s ``on_demand``): for a caller that takes
            the tables from the model's records itself (a sweep's worker). The result is not for saving.
        agents: Give every resident a Mesa handle (:class:`~kyojosim.model.KyojoModel`'s ``agents``);
            default: only when the model is kept, as nothing else reads the handles.
        observe: Called with the model before the first step and after the last; its two return values
            are ``result.observed`` (for measures that are not in the tables).
        observe_years: Calendar years in which ``observe`` is also called, after the first step of the year
            (after the turn of the year and the year's first week); what it returns is
            ``result.observed_years[year]``. A year the run does not reach is not observed.
        command: The command line to record in the manifest.
        **kw_overrides: Overrides as keywords, ``__`` for dots (``demography__fertility__tfr=1.6``).

    Returns:
        The :class:`RunResult`, with its tables and summary (and the model if ``keep_model``).

    Raises:
        ScenarioError: For a bad scenario or override.
        ValueError: For ``summary_only`` without ``keep_model``.
    """
    from tqdm import tqdm

    from ..model import KyojoModel

    if summary_only and not keep_model:
        raise ValueError("summary_only needs keep_model: the other tables are made from the kept model")

    started = utc_now()
    t0 = time.perf_counter()
    model = KyojoModel(scenario=scenario, seed=seed, years=years, scale=scale, overrides=overrides,
                       agents=keep_model if agents is None else agents, **kw_overrides)
    kept = False
    try:
        observed = [] if observe is None else [observe(model)]
        pending = sorted({int(y) for y in observe_years}) if observe is not None else []
        by_year: dict[int, Any] = {}
        total = int(model.scenario.simulation.years)
        disable = None if progress is None else not progress
        label = model.scenario.name or model.scenario.municipality.name_en
        with tqdm(total=total, unit="year", desc=label, disable=disable, file=sys.stderr, leave=False) as bar:

            def advance(m: KyojoModel) -> None:
                done = min(m.year - m.start_year, total)
                if done > bar.n:
                    bar.update(done - bar.n)

            def watch(m: KyojoModel) -> None:
                while pending and m.year >= pending[0]:
                    year = pending.pop(0)
                    if m.year == year:
                        by_year[year] = observe(m)
                if not bar.disable:
                    advance(m)

            model.run_model(progress=watch if pending else None if bar.disable else advance)
        if observe is not None:
            observed.append(observe(model))
        result = RunResult.from_model(
            model, started=started, finished=utc_now(), command=command, elapsed_s=time.perf_counter() - t0,
            on_demand=summary_only,
        )
        result.observed = tuple(observed)
        result.observed_years = by_year
        kept = keep_model
        if not kept:
            result.model = None
        return result
    finally:
        if not kept:
            model.release()


def run(
    scenario: Scenario | str | Path = "yamae",
    years: int | None = None,
    seed: int | None = None,
    scale: float | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: bool | None = False,
    out: str | Path | None = None,
    command: Sequence[str] | None = None,
    **kw_overrides: Any,
) -> RunResult:
    """Build a model, run it to the end, and collect (and optionally save) the results.

    Example::

        import kyojosim
        res = kyojosim.run("yamae", years=10, seed=1)
        res.to_pandas("years")[["year", "population_scaled", "share_65plus"]]

    Args:
        scenario: A :class:`~kyojosim.params.scenario.Scenario`, a scenario file, or a bundled name.
        years: Length of the run in years (overrides ``simulation.years``).
        seed: Seed (overrides ``simulation.seed``).
        scale: Fraction of residents simulated (overrides ``municipality.scale``).
        overrides: Dotted-path overrides, e.g. ``{"demography.fertility.tfr": 1.6}``.
        progress: Show a progress bar in years on stderr: ``True`` always, ``False`` never,
            ``None`` only when stderr is a terminal.
        out: If given, save the results to this folder (see :meth:`RunResult.save`).
        command: The command line to record in the manifest.
        **kw_overrides: Overrides as keywords, ``__`` for dots (``demography__fertility__tfr=1.6``).

    Returns:
        The :class:`RunResult`, with the finished model in ``result.model`` (:func:`run_one` with
        ``keep_model=True``).

    Raises:
        ScenarioError: For a bad scenario or override.
        ResultsError: If ``out`` cannot be written.
    """
    shown = sys.stderr.isatty() if progress is None else progress  # as the bar of run_one
    compile_ahead(notify=to_stderr if shown else None)  # once after installing (kyojosim.runs.kernels)
    result = run_one(scenario, seed=seed, years=years, scale=scale, overrides=overrides, progress=progress,
                     keep_model=True, command=command, **kw_overrides)
    for note in scenario_warnings(result.scenario):
        warnings.warn(f"{result.scenario.name}: {note}", ScenarioWarning, stacklevel=2)
    if out is not None:
        result.save(out)
    return result


__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "ResultsError",
    "RunResult",
    "TablesOnDemand",
    "load_run",
    "run",
    "run_one",
    "versions",
]
