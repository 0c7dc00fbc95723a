"""Labels of categories, groups and metrics in Japanese and English, for tables, figures and reports."""

from __future__ import annotations

from .errors import KyojoError

LANGS: tuple[str, ...] = ("ja", "en")

CATEGORY_LABELS_JA = {
    "chores": "家事", "mobility": "移動", "shopping": "買い物", "information": "情報収集",
    "sick_care": "看病", "family_care": "介護", "childcare": "育児", "consultation": "相談",
    "all": "全体", "75plus": "75歳以上",
}
"""The eight categories of need (図表4-3-4-2), ``all`` and residents 75+, in Japanese."""

CATEGORY_LABELS_EN = {
    "chores": "chores", "mobility": "mobility", "shopping": "shopping", "information": "information",
    "sick_care": "sick care", "family_care": "family care", "childcare": "childcare",
    "consultation": "consultation", "all": "overall", "75plus": "aged 75+",
}

CATEGORY_LABELS = {"ja": CATEGORY_LABELS_JA, "en": CATEGORY_LABELS_EN}

AGE_GROUP_LABELS = {
    "ja": {"under65": "65歳未満", "65to74": "65〜74歳", "75plus": "75歳以上"},
    "en": {"under65": "under 65", "65to74": "65-74", "75plus": "75+"},
}

PARTICIPATION_LABELS = {
    "ja": {"none": "参加なし", "offline_only": "現実のみ", "both": "現実とネット両方", "online_only": "ネットのみ"},
    "en": {"none": "none", "offline_only": "real-world only", "both": "both", "online_only": "online only"},
}
"""Community participation groups of 図表4-3-5-2 (real-world and online communities)."""

SEX_LABELS = {"ja": {"male": "男性", "female": "女性"}, "en": {"male": "men", "female": "women"}}

METRIC_LABELS = {
    "ja": {
        "matching_rate": "マッチング率",
        "tsunagari_mean": "つながり力",
        "needs_matched": "マッチしたニーズ",
        "needs_arisen": "発生したニーズ",
        "needs_lapsed": "失効したニーズ",
        "paid_by_requesters": "依頼者の支払",
        "subsidy": "補助金",
        "received_by_helpers": "支援者の受取",
        "population": "人口",
        "share_65plus": "65歳以上の割合",
        "share_75plus": "75歳以上の割合",
        "hours_given": "支援時間",
        "isolated": "孤立した住民",
        "ties": "つながりの数",
        "households": "世帯数",
    },
    "en": {
        "matching_rate": "matching rate",
        "tsunagari_mean": "つながり力 (connection power)",
        "needs_matched": "needs matched",
        "needs_arisen": "needs arisen",
        "needs_lapsed": "needs lapsed",
        "paid_by_requesters": "paid by requesters",
        "subsidy": "subsidy",
        "received_by_helpers": "received by helpers",
        "population": "population",
        "share_65plus": "share aged 65+",
        "share_75plus": "share aged 75+",
        "hours_given": "hours of help given",
        "isolated": "isolated residents",
        "ties": "ties",
        "households": "households",
    },
}

UNITS = {
    "ja": {"rate": "%", "points": "%ポイント", "yen": "円", "index": "指数", "people": "人"},
    "en": {"rate": "%", "points": "percentage points", "yen": "yen", "index": "index", "people": "residents"},
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported language, else raise a :class:`~kyojosim.errors.KyojoError`."""
    if lang not in LANGS:
        raise KyojoError(f"lang: got {lang!r}; allowed: {', '.join(LANGS)}")
    return lang


def metric_label(metric: str, lang: str = "ja") -> str:
    """Human label of a summary or weekly metric (``matching_rate_chores`` -> ``マッチング率（家事）``).

    Args:
        metric: A column name of the summary or steps table.
        lang: ``"ja"`` or ``"en"``.

    Returns:
        The label; the column name itself when no label is known.
    """
    check_lang(lang)
    names = METRIC_LABELS[lang]
    if metric in names:
        return names[metric]

    def qualified(base: str, qualifier: str) -> str:
        return f"{base}（{qualifier}）" if lang == "ja" else f"{base} ({qualifier})"

    if metric.startswith("matching_rate_age_"):
        g = metric.removeprefix("matching_rate_age_")
        return qualified(names["matching_rate"], AGE_GROUP_LABELS[lang].get(g, g))
    if metric.startswith("matching_rate_"):
        c = metric.removeprefix("matching_rate_")
        return qualified(names["matching_rate"], CATEGORY_LABELS[lang].get(c, c))
    if metric.startswith("tsunagari_"):
        g = metric.removeprefix("tsunagari_")
        base = "つながり力"
        return qualified(base, PARTICIPATION_LABELS[lang].get(g, g))
    if metric.startswith("matched_"):
        ch = metric.removeprefix("matched_")
        return qualified(names["needs_matched"], CHANNEL_LABELS[lang].get(ch, ch))
    return metric


CHANNEL_LABELS = {
    "ja": {"offline": "対面", "local_sns": "地域SNS", "sharing_platform": "シェアリング", "reporting_hub": "通報窓口"},
    "en": {"offline": "offline", "local_sns": "local SNS", "sharing_platform": "sharing platform",
           "reporting_hub": "reporting hub"},
}


def is_rate(metric: str) -> bool:
    """Whether a metric is a share between 0 and 1 (shown in percent)."""
    return metric.startswith(("matching_rate", "share_", "unmet_"))


def is_money(metric: str) -> bool:
    """Whether a metric is an amount of money in yen."""
    return metric in ("paid_by_requesters", "subsidy", "received_by_helpers")


__all__ = [
    "AGE_GROUP_LABELS",
    "CATEGORY_LABELS",
    "CATEGORY_LABELS_EN",
    "CATEGORY_LABELS_JA",
    "CHANNEL_LABELS",
    "LANGS",
    "METRIC_LABELS",
    "PARTICIPATION_LABELS",
    "SEX_LABELS",
    "UNITS",
    "check_lang",
    "is_money",
    "is_rate",
    "metric_label",
]
