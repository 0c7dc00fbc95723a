"""A self-contained HTML report of an experiment, in Japanese or English, as a municipal document.

:func:`write_report` writes ONE HTML file (inline CSS, the figures embedded as base64 PNG, a Japanese
font subset embedded, no external request), rendered from the jinja2 templates in
``kyojosim/present/templates`` with every word from the glossary (:mod:`kyojosim.present.labels`):

- a title from the municipality and the question (which interventions, and how much more help);
- first, what the numbers rest on (not a forecast; the same town and random numbers; the intervals,
  which cover the randomness of the runs only; the scale; the assumptions that matter most; whether
  their effect was checked by a robustness analysis, or the command that checks it; the settings a
  design varies);
- when a robustness analysis is given (``robustness``, :mod:`kyojosim.present.robustness_report`), a
  headline per option of what holds under the assumptions tried and what it needs (failure regions);
- a summary sentence per option: the change in the matching rate with its interval, for residents
  75+, the money, and what the result depends on;
- the headline table (matching rate overall and 75+, つながり力: level and change with its interval),
  then, with a robustness analysis, the assumption bands and the failure regions; for an experiment
  with a design, the change at each design point (a table and the figure against each parameter);
  and the money split into what residents pay and what the municipality pays (its subsidy), a year and
  per additional matched trouble, scaled to the whole municipality (:attr:`Metric.scales`);
- the figures, the options compared, the municipality, the assumptions, a short model description
  with a link to the full one of this version (absolute, :func:`model_url`), and the record of the runs.

Every name shown is a display name: variants by their label (:func:`kyojosim.present.labels.variant_labels`),
scenarios by their municipality. Undefined numbers (``nan``) show as "—".

:func:`resolve_results` turns the ``RESULTS_OR_EXPERIMENT`` argument of ``kyojosim compare`` and
``kyojosim report`` into a results folder: a folder is taken as it is; an experiment file or name
maps to its default results folder ``results/<name>``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import write_text
from ..errors import KyojoError
from ..measures.outcomes import METRICS
from . import fmt
from .labels import (
    check_lang,
    join,
    municipality_kind,
    municipality_names,
    switched_on,
    term,
    terms,
    text,
    texts,
    variant_labels,
    variant_specs,
    variant_switches,
)
from .robustness_report import design_context, load_robustness, missing_text, png_data_uri, robustness_context

TEMPLATE = "report.html.j2"
"""The report's template (package data in ``kyojosim/present/templates``)."""


class ReportError(KyojoError):
    """Results cannot be found or reported."""


# --------------------------------------------------------------------------------------
# finding and loading results
# --------------------------------------------------------------------------------------


def resolve_results(target: str | os.PathLike[str]) -> Path:
    """Return the results folder that ``target`` names.

    Args:
        target: A results folder, or an experiment file (``experiments/x.yaml``) or name (``x``),
            whose default results folder is ``results/<experiment name>``.

    Returns:
        The folder (it exists).

    Raises:
        ReportError: If there is no such folder, or the experiment's results folder does not exist.
    """
    text = os.fspath(target)
    path = Path(text)
    if path.is_dir():
        return path
    looks_like_file = path.suffix in (".yaml", ".yml")
    bare_name = not looks_like_file and "/" not in text and os.sep not in text
    if not (looks_like_file or bare_name):
        raise ReportError(f"{text}: no such results folder (a folder written by kyojosim.sweep, or an experiment "
                          "file or name)")
    if looks_like_file and not path.is_file():
        raise ReportError(f"{text}: no such experiment file")
    try:
        from ..params.experiment import load_experiment
    except ImportError as exc:
        raise ReportError(f"{text}: not a results folder, and experiment files cannot be read in this "
                          f"installation (kyojosim.params.experiment is missing: {exc}); "
                          "give a results folder") from exc
    source: str = text
    if bare_name and not path.is_file():
        candidate = Path("experiments") / f"{text}.yaml"
        if candidate.is_file():
            source = str(candidate)
    experiment = load_experiment(source)
    name = getattr(experiment, "name", None) or Path(source).stem
    folder = Path("results") / str(name)
    if not folder.is_dir():
        raise ReportError(f"{text}: experiment {name!r} has no results folder {folder}; run "
                          f"kyojosim.sweep({text!r}) first")
    return folder


def load_results(target: str | os.PathLike[str]) -> tuple[Path, Any]:
    """Resolve ``target`` (:func:`resolve_results`) and load the results in it with ``kyojosim.load``.

    Returns:
        The folder and its ``ExperimentResults``.

    Raises:
        ReportError: If the folder cannot be found or the results store is not available.
    """
    folder = resolve_results(target)
    try:
        from ..runs.store import load
    except ImportError as exc:
        raise ReportError(f"{folder}: cannot read results: kyojosim.runs.store is missing in this installation "
                          f"({exc})") from exc
    return folder, load(folder)


# --------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------


HEADLINE_METRICS: tuple[str, ...] = ("matching_rate", "matching_rate_age_75plus", "tsunagari_mean", "needs_matched",
                                     "paid_by_requesters", "subsidy")
"""The metrics of the headline table (and of the table ``kyojosim compare`` prints)."""


def scale_factors(results: Any) -> pd.Series:
    """Factor from simulated residents to the whole municipality, per run: ``1 / scale`` (1 when unknown).

    The run's ``municipality.scale`` is the ``scale`` column of the summary. A folder written before
    the summary had it (results format 1) gives it through its ``years`` table, whose
    ``population_scaled`` is ``population / scale``.
    """
    runs = pd.Index(results.design["run_id"], name="run_id")
    summary = getattr(results, "summary", None)
    if summary is not None and "scale" in summary.columns and summary["scale"].notna().any():
        scale = summary.set_index("run_id")["scale"]
        factor = 1.0 / scale.where(scale > 0)
    else:
        years = getattr(results, "years", None)
        if years is None or not {"population", "population_scaled"} <= set(years.columns) or years.empty:
            return pd.Series(1.0, index=runs)
        first = years.sort_values("year").groupby("run_id").first()
        factor = first["population_scaled"] / first["population"].where(first["population"] > 0)
    return factor.reindex(runs).fillna(1.0)


def whole_town(metric: str, values: Any, factor: Any) -> Any:
    """Return values of a metric for the whole municipality: times the run's factor if the metric scales."""
    m = METRICS.get(metric)
    return values * factor if m is not None and m.scales else values


def _compared(cmp: pd.DataFrame, metric: str, column: str) -> float:
    """One number of a comparison indexed by metric (several rows, e.g. design points: the mean of ``diff``)."""
    if metric not in cmp.index:
        return np.nan
    value = cmp.loc[metric, column]
    if isinstance(value, pd.Series):
        return float(value.mean()) if column == "diff" else np.nan
    return float(value)


def years_active(results: Any) -> pd.Series:
    """Years each run ran its intervention: from its start (or the run's) to the end of the run, by run id.

    The end is the calendar time of the run's last step (:func:`kyojosim.present.figures.step_times`); a
    run without an intervention counts its whole length. ``nan`` when the run has no steps recorded or
    its intervention starts after it ends.
    """
    from .figures import step_times

    design = results.design
    runs = pd.Index(design["run_id"], name="run_id")
    steps = getattr(results, "steps", None)
    if steps is None or steps.empty:
        return pd.Series(np.nan, index=runs)
    times = step_times(steps).groupby("run_id")["time"].agg(["min", "max"])
    start = times["min"]
    if "intervention_start" in design.columns:
        begin = design.set_index("run_id")["intervention_start"].astype("Float64").astype(float)
        start = np.maximum(start, begin.reindex(start.index).fillna(-np.inf))
    active = (times["max"] - start).where(lambda x: x > 0)
    return active.reindex(runs)


def headline(results: Any, comparison: pd.DataFrame | None = None, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Compute the numbers of the headline table, one row per scenario and variant (baseline first).

    Args:
        results: Experiment results.
        comparison: The frame of :func:`kyojosim.analysis.compare.compare` (computed when not given).
        n_boot: Bootstrap replicates, when the comparison is computed here.
        seed: Bootstrap seed, when the comparison is computed here.

    Returns:
        Columns ``scenario``, ``variant``, ``is_baseline``, ``intervention_start``, for each of
        ``matching_rate``, ``matching_rate_age_75plus`` and ``tsunagari_mean``: ``<m>`` (mean
        level), ``<m>_diff``, ``<m>_lo``, ``<m>_hi``; and, scaled to the whole municipality and summed
        over the run (mean of replicates): ``paid_by_requesters`` (what residents pay), ``subsidy`` (what
        the municipality pays), ``extra_matched`` (increase in needs matched) and ``cost_per_extra_match``
        (yen; ``nan`` when nothing is paid or no need is added); the same a year, over the years from the
        intervention's start to the end of the run (``years_active``): ``paid_by_requesters_per_year``,
        ``subsidy_per_year``, ``extra_matched_per_year``; and per additional matched need:
        ``paid_per_extra_match``, ``subsidy_per_extra_match`` (``nan`` when no need is added).
    """
    from ..analysis.compare import compare

    present = [m for m in HEADLINE_METRICS if m in results.summary.columns]
    if comparison is None:
        comparison = compare(results, metrics=present, n_boot=n_boot, seed=seed, pool=True)
    design = results.design
    if "status" in design.columns:
        design = design[design["status"] == "done"]
    summary = results.summary.merge(design[["run_id", "scenario", "variant"]], on="run_id", how="inner")
    factor = scale_factors(results)
    summary["_f"] = summary["run_id"].map(factor).fillna(1.0)
    summary["_years"] = summary["run_id"].map(years_active(results))
    baseline = str(getattr(results, "baseline", None) or design["variant"].iloc[0])
    names = [str(v) for v in (getattr(results, "variants", None) or dict.fromkeys(design["variant"]))]
    starts = {}
    if "intervention_start" in design.columns:
        starts = design.dropna(subset=["intervention_start"]).groupby(["scenario", "variant"])[
            "intervention_start"].min().to_dict()
    rows = []
    for scenario in dict.fromkeys(summary["scenario"]):
        here = summary[summary["scenario"] == scenario]
        for v in names:
            mine = here[here["variant"] == v]
            if mine.empty:
                continue
            row: dict[str, Any] = {"scenario": scenario, "variant": v, "is_baseline": v == baseline,
                                   "intervention_start": starts.get((scenario, v))}
            cmp = comparison[(comparison["scenario"] == scenario) & (comparison["variant"] == v)].set_index("metric")
            for m in ("matching_rate", "matching_rate_age_75plus", "tsunagari_mean"):
                row[m] = float(mine[m].mean()) if m in mine.columns else np.nan
                for k in ("diff", "lo", "hi"):
                    row[f"{m}_{k}"] = _compared(cmp, m, k)
            active = float(mine["_years"].mean())
            row["years_active"] = active
            for m in ("paid_by_requesters", "subsidy"):
                total = whole_town(m, mine[m], mine["_f"]) if m in mine.columns else pd.Series(0.0, index=mine.index)
                row[m] = float(total.mean())
                row[f"{m}_per_year"] = float((total / mine["_years"]).mean())
            extra = np.nan
            if "needs_matched" in cmp.index:
                extra = float(whole_town("needs_matched", _compared(cmp, "needs_matched", "diff"),
                                         float(mine["_f"].mean())))
            row["extra_matched"] = extra
            row["extra_matched_per_year"] = extra / active if active > 0 else np.nan
            spent = row["paid_by_requesters"] + row["subsidy"]
            gain = extra == extra and extra > 0
            row["cost_per_extra_match"] = spent / extra if spent > 0 and gain else np.nan
            row["paid_per_extra_match"] = row["paid_by_requesters"] / extra if gain else np.nan
            row["subsidy_per_extra_match"] = row["subsidy"] / extra if gain else np.nan
            rows.append(row)
    return pd.DataFrame(rows)




# --------------------------------------------------------------------------------------
# the words of the report
# --------------------------------------------------------------------------------------


def variant_descriptions(manifest: Mapping[str, Any], lang: str = "en") -> dict[str, str]:
    """Describe each variant in the report's language: the interventions it switches, then its other settings.

    ``有償シェアサービス（2018年から）、地域SNS（2018年から2025年まで）、設定を1項目変更``; a variant that switches
    nothing is 施策なし (no intervention). Settings are counted, not named (their keys are the model's).
    """
    check_lang(lang)
    sep = text("common.item_sep", lang)
    known = terms("intervention", lang)
    out: dict[str, str] = {}
    for name, spec in variant_specs(manifest).items():
        switches, other = variant_switches(spec)
        parts = []
        for iv, sw in switches.items():
            label = known.get(iv, iv)
            if sw.get("enabled", True) is False:
                parts.append(text("common.switched_off", lang, label=label))
                continue
            years = [text("common.from_year", lang, year=sw["start"])] if sw.get("start") is not None else []
            years += [text("common.until_year", lang, year=sw["end"])] if sw.get("end") is not None else []
            span = ("" if lang == "ja" else " ").join(years)
            parts.append(text("common.with_years", lang, label=label, years=span) if span else label)
        if other:
            parts.append(text("common.changed_settings", lang, n=len(other)))
        out[name] = sep.join(parts) if parts else text("common.no_intervention", lang)
    return out


def model_url() -> str | None:
    """Return the absolute address of the model description (ODD protocol) of this version of kyojosim.

    It is :data:`kyojosim.distribution.ODD_URL` (``docs/ODD.md`` at the release's tag), so a report mailed or
    opened years later links to the description of the model that wrote it. ``None`` when it is not an
    http(s) address: the report then names the file, with its short description embedded.
    """
    from ..distribution import ODD_URL

    return ODD_URL if str(ODD_URL).startswith(("https://", "http://")) else None


def scorecard_url() -> str | None:
    """Return the absolute address of the scorecard of this version of kyojosim (``None`` if not http(s)).

    It is :data:`kyojosim.distribution.SCORECARD_URL`: the full scorecard recorded in ``docs/validation.md`` at
    the release's tag, i.e. how the model that wrote the report reproduces the published figures.
    """
    from ..distribution import SCORECARD_URL

    return SCORECARD_URL if str(SCORECARD_URL).startswith(("https://", "http://")) else None


def _figures(results: Any, comparison: pd.DataFrame, lang: str, place: str) -> list[dict[str, str]]:
    from . import figures

    t = texts("report", lang)
    baseline = str(getattr(results, "baseline", None) or "")
    shown = variant_labels(results, lang)
    places = municipality_names(results, lang)
    out = [(figures.timeseries(results, "matching_rate", lang=lang), t["fig_timeseries"])]
    if len(comparison):
        chart = figures.comparison_chart(comparison, lang=lang, baseline=baseline, labels=shown, places=places)
        out.append((chart, t["fig_comparison"]))
    out += [
        (figures.tsunagari_by_group(results, lang=lang), t["fig_tsunagari"]),
        (figures.tsunagari_by_group(results, lang=lang, at="end"), t["fig_tsunagari_end"]),
        (figures.population_pyramid(results, lang=lang), t["fig_pyramid"].format(municipality=place)),
    ]
    return [{"src": png_data_uri(fig), "caption": caption} for fig, caption in out]


def _points(d: float, lo: float, hi: float, lang: str, factor: float = 100.0) -> str:
    """``+3.2ポイント［+2.1〜+4.3］`` (points of a rate) or ``+2.1［+1.5〜+3.1］`` (an index, ``factor`` 1)."""
    if fmt.undefined(d):
        return fmt.NONE
    key = "report.points_interval" if factor == 100.0 else "report.index_interval"
    value = text(key, lang, diff=fmt.signed(d, 1, factor), interval=fmt.interval(lo, hi, lang, 1, factor))
    return value.replace("［—］", "").replace(" [—]", "")


def _finding(row: Mapping[str, Any], label: str, base_rate: float, place: str, city: str,
             depends: str, lang: str) -> list[str]:
    """Write the summary sentences of one option: matching rate, residents 75+, money, what it depends on."""
    d, lo, hi = row["matching_rate_diff"], row["matching_rate_lo"], row["matching_rate_hi"]
    values = {"label": label, "base": fmt.pct(base_rate), "level": fmt.pct(row["matching_rate"]),
              "diff": fmt.signed(d, 1, 100.0), "interval": fmt.interval(lo, hi, lang, 1, 100.0)}
    if fmt.undefined(d):
        sentences = [text("report.finding_undefined", lang, label=label)]
    elif fmt.undefined(lo) or fmt.undefined(hi):
        sentences = [text("report.finding_one_run", lang, **values)]
    elif lo > 0:
        sentences = [text("report.finding_up", lang, **values)]
    elif hi < 0:
        sentences = [text("report.finding_down", lang, **values)]
    else:
        sentences = [text("report.finding_unclear", lang, **values)]
    d75, lo75, hi75 = (row[f"matching_rate_age_75plus_{k}"] for k in ("diff", "lo", "hi"))
    if not fmt.undefined(d75):
        if fmt.undefined(lo75) or fmt.undefined(hi75):
            sentences.append(text("report.finding_75_one_run", lang, diff=fmt.signed(d75, 1, 100.0)))
        else:
            sentences.append(text("report.finding_75", lang, diff=fmt.signed(d75, 1, 100.0),
                                  interval=fmt.interval(lo75, hi75, lang, 1, 100.0)))
    paid, subsidy = row["paid_by_requesters_per_year"], row["subsidy_per_year"]
    if (paid or 0) > 0 or (subsidy or 0) > 0:
        money = {"municipality": place, "city": city, "paid": fmt.yen(paid, lang), "subsidy": fmt.yen(subsidy, lang),
                 "paid_per": fmt.yen(row["paid_per_extra_match"], lang),
                 "subsidy_per": fmt.yen(row["subsidy_per_extra_match"], lang)}
        gain = not fmt.undefined(row["extra_matched"]) and row["extra_matched"] > 0
        sentences.append(text("report.finding_money" if gain else "report.finding_money_no_gain", lang, **money))
    if depends:
        sentences.append(text("report.finding_depends", lang, depends=depends))
    return sentences


def _depends(spec: Mapping[str, Any], lang: str) -> str:
    """Say what an option's result depends on most: the assumptions behind the interventions it switches on."""
    _, other = variant_switches(spec)
    parts = [text(f"report.depends_{name}", lang) for name, _ in switched_on(spec)
             if f"depends_{name}" in texts("report", lang)]
    if other:
        parts.append(text("report.depends_settings", lang))
    return text("common.item_sep", lang).join(parts) if parts else ""


def _method(comparison: pd.DataFrame, n_boot: int, lang: str) -> str:
    """Say how the intervals were computed (the comparison's ``method`` column, else the bootstrap)."""
    if "method" in comparison.columns and comparison["method"].notna().any():
        names = terms("interval_method_long", lang)
        used = [str(m) for m in dict.fromkeys(comparison["method"].dropna())]
        return text("common.list_sep", lang).join(names.get(m, m) for m in used)
    return text("report.method_bootstrap", lang, n=n_boot)


Robustness = Mapping[str, Any] | str | os.PathLike[str] | None
"""A robustness analysis for the report: a folder written by ``kyojosim robustness``, or its contents as
:func:`kyojosim.present.robustness_report.load_robustness` returns them; ``None``: none was run."""


def report_context(results: Any, lang: str = "ja", comparison: pd.DataFrame | None = None, n_boot: int = 2000,
                   seed: int = 0, robustness: Robustness = None) -> dict[str, Any]:
    """Return everything the report's template shows, every number formatted and every word in ``lang``.

    Args:
        results: Experiment results (``kyojosim.load(folder)`` or an object with its attributes).
        lang: ``"ja"`` or ``"en"``.
        comparison: A :func:`kyojosim.analysis.compare.compare` frame of all default metrics (computed when
            not given).
        n_boot: Bootstrap replicates, when the comparison is computed here.
        seed: Bootstrap seed, when the comparison is computed here.
        robustness: The robustness analysis of the experiment (:data:`Robustness`): the report then leads
            with what holds under the assumptions, and shows the assumption bands and the failure regions
            after the seed-level table. ``None``: the caveats say that the effect sizes rest on unvalidated
            assumptions and name the command that checks them.

    Returns:
        The template's context (see ``templates/report.html.j2``).
    """
    from ..analysis.compare import compare

    check_lang(lang)
    t = {**texts("common", lang), **texts("report", lang)}
    manifest = dict(getattr(results, "manifest", None) or {})
    if comparison is None:
        comparison = compare(results, n_boot=n_boot, seed=seed, pool=True)
    head = headline(results, comparison)
    baseline = str(getattr(results, "baseline", None) or head["variant"].iloc[0])
    shown = variant_labels(results, lang)
    places = municipality_names(results, lang)
    specs = variant_specs(manifest)
    design = results.design
    scenarios = list(dict.fromkeys(design["scenario"].astype(str)))
    place = join([places.get(s, s) for s in scenarios], lang) if len(scenarios) > 1 else places.get(scenarios[0], "")
    city_ja = municipality_kind(places.get(scenarios[0], "") if lang == "ja" else
                                municipality_names(results, "ja").get(scenarios[0], ""), lang)
    city = city_ja if len(scenarios) == 1 else term("municipality_kind", "other", lang)

    # the question: the interventions the options switch on
    switched: list[str] = []
    for v in shown:
        if v != baseline:
            switched += [name for name, _ in switched_on(specs.get(v, {})) if name not in switched]
    article = "the " if lang == "en" else ""
    ivs = [article + terms("intervention", lang)[n] for n in switched if n in terms("intervention", lang)]
    if not ivs:
        ivs = [text("common.quoted", lang, label=shown[v]) for v in shown if v != baseline]
    title = (text("report.title", lang, municipality=place, interventions=join(ivs, lang)) if ivs
             else text("report.title_plain", lang, municipality=place))
    steps = getattr(results, "steps", None)
    period = ""
    if steps is not None and len(steps):
        period = text("report.period", lang, start=int(steps["year"].min()), end=int(steps["year"].max()))
    created = str(manifest.get("created") or "")[:10] or _dt.date.today().isoformat()
    subtitle = text("report.subtitle", lang, period=period, date=created)

    # what the numbers rest on
    factor = scale_factors(results)
    reps = int(design["replicate"].nunique()) if "replicate" in design.columns else 1
    share = 1.0 / float(factor.mean()) if len(factor) and float(factor.mean()) > 0 else 1.0
    caveats = [t["caveat_not_forecast"], t["caveat_same_town"], text("report.caveat_intervals", lang, runs=reps)]
    if share < 1.0:
        caveats.append(text("report.caveat_scale", lang, share=fmt.pct(share, 0), municipality=place))
    caveats.append(t["caveat_assumptions"])
    experiment_name = str(manifest.get("name") or "")
    rob = None
    if robustness is not None:
        data = (load_robustness(robustness, experiment_name or None)
                if isinstance(robustness, (str, os.PathLike)) else robustness)
        rob = robustness_context(data, shown, places, lang,
                                 quote=lambda label: text("common.quoted", lang, label=label))
        caveats.append(text("report.caveat_checked", lang, n=rob["n"]))
    else:
        caveats.append(missing_text(experiment_name, lang))
    design_block = None
    parameters = [str(p) for p in (getattr(results, "parameters", None) or [])]
    points = int(design["point"].nunique()) if "point" in design.columns else 1
    if parameters and points > 1:
        per_point = compare(results, metrics=[m for m in ("matching_rate", "matching_rate_age_75plus")
                                              if m in results.summary.columns], n_boot=n_boot, seed=seed)
        design_block = design_context(per_point, parameters, shown, places, baseline, lang)
        if design_block is not None:
            caveats.append(text("report.caveat_design", lang, n=points,
                                parameters=join(design_block["parameters"], lang)))

    # the findings, the headline and the money, per municipality
    findings: list[dict[str, Any]] = []
    place_blocks: list[dict[str, Any]] = []
    money_places: list[dict[str, Any]] = []
    names = {"rate_all": t["rate_all"], "rate_75": t["rate_75"], "tsunagari": t["tsunagari"]}
    for scenario in scenarios:
        mine = head[head["scenario"] == scenario]
        here = places.get(scenario, scenario)
        base_rows = mine[mine["is_baseline"]]
        base_rate = float(base_rows["matching_rate"].iloc[0]) if len(base_rows) else np.nan
        rows, money_rows = [], []
        for r in mine.to_dict("records"):
            label = shown.get(r["variant"], r["variant"])
            cells = []
            for key, m, factor_ in (("rate_all", "matching_rate", 100.0),
                                    ("rate_75", "matching_rate_age_75plus", 100.0),
                                    ("tsunagari", "tsunagari_mean", 1.0)):
                level = fmt.pct(r[m]) if factor_ == 100.0 else fmt.number(r[m], 1)
                change = "" if r["is_baseline"] else _points(r[f"{m}_diff"], r[f"{m}_lo"], r[f"{m}_hi"], lang, factor_)
                cells.append({"name": names[key], "level": level, "change": change})
            rows.append({"label": label, "cells": cells})
            if r["is_baseline"]:
                continue
            prefix = f"{here}：" if len(scenarios) > 1 and lang == "ja" else f"{here}: " if len(scenarios) > 1 else ""
            named = text("common.quoted", lang, label=label)
            if not fmt.undefined(r["intervention_start"]):
                named = text("common.with_years", lang, label=named,
                             years=text("common.from_year", lang, year=int(r["intervention_start"])))
            sentences = _finding(r, named, base_rate, here, city, _depends(specs.get(r["variant"], {}), lang), lang)
            findings.append({"variant": r["variant"], "sentences": [prefix + sentences[0], *sentences[1:]]})
            if (r["paid_by_requesters"] or 0) > 0 or (r["subsidy"] or 0) > 0:
                values = [fmt.yen(r["paid_by_requesters_per_year"], lang), fmt.yen(r["subsidy_per_year"], lang),
                          text("report.money_extra_count", lang, n=fmt.number(r["extra_matched_per_year"]))
                          if not fmt.undefined(r["extra_matched_per_year"]) else fmt.NONE,
                          fmt.yen(r["paid_per_extra_match"], lang), fmt.yen(r["subsidy_per_extra_match"], lang)]
                money_rows.append({"label": label, "values": values})
        facts = [(t["municipality"], here)]
        pop, year = _census(scenario, results)
        if pop is not None:
            facts.append((text("report.population", lang, year=year),
                          text("report.population_value", lang, n=fmt.number(pop))))
        if period:
            facts.append((t["period_label"], period))
        facts.append((t["runs_label"], str(reps)))
        if share < 1.0:
            facts.append((t["scale_label"], text("report.scale_value", lang, share=fmt.pct(share, 0))))
        place_blocks.append({"name": here, "rows": rows, "facts": facts})
        if money_rows:
            money_places.append({"name": here, "rows": money_rows})
    money = None
    if money_places:
        columns = [t["money_paid_year"], t["money_subsidy_year"].format(city=city), t["money_extra_year"],
                   t["money_paid_per"], t["money_subsidy_per"].format(city=city)]
        for block in money_places:
            block["rows"] = [{"label": r["label"], "cells": [{"name": c, "value": v} for c, v in
                                                              zip(columns, r["values"], strict=True)]}
                             for r in block["rows"]]
        money = {"heading": text("report.money_h", lang, city=city), "columns": columns, "places": money_places,
                 "note": text("report.money_note", lang, municipality=place, city=city)}

    # the options compared
    desc = variant_descriptions(manifest, lang)
    starts = head.drop_duplicates("variant").set_index("variant")["intervention_start"]
    options = []
    for v in dict.fromkeys(head["variant"]):
        s = starts.get(v)
        options.append({"label": shown.get(v, v), "description": desc.get(v, ""),
                        "start": t["none"] if s is None or pd.isna(s) else text("common.year_suffix", lang,
                                                                                  year=int(s))})

    # the record of the runs
    runs = manifest.get("runs") or {}
    provenance: list[tuple[str, str, bool]] = [(t["experiment"], str(manifest.get("name") or ""), True)]
    if manifest.get("hash"):
        provenance.append((t["hash"], str(manifest["hash"]), True))
    if manifest.get("created"):
        provenance.append((t["created"], str(manifest["created"]), False))
    if runs:
        provenance.append((t["runs"], text("report.runs_value", lang, done=runs.get("done", 0),
                                           failed=runs.get("failed", 0), pending=runs.get("pending", 0)), False))
    version = (manifest.get("versions") or {}).get("kyojosim")
    if version is None:
        from ..runs.results import package_version

        version = package_version()
    provenance.append((t["version"], str(version), False))
    if manifest.get("name"):
        provenance.append((t["reproduce"], f"kyojosim sweep {manifest['name']}", True))

    return {
        "lang": lang, "t": t, "title": title, "subtitle": subtitle, "caveats": caveats, "findings": findings,
        "sentence_sep": "" if lang == "ja" else " ", "robustness": rob, "design": design_block,
        "places": place_blocks, "headline_note": text("report.headline_note", lang,
                                                      method=_method(comparison, n_boot, lang)),
        "money": money, "figures": _figures(results, comparison, lang, place), "options": options,
        "model_url": model_url(), "scorecard_url": scorecard_url(), "provenance": provenance,
    }


def _census(scenario: str, results: Any) -> tuple[int | None, int | None]:
    """Census population and its year of a scenario's municipality, when its scenario loads."""
    try:
        from ..params.scenario import load_scenario

        m = load_scenario(scenario).municipality
    except (KyojoError, OSError, ValueError):
        return None, None
    return int(m.population), int(m.start_year)


def _environment() -> Any:
    """Return the jinja2 environment of the templates (package data), HTML escaped."""
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("kyojosim.present", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
                              undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False)


def render_html(results: Any, lang: str = "ja", comparison: pd.DataFrame | None = None, n_boot: int = 2000,
                seed: int = 0, robustness: Robustness = None) -> str:
    """Build the report as one HTML document (figures and a font subset inline, no external resources).

    Args:
        results: Experiment results (``kyojosim.load(folder)`` or an object with its attributes).
        lang: ``"ja"`` or ``"en"``.
        comparison: A :func:`kyojosim.analysis.compare.compare` frame of all default metrics (computed when
            not given).
        n_boot: Bootstrap replicates, when the comparison is computed here.
        seed: Bootstrap seed, when the comparison is computed here.
        robustness: The robustness analysis of the experiment, if one was run (see :func:`report_context`).

    Returns:
        The HTML text.
    """
    from markupsafe import Markup

    from .webfont import FAMILY, subset_font

    check_lang(lang)
    context = report_context(results, lang, comparison, n_boot, seed, robustness)
    template = _environment().get_template(TEMPLATE)
    page = template.render(**context, font_face="")
    # embed the Japanese glyphs the page uses (a subset of the font matplotlib-fontja ships), so the
    # report reads on a machine without Japanese fonts; the reader's own fonts come first
    font = base64.b64encode(subset_font(page)).decode("ascii")
    face = f"@font-face {{ font-family: '{FAMILY}'; src: url(data:font/ttf;base64,{font}) format('truetype'); }}\n"
    return template.render(**context, font_face=Markup(face))


def write_report(results: Any, out: str | os.PathLike[str], lang: str = "ja", n_boot: int = 2000,
                 seed: int = 0, robustness: Robustness = None) -> Path:
    """Write the HTML report to ``out`` atomically (its folder is created if missing).

    Args:
        results: Experiment results.
        out: The HTML file to write.
        lang: ``"ja"`` or ``"en"``.
        n_boot: Bootstrap replicates of the intervals.
        seed: Bootstrap seed.
        robustness: The robustness analysis of the experiment, if one was run (see :func:`report_context`).

    Returns:
        The file written.

    Raises:
        ReportError: If the file cannot be written.
    """
    check_lang(lang)
    target = Path(out)
    page = render_html(results, lang=lang, n_boot=n_boot, seed=seed, robustness=robustness)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text(target, page)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {target}: {exc.strerror or exc}") from exc
    return target


__all__ = ["HEADLINE_METRICS", "TEMPLATE", "ReportError", "headline", "load_results", "model_url", "render_html",
           "report_context", "resolve_results", "scorecard_url", "variant_descriptions", "write_report", "years_active"]
