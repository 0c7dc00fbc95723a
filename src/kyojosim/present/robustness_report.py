"""What the report says about the robustness of a comparison, and about the effect at each design point.

A robustness analysis (``kyojosim robustness EXPERIMENT``, :mod:`kyojosim.analysis.robustness`) writes
``findings.json`` and its tables into its folder (by default ``results/<experiment>-robustness``, beside the
comparison's own ``results/<experiment>``). :func:`load_robustness` reads that folder;
:func:`robustness_context` turns it into the report's words in Japanese or English, every word from the
glossary:

- a **headline per intervention**: for the matching rate overall and of residents 75+, whether it helps by
  more than the threshold under every combination of assumptions tried, in most, or in few, with the
  range over the samples; and, from the failure regions (PRIM), the conditions it needs
  ("raises the matching rate of residents 75+ by more than 2 points only if ...");
- the **assumption bands**: per option and metric, the median effect over the samples, the range of 90%
  of them (5-95%), the range of all of them, the share above the threshold and the assumptions the
  effect depends on most;
- the **failure regions** as sentences, and the figure of the effect over the samples.

:func:`design_context` states the effect of each option at each point of an experiment's design (one table
per scenario, a row per point, and the figure of the effect against each varied parameter with its
interval), so that an effect that depends on a setting is never shown only as its average.
"""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import KyojoError
from . import fmt
from .labels import check_lang, metric_label, parameter_label, text

FINDINGS = "findings.json"
"""The file of a robustness folder the report reads (:meth:`RobustnessResult.findings`)."""
SUFFIX = "-robustness"
"""A robustness folder's default name is the comparison's folder name plus this."""
HEADLINE_RATES = ("matching_rate", "matching_rate_age_75plus")
"""The metrics of the headline sentences (rates, in points); the bands table shows every metric analysed."""
SUGGESTED_SAMPLES = 8
"""The sample count the report suggests when no robustness analysis was run (a small pass)."""


def png_data_uri(fig: Any) -> str:
    """Return a matplotlib figure as a PNG ``data:`` URI (the report embeds its figures)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class RobustnessReportError(KyojoError):
    """A robustness folder cannot be read or does not belong to the results reported."""


def default_folder(results_folder: str | os.PathLike[str]) -> Path:
    """Return the robustness folder that belongs to a results folder: ``results/x`` -> ``results/x-robustness``."""
    path = Path(results_folder)
    return path.with_name(path.name + SUFFIX)


def load_robustness(folder: str | os.PathLike[str], experiment: str | None = None) -> dict[str, Any]:
    """Read a robustness folder: its findings and, when present, the effects and spread for the figure.

    Args:
        folder: A folder written by ``kyojosim robustness``.
        experiment: The name of the experiment reported; when given, the folder must hold its robustness
            analysis (``<experiment>-robustness``).

    Returns:
        ``{"findings": <findings.json>, "effects": DataFrame | None, "spread": DataFrame | None,
        "folder": Path}``.

    Raises:
        RobustnessReportError: If the folder has no readable ``findings.json``, or holds the analysis of
            another experiment.
    """
    path = Path(folder)
    source = path / FINDINGS
    if not source.is_file():
        raise RobustnessReportError(f"{path}: no {FINDINGS} (a folder written by kyojosim robustness)")
    try:
        findings = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RobustnessReportError(f"{source}: cannot be read as the findings of a robustness analysis "
                                    f"({exc})") from exc
    if not isinstance(findings, Mapping) or not isinstance(findings.get("findings"), list):
        raise RobustnessReportError(f"{source}: not the findings of a robustness analysis (no list 'findings')")
    name = str(findings.get("experiment") or "")
    if experiment and name != f"{experiment}{SUFFIX}":
        raise RobustnessReportError(f"{path}: holds the robustness analysis of {name.removesuffix(SUFFIX)!r}, not of "
                                    f"the experiment reported ({experiment!r}); run kyojosim robustness {experiment}")
    tables: dict[str, pd.DataFrame | None] = {}
    for table in ("effects", "spread"):
        try:
            tables[table] = pd.read_parquet(path / f"{table}.parquet")
        except (OSError, ValueError, ImportError):
            tables[table] = None
    findings = dict(findings)
    effects = tables["effects"]
    if effects is not None and {"scenario", "variant", "metric", "effect"} <= set(effects.columns):
        # the range over all samples, for findings written before they recorded it
        bounds = effects.groupby(["scenario", "variant", "metric"])["effect"].agg(["min", "max"])
        records = []
        for r in findings["findings"]:
            key = (r.get("scenario"), r.get("variant"), r.get("metric"))
            if isinstance(r, Mapping) and ("min" not in r or "max" not in r) and key in bounds.index:
                r = {**r, "min": float(bounds.loc[key, "min"]), "max": float(bounds.loc[key, "max"])}
            records.append(r)
        findings["findings"] = records
    return {"findings": findings, "folder": path, **tables}


# --------------------------------------------------------------------------------------
# the words
# --------------------------------------------------------------------------------------


def _points(x: Any, record: Mapping[str, Any]) -> str:
    """Show an effect in the unit read: points for a rate (signed), index points otherwise."""
    return fmt.signed(x, 1, float(record.get("display_factor") or 1.0))


def _plain_points(x: Any, record: Mapping[str, Any]) -> str:
    """Show a threshold in the unit read, unsigned (``2``, ``0.5``)."""
    if fmt.undefined(x):
        return fmt.NONE
    v = float(x) * float(record.get("display_factor") or 1.0)
    return f"{v:g}"


def _metric_words(metric: str, lang: str) -> str:
    return text(f"report.rob_metric_{metric}", lang) if metric in HEADLINE_RATES else metric_label(metric, lang)


def condition_text(condition: Mapping[str, Any], lang: str, negate: bool = False) -> str:
    """Say one bound of a failure region: ``75歳以上の人が手助けに割ける時間（週）が2.5時間未満``.

    Args:
        condition: A row of the region's conditions (``parameter``, ``lo``, ``hi``, ``restricted``).
        lang: ``"ja"`` or ``"en"``.
        negate: Say the opposite (what holds outside the box): below ``hi`` becomes at least ``hi``.
    """
    key = str(condition["parameter"])
    name = parameter_label(key, lang)
    lo = fmt.parameter_value(key, condition.get("lo"), lang)
    hi = fmt.parameter_value(key, condition.get("hi"), lang)
    kind = str(condition.get("restricted") or "both")
    which = {"upper": "below", "lower": "above"}.get(kind, "between")
    return text(f"report.rob_cond_{'not_' if negate else ''}{which}", lang, name=name, lo=lo, hi=hi)


def region_text(region: Mapping[str, Any], lang: str, negate: bool = False) -> str:
    """Say a failure region (its bounds joined by "and"), or its complement (the negated bounds joined by "or")."""
    parts = [condition_text(c, lang, negate) for c in region.get("conditions") or []]
    return text("common.or" if negate else "common.and", lang).join(parts)


def headline_sentences(record: Mapping[str, Any], label: str, n: int, lang: str) -> list[str]:
    """Say for one option and one rate how far the effect holds over the assumptions, and what it needs.

    Args:
        record: A record of ``findings.json`` (one scenario, variant and metric).
        label: The option's display name (quoted as the report quotes it).
        n: Samples (combinations of assumptions) analysed.
        lang: ``"ja"`` or ``"en"``.
    """
    metric = str(record["metric"])
    values = {"label": label, "metric": _metric_words(metric, lang), "n": n,
              "threshold": _plain_points(record.get("threshold"), record),
              "median": _points(record.get("median"), record),
              "p05": _points(record.get("p05"), record), "p95": _points(record.get("p95"), record),
              "min": _points(record.get("min"), record), "max": _points(record.get("max"), record),
              "share": fmt.pct(record.get("share_above"), 0)}
    holds = str(record.get("holds") or "")
    top = record.get("max")
    if holds == "everywhere":
        key = "report.rob_holds_all"
    elif holds == "nowhere":
        key = "report.rob_down_all" if not fmt.undefined(top) and float(top) < 0 else "report.rob_holds_none"
    elif holds == "rarely":
        key = "report.rob_holds_rarely"
    else:  # mostly, often
        key = "report.rob_holds_share"
    sentences = [text(key, lang, **values)]
    if holds not in ("everywhere", "nowhere"):
        for region in record.get("failure_regions") or []:
            if not region.get("conditions"):
                continue
            sentences.append(text("report.rob_only_if", lang, label=label, metric=values["metric"],
                                  threshold=values["threshold"], unless=region_text(region, lang, negate=True),
                                  region=region_text(region, lang), k=int(region.get("k") or 0),
                                  inside=int(region.get("n") or 0), coverage=fmt.pct(region.get("coverage"), 0)))
    return sentences


def region_sentences(record: Mapping[str, Any], label: str, lang: str) -> list[str]:
    """Say the failure regions of one option and metric (every metric, for the list of regions)."""
    out = []
    metric = str(record["metric"])
    for region in record.get("failure_regions") or []:
        if not region.get("conditions"):
            continue
        limit = _plain_points(record.get("threshold"), record)
        if float(record.get("display_factor") or 1.0) == 100.0:  # a rate: its threshold in points
            limit = text("report.rob_points", lang, n=limit)
        out.append(text("report.rob_region", lang, label=label, metric=_metric_words(metric, lang),
                        threshold=limit, region=region_text(region, lang),
                        k=int(region.get("k") or 0), inside=int(region.get("n") or 0),
                        coverage=fmt.pct(region.get("coverage"), 0)))
    return out


def robustness_context(data: Mapping[str, Any], labels: Mapping[str, str], places: Mapping[str, str], lang: str,
                       quote: Any = None) -> dict[str, Any]:
    """Turn a loaded robustness folder (:func:`load_robustness`) into the report's section.

    Args:
        data: The loaded folder.
        labels: Display name of each variant.
        places: Display name of each scenario's municipality.
        lang: ``"ja"`` or ``"en"``.
        quote: A function quoting a display name in running text (default: as it is).

    Returns:
        ``headlines`` (per option: ``label`` and ``sentences``), ``bands`` (``columns`` and ``rows`` of
        cells), ``regions`` (sentences), ``note``, ``n`` (samples), ``k`` (assumptions) and ``figure``
        (a PNG data URI of the effect over the samples, or ``None``).
    """
    check_lang(lang)
    findings = data["findings"]
    quote = quote or (lambda s: s)
    records = [r for r in findings["findings"] if isinstance(r, Mapping)]
    n = int(findings.get("n_samples") or max([int(r.get("n_samples") or 0) for r in records] or [0]))
    k = len(findings.get("parameters") or [])
    scenarios = list(dict.fromkeys(str(r["scenario"]) for r in records))
    multi = len(scenarios) > 1

    def shown(r: Mapping[str, Any]) -> str:
        name = labels.get(str(r["variant"]), str(r["variant"]))
        return text("report.rob_place_option", lang, place=places.get(str(r["scenario"]), r["scenario"]),
                    label=name) if multi else name

    headlines: list[dict[str, Any]] = []
    for key in dict.fromkeys((str(r["scenario"]), str(r["variant"])) for r in records):
        mine = [r for r in records if (str(r["scenario"]), str(r["variant"])) == key]
        sentences: list[str] = []
        for metric in HEADLINE_RATES:
            for r in mine:
                if r["metric"] == metric:
                    sentences += headline_sentences(r, quote(shown(r)), n, lang)
        if sentences:
            headlines.append({"label": shown(mine[0]), "sentences": sentences})
    columns = [text("report.rob_col_metric", lang), text("report.rob_col_median", lang),
               text("report.rob_col_p90", lang), text("report.rob_col_all", lang),
               text("report.rob_col_share", lang), text("report.rob_col_depends", lang)]
    rows, regions = [], []
    for r in records:
        metric = str(r["metric"])
        thr = _plain_points(r.get("threshold"), r)
        ranked = [d for d in (r.get("top_assumptions") or []) if not fmt.undefined(d.get("index"))]
        depends = [parameter_label(str(d["parameter"]), lang) for d in ranked[:2]]  # none when too few samples
        values = [metric_label(metric, lang), _points(r.get("median"), r),
                  fmt.interval(r.get("p05"), r.get("p95"), lang, 1, float(r.get("display_factor") or 1.0)),
                  fmt.interval(r.get("min"), r.get("max"), lang, 1, float(r.get("display_factor") or 1.0)),
                  text("report.rob_share_value", lang, share=fmt.pct(r.get("share_above"), 0), threshold=thr),
                  text("common.list_sep", lang).join(depends) if depends else fmt.NONE]
        cells = [{"name": c, "value": v} for c, v in zip(columns, values, strict=True)]
        rows.append({"label": shown(r), "cells": cells})
        regions += region_sentences(r, quote(shown(r)), lang)
    notes = {str(r.get("prim_note")) for r in records if r.get("prim_note")}
    figure = None
    if data.get("effects") is not None and data.get("spread") is not None and len(data["spread"]):
        figure = _spread_figure(data["effects"], data["spread"], labels, lang)
    return {"headlines": headlines, "columns": columns, "rows": rows, "regions": regions, "n": n, "k": k,
            "note": text("report.robustness_note", lang, n=n, k=k), "prim_note": " ".join(sorted(notes)),
            "figure": figure}


def _spread_figure(effects: pd.DataFrame, spread: pd.DataFrame, labels: Mapping[str, str], lang: str) -> str:
    from .robustness_figures import effect_spread

    rename = {"variant": lambda d: d["variant"].map(lambda v: labels.get(str(v), str(v)))}
    fig = effect_spread(effects.assign(**rename), spread.assign(**rename), lang=lang)
    return png_data_uri(fig)


def missing_text(experiment: str, lang: str) -> str:
    """Return the caveat of a report without a robustness analysis: unchecked, and the command that checks it."""
    command = f"kyojosim robustness {experiment or 'EXPERIMENT'} --samples {SUGGESTED_SAMPLES}"
    return text("report.caveat_unchecked", lang, command=command)


# --------------------------------------------------------------------------------------
# per design point
# --------------------------------------------------------------------------------------


def design_context(comparison: pd.DataFrame, parameters: Sequence[str], labels: Mapping[str, str],
                   places: Mapping[str, str], baseline: str, lang: str) -> dict[str, Any] | None:
    """Show the effect of each option at each design point: a table per scenario, the figure per parameter.

    Args:
        comparison: A per-point frame of :func:`kyojosim.analysis.compare.compare` (``pool=False``).
        parameters: The design's parameters (dotted keys; columns of ``comparison``).
        labels: Display name of each variant.
        places: Display name of each scenario's municipality.
        baseline: The baseline variant (left out: its effect is 0 by definition).
        lang: ``"ja"`` or ``"en"``.

    Returns:
        ``None`` when the comparison has a single point; else ``parameters`` (display names),
        ``columns``, ``places`` (``name`` and ``rows`` of cells) and ``figure`` (PNG data URI).
    """
    params = [p for p in parameters if p in comparison.columns]
    if not params or "point" not in comparison.columns or comparison["point"].nunique() < 2:
        return None
    cmp = comparison[comparison["variant"] != baseline]
    variants = list(dict.fromkeys(cmp["variant"]))
    rate = cmp[cmp["metric"] == "matching_rate"]
    columns = [parameter_label(p, lang) for p in params] + [labels.get(v, v) for v in variants]
    blocks = []
    for scenario in dict.fromkeys(rate["scenario"]):
        here = rate[rate["scenario"] == scenario].sort_values([*params, "point"])
        rows = []
        for point in dict.fromkeys(here["point"]):
            mine = here[here["point"] == point]
            first = mine.iloc[0]
            cells = [fmt.parameter_value(p, first[p], lang) for p in params]
            for v in variants:
                r = mine[mine["variant"] == v]
                cells.append(fmt.NONE if r.empty else _change(r.iloc[0], lang))
            rows.append([{"name": c, "value": v} for c, v in zip(columns, cells, strict=True)])
        blocks.append({"name": places.get(str(scenario), str(scenario)), "rows": rows})
    return {"parameters": [parameter_label(p, lang) for p in params], "columns": columns, "places": blocks,
            "figure": _by_parameter_figure(cmp, params, labels, lang)}


def _change(row: Mapping[str, Any], lang: str) -> str:
    d, lo, hi = row["diff"], row["lo"], row["hi"]
    if fmt.undefined(d):
        return fmt.NONE
    value = text("report.points_interval", lang, diff=fmt.signed(d, 1, 100.0),
                 interval=fmt.interval(lo, hi, lang, 1, 100.0))
    return value.replace("［—］", "").replace(" [—]", "")


def _by_parameter_figure(comparison: pd.DataFrame, params: Sequence[str], labels: Mapping[str, str],
                         lang: str) -> str:
    from .robustness_figures import effect_by_parameter

    metrics = [m for m in HEADLINE_RATES if m in set(comparison["metric"])]
    shown = comparison.assign(variant=comparison["variant"].map(lambda v: labels.get(str(v), str(v))))
    fig = effect_by_parameter(shown, metrics=metrics or None, lang=lang,
                              parameter_labels={p: parameter_label(p, lang) for p in params})
    return png_data_uri(fig)


__all__ = ["FINDINGS", "SUFFIX", "RobustnessReportError", "condition_text", "default_folder", "design_context",
           "headline_sentences", "load_robustness", "missing_text", "png_data_uri", "region_sentences", "region_text",
           "robustness_context"]
