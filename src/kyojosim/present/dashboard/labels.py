"""Japanese labels of the dashboard (categories, groups, interventions, controls)."""

from __future__ import annotations

from ..labels import CATEGORY_LABELS_JA

CATEGORY_JA: dict[str, str] = {k: v for k, v in CATEGORY_LABELS_JA.items() if k not in ("all", "75plus")}
"""The eight kinds of everyday trouble (困りごと), in Japanese."""
ALL_JA = CATEGORY_LABELS_JA["all"]

PARTICIPATION_JA: dict[str, str] = {
    "none": "どこにも不参加",
    "offline_only": "地域活動のみ",
    "both": "地域＋オンライン",
    "online_only": "オンラインのみ",
}
"""Participation groups (図表4-3-5-2): in no community, real-world only, both, online only."""

INTERVENTION_JA: dict[str, str] = {
    "local_sns": "地域SNS",
    "sharing_platform": "有償シェアサービス",
    "reporting_hub": "地域の通報窓口",
    "offline_events": "オフライン交流会",
}
"""The four interventions of 図表4-3-4-4, as the controls name them."""

WITH_JA = "施策あり（設定どおり）"
BASELINE_JA = "施策なし（比較用・同じ乱数）"

PERIODS: dict[str, int] = {"1か月": 1, "3か月": 3, "1年": 12}
"""Length of one dashboard step (label: months)."""

__all__ = ["ALL_JA", "BASELINE_JA", "CATEGORY_JA", "INTERVENTION_JA", "PARTICIPATION_JA", "PERIODS", "WITH_JA"]
