"""Labels of categories, groups and metrics in Japanese and English, for tables, figures and reports."""

from __future__ import annotations

from ..errors import KyojoError
from ..measures.outcomes import METRICS, is_money, is_percent

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

UNITS = {
    "ja": {"rate": "%", "points": "%ポイント", "yen": "円", "index": "指数", "people": "人"},
    "en": {"rate": "%", "points": "percentage points", "yen": "yen", "index": "index", "people": "residents"},
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported language, else raise a :class:`~kyojosim.errors.KyojoError`."""
    if lang not in LANGS:
        raise KyojoError(f"lang: got {lang!r}; allowed: {', '.join(LANGS)}")
    return lang


CHANNEL_LABELS = {
    "ja": {"offline": "対面", "local_sns": "地域SNS", "sharing_platform": "シェアリング", "reporting_hub": "通報窓口"},
    "en": {"offline": "offline", "local_sns": "local SNS", "sharing_platform": "sharing platform",
           "reporting_hub": "reporting hub"},
}


VOCABULARY_LABELS = {"category": CATEGORY_LABELS, "age_group": AGE_GROUP_LABELS,
                     "participation": PARTICIPATION_LABELS, "channel": CHANNEL_LABELS}
"""The labels of the vocabularies that qualify a family of metrics (``Metric.of``)."""


def metric_label(metric: str, lang: str = "ja") -> str:
    """Human label of a summary or weekly metric (``matching_rate_chores`` -> ``マッチング率（家事）``).

    The label is the metric's ``ja``/``en`` label in :data:`kyojosim.measures.outcomes.METRICS`, qualified by the
    member of its vocabulary for a family of metrics (``Metric.of``).

    Args:
        metric: A column name of the summary or steps table.
        lang: ``"ja"`` or ``"en"``.

    Returns:
        The label; the column name itself when the metric is not registered.
    """
    check_lang(lang)
    m = METRICS.get(metric)
    if m is None:
        return metric
    base = m.ja if lang == "ja" else m.en
    if m.of is None:
        return base
    vocabulary, member = m.of
    qualifier = VOCABULARY_LABELS.get(vocabulary, {}).get(lang, {}).get(member, member)
    return f"{base}（{qualifier}）" if lang == "ja" else f"{base} ({qualifier})"


def is_rate(metric: str) -> bool:
    """Whether a metric is a rate or a share between 0 and 1 (shown in percent; its kind in METRICS)."""
    return is_percent(metric)


__all__ = [
    "AGE_GROUP_LABELS",
    "CATEGORY_LABELS",
    "CATEGORY_LABELS_EN",
    "CATEGORY_LABELS_JA",
    "CHANNEL_LABELS",
    "LANGS",
    "PARTICIPATION_LABELS",
    "SEX_LABELS",
    "UNITS",
    "VOCABULARY_LABELS",
    "check_lang",
    "is_money",
    "is_rate",
    "metric_label",
]
