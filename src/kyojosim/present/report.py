"""A self-contained HTML report of an experiment, in Japanese or English.

:func:`write_report` writes ONE HTML file: inline CSS, the figures embedded as base64 PNG, no
external request. It states the question, the municipality and the variants compared, a headline
table (each intervention's change in the matching rate overall and for residents 75+ and in
つながり力, with 95% intervals, and where help is paid or subsidised the money paid, the subsidy and
the cost per additional matched need), the figures, the model's main assumptions and a link to the
model description (docs/ODD.md).

:func:`resolve_results` turns the ``RESULTS_OR_EXPERIMENT`` argument of ``kyojosim compare`` and
``kyojosim report`` into a results folder: a folder is taken as it is; an experiment file or name
maps to its default results folder ``results/<name>``.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import write_text
from ..errors import KyojoError
from ..measures.outcomes import METRICS
from .labels import check_lang

ODD_PATH = Path(__file__).resolve().parents[3] / "docs" / "ODD.md"
"""The model description in a source checkout (the report links to it when it exists)."""


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
# texts
# --------------------------------------------------------------------------------------

TEXT: dict[str, dict[str, str]] = {
    "ja": {
        "title": "共助シミュレーション報告：{name}",
        "question_h": "問い",
        "question": (
            "地域の困りごと（家事、移動、買い物など8分類）のうち、手助けしてくれる人に結びついた割合（マッチング率）は、"
            "各施策（介入）によってどれだけ変わるか。住民全体と75歳以上の住民について、また住民のつながり力について、"
            "ベースライン「{baseline}」と同じ乱数で比較する。"
        ),
        "setting_h": "対象自治体と比較する施策",
        "municipality": "自治体",
        "population": "人口（{year}年国勢調査）",
        "period": "期間",
        "replicates": "反復回数",
        "scale": "シミュレーションの縮尺",
        "scale_note": "住民の{pct}を模擬（金額と人口は自治体全体に換算）",
        "variant": "施策（バリアント）",
        "description": "内容",
        "start": "開始年",
        "baseline_tag": "（ベースライン）",
        "none": "—",
        "headline_h": "主な結果",
        "rate_all": "マッチング率（全体）",
        "rate_75": "マッチング率（75歳以上）",
        "tsunagari": "つながり力",
        "money": "金額（自治体全体、期間合計）",
        "level": "水準",
        "change": "差 [95%区間]",
        "change_pt": "差（%ポイント）[95%区間]",
        "paid": "依頼者の支払",
        "subsidy": "補助金",
        "cost": "追加マッチ1件あたり費用",
        "scenario": "シナリオ",
        "headline_note": (
            "差はベースラインとの差（同じシード・同じ設計点の実行どうしの対の差の平均）。[ ]内は対のブートストラップ"
            "（{n_boot}回）による95%区間。マッチング率は期間中に決着したニーズ（マッチ＋失効）に占めるマッチの割合で、"
            "差は%ポイント。金額は反復の平均を自治体全体に換算した期間合計（円）。追加マッチ1件あたり費用は"
            "（依頼者の支払＋補助金）÷ マッチしたニーズの増加数。"
        ),
        "figures_h": "図",
        "fig_timeseries": "図1　マッチング率の推移（過去52週の値）。線は反復の平均、帯はその95%信頼区間、"
                          "破線は施策の開始年。",
        "fig_comparison": "図2　施策によるマッチング率の変化（ベースラインとの差、%ポイント）。全体、75歳以上、"
                          "困りごとの分類別。横線は95%区間。",
        "fig_tsunagari": "図3　参加グループ別のつながり力の推移（20歳以上、反復の平均）。",
        "fig_tsunagari_end": "図4　期間終了時の参加グループ別つながり力（20歳以上）。誤差線は反復の平均の95%信頼区間。",
        "fig_pyramid": "図5　人口ピラミッド（ベースライン、最初と最後の年、自治体全体に換算）。左が男性、右が女性。",
        "assumptions_h": "モデルの主な仮定",
        "surveyed_h": "調査・統計に基づくもの",
        "assumed_h": "仮定・推計によるもの",
        "surveyed": [
            "困りごと8分類の相対的な頻度と、地域の共助サービスを使いたい人の割合"
            "（平成30年版情報通信白書 図表4-3-4-2）。",
            "分類ごとに無償で、または有償なら手助けしたい人の割合（図表4-3-4-3）。",
            "現実・ネットの地域コミュニティへの参加の内訳（図表4-3-5-2）、現実のコミュニティでの信頼（図表4-3-5-3）、"
            "ネットの知人と会った後の信頼の変化（図表4-3-2-4）。",
            "年齢別の死亡・出生・就業・運転・要介護認定・スマートフォン利用（生命表、人口動態統計、労働力調査、通信利用動向調査など）。",
        ],
        "assumed": [
            "2015年の年齢構成・世帯構成・地区の人口と将来推計は公表値から再構成した推計値で、人口移動率はこの推計に合わせている。",
            "地域SNSの普及やサポーター登録の速さ、支援者が週に割ける時間、困りごとが失効するまでの期間、"
            "助けを求める気持ちの変化は仮定であり、調査で裏づけられていない。",
            "有償支援の価格（1時間500〜700円）はAsMamaの事例に、補助金はシナリオの設定による。",
            "つながり力は白書の方法（信頼・互酬性の第1主成分→コミュニティの紐帯＝参加者の意識の平均→参加するコミュニティの和に"
            "全員共通の定数を加える）で計算する。尺度（項目の平均・標準偏差・負荷量と定数）は実行の最初の記録のものに固定するため、"
            "水準を時点の間でも、同じ初期の住民から始まる施策の間でも比べられる。"
            "参加が信頼と互酬性を高めるという仕組みの強さは仮定である。",
            "コミュニティへの参加の変化（現実の地域活動の減少、SNS利用者のネット参加）は、2008年から2017年の参加の内訳"
            "（図表4-3-5-2）に合わせて2つのパラメータを推定している（各区分±2ポイント以内）。",
            "差は仮定から導かれる結果であり、予測ではない。",
        ],
        "odd": "モデルの詳細な説明（ODDプロトコル）：",
        "odd_missing": "モデルの詳細な説明はkyojosimのリポジトリのdocs/ODD.mdにある。",
        "provenance_h": "実行の記録",
        "experiment": "実験",
        "hash": "ハッシュ",
        "created": "作成日時",
        "runs": "実行",
        "runs_value": "完了{done}、失敗{failed}、未実行{pending}",
        "version": "kyojosimのバージョン",
        "lang_name": "ja",
    },
    "en": {
        "title": "Mutual-aid simulation report: {name}",
        "question_h": "The question",
        "question": (
            "How much does each intervention change the share of everyday troubles (chores, mobility, shopping "
            "and five more categories) that find a helper (the matching rate), for all residents and for residents "
            "aged 75+, and how does it change residents' つながり力 (connection power)? Each variant is compared "
            "with the baseline variant “{baseline}” over the same random numbers."
        ),
        "setting_h": "Municipality and variants",
        "municipality": "Municipality",
        "population": "Population ({year} census)",
        "period": "Period",
        "replicates": "Replicates",
        "scale": "Simulation scale",
        "scale_note": "{pct} of the residents simulated (money and population scaled to the whole municipality)",
        "variant": "Variant",
        "description": "What it changes",
        "start": "Starts",
        "baseline_tag": " (baseline)",
        "none": "—",
        "headline_h": "Headline results",
        "rate_all": "Matching rate, overall",
        "rate_75": "Matching rate, aged 75+",
        "tsunagari": "つながり力 (connection power)",
        "money": "Money (whole municipality, whole period)",
        "level": "level",
        "change": "change [95% interval]",
        "change_pt": "change, points [95% interval]",
        "paid": "paid by requesters",
        "subsidy": "subsidy",
        "cost": "cost per additional matched need",
        "scenario": "Scenario",
        "headline_note": (
            "Changes are differences from the baseline: the mean of the differences between runs that share a seed "
            "and a design point. Brackets: 95% paired bootstrap interval ({n_boot} resamples). The matching rate "
            "is the share of the needs decided during the period (matched or lapsed) that were matched; its changes "
            "are in percentage points. Money: totals over the period in yen, mean of the replicates, scaled to the "
            "whole municipality. Cost per additional matched need = (paid by requesters + subsidy) / increase in "
            "needs matched."
        ),
        "figures_h": "Figures",
        "fig_timeseries": "Figure 1. Matching rate over time (trailing 52 weeks). Lines: mean of the replicates; "
                          "bands: its 95% interval; dashed lines: the year each intervention starts.",
        "fig_comparison": "Figure 2. Change in the matching rate by intervention (difference from the baseline, "
                          "percentage points): overall, residents aged 75+ and each category of trouble, with 95% "
                          "intervals.",
        "fig_tsunagari": "Figure 3. つながり力 by community participation group over time (residents 20+, mean of "
                         "the replicates).",
        "fig_tsunagari_end": "Figure 4. つながり力 by participation group at the end of the period (residents 20+); "
                             "whiskers: 95% interval of the mean of the replicates.",
        "fig_pyramid": "Figure 5. Population pyramid of the baseline, first and last year, scaled to the whole "
                       "municipality: men on the left, women on the right.",
        "assumptions_h": "Main assumptions of the model",
        "surveyed_h": "From surveys and statistics",
        "assumed_h": "Assumed or estimated",
        "surveyed": [
            "How often each of the eight kinds of trouble occurs, relative to the others, and who would use a local "
            "mutual-aid service for it (MIC White Paper 2018, 図表4-3-4-2).",
            "Who would help with each kind, free or only if paid (図表4-3-4-3).",
            "Participation in real-world and online communities (図表4-3-5-2), trust in real-world communities "
            "(図表4-3-5-3) and the change of trust after meeting an online acquaintance (図表4-3-2-4).",
            "Deaths, births, employment, driving, long-term-care certification and smartphone use by age (life "
            "table, vital statistics, labour force survey, communications usage survey).",
        ],
        "assumed": [
            "The 2015 age structure, households, district populations and the population projection are "
            "estimates reconstructed from published anchors; migration rates are fitted to that projection.",
            "How fast residents adopt a local SNS and supporters register on a platform, how many hours a week "
            "helpers give, how long a trouble waits before it lapses and how the wish to ask for help changes are "
            "assumptions that no survey pins down.",
            "The price of paid help (500-700 yen an hour) follows the AsMama case; subsidies are scenario settings.",
            "つながり力 is computed by the white paper's method (trust and reciprocity scored by their first principal "
            "component, each community's tie strength the mean of its members' scores, summed over the communities one "
            "takes part in, plus one constant for everyone). It is recorded on the scale of the run's first record "
            "(the items' means, deviations and loadings and the constant of the initial population), so its level "
            "compares over time and between variants, which start from the same population; how strongly taking part "
            "builds trust and reciprocity is an assumption.",
            "The change of participation in communities (decline of real-world groups, social-media users going "
            "online) has two parameters fitted to the 2008-2017 participation mix (図表4-3-5-2; every share within "
            "2 points).",
            "Read the differences as what these assumptions imply, not as forecasts.",
        ],
        "odd": "Full model description (ODD protocol): ",
        "odd_missing": "The full model description is docs/ODD.md in the kyojosim repository.",
        "provenance_h": "Provenance",
        "experiment": "Experiment",
        "hash": "Hash",
        "created": "Created",
        "runs": "Runs",
        "runs_value": "{done} done, {failed} failed, {pending} pending",
        "version": "kyojosim version",
        "lang_name": "en",
    },
}

CSS = """
body { font-family: "Hiragino Sans", "Noto Sans CJK JP", "Yu Gothic", "IPAexGothic", Meiryo, "KyojoJP", sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.6; }
h1 { font-size: 1.6em; border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .9em; }
th, td { border: 1px solid #bbb; padding: .3em .55em; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.facts th { text-align: left; }
table.variants th { white-space: nowrap; }
p.note { font-size: .85em; color: #555; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9em; color: #333; margin-top: .3em; }
"""


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
        over the run (mean of replicates): ``paid_by_requesters``, ``subsidy``,
        ``extra_matched`` (increase in needs matched) and ``cost_per_extra_match`` (yen; ``nan``
        when nothing is paid or no need is added).
    """
    from ..analysis.compare import compare

    present = [m for m in HEADLINE_METRICS if m in results.summary.columns]
    if comparison is None:
        comparison = compare(results, metrics=present, n_boot=n_boot, seed=seed)
    design = results.design
    if "status" in design.columns:
        design = design[design["status"] == "done"]
    summary = results.summary.merge(design[["run_id", "scenario", "variant"]], on="run_id", how="inner")
    factor = scale_factors(results)
    summary["_f"] = summary["run_id"].map(factor).fillna(1.0)
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
                    row[f"{m}_{k}"] = float(cmp.loc[m, k]) if m in cmp.index else np.nan
            for m in ("paid_by_requesters", "subsidy"):
                row[m] = float(whole_town(m, mine[m], mine["_f"]).mean()) if m in mine.columns else 0.0
            extra = np.nan
            if "needs_matched" in cmp.index:
                extra = float(whole_town("needs_matched", float(cmp.loc["needs_matched", "diff"]),
                                         float(mine["_f"].mean())))
            row["extra_matched"] = extra
            spent = row["paid_by_requesters"] + row["subsidy"]
            row["cost_per_extra_match"] = spent / extra if spent > 0 and extra == extra and extra > 0 else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _png_data_uri(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _pct(x: float) -> str:
    return "—" if x != x else f"{100 * x:.1f}%"


def _change(d: float, lo: float, hi: float, factor: float = 1.0) -> str:
    """Format a difference with its interval to one decimal (``factor`` 100 for points of a rate)."""
    if d != d:
        return "—"
    ci = "" if lo != lo else f" [{factor * lo:+.1f}, {factor * hi:+.1f}]"
    return f"{factor * d:+.1f}{ci}"


def _pp(d: float, lo: float, hi: float) -> str:
    return _change(d, lo, hi, 100.0)


def _idx(x: float) -> str:
    return "—" if x != x else f"{x:.1f}"


def _idx_diff(d: float, lo: float, hi: float) -> str:
    return _change(d, lo, hi)


def _yen(x: float) -> str:
    return "—" if x != x or x == 0 else f"¥{x:,.0f}"


def _flatten(obj: Any, prefix: str = "") -> list[str]:
    if isinstance(obj, Mapping):
        out = []
        for k, v in obj.items():
            if k in ("name", "description"):
                continue
            out += _flatten(v, f"{prefix}{k}.")
        return out
    return [f"{prefix.rstrip('.')}={obj}"]


INTERVENTION_LABELS = {
    "ja": {"local_sns": "地域SNS", "sharing_platform": "有償シェアリングサービス",
           "reporting_hub": "地域の通報窓口（通報員）", "offline_events": "オフライン交流会"},
    "en": {"local_sns": "local SNS", "sharing_platform": "paid sharing platform",
           "reporting_hub": "reporting hub (district reporters)", "offline_events": "offline meetups"},
}
NO_INTERVENTION = {"ja": "施策なし（現状のまま）", "en": "no intervention (as is)"}


def _intervention_text(name: str, spec: Any, lang: str) -> str:
    """Describe one intervention of a variant, as the experiment records it (``enabled``, ``start``, ``end``)."""
    label = INTERVENTION_LABELS[lang].get(name, name)
    if not isinstance(spec, Mapping):
        return label
    if spec.get("enabled") is False:
        return label + (": なし" if lang == "ja" else ": off")
    start, end = spec.get("start"), spec.get("end")
    if lang == "ja":
        span = (f"{start}年から" if start is not None else "") + (f"{end}年まで" if end is not None else "")
        span = f"（{span}）" if span else ""
    else:
        words = [f"from {start}" if start is not None else "", f"until {end}" if end is not None else ""]
        span = " ".join(w for w in words if w)
        span = f" ({span})" if span else ""
    extra = [f"{k}={v}" for k, v in spec.items() if k not in ("enabled", "start", "end")]
    return label + span + (f" [{', '.join(extra)}]" if extra else "")


def variant_descriptions(manifest: Mapping[str, Any], lang: str = "en") -> dict[str, str]:
    """Describe each variant in the report's language: the interventions it switches on, then its overrides.

    Variants of a resolved experiment (``interventions`` and ``overrides`` mappings) are described
    from what they set; other shapes fall back to their own ``description`` or their flattened keys.
    """
    experiment = manifest.get("experiment") or {}
    spec = experiment.get("variants") if isinstance(experiment, Mapping) else None
    items: list[tuple[str, Any]] = []
    if isinstance(spec, Mapping):
        items = [(str(k), v) for k, v in spec.items()]
    elif isinstance(spec, list):
        items = [(str(v.get("name")), v) for v in spec if isinstance(v, Mapping) and v.get("name")]
    out = {}
    sep = "、" if lang == "ja" else "; "
    for name, value in items:
        if isinstance(value, Mapping) and ("interventions" in value or "overrides" in value):
            parts = [_intervention_text(k, v, lang) for k, v in (value.get("interventions") or {}).items()]
            parts += [f"{k}={v}" for k, v in (value.get("overrides") or {}).items()]
            out[name] = sep.join(parts) if parts else NO_INTERVENTION[lang]
        elif isinstance(value, Mapping):
            if value.get("description"):
                out[name] = str(value["description"])
            else:
                flat = _flatten(value)
                out[name] = ", ".join(flat[:4]) + (" ..." if len(flat) > 4 else "")
        elif value is not None:
            out[name] = str(value)
    return out


def _municipality(scenario: str) -> tuple[str, int | None, int | None]:
    """Name (Japanese and English), census population and its year of a scenario, when it loads."""
    try:
        from ..params.scenario import load_scenario

        m = load_scenario(scenario).municipality
    except (KyojoError, OSError):
        return scenario, None, None
    name = f"{m.name} ({m.name_en})" if getattr(m, "name_en", None) else str(m.name)
    return name, int(m.population), int(m.start_year)


def _figures(results: Any, comparison: pd.DataFrame, lang: str) -> list[tuple[str, str]]:
    from . import figures

    t = TEXT[lang]
    baseline = str(getattr(results, "baseline", None) or "")
    out = [
        (_png_data_uri(figures.timeseries(results, "matching_rate", lang=lang)), t["fig_timeseries"]),
        (_png_data_uri(figures.comparison_chart(comparison, lang=lang, baseline=baseline)), t["fig_comparison"]),
        (_png_data_uri(figures.tsunagari_by_group(results, lang=lang)), t["fig_tsunagari"]),
        (_png_data_uri(figures.tsunagari_by_group(results, lang=lang, at="end")), t["fig_tsunagari_end"]),
        (_png_data_uri(figures.population_pyramid(results, lang=lang)), t["fig_pyramid"]),
    ]
    return out


def render_html(results: Any, lang: str = "ja", comparison: pd.DataFrame | None = None, n_boot: int = 2000,
                seed: int = 0, odd_href: str | None = None) -> str:
    """Build the report as one HTML document (figures inline, no external resources).

    Args:
        results: Experiment results (``kyojosim.load(folder)`` or an object with its attributes).
        lang: ``"ja"`` or ``"en"``.
        comparison: A :func:`kyojosim.analysis.compare.compare` frame of all default metrics (computed when
            not given).
        n_boot: Bootstrap replicates, when the comparison is computed here.
        seed: Bootstrap seed, when the comparison is computed here.
        odd_href: Link to the model description (none: the report names the file instead).

    Returns:
        The HTML text.
    """
    from ..analysis.compare import compare

    check_lang(lang)
    t = TEXT[lang]
    manifest = dict(getattr(results, "manifest", None) or {})
    if comparison is None:
        comparison = compare(results, n_boot=n_boot, seed=seed)
    head = headline(results, comparison)
    baseline = str(getattr(results, "baseline", None) or head["variant"].iloc[0])
    name = str(manifest.get("name") or "experiment")
    design = results.design
    scenarios = list(dict.fromkeys(design["scenario"].astype(str)))
    steps = getattr(results, "steps", None)
    period = ""
    if steps is not None and len(steps):
        period = f"{int(steps['year'].min())}–{int(steps['year'].max())}"
    parts: list[str] = []
    add = parts.append
    add(f"<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_e(t['title'].format(name=name))}</title>\n<style>{CSS}</style>\n</head>\n<body>\n")
    add(f"<h1>{_e(t['title'].format(name=name))}</h1>\n")
    add(f"<h2 id=\"question\">{_e(t['question_h'])}</h2>\n<p>{_e(t['question'].format(baseline=baseline))}</p>\n")

    # setting
    add(f"<h2 id=\"setting\">{_e(t['setting_h'])}</h2>\n")
    factor = scale_factors(results)
    for scenario in scenarios:
        muni, pop, year = _municipality(scenario)
        runs = design[design["scenario"].astype(str) == scenario]
        f = float(factor.reindex(runs["run_id"]).mean()) if len(runs) else 1.0
        reps = int(runs["replicate"].nunique()) if "replicate" in runs.columns else len(runs)
        add("<table class=\"facts\">\n")
        add(f"<tr><th>{_e(t['municipality'])}</th><td>{_e(muni)}</td></tr>\n")
        if pop is not None:
            add(f"<tr><th>{_e(t['population'].format(year=year))}</th><td class=\"num\">{pop:,}</td></tr>\n")
        if period:
            add(f"<tr><th>{_e(t['period'])}</th><td>{_e(period)}</td></tr>\n")
        add(f"<tr><th>{_e(t['replicates'])}</th><td class=\"num\">{reps}</td></tr>\n")
        if f > 0:
            pct = f"{100 / f:.0f}%"
            add(f"<tr><th>{_e(t['scale'])}</th><td>{_e(t['scale_note'].format(pct=pct))}</td></tr>\n")
        add("</table>\n")
    desc = variant_descriptions(manifest, lang)
    add(f"<table class=\"variants\">\n<thead><tr><th>{_e(t['variant'])}</th><th>{_e(t['description'])}</th>"
        f"<th>{_e(t['start'])}</th></tr></thead>\n<tbody>\n")
    starts = head.drop_duplicates("variant").set_index("variant")["intervention_start"]
    for v in dict.fromkeys(head["variant"]):
        tag = t["baseline_tag"] if v == baseline and v.lower() != "baseline" else ""
        s = starts.get(v)
        s_text = t["none"] if s is None or pd.isna(s) else str(int(s))
        add(f"<tr><td>{_e(v)}{_e(tag)}</td><td>{_e(desc.get(v, ''))}</td><td class=\"num\">{_e(s_text)}</td></tr>\n")
    add("</tbody>\n</table>\n")

    # headline table
    add(f"<h2 id=\"headline\">{_e(t['headline_h'])}</h2>\n")
    multi = len(scenarios) > 1
    sub_heads = ("level", "change_pt", "level", "change_pt", "level", "change")
    sc_head = f"<th rowspan=\"2\">{_e(t['scenario'])}</th>" if multi else ""
    add("<table class=\"headline\">\n<thead>\n"
        f"<tr>{sc_head}<th rowspan=\"2\">{_e(t['variant'])}</th>"
        f"<th colspan=\"2\">{_e(t['rate_all'])}</th><th colspan=\"2\">{_e(t['rate_75'])}</th>"
        f"<th colspan=\"2\">{_e(t['tsunagari'])}</th><th colspan=\"3\">{_e(t['money'])}</th></tr>\n"
        f"<tr>{''.join(f'<th>{_e(t[k])}</th>' for k in sub_heads)}"
        f"<th>{_e(t['paid'])}</th><th>{_e(t['subsidy'])}</th><th>{_e(t['cost'])}</th></tr>\n</thead>\n<tbody>\n")
    for r in head.to_dict("records"):
        cells = [f"<td>{_e(r['scenario'])}</td>"] if multi else []
        tag = t["baseline_tag"] if r["is_baseline"] and str(r["variant"]).lower() != "baseline" else ""
        cells.append(f"<td>{_e(r['variant'])}{_e(tag)}</td>")
        for m in ("matching_rate", "matching_rate_age_75plus"):
            cells.append(f"<td class=\"num\">{_pct(r[m])}</td>")
            change = t["none"] if r["is_baseline"] else _pp(r[f"{m}_diff"], r[f"{m}_lo"], r[f"{m}_hi"])
            cells.append(f"<td class=\"num\">{_e(change)}</td>")
        m = "tsunagari_mean"
        cells.append(f"<td class=\"num\">{_idx(r[m])}</td>")
        change = t["none"] if r["is_baseline"] else _idx_diff(r[f"{m}_diff"], r[f"{m}_lo"], r[f"{m}_hi"])
        cells.append(f"<td class=\"num\">{_e(change)}</td>")
        cells.append(f"<td class=\"num\">{_e(_yen(r['paid_by_requesters']))}</td>")
        cells.append(f"<td class=\"num\">{_e(_yen(r['subsidy']))}</td>")
        cells.append(f"<td class=\"num\">{_e(_yen(r['cost_per_extra_match']))}</td>")
        add(f"<tr>{''.join(cells)}</tr>\n")
    add("</tbody>\n</table>\n")
    add(f"<p class=\"note\">{_e(t['headline_note'].format(n_boot=n_boot))}</p>\n")

    # figures
    add(f"<h2 id=\"figures\">{_e(t['figures_h'])}</h2>\n")
    for uri, caption in _figures(results, comparison, lang):
        add(f"<figure><img src=\"{uri}\" alt=\"{_e(caption)}\"><figcaption>{_e(caption)}</figcaption></figure>\n")

    # assumptions
    add(f"<h2 id=\"assumptions\">{_e(t['assumptions_h'])}</h2>\n")
    for key in ("surveyed", "assumed"):
        add(f"<h3>{_e(t[key + '_h'])}</h3>\n<ul>\n")
        for item in t[key]:
            add(f"<li>{_e(item)}</li>\n")
        add("</ul>\n")
    if odd_href:
        add(f"<p>{_e(t['odd'])}<a href=\"{_e(odd_href)}\">docs/ODD.md</a></p>\n")
    else:
        add(f"<p>{_e(t['odd_missing'])}</p>\n")

    # provenance
    runs = manifest.get("runs") or {}
    add(f"<h2 id=\"provenance\">{_e(t['provenance_h'])}</h2>\n<table class=\"facts\">\n")
    add(f"<tr><th>{_e(t['experiment'])}</th><td>{_e(name)}</td></tr>\n")
    if manifest.get("hash"):
        add(f"<tr><th>{_e(t['hash'])}</th><td>{_e(manifest['hash'])}</td></tr>\n")
    if manifest.get("created"):
        add(f"<tr><th>{_e(t['created'])}</th><td>{_e(manifest['created'])}</td></tr>\n")
    if runs:
        value = t["runs_value"].format(done=runs.get("done", 0), failed=runs.get("failed", 0),
                                       pending=runs.get("pending", 0))
        add(f"<tr><th>{_e(t['runs'])}</th><td>{_e(value)}</td></tr>\n")
    version = (manifest.get("versions") or {}).get("kyojosim")
    if version is None:
        from ..runs.results import package_version

        version = package_version()
    add(f"<tr><th>{_e(t['version'])}</th><td>{_e(version)}</td></tr>\n</table>\n")
    add("</body>\n</html>\n")
    page = "".join(parts)
    # embed the Japanese glyphs the page uses (a subset of the font matplotlib-fontja ships), so the
    # report reads on a machine without Japanese fonts; the reader's own fonts come first
    from .webfont import FAMILY, subset_font

    font = base64.b64encode(subset_font(page)).decode("ascii")
    face = f"@font-face {{ font-family: '{FAMILY}'; src: url(data:font/ttf;base64,{font}) format('truetype'); }}\n"
    return page.replace("<style>", "<style>" + face, 1)


def write_report(results: Any, out: str | os.PathLike[str], lang: str = "ja", n_boot: int = 2000,
                 seed: int = 0) -> Path:
    """Write the HTML report to ``out`` atomically (its folder is created if missing).

    Args:
        results: Experiment results.
        out: The HTML file to write.
        lang: ``"ja"`` or ``"en"``.
        n_boot: Bootstrap replicates of the intervals.
        seed: Bootstrap seed.

    Returns:
        The file written.

    Raises:
        ReportError: If the file cannot be written.
    """
    check_lang(lang)
    target = Path(out)
    odd_href = None
    if ODD_PATH.is_file():
        odd_href = Path(os.path.relpath(ODD_PATH, target.resolve().parent)).as_posix()
    text = render_html(results, lang=lang, n_boot=n_boot, seed=seed, odd_href=odd_href)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text(target, text)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {target}: {exc.strerror or exc}") from exc
    return target


__all__ = ["ReportError", "headline", "load_results", "render_html", "resolve_results", "variant_descriptions",
           "write_report"]
