"""How results show themselves in a notebook: short HTML summaries (``_repr_html_``).

:class:`~kyojosim.runs.results.RunResult` and :class:`~kyojosim.runs.store.ExperimentResults` return
these from ``_repr_html_``, so that a result as the last line of a Jupyter cell shows what was run,
a few headline metrics and the tables it holds, instead of a one-line ``repr``. Values are formatted
by their kind in :data:`kyojosim.measures.outcomes.METRICS` (rates in percent, counts and yen with
thousands separators, indices with one decimal).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..measures.outcomes import METRICS

HEADLINE = ("matching_rate", "matching_rate_age_75plus", "tsunagari_mean", "needs_arisen", "needs_matched",
            "paid_by_requesters", "subsidy", "population_start", "population_end", "share_65plus_end")
"""The summary metrics a result shows, in this order (those it has)."""
BY_VARIANT = ("matching_rate", "matching_rate_age_75plus", "tsunagari_mean", "needs_matched", "paid_by_requesters")
"""The summary metrics an experiment shows per variant (mean over its runs)."""


def metric_text(name: str, value: Any) -> str:
    """Format a summary value as its metric's kind says (``0.158`` → ``15.8%``; ``2078`` → ``2,078``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    metric = METRICS.get(name)
    kind = metric.kind if metric is not None else ("share" if name.startswith("share_") else "count")
    if kind in ("rate", "share"):
        return f"{100 * float(value):.1f}%"
    if kind == "money":
        return f"¥{float(value):,.0f}"
    if kind == "index":
        return f"{float(value):.1f}"
    return f"{float(value):,.0f}"


def metric_label(name: str) -> str:
    """Return the English label of a metric (its name if it is not in :data:`METRICS`)."""
    metric = METRICS.get(name)
    if metric is None:
        return name
    if metric.of is None:
        return metric.en
    vocabulary, member = metric.of
    member = member.replace("plus", "+").replace("under", "under ").replace("to", "-").replace("_", " ")
    return f"{metric.en} (age {member})" if vocabulary == "age_group" else f"{metric.en} ({member})"


def html_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Return a small HTML table; every cell is escaped."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def tables_line(tables: Mapping[str, pd.DataFrame]) -> str:
    """``years (2 rows), steps (54 rows), ...`` for the tables of a result."""
    return ", ".join(f"{name} ({len(df):,} rows)" for name, df in tables.items())


def card(title: str, lines: Sequence[str], blocks: Sequence[str] = ()) -> str:
    """Return the summary: a bold title, lines of text (escaped) and HTML blocks (tables, already escaped)."""
    text = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    return f"<div class=\"kyojosim-summary\"><b>{html.escape(title)}</b>{text}{''.join(blocks)}</div>"


__all__ = ["BY_VARIANT", "HEADLINE", "card", "html_table", "metric_label", "metric_text", "tables_line"]
