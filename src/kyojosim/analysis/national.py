"""All of Japan: what each intervention changes in every municipality, against its size and ageing.

An experiment that names municipalities (``municipalities: all``, a prefecture or a filter; see
docs/experiments.md) runs every variant in every municipality it selects, each built from the census
and IPSS tables. These functions read its results (``kyojosim.load(folder)``):

* :func:`national_table`: one row per municipality, variant and metric: the municipality's code,
  name, prefecture, region, census 2015 population and shares aged 65+ and 75+, and the paired
  comparison of the variant with the baseline in that municipality (:func:`kyojosim.analysis.compare.compare`:
  runs paired by replicate, common random numbers).
* :func:`ranking`: the municipalities where a variant helps most and least (by the mean paired
  difference of a metric, by default the matching rate of residents 75+).
* :func:`by_class`: the effect by class of population and of 65+ share (how many municipalities, the
  mean, median and quartiles of their effects, the share where it is positive).
* :func:`gradient`: a least-squares line of the effect on log10 population and the 65+ share
  together, with 95% intervals of the slopes: how the effect changes with size and with ageing.

The population and the shares are the census 2015's (table 00100; shares of the residents whose age is
known, :func:`kyojosim.params.japan.age_shares`), the state the scenarios start from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..params import japan
from .compare import AnalysisError, compare

DEFAULT_METRIC = "matching_rate_age_75plus"
"""The metric the ranking and the classes use by default: the matching rate of residents aged 75+."""

MUNICIPALITY_COLUMNS: tuple[str, ...] = (
    "code", "name", "name_en", "prefecture", "region", "region_en", "population", "share_65plus", "share_75plus",
    "projected", "scale",
)
"""Columns describing the municipality in :func:`national_table` (after ``scenario``)."""

NATIONAL_COLUMNS: tuple[str, ...] = (
    "scenario", *MUNICIPALITY_COLUMNS, "variant", "metric", "baseline_mean", "variant_mean", "diff", "lo", "hi",
    "n_pairs", "method",
)
"""Columns of :func:`national_table`."""

POPULATION_CLASSES: tuple[tuple[float, float, str], ...] = (
    (0, 5_000, "< 5,000"), (5_000, 10_000, "5,000-10,000"), (10_000, 50_000, "10,000-50,000"),
    (50_000, 100_000, "50,000-100,000"), (100_000, 500_000, "100,000-500,000"), (500_000, np.inf, ">= 500,000"),
)
"""Classes of census 2015 population of :func:`by_class` (lower bound included, upper excluded)."""

AGEING_CLASSES: tuple[tuple[float, float, str], ...] = (
    (0.0, 0.25, "< 25%"), (0.25, 0.30, "25-30%"), (0.30, 0.35, "30-35%"), (0.35, 0.40, "35-40%"),
    (0.40, 0.45, "40-45%"), (0.45, 1.01, ">= 45%"),
)
"""Classes of census 2015 share aged 65+ of :func:`by_class` (lower bound included, upper excluded)."""


def municipal_scenarios(results: Any) -> dict[str, str]:
    """Return the scenarios of an experiment's results that ``municipalities:`` named, with their codes.

    Args:
        results: An ``ExperimentResults`` (or an object with its ``manifest``).

    Returns:
        ``{scenario name: municipal code}``, in code order; empty for an experiment without ``municipalities:``.
    """
    experiment = (getattr(results, "manifest", None) or {}).get("experiment") or {}
    return dict((experiment.get("municipalities") or {}).get("scenarios") or {})


def municipality_table(scenarios: Mapping[str, str]) -> pd.DataFrame:
    """Return what the census tables say of the municipalities of some scenarios.

    Args:
        scenarios: ``{scenario name: municipal code}`` (:func:`municipal_scenarios`).

    Returns:
        One row per scenario: ``scenario``, ``code``, ``name``, ``name_en``, ``prefecture``, ``region`` and
        ``region_en`` (八地方区分), ``population`` (census 2015), ``share_65plus`` and ``share_75plus``
        (census 2015, age unknown left out) and ``projected`` (whether the IPSS 2018 projection gives it,
        so its migration was fitted to it; false for 福島県's).
    """
    m = japan.municipalities().merge(japan.age_shares(2015), on="code", how="left").set_index("code")
    rows = []
    for scenario, code in scenarios.items():
        r = m.loc[code]
        rows.append({"scenario": scenario, "code": code, "name": r["name"], "name_en": r["name_en"],
                     "prefecture": r["prefecture"], "region": japan.region(code, "ja"),
                     "region_en": japan.region(code, "en"), "population": int(r["population"]),
                     "share_65plus": float(r["share_65plus"]), "share_75plus": float(r["share_75plus"]),
                     "projected": bool(r["ipss"])})
    cols = ["scenario", *MUNICIPALITY_COLUMNS[:-1]]
    return pd.DataFrame(rows, columns=cols)


def national_table(results: Any, metrics: Sequence[str] | None = None,
                   comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the effect of every variant in every municipality of an experiment that names municipalities.

    Args:
        results: An ``ExperimentResults`` of an experiment with ``municipalities:``.
        metrics: The metrics (default: those :func:`~kyojosim.analysis.compare.compare` compares).
        comparison: A comparison of these results already made (``compare(results)``, per design point);
            made here if not given.

    Returns:
        One row per municipality, variant (the baseline left out: its level is ``baseline_mean``) and
        metric, in code order: :data:`NATIONAL_COLUMNS` (``scale`` is the fraction of the municipality's
        residents simulated), and one column per design parameter after ``metric`` if the experiment
        has a design (``point`` and the parameters: a row per design point then).

    Raises:
        AnalysisError: If the experiment names no municipalities.
    """
    places = municipal_scenarios(results)
    if not places:
        raise AnalysisError("the experiment names no municipalities (municipalities: in its file); the national "
                            "table needs one that does")
    if comparison is None:
        comparison = compare(results, metrics=metrics)
    elif metrics is not None:
        comparison = comparison[comparison["metric"].isin(list(metrics))]
    info = municipality_table(places)
    summary = results.summary.merge(results.design[["run_id", "scenario"]], on="run_id", how="inner")
    scale = summary.groupby("scenario")["scale"].mean() if "scale" in summary.columns else pd.Series(dtype=float)
    info["scale"] = info["scenario"].map(scale).astype(float)
    params = [c for c in comparison.columns if c not in ("scenario", "point", "variant", "metric", "baseline_mean",
                                                           "variant_mean", "diff", "lo", "hi", "n_pairs", "method",
                                                           "level", "n_points")]
    keep = ["scenario", "variant", "metric", *(["point", *params] if params else []), "baseline_mean",
            "variant_mean", "diff", "lo", "hi", "n_pairs", "method"]
    out = info.merge(comparison[comparison["scenario"].isin(list(places))][keep], on="scenario", how="inner")
    order = {v: i for i, v in enumerate(dict.fromkeys(comparison["variant"]))}
    metric_order = {m: i for i, m in enumerate(dict.fromkeys(comparison["metric"]))}
    out = out.assign(_v=out["variant"].map(order), _m=out["metric"].map(metric_order))
    points = ["point", *params] if params else []
    out = out.sort_values(["code", "_v", *points, "_m"], kind="stable").drop(columns=["_v", "_m"])
    cols = [*NATIONAL_COLUMNS[:NATIONAL_COLUMNS.index("metric") + 1], *points,
            *NATIONAL_COLUMNS[NATIONAL_COLUMNS.index("metric") + 1:]]
    return out[cols].reset_index(drop=True)


def _one_metric(national: pd.DataFrame, metric: str) -> pd.DataFrame:
    if metric not in set(national["metric"]):
        allowed = ", ".join(dict.fromkeys(national["metric"]))
        raise AnalysisError(f"metric: got {metric!r}; allowed: one of the table's metrics ({allowed})")
    return national[(national["metric"] == metric) & national["diff"].notna()]


def ranking(national: pd.DataFrame, metric: str = DEFAULT_METRIC, top: int = 10) -> pd.DataFrame:
    """Return, for each variant, the municipalities where it changes a metric most and least.

    Args:
        national: The frame of :func:`national_table`.
        metric: The metric (default: the matching rate of residents 75+).
        top: How many municipalities at each end.

    Returns:
        For each variant, ``top`` rows ``end = "top"`` (the largest mean paired differences, rank 1 the
        largest) then ``top`` rows ``end = "bottom"`` (rank 1 the smallest): ``variant``, ``end``, ``rank``,
        ``code``, ``name``, ``prefecture``, ``population``, ``share_65plus``, ``baseline_mean``,
        ``variant_mean``, ``diff``, ``lo``, ``hi``, ``n_pairs``.
    """
    if int(top) < 1:
        raise AnalysisError(f"top: got {top!r}; allowed: 1 or more municipalities")
    df = _one_metric(national, metric)
    cols = ["code", "name", "prefecture", "population", "share_65plus", "baseline_mean", "variant_mean", "diff",
            "lo", "hi", "n_pairs"]
    parts = []
    for variant in dict.fromkeys(df["variant"]):
        mine = df[df["variant"] == variant].sort_values(["diff", "code"], ascending=[False, True], kind="stable")
        for end, rows in (("top", mine.head(top)), ("bottom", mine.iloc[::-1].head(top))):
            part = rows[cols].copy()
            part.insert(0, "rank", np.arange(1, len(part) + 1))
            part.insert(0, "end", end)
            part.insert(0, "variant", variant)
            parts.append(part)
    columns = ["variant", "end", "rank", *cols]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _classes(values: pd.Series, classes: tuple[tuple[float, float, str], ...]) -> pd.Series:
    out = pd.Series(pd.NA, index=values.index, dtype="object")
    for lo, hi, label in classes:
        out[(values >= lo) & (values < hi)] = label
    return out


def by_class(national: pd.DataFrame, metric: str = DEFAULT_METRIC) -> pd.DataFrame:
    """Return the effect of each variant by class of population and of 65+ share.

    Args:
        national: The frame of :func:`national_table`.
        metric: The metric (default: the matching rate of residents 75+).

    Returns:
        One row per variant, dimension (``population``: :data:`POPULATION_CLASSES`; ``share_65plus``:
        :data:`AGEING_CLASSES`) and class, in class order: ``municipalities``, ``residents`` (their census
        population), ``mean``, ``median``, ``q25``, ``q75`` of the municipalities' mean paired differences
        and ``share_positive`` (share of municipalities where it is above 0).
    """
    df = _one_metric(national, metric)
    rows = []
    for variant in dict.fromkeys(df["variant"]):
        mine = df[df["variant"] == variant]
        for dim, classes in (("population", POPULATION_CLASSES), ("share_65plus", AGEING_CLASSES)):
            labels = _classes(mine[dim].astype(float), classes)
            for _lo, _hi, label in classes:
                d = mine.loc[labels == label, "diff"].to_numpy(dtype=float)
                pop = int(mine.loc[labels == label, "population"].sum())
                q = np.quantile(d, [0.25, 0.5, 0.75]) if d.size else [np.nan] * 3
                rows.append({"variant": variant, "dimension": dim, "class": label, "municipalities": int(d.size),
                             "residents": pop, "mean": float(d.mean()) if d.size else np.nan, "median": float(q[1]),
                             "q25": float(q[0]), "q75": float(q[2]),
                             "share_positive": float((d > 0).mean()) if d.size else np.nan})
    return pd.DataFrame(rows, columns=["variant", "dimension", "class", "municipalities", "residents", "mean",
                                       "median", "q25", "q75", "share_positive"])


def gradient(national: pd.DataFrame, metric: str = DEFAULT_METRIC, level: float = 0.95) -> pd.DataFrame:
    """Return how each variant's effect changes with size and with ageing: one least-squares line over municipalities.

    ``diff = a + b · log10(population) + c · share_65plus`` fitted over the municipalities (each one
    observation, unweighted), with the ordinary least-squares standard errors; ``c`` is given per
    10 points of 65+ share. The two are fitted together because small municipalities are the older
    ones: each slope is the change at the same value of the other.

    Args:
        national: The frame of :func:`national_table`.
        metric: The metric (default: the matching rate of residents 75+).
        level: Coverage of the slopes' intervals (Student's t with n - 3 degrees of freedom).

    Returns:
        One row per variant: ``municipalities``, ``intercept``, ``per_tenfold_population`` with ``_lo`` and
        ``_hi``, ``per_10_points_65plus`` with ``_lo`` and ``_hi``, ``r2``. In the metric's unit (a rate
        as a fraction: multiply by 100 for points); ``nan`` with fewer than 4 municipalities.
    """
    df = _one_metric(national, metric)
    rows = []
    for variant in dict.fromkeys(df["variant"]):
        mine = df[(df["variant"] == variant) & (df["population"] > 0)]
        y = mine["diff"].to_numpy(dtype=float)
        x = np.column_stack([np.ones(len(mine)), np.log10(mine["population"].to_numpy(dtype=float)),
                             10.0 * mine["share_65plus"].to_numpy(dtype=float)])
        row: dict[str, Any] = {"variant": variant, "municipalities": len(mine)}
        names = ("intercept", "per_tenfold_population", "per_10_points_65plus")
        if len(mine) >= 4 and np.linalg.matrix_rank(x) == 3:
            beta, *_ = np.linalg.lstsq(x, y, rcond=None)
            resid = y - x @ beta
            dof = len(y) - 3
            sigma2 = float(resid @ resid) / dof
            se = np.sqrt(np.diag(sigma2 * np.linalg.inv(x.T @ x)))
            t = stats.t.ppf(0.5 + level / 2.0, dof)
            total = float(((y - y.mean()) ** 2).sum())
            row.update({n: float(b) for n, b in zip(names, beta, strict=True)})
            for j, n in enumerate(names[1:], start=1):
                row[f"{n}_lo"], row[f"{n}_hi"] = float(beta[j] - t * se[j]), float(beta[j] + t * se[j])
            row["r2"] = 1.0 - float(resid @ resid) / total if total > 0 else np.nan
        else:
            row.update({n: np.nan for n in names})
            for n in names[1:]:
                row[f"{n}_lo"] = row[f"{n}_hi"] = np.nan
            row["r2"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["variant", "municipalities", "intercept", "per_tenfold_population",
                                       "per_tenfold_population_lo", "per_tenfold_population_hi",
                                       "per_10_points_65plus", "per_10_points_65plus_lo", "per_10_points_65plus_hi",
                                       "r2"])


__all__ = ["AGEING_CLASSES", "DEFAULT_METRIC", "MUNICIPALITY_COLUMNS", "NATIONAL_COLUMNS", "POPULATION_CLASSES",
           "by_class", "gradient", "municipal_scenarios", "municipality_table", "national_table",
           "ranking"]
