"""Every table a run records and every metric it reports, declared once.

:data:`TABLES` declares the tables of a run and of an experiment: their columns and dtypes, when
they are recorded (weekly, monthly, yearly, once per run), whether a sweep keeps them per run, and
the results-format version that added them (:attr:`Table.since`), so that a results folder written
before a table existed still loads, with that table empty.

:data:`METRICS` declares the measures people read: the weekly series of the ``steps`` table and
the per-run values of the ``summary`` table of a sweep. Each says what kind of number it is
(a rate, a share of residents, a count, an amount of money, an index), its unit, whether it scales
with the population (divide by ``municipality.scale`` for the whole municipality), how it is
summarised from a run, whether :func:`kyojosim.analysis.compare.compare` compares it by default, and its
Japanese and English labels. Families of metrics (one per category of need, requester age group,
participation group or channel) are generated from the vocabularies.

Everything else reads these two registries: the model declares its :class:`mesa.DataCollector`
tables from :data:`TABLES` (:func:`make_datacollector`) and records through
:meth:`~mesa.DataCollector.add_table_row`; :func:`table_frame` turns a recorded table into a typed
frame; the sweep's summary, the results store, the default comparison, the labels, the number
formats and the report's scaling to the whole municipality follow from :data:`METRICS`.

A value that is undefined is ``nan``, never 0: a rate where nothing was decided (``matching_rate`` before
the first need is matched or lapses), a mean of nothing (``weeks_to_match`` in a week without a match,
``mean_age`` and the shares of residents in a town with nobody left, ``top10_helper_share`` in a year
nobody helped, ``unmet_75plus_share`` with nobody aged 75+, つながり力 of an empty group). Counts of nothing
are 0. Figures, comparisons and reports skip ``nan``.

Adding a KPI is one :class:`Metric` entry (with its summary function) in :data:`METRICS`; adding a
table is one :class:`Table` entry (with ``since`` the new :data:`FORMAT_VERSION`) plus the code that
records its rows.
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol

import mesa
import numpy as np
import pandas as pd

from ..aid.money import FIELDS as MONEY_FIELDS
from ..constants import (
    AGE_BAND_LABELS,
    CATEGORIES,
    CHANNELS,
    HOUSEHOLD_KINDS,
    PARTICIPATION_GROUPS,
    REQUESTER_AGE_GROUPS,
    SEXES,
)
from ..errors import KyojoError
from .tsunagari import QUANTILES

if TYPE_CHECKING:
    import pyarrow as pa

    from ..model import KyojoModel

FORMAT_VERSION = 3
"""Version of the results format (run and experiment folders). 3: ``channel_months``; 2:
``community_value`` and the ``month`` of the monthly records; 1: the first format."""

INT, FLOAT, STR = "int64", "float64", "str"


class OutcomeError(KyojoError):
    """A row does not fit its declared table, or a name is not in the registry."""


# --------------------------------------------------------------------------------------
# the calendar month of the monthly records
# --------------------------------------------------------------------------------------

MONTH_ENDS: tuple[int, ...] = (31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
"""Day of the year at which January ... November end (a common year); December ends with the year."""


def calendar_month(days: float, start_year: int, days_per_year: float) -> tuple[int, int]:
    """Return the (year, month) of the model's calendar ``days`` days after 1 January of ``start_year``.

    The model's years last ``days_per_year`` days (as ``KyojoModel.year``); months have the lengths of a
    common year, December taking the rest of the year (the quarter day that stands for 29 February).
    """
    k = int(days // days_per_year)
    return start_year + k, 1 + bisect_right(MONTH_ENDS, days - k * days_per_year)


def month_label(year: int, month: int) -> str:
    """Return ``"YYYY-MM"``."""
    return f"{year:04d}-{month:02d}"


def record_month(days_before: float, days_after: float, start_year: int, days_per_year: float) -> tuple[str, bool]:
    """Return the month a step's records belong to and whether a calendar month ended in the step.

    A step from ``days_before`` to ``days_after`` in which a month ends belongs to that month (the latest,
    should several end in one long step); any other step to the month in progress at its end.
    """
    before = calendar_month(days_before, start_year, days_per_year)
    after = calendar_month(days_after, start_year, days_per_year)
    if before == after:
        return month_label(*after), False
    year, month = after
    return (month_label(year, month - 1) if month > 1 else month_label(year - 1, 12)), True


def start_month(start_year: int) -> str:
    """Return the month of the records of the initial state: December before the start year (its end)."""
    return month_label(start_year - 1, 12)


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------

Cadence = Literal["weekly", "monthly", "yearly", "run"]
Recorder = Literal["reporters", "rows", "sweep"]


@dataclass(frozen=True)
class Table:
    """One table of a run or of an experiment.

    Attributes:
        name: The table's name (its file is ``<name>.parquet``).
        columns: Column name -> dtype, in order.
        cadence: When a row (or a block of rows) is recorded: ``weekly``, ``monthly``, ``yearly``
            or once per ``run``.
        description: What a row holds.
        swept: Whether a sweep keeps the table of every run (and consolidates it).
        since: The :data:`FORMAT_VERSION` that added the table; a folder of an older version may lack
            it and then loads with the table empty.
        per_district: Column-name patterns (``{}`` for the district's name) -> dtype: one column per
            district of the scenario, after ``columns``.
        recorded_by: ``reporters`` (the DataCollector's model reporters, one row per step), ``rows``
            (``add_table_row``) or ``sweep`` (built by the sweep from its runs).
    """

    name: str
    columns: Mapping[str, str]
    cadence: Cadence
    description: str
    swept: bool = False
    since: int = 1
    per_district: Mapping[str, str] = field(default_factory=dict)
    recorded_by: Recorder = "rows"

    def columns_for(self, districts: Sequence[str] = ()) -> dict[str, str]:
        """Return the columns (name -> dtype) of the table of a town with these districts."""
        out = dict(self.columns)
        for pattern, dtype in self.per_district.items():
            out.update({pattern.format(d): dtype for d in districts})
        return out

    def dtype(self, column: str) -> str | None:
        """Return the dtype of a column (``None`` if the table does not declare it)."""
        if column in self.columns:
            return self.columns[column]
        for pattern, dtype in self.per_district.items():
            head, _, tail = pattern.partition("{}")
            if column.startswith(head) and column.endswith(tail) and len(column) > len(head) + len(tail):
                return dtype
        return None


def _cols(*parts: Iterable[tuple[str, str]] | Mapping[str, str]) -> MappingProxyType:
    out: dict[str, str] = {}
    for p in parts:
        out.update(p.items() if isinstance(p, Mapping) else p)
    return MappingProxyType(out)


_YEAR_COLUMNS = _cols(
    {"year": INT, "population": INT, "population_scaled": FLOAT, "share_65plus": FLOAT, "share_75plus": FLOAT,
     "share_under15": FLOAT, "mean_age": FLOAT, "households": INT, "ties": INT, "isolated": INT,
     "smartphone_share": FLOAT, "sns_share": FLOAT, "willing_free_share": FLOAT, "willing_paid_share": FLOAT,
     "ask_factor_mean": FLOAT, "surfaced_share": FLOAT},
    ((f"surfaced_share_{g}", FLOAT) for g in REQUESTER_AGE_GROUPS),
    ((f"hh_{k}", INT) for k in HOUSEHOLD_KINDS),
    ((f"part_{g}", INT) for g in PARTICIPATION_GROUPS),
    ((k, INT) for k in ("births", "deaths", "out_migrants", "in_migrants", "left_home", "unions", "moved_in")),
)
_STEP_COLUMNS = _cols(
    {"step": INT, "year": INT, "month": STR, "population": INT, "share_65plus": FLOAT, "share_75plus": FLOAT,
     "households": INT, "ties": INT, "isolated": INT},
    ((f"part_{g}", INT) for g in PARTICIPATION_GROUPS),
    {"needs_arisen": INT, "needs_surfaced": INT, "needs_matched": INT, "needs_lapsed": INT, "needs_open": INT,
     "hours_given": FLOAT, "matching_rate": FLOAT, "weeks_to_match": FLOAT, "unmet_75plus_share": FLOAT},
    ((f"matched_{c}", INT) for c in CHANNELS),
)

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("years", _YEAR_COLUMNS, "yearly",
          "the town at the start and at the end of every simulated year: population (simulated and scaled to the "
          "whole municipality), age shares and mean age (nan when nobody is left), households by kind, residents "
          "by participation group, the year's births, deaths and moves, ties and isolated residents, the shares "
          "of residents aged 20-79 willing to help free and only if paid (mean over the categories) and their mean "
          "wish to ask, and the share of the year's needs that surfaced, in all and by the requester's age group "
          "(kyojosim.measures.yearly.year_summary)",
          swept=True),
    Table("steps", _STEP_COLUMNS, "weekly",
          "the weekly series, one row per step (0 is the initial state): the month whose records the week counts "
          "towards, the town's state and the week's mutual aid (needs arisen, surfaced, matched, lapsed and "
          "open, hours given, the cumulative matching rate (nan until a need is matched or lapses), the mean weeks "
          "a need matched in the week waited (nan in a week without a match), the share aged 75+ with an unmet "
          "need (nan with nobody aged 75+), matches by channel)", swept=True,
          recorded_by="reporters"),
    Table("age_structure", _cols({"year": INT, "sex": STR, "age_band": STR, "count": INT, "count_scaled": FLOAT}),
          "yearly", "residents by year, sex and 5-year age band (count simulated, count_scaled = count / "
          "municipality.scale)", swept=True),
    Table("needs", _cols({"step": INT, "year": INT, "category": STR, "arisen": INT, "surfaced": INT, "matched": INT,
                          "lapsed": INT, "open": INT, "hours": FLOAT}), "weekly",
          "one row per week and category of need: arisen, surfaced, matched, lapsed, open at the end of the week, "
          "hours of help given"),
    Table("aid_years", _cols({"year": INT, "helpers": INT, "hours_given": FLOAT, "top10_helper_share": FLOAT},
                             ((f"matching_rate_age_group_{g}", FLOAT) for g in REQUESTER_AGE_GROUPS)), "yearly",
          "one row per simulated year: helpers, hours given, the share of the hours given by the top 10% of helpers "
          "(nan in a year nobody helped), and the cumulative matching rate by the requester's age group and "
          "district (nan where no need was decided)",
          per_district=MappingProxyType({"matching_rate_district_{}": FLOAT})),
    Table("money", _cols({"step": INT, "year": INT, "channel": STR, "category": STR},
                         ((f, FLOAT if f == "hours" else INT) for f in MONEY_FIELDS)), "weekly",
          "payments for paid help (kyojosim.aid.money), one row per week, channel and category with a match through a "
          "paying channel; whole yen", swept=True),
    Table("tsunagari", _cols({"step": INT, "year": INT, "month": STR, "group_type": STR, "group": STR, "n": INT,
                              "mean": FLOAT}, ((f"q{q}", FLOAT) for q in QUANTILES)), "monthly",
          "つながり力 of the living residents aged 20+ by group (all, participation, age_group, district): number, "
          "mean and quantiles; at the start, in the week each calendar month ends, and at the end of the run; on "
          "the scale of the run's first record (its items' means, deviations and loadings and its constant), so "
          "levels compare between records and between variants that share the first population "
          "(kyojosim.measures.tsunagari.summary_rows)",
          swept=True),
    Table("community_value", _cols({"step": INT, "year": INT, "month": STR, "users": INT, "mau": INT, "posts": INT,
                                    "need_posts": INT, "replies": INT, "reactions": INT, "activity": INT,
                                    "unique_connections": INT, "active_connections": INT,
                                    "community_value": FLOAT}), "monthly",
          "the local SNS's monthly KPI and its components while the SNS runs, in the week each calendar month "
          "ends and at the end of the run (kyojosim.measures.community_value)",
          swept=True, since=2),
    Table("channel_months", _cols({"step": INT, "year": INT, "month": STR, "channel": STR, "members": INT,
                                   "certified": INT, "roster": INT, "surfaced": INT, "matched": INT, "answered": INT,
                                   "closed_matched": INT, "closed_lapsed": INT}), "monthly",
          "one row per month and channel that ran (offline always): who takes part at the end of the month "
          "(members: the sharing platform's registered members, the local SNS's adopters, the reporting hub's "
          "reporters; certified: the platform's certified supporters; roster: the hub's roster volunteers), the "
          "needs the channel surfaced, the needs matched through it and of those the ones its office answered, and "
          "of the needs it had surfaced, those matched through any channel or lapsed that month "
          "(kyojosim.aid.round.MutualAid.monthly); in the week each calendar month ends and at the end of the run",
          swept=True, since=3),
    Table("design", _cols({"run_id": STR, "scenario": STR, "variant": STR, "point": INT, "replicate": INT,
                           "seed": INT, "status": STR, "error": STR, "seconds": FLOAT, "intervention_start": "Int64"}),
          "run", "one row per run of an experiment, then one column per design parameter (dotted key)",
          recorded_by="sweep"),
    Table("summary", MappingProxyType({}), "run",
          "one row per finished run of an experiment: run_id and every metric with a summary (METRICS)",
          recorded_by="sweep"),
)}
"""The tables, by name, in the order a run saves them (the experiment's ``design`` and ``summary`` last)."""


def run_tables() -> list[str]:
    """Names of the tables a run records and saves."""
    return [n for n, t in TABLES.items() if t.recorded_by != "sweep"]


def swept_tables() -> list[str]:
    """Names of the run tables a sweep keeps per run and consolidates."""
    return [n for n, t in TABLES.items() if t.swept and t.recorded_by != "sweep"]


def experiment_tables() -> list[str]:
    """Names of the tables of an experiment's results folder: ``design``, ``summary`` and the swept tables."""
    return ["design", "summary", *swept_tables()]


def table(name: str) -> Table:
    """Return the declared table ``name``.

    Raises:
        OutcomeError: For a name that is not declared.
    """
    try:
        return TABLES[name]
    except KeyError:
        raise OutcomeError(f"table: got {name!r}; allowed: {', '.join(TABLES)}") from None


def columns_of(name: str, districts: Sequence[str] = ()) -> dict[str, str]:
    """Return the columns (name -> dtype) of a table; ``summary`` is ``run_id`` plus the summary metrics."""
    if name == "summary":
        return {"run_id": STR, **{m.name: m.dtype for m in summary_metrics()}}
    return table(name).columns_for(districts)


def missing_allowed(name: str, format_version: int | None) -> bool:
    """Whether a results folder of ``format_version`` may lack table ``name`` (it predates the table)."""
    version = 1 if format_version is None else int(format_version)
    return version < table(name).since


class OutcomeCollector(mesa.DataCollector):
    """Mesa's DataCollector, whose tables reject rows that do not fit their declared columns.

    Mesa's :meth:`~mesa.DataCollector.add_table_row` silently drops keys that are not columns of the
    table; here such a row, or one that lacks a column, is an error, raised before anything is added.
    """

    def add_table_row(self, table_name: str, row: Mapping[str, Any], ignore_missing: bool = False) -> None:
        """Append ``row`` to ``table_name`` (keys exactly the table's columns)."""
        cols = self.tables.get(table_name)
        if cols is None:
            raise OutcomeError(f"table: got {table_name!r}; allowed: {', '.join(self.tables)}")
        if row.keys() != cols.keys():
            extra = [k for k in row if k not in cols]
            missing = [c for c in cols if c not in row and not ignore_missing]
            if extra or missing:
                raise OutcomeError(f"a row of table {table_name!r} does not fit its columns: "
                                   + "; ".join(p for p in (f"undeclared {extra}" if extra else "",
                                                           f"missing {missing}" if missing else "") if p)
                                   + f"; declared in kyojosim.measures.outcomes.TABLES: {', '.join(cols)}")
        super().add_table_row(table_name, row, ignore_missing)


def make_datacollector(reporters: Mapping[str, Callable[[KyojoModel], Any]],
                       districts: Sequence[str] = ()) -> OutcomeCollector:
    """Return the DataCollector of a model: the weekly reporters and every table recorded by rows.

    Args:
        reporters: One reporter per column of the ``steps`` table but ``step`` (the DataCollector's index).
        districts: The scenario's district names (for the per-district columns).

    Raises:
        OutcomeError: If the reporters are not exactly the columns of ``steps``.
    """
    steps = [c for c in TABLES["steps"].columns if c != "step"]
    if list(reporters) != steps:
        raise OutcomeError(f"the weekly reporters must be the columns of the steps table, in order: {steps}; "
                           f"got {list(reporters)}")
    return OutcomeCollector(model_reporters=dict(reporters),
                            tables={n: list(t.columns_for(districts)) for n, t in TABLES.items()
                                    if t.recorded_by == "rows"})


def typed_frame(name: str, data: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None
                ) -> pd.DataFrame:
    """Return a frame with the declared columns of table ``name``, in order and with their dtypes.

    Args:
        name: The table.
        data: The rows (a frame, a list of row dicts or a mapping of columns); ``None`` for an empty
            table. Per-district columns present in ``data`` are kept after the declared ones; other
            columns are dropped.

    Raises:
        OutcomeError: If ``data`` lacks a declared column.
    """
    t = table(name)
    cols = columns_of(name)
    if isinstance(data, Mapping) and len(data):  # columns: each made with its dtype at once, no frame to convert
        given = {str(c): v for c, v in data.items()}
        cols.update({c: t.dtype(c) for c in given if c not in cols and t.dtype(c)})
        missing = [c for c in cols if c not in given]
        if missing:
            raise OutcomeError(f"table {name!r}: no column(s) {', '.join(missing)}")
        return pd.DataFrame({c: _typed_column(given[c], dtype) for c, dtype in cols.items()})
    df = pd.DataFrame(data) if data is not None else pd.DataFrame()
    cols.update({str(c): t.dtype(str(c)) for c in df.columns if str(c) not in cols and t.dtype(str(c))})
    if not len(df.columns):
        df = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise OutcomeError(f"table {name!r}: no column(s) {', '.join(missing)}")
    return df[list(cols)].astype(cols)


def _typed_column(values: Any, dtype: str) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """Return a column's values (a list, an array) as an array of ``dtype``, as ``astype(dtype)`` gives them."""
    if dtype in (INT, FLOAT):
        return np.asarray(values, dtype=dtype)
    return pd.array(values, dtype=dtype)


def table_frame(dc: mesa.DataCollector, name: str) -> pd.DataFrame:
    """Return a recorded table of a model's DataCollector as a typed frame (the registry's columns and dtypes).

    ``steps`` comes from the model reporters, with ``step`` (0 = the initial state) first.
    """
    t = table(name)
    if t.recorded_by == "reporters":
        columns = dict(dc.model_vars)
        if not columns:
            return typed_frame(name)
        steps = len(next(iter(columns.values())))
        return typed_frame(name, {"step": np.arange(steps, dtype=np.int64), **columns})
    if t.recorded_by != "rows":
        raise OutcomeError(f"table {name!r} is built by a sweep, not recorded by a model")
    data = dc.tables[name]
    return pd.DataFrame({c: _typed_column(v, t.dtype(c)) for c, v in data.items()})


def table_arrow(dc: mesa.DataCollector, name: str) -> pa.Table:
    """Return a recorded table as an Arrow table: the table of :func:`table_frame`, built without pandas.

    The same schema (the pandas metadata included) and values as ``pyarrow.Table.from_pandas(table_frame(dc,
    name), preserve_index=False)``, so its Parquet file has the same bytes, made directly from the recorded
    columns: each column as :func:`table_frame` types it (``nan`` of a float column and a missing text are
    null, as pyarrow converts them from pandas), under a schema made once per set of columns.
    """
    t = table(name)
    if t.recorded_by == "reporters":
        columns = dict(dc.model_vars)
        if not columns:
            return _frame_arrow(typed_frame(name))
        steps = len(next(iter(columns.values())))
        given = {"step": np.arange(steps, dtype=np.int64), **{str(c): v for c, v in columns.items()}}
        cols = columns_of(name)
        cols.update({c: t.dtype(c) for c in given if c not in cols and t.dtype(c)})
        missing = [c for c in cols if c not in given]
        if missing:
            raise OutcomeError(f"table {name!r}: no column(s) {', '.join(missing)}")
        return _columns_arrow(name, {c: given[c] for c in cols}, cols)
    if t.recorded_by != "rows":
        raise OutcomeError(f"table {name!r} is built by a sweep, not recorded by a model")
    data = dc.tables[name]
    return _columns_arrow(name, data, {c: t.dtype(c) for c in data})


def rows_arrow(name: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Return rows as an Arrow table: ``pyarrow.Table.from_pandas(typed_frame(name, rows), preserve_index=False)``.

    The same schema and values (so the same Parquet bytes), built without pandas. ``rows`` is a non-empty
    list of dicts with every declared column (``summary``: ``run_id`` and the summary metrics, as
    :func:`summarise` gives them); per-district columns in the rows are kept after the declared ones, other
    keys are dropped.

    Raises:
        OutcomeError: If a row lacks a declared column.
    """
    if not rows:
        return _frame_arrow(typed_frame(name, list(rows)))
    t = table(name)
    cols = columns_of(name)
    keys = list(dict.fromkeys(k for row in rows for k in row))
    cols.update({str(c): t.dtype(str(c)) for c in keys if str(c) not in cols and t.dtype(str(c))})
    missing = [c for c in cols if any(c not in row for row in rows)]
    if missing:
        raise OutcomeError(f"table {name!r}: no column(s) {', '.join(missing)}")
    return _columns_arrow(name, {c: [row[c] for row in rows] for c in cols}, cols)


def _frame_arrow(df: pd.DataFrame) -> pa.Table:
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False, nthreads=1)


def _columns_arrow(name: str, data: Mapping[str, Any], dtypes: Mapping[str, str | None]) -> pa.Table:
    """Return typed columns as an Arrow table, as pyarrow converts the frame of :func:`_typed_column` columns."""
    import pyarrow as pa

    if any(dtype not in (INT, FLOAT, STR) for dtype in dtypes.values()):  # not declared: the frame's inference
        return _frame_arrow(pd.DataFrame({c: _typed_column(data[c], dtypes[c]) for c in dtypes}))
    arrays = []
    for c, dtype in dtypes.items():
        values = data[c]
        if dtype == STR:
            try:  # the texts as pandas' str dtype holds them; anything but text (or a missing value) goes through it
                arrays.append(pa.array(values, type=pa.large_string(), from_pandas=True))
                continue
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return _frame_arrow(pd.DataFrame({k: _typed_column(data[k], dtypes[k]) for k in dtypes}))
        arrays.append(pa.array(np.asarray(values, dtype=dtype), from_pandas=True))
    schema = _arrow_schema(name, tuple(dtypes.items()))
    if any(not a.type.equals(f.type) for a, f in zip(arrays, schema, strict=True)):  # pragma: no cover - defensive
        return _frame_arrow(pd.DataFrame({c: _typed_column(data[c], dtypes[c]) for c in dtypes}))
    return pa.Table.from_arrays(arrays, schema=schema)


@functools.lru_cache(maxsize=256)
def _arrow_schema(name: str, columns: tuple[tuple[str, str], ...]) -> pa.Schema:
    """Return the Arrow schema (with its pandas metadata) pyarrow gives a typed frame of these columns."""
    import pyarrow as pa

    empty = pd.DataFrame({c: _typed_column([], dtype) for c, dtype in columns})
    return pa.Schema.from_pandas(empty, preserve_index=False)


def last_rows(dc: mesa.DataCollector, name: str, key: str = "step") -> list[dict[str, Any]]:
    """Return the rows of the latest record of a table (those sharing the last value of ``key``)."""
    data = dc.tables[name]
    keys = data[key]
    if not keys:
        return []
    i = len(keys)
    while i > 0 and keys[i - 1] == keys[-1]:
        i -= 1
    return [{c: v[j] for c, v in data.items()} for j in range(i, len(keys))]


# --------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------

Kind = Literal["rate", "share", "count", "money", "index"]
KINDS: tuple[str, ...] = ("rate", "share", "count", "money", "index")
"""``rate``: a ratio of events (matched / decided), ``share``: a share of residents (both between 0
and 1, shown in percent, differences in points); ``count``: a number of needs, residents, hours...;
``money``: whole yen; ``index``: a score (つながり力, weeks)."""


class RunLike(Protocol):
    """What a summary function reads: a run's tables, its finished model (if at hand) and its manifest."""

    tables_: dict[str, pd.DataFrame]
    model: Any
    manifest: dict[str, Any]


@dataclass(frozen=True)
class Metric:
    """One measure of a run.

    Attributes:
        name: Column name in the ``steps`` or ``summary`` table.
        kind: ``rate``, ``share``, ``count``, ``money`` or ``index`` (decides the format and the unit of a
            difference).
        unit: What is counted or measured (``needs``, ``yen``, ``residents``, ``hours``, ``index`` ...).
        ja: Japanese label.
        en: English label.
        scales: True if the value counts simulated residents or their doings: divide by
            ``municipality.scale`` for the whole municipality.
        summary: How a run is summarised into the ``summary`` table (``None``: a weekly series only).
        dtype: dtype of the summary column.
        compared: Whether :func:`kyojosim.analysis.compare.compare` compares it by default.
        headline: Whether it is a headline effect of a comparison: the effects whose intervals
            ``kyojosim sweep --target-halfwidth`` narrows and whose robustness ``kyojosim robustness``
            analyses by default.
        flow: Whether the weekly value counts the week's events (figures smooth it over a window)
            rather than a state.
        of: ``(vocabulary, member)`` qualifying the label, e.g. ``("category", "chores")``: the label is
            ``ja（家事）`` / ``en (chores)`` (kyojosim.present.labels names the members).
    """

    name: str
    kind: Kind
    unit: str
    ja: str
    en: str
    scales: bool = False
    summary: Callable[[RunLike], float | int] | None = field(default=None, compare=False)
    dtype: str = FLOAT
    compared: bool = False
    headline: bool = False
    flow: bool = False
    of: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise OutcomeError(f"metric {self.name!r}: kind {self.kind!r}; allowed: {', '.join(KINDS)}")

    @property
    def percent(self) -> bool:
        """Whether the metric is shown in percent (a rate or a share), its differences in points."""
        return self.kind in ("rate", "share")

    def whole_town(self, value: Any, scale: Any) -> Any:
        """Return ``value`` for the whole municipality (divided by ``scale`` if the metric scales)."""
        return value / scale if self.scales else value


def _rate(matched: float, lapsed: float) -> float:
    done = matched + lapsed
    return float(matched / done) if done > 0 else float("nan")


def _needs(run: RunLike) -> pd.DataFrame:
    return run.tables_["needs"]


def _category_rate(category: str) -> Callable[[RunLike], float]:
    def summary(run: RunLike) -> float:
        needs = _needs(run)
        mine = (needs["category"] == category).to_numpy(dtype=bool)  # a mask of the rows, no copy of the table
        if not mine.any():
            return float("nan")
        return _rate(needs["matched"].to_numpy()[mine].sum(), needs["lapsed"].to_numpy()[mine].sum())
    return summary


def _age_rate(group: str) -> Callable[[RunLike], float]:
    """Summarise the cumulative rate of an age group: from the model, else from the last ``aid_years`` row."""
    i = REQUESTER_AGE_GROUPS.index(group)

    def summary(run: RunLike) -> float:
        model = getattr(run, "model", None)
        if model is not None:
            g = model.aid.by_group["age_group"]
            return _rate(g["matched"][i], g["lapsed"][i])
        years = run.tables_["aid_years"]
        last = years.iloc[-1] if len(years) else {}
        return float(last.get(f"matching_rate_age_group_{group}", float("nan")))
    return summary


def _total(column: str) -> Callable[[RunLike], int]:
    return lambda run: int(_needs(run)[column].sum())


def _tsunagari(group_type: str, group: str) -> Callable[[RunLike], float]:
    def summary(run: RunLike) -> float:
        ts = run.tables_["tsunagari"]
        if not len(ts):
            return float("nan")
        step = ts["step"].to_numpy()
        rows = np.flatnonzero((step == step.max()) & (ts["group_type"] == group_type).to_numpy(dtype=bool)
                              & (ts["group"] == group).to_numpy(dtype=bool))
        return float(ts["mean"].to_numpy()[rows[0]]) if len(rows) else float("nan")
    return summary


def _money(column: str) -> Callable[[RunLike], int]:
    def summary(run: RunLike) -> int:
        money = run.tables_["money"]
        return int(money[column].sum()) if len(money) else 0
    return summary


def _years(column: str, row: int) -> Callable[[RunLike], float]:
    return lambda run: float(run.tables_["years"][column].iloc[row])


def _qualified(base: Metric, vocabulary: str, members: Sequence[str], **changes: Any) -> list[Metric]:
    """Return a family of metrics, one per member of a vocabulary (``<base.name>_<member>``)."""
    out = []
    for m in members:
        fields_ = {**base.__dict__, "name": f"{base.name}_{m}", "of": (vocabulary, m)}
        fields_.update({k: (v(m) if callable(v) else v) for k, v in changes.items()})
        out.append(Metric(**fields_))
    return out


_MATCHING = Metric("matching_rate", "rate", "%", "マッチング率", "matching rate", dtype=FLOAT, compared=True,
                   headline=True, flow=True,
                   summary=lambda run: _rate(_needs(run)["matched"].sum(), _needs(run)["lapsed"].sum()))
_TSUNAGARI = Metric("tsunagari", "index", "index", "つながり力", "つながり力", compared=True)
_PART = Metric("part", "count", "residents", "住民", "residents", scales=True, dtype=INT)
_MATCHED_VIA = Metric("matched", "count", "needs", "手助けが見つかった困りごと", "needs matched", scales=True,
                      dtype=INT, flow=True)

METRICS: dict[str, Metric] = {m.name: m for m in (
    # the summary of a run (columns of the sweep's summary table, in this order) ...
    _MATCHING,
    *_qualified(Metric("matching_rate", "rate", "%", "マッチング率", "matching rate", compared=True), "category",
                CATEGORIES, summary=_category_rate),
    *_qualified(Metric("matching_rate_age", "rate", "%", "マッチング率", "matching rate", compared=True), "age_group",
                REQUESTER_AGE_GROUPS, summary=_age_rate, headline=lambda g: g == "75plus"),
    Metric("needs_arisen", "count", "needs", "起きた困りごと", "needs arisen", scales=True, dtype=INT, flow=True,
           summary=_total("arisen")),
    Metric("needs_matched", "count", "needs", "手助けが見つかった困りごと", "needs matched", scales=True, dtype=INT,
           flow=True, compared=True, summary=_total("matched")),
    Metric("needs_lapsed", "count", "needs", "手助けが見つからなかった困りごと", "needs lapsed", scales=True,
           dtype=INT, flow=True, summary=_total("lapsed")),
    Metric("tsunagari_mean", "index", "index", "つながり力", "つながり力 (connection power)", compared=True,
           headline=True, summary=_tsunagari("all", "all")),
    *_qualified(_TSUNAGARI, "participation", PARTICIPATION_GROUPS,
                summary=lambda g: _tsunagari("participation", g)),
    Metric("paid_by_requesters", "money", "yen", "住民の支払い", "paid by residents", scales=True, dtype=INT,
           compared=True, summary=_money("paid_by_requesters")),
    Metric("subsidy", "money", "yen", "自治体の補助", "municipal subsidy", scales=True, dtype=INT, compared=True,
           summary=_money("subsidy")),
    Metric("received_by_helpers", "money", "yen", "手助けした住民の受け取り", "received by helpers", scales=True,
           dtype=INT, compared=True, summary=_money("received_by_helpers")),
    Metric("population_start", "count", "residents", "開始時の人口", "population at the start",
           summary=_years("population_scaled", 0)),
    Metric("population_end", "count", "residents", "終了時の人口", "population at the end",
           summary=_years("population_scaled", -1)),
    Metric("share_65plus_end", "share", "%", "終了時の65歳以上の割合", "share aged 65+ at the end",
           summary=_years("share_65plus", -1)),
    Metric("scale", "share", "%", "シミュレーションの縮尺", "simulation scale",
           summary=lambda run: float(run.manifest["scale"])),
    # ... and the weekly series of the steps table
    Metric("population", "count", "residents", "人口", "population", scales=True, dtype=INT),
    Metric("share_65plus", "share", "%", "65歳以上の割合", "share aged 65+"),
    Metric("share_75plus", "share", "%", "75歳以上の割合", "share aged 75+"),
    Metric("households", "count", "households", "世帯数", "households", scales=True, dtype=INT),
    Metric("ties", "count", "ties", "つながりの数", "ties", scales=True, dtype=INT),
    Metric("isolated", "count", "residents", "孤立した住民", "isolated residents", scales=True, dtype=INT),
    *_qualified(_PART, "participation", PARTICIPATION_GROUPS),
    Metric("needs_surfaced", "count", "needs", "人に伝えられた困りごと", "needs surfaced", scales=True, dtype=INT,
           flow=True),
    Metric("needs_open", "count", "needs", "手助けを待っている困りごと", "open needs", scales=True, dtype=INT,
           flow=True),
    Metric("hours_given", "count", "hours", "手助けの時間", "hours of help given", scales=True, flow=True),
    Metric("weeks_to_match", "index", "weeks", "手助けが見つかるまでの週数", "weeks to a match", flow=True),
    Metric("unmet_75plus_share", "share", "%", "手助けを待つ困りごとのある75歳以上の割合",
           "share aged 75+ with an unmet need", flow=True),
    *_qualified(_MATCHED_VIA, "channel", CHANNELS),
)}
"""The metrics, by name: the summary metrics in the order of the summary table, then the weekly series."""


def metric(name: str) -> Metric | None:
    """Return the metric called ``name`` (``None`` if it is not registered)."""
    return METRICS.get(name)


def summary_metrics() -> list[Metric]:
    """Return the metrics with a summary, in the order of the ``summary`` table's columns."""
    return [m for m in METRICS.values() if m.summary is not None]


def compared_metrics() -> list[str]:
    """Names of the metrics :func:`kyojosim.analysis.compare.compare` compares by default."""
    return [m.name for m in METRICS.values() if m.compared and m.summary is not None]


def headline_metrics() -> list[str]:
    """Names of the headline effects of a comparison (:attr:`Metric.headline`), in registry order."""
    return [m.name for m in METRICS.values() if m.headline and m.summary is not None]


def summarise(run: RunLike) -> dict[str, Any]:
    """Return the summary of a run: the value of every metric with a summary, by name.

    Args:
        run: A :class:`~kyojosim.runs.results.RunResult` (with its model while it is at hand: the rates by
            requester age group are then cumulative to the last week, else from the last yearly record).
    """
    return {m.name: m.summary(run) for m in summary_metrics()}


def is_percent(name: str) -> bool:
    """Whether a metric is a rate or a share (shown in percent); False for a name not registered."""
    m = METRICS.get(name)
    return m is not None and m.percent


def is_money(name: str) -> bool:
    """Whether a metric is an amount of money in yen; False for a name not registered."""
    m = METRICS.get(name)
    return m is not None and m.kind == "money"


# --------------------------------------------------------------------------------------
# an age-structure block
# --------------------------------------------------------------------------------------


def age_structure_rows(year: int, counts: np.ndarray, scale: float) -> Iterable[dict[str, Any]]:
    """Rows of the ``age_structure`` table for one year from the (sex x band) counts."""
    n_bands = len(AGE_BAND_LABELS)
    counts = np.asarray(counts, dtype=np.int64).reshape(len(SEXES), n_bands)
    for s, sex in enumerate(SEXES):
        for b, band in enumerate(AGE_BAND_LABELS):
            c = int(counts[s, b])
            yield {"year": int(year), "sex": sex, "age_band": band, "count": c, "count_scaled": c / scale}


__all__ = ["FORMAT_VERSION", "KINDS", "METRICS", "MONTH_ENDS", "TABLES", "Metric", "OutcomeCollector", "OutcomeError",
           "Table", "age_structure_rows", "calendar_month", "columns_of", "compared_metrics", "experiment_tables",
           "headline_metrics", "is_money", "is_percent", "last_rows", "make_datacollector", "metric", "missing_allowed",
           "month_label", "record_month", "rows_arrow", "run_tables", "start_month", "summarise", "summary_metrics",
           "swept_tables", "table", "table_arrow", "table_frame", "typed_frame"]
