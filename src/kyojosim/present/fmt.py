"""Numbers as the report, the dashboard and the command line show them, in Japanese or English.

Every formatter returns :data:`NONE` (a dash) for a value that is undefined (``nan`` or ``None``), so a
village that empties or a rate with nothing decided shows "—", never "nan" or a made-up 0. Rates and
shares are shown in percent, their differences in points; money in yen, large amounts rounded to
万円/億円 in Japanese and to thousands/millions in English.
"""

from __future__ import annotations

import math
from typing import Any

from ..measures.outcomes import METRICS

NONE = "—"
"""What an undefined value is shown as, in both languages."""


def undefined(x: Any) -> bool:
    """Whether ``x`` is missing: ``None``, ``nan`` or not a number at all."""
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def pct(x: Any, digits: int = 1) -> str:
    """Show a share between 0 and 1 in percent: ``0.4213`` -> ``42.1%``."""
    return NONE if undefined(x) else f"{100 * float(x):.{digits}f}%"


def signed(x: Any, digits: int = 1, factor: float = 1.0) -> str:
    """Show a signed number (``+3.2``, ``-0.4``), times ``factor``."""
    if undefined(x):
        return NONE
    v = factor * float(x)
    if round(v, digits) == 0:
        v = 0.0  # no "-0.0"
    return f"{v:+.{digits}f}"


def interval(lo: Any, hi: Any, lang: str, digits: int = 1, factor: float = 1.0) -> str:
    """Show a signed interval: ``+2.1〜+4.3`` in Japanese, ``+2.1 to +4.3`` in English (dash if undefined)."""
    if undefined(lo) or undefined(hi):
        return NONE
    sep = "〜" if lang == "ja" else " to "
    return f"{signed(lo, digits, factor)}{sep}{signed(hi, digits, factor)}"


def number(x: Any, digits: int = 0) -> str:
    """Show a number with thousands separators (``12,345``; ``3.4`` with ``digits=1``)."""
    return NONE if undefined(x) else f"{float(x):,.{digits}f}"


def yen(x: Any, lang: str) -> str:
    """Show an amount of money: exact below 10,000 yen, else rounded (約1,234万円 / about ¥12.3 million).

    Args:
        x: Yen.
        lang: ``"ja"`` or ``"en"``.
    """
    if undefined(x):
        return NONE
    from .labels import text

    v = float(x)
    sign = "-" if v < 0 else ""
    a = abs(v)
    large, huge = (10_000, 100_000_000) if lang == "ja" else (1_000, 1_000_000)  # 万 and 億, or thousand and million
    if a < 10_000:
        return text("common.yen", lang, n=f"{sign}{a:,.0f}")
    if a < huge:
        return text("common.yen_large", lang, n=f"{sign}{a / large:,.0f}")
    return text("common.yen_huge", lang, n=f"{sign}{a / huge:,.1f}")


def level(metric: str, x: Any) -> str:
    """Show the value of a registered metric by its kind: percent for rates and shares, whole numbers for counts."""
    m = METRICS.get(metric)
    kind = m.kind if m is not None else "index"
    if kind in ("rate", "share"):
        return pct(x)
    if kind in ("money", "count"):
        return number(x)
    return number(x, 1)


def change(metric: str, d: Any) -> str:
    """Show a difference of a registered metric: points for rates and shares, whole numbers for counts and money."""
    m = METRICS.get(metric)
    kind = m.kind if m is not None else "index"
    if kind in ("rate", "share"):
        return signed(d, 1, 100.0)
    if kind in ("money", "count"):
        if undefined(d):
            return NONE
        return f"{float(d):+,.0f}"
    return signed(d, 1)


def change_interval(metric: str, lo: Any, hi: Any, lang: str) -> str:
    """Show the interval of a difference of a registered metric, in the unit of :func:`change`."""
    m = METRICS.get(metric)
    kind = m.kind if m is not None else "index"
    if kind in ("rate", "share"):
        return interval(lo, hi, lang, 1, 100.0)
    if kind in ("money", "count"):
        if undefined(lo) or undefined(hi):
            return NONE
        sep = "〜" if lang == "ja" else " to "
        return f"{float(lo):+,.0f}{sep}{float(hi):+,.0f}"
    return interval(lo, hi, lang, 1)


__all__ = ["NONE", "change", "change_interval", "interval", "level", "number", "pct", "signed", "undefined", "yen"]
