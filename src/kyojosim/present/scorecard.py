"""The validation scorecard on one page (HTML, Japanese or English) and as a terminal table.

:func:`write_html` writes ``scorecard-ja.html`` or ``scorecard-en.html``: one self-contained page (inline
CSS, the Japanese glyphs it uses embedded as a subset font, :mod:`kyojosim.present.webfont`; no script,
no image file, no external resource, so it can be mailed) with one row per target and a small chart
per target: the band (grey), the published value (a black tick) and the model's mean with its 95%
interval over seeds (green when the mean is in the band, red when not). :func:`format_table` prints the
same table in a terminal.

For the policy report: :func:`find_scorecard` finds the scorecard of a given kyojosim version in the
folders where scorecards are written (``results/scorecard`` by default, or any folder holding a
``scorecard.json``), so a report can link the scorecard of the model version that produced its
results::

    from kyojosim.present.scorecard import find_scorecard
    ref = find_scorecard(version=results.manifest["versions"]["kyojosim"], lang="ja")
    if ref is not None:
        link = ref.html            # the page; ref.counts: passes by role; ref.matches(digests)
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis.scorecard import FORMAT, ROLES, Scorecard, ScorecardError
from ..atomic import write_text
from .labels import LANGS, check_lang, texts

DEFAULT_FOLDER = Path("results") / "scorecard"
"""Where ``kyojosim scorecard`` writes by default, and where :func:`find_scorecard` looks first."""

TEXT: dict[str, dict[str, str]] = {lang: texts("scorecard", lang) for lang in LANGS}
"""The page's and the table's texts by language (``texts.scorecard`` of the glossary)."""


# --------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------


def decimals(row: Mapping[str, Any]) -> int:
    """Decimals to show a target's numbers with: about three significant digits of its band's width."""
    lo, hi = row.get("band_lo"), row.get("band_hi")
    ref = [abs(float(v)) for v in (lo, hi, row.get("mean")) if _finite(v)]
    width = float(hi) - float(lo) if _finite(lo) and _finite(hi) else (max(ref) if ref else 1.0)
    if width <= 0:
        width = max(ref) if ref else 1.0
    return int(min(3, max(0, 2 - math.floor(math.log10(width))))) if width > 0 else 1


def _finite(v: Any) -> bool:
    try:
        return v is not None and not pd.isna(v) and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def number(v: Any, digits: int) -> str:
    """Format a number with ``digits`` decimals and thousands separators (``—`` when missing)."""
    if not _finite(v):
        return "—"
    return f"{float(v):,.{digits}f}"


def model_text(row: Mapping[str, Any]) -> str:
    """``mean [lo, hi]`` of a row of the scorecard table."""
    d = decimals(row)
    return f"{number(row['mean'], d)} [{number(row['ci_lo'], d)}, {number(row['ci_hi'], d)}]"


def band_text(row: Mapping[str, Any]) -> str:
    """Return the band of a row: ``lo – hi``, ``≥ lo`` or ``≤ hi``."""
    d = decimals(row)
    lo, hi = row.get("band_lo"), row.get("band_hi")
    if _finite(lo) and _finite(hi):
        return f"{number(lo, d)} – {number(hi, d)}"
    return f"≥ {number(lo, d)}" if _finite(lo) else f"≤ {number(hi, d)}"


def seeds_text(row: Mapping[str, Any]) -> str:
    """``used/needed`` (``used/—`` when the interval never got narrow enough)."""
    needed = row.get("needed")
    return f"{int(row['seeds'])}/{int(needed) if _finite(needed) else '—'}"


# --------------------------------------------------------------------------------------
# the chart
# --------------------------------------------------------------------------------------

WIDTH, HEIGHT = 200, 26


def band_chart(row: Mapping[str, Any], lang: str = "en") -> str:
    """Return an inline SVG: the band, the published value and the model's mean with its interval.

    A one-sided band runs to the edge of the chart. Text in the SVG is only its ``<title>`` (a tooltip).
    """
    values = [row.get(k) for k in ("band_lo", "band_hi", "mean", "ci_lo", "ci_hi", "published")]
    finite = [float(v) for v in values if _finite(v)]
    if not finite:
        return ""
    lo, hi = min(finite), max(finite)
    span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.1
    lo, hi = lo - 0.12 * span, hi + 0.12 * span
    pad = 6

    def x(v: float) -> float:
        return pad + (float(v) - lo) / (hi - lo) * (WIDTH - 2 * pad)

    b_lo = x(row["band_lo"]) if _finite(row.get("band_lo")) else 0.0
    b_hi = x(row["band_hi"]) if _finite(row.get("band_hi")) else float(WIDTH)
    ok = row.get("result") == "pass"
    colour = "#1a7f37" if ok else "#c62828"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img">',
             f"<title>{html.escape(_chart_title(row, lang))}</title>",
             f'<line x1="0" y1="{HEIGHT / 2}" x2="{WIDTH}" y2="{HEIGHT / 2}" stroke="#bbb" stroke-width="1"/>',
             f'<rect x="{b_lo:.1f}" y="4" width="{max(b_hi - b_lo, 1.0):.1f}" height="{HEIGHT - 8}" fill="#d9d9d9"/>']
    if _finite(row.get("published")):
        px = x(row["published"])
        parts.append(f'<line x1="{px:.1f}" y1="2" x2="{px:.1f}" y2="{HEIGHT - 2}" stroke="#000" stroke-width="1.5"/>')
    if _finite(row.get("ci_lo")) and _finite(row.get("ci_hi")):
        parts.append(f'<line x1="{x(row["ci_lo"]):.1f}" y1="{HEIGHT / 2}" x2="{x(row["ci_hi"]):.1f}" '
                     f'y2="{HEIGHT / 2}" stroke="{colour}" stroke-width="3"/>')
    if _finite(row.get("mean")):
        parts.append(f'<circle cx="{x(row["mean"]):.1f}" cy="{HEIGHT / 2}" r="3.5" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _chart_title(row: Mapping[str, Any], lang: str) -> str:
    t = TEXT[lang]
    return f"{t['model_h']}: {model_text(row)}; {t['band_h']}: {band_text(row)}"


def _legend_svg() -> str:
    row = {"band_lo": 2.0, "band_hi": 6.0, "published": 4.0, "mean": 4.6, "ci_lo": 3.9, "ci_hi": 5.3,
           "result": "pass"}
    return band_chart(row).replace(f'width="{WIDTH}"', 'width="110"', 1)


# --------------------------------------------------------------------------------------
# the page
# --------------------------------------------------------------------------------------


def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("kyojosim", "present/templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                              lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def render_html(card: Scorecard, lang: str = "ja") -> str:
    """Return the scorecard page in ``lang`` (``ja`` or ``en``) as one self-contained HTML text."""
    from markupsafe import Markup

    from .webfont import FAMILY, subset_font

    check_lang(lang)
    t = TEXT[lang]
    table = card.table()
    settings = card.manifest["settings"]
    texts = dict(t)
    texts["reading"] = t["reading"].format(precision=settings["precision"], max_seeds=card.manifest["max_seeds"],
                                           min_seeds=settings["min_seeds"], first_seed=settings["first_seed"])
    urls = {s.target.id: s.target.source.get("url") for s in card.scores}
    groups: dict[str, list[dict[str, Any]]] = {r: [] for r in ROLES}
    for row in table.to_dict("records"):
        d = decimals(row)
        groups[row["role"]].append({
            "id": row["id"], "description": row[f"description_{lang}"], "source": row["source"],
            "source_year": row["source_year"], "url": urls.get(row["id"]),
            "model": model_text(row), "unit": row["unit"], "band": band_text(row),
            "basis": row["band_basis_ja"] if lang == "ja" else row["band_basis"],
            "published": number(row["published"], d) if _finite(row["published"]) else "",
            "chart": Markup(band_chart(row, lang)), "result": t[row["result"]],
            "result_class": row["result"].replace(" ", ""), "seeds": seeds_text(row),
            "parameters": row["parameters"],
        })
    runs = [{"name": name, "text": t["run_text"].format(
        scenario=info["scenario"], scale=info["scale"], years=info["years"],
        seeds=_seed_range(info["seeds"]))} for name, info in card.manifest["runs"].items()]
    command = card.manifest.get("command")
    page = _environment().get_template("scorecard.html.j2").render(
        lang=lang, t=texts, version=card.manifest["kyojosim_version"], roles=ROLES, counts=card.counts(),
        groups=groups, legend_svg=Markup(_legend_svg()), created=card.manifest["created"],
        command=" ".join(command) if command else "", targets_digest=card.manifest["targets_digest"],
        scenario_digests=sorted(card.manifest["scenario_digests"].items()), runs=runs, family=FAMILY,
        font_face="FONT_FACE_PLACEHOLDER",
    )
    # embed the Japanese glyphs the page uses (a subset of the font matplotlib-fontja ships)
    font = base64.b64encode(subset_font(page)).decode("ascii")
    face = f"@font-face {{ font-family: '{FAMILY}'; src: url(data:font/ttf;base64,{font}) format('truetype'); }}"
    return page.replace("FONT_FACE_PLACEHOLDER", face, 1)


def _seed_range(seeds: Sequence[int]) -> str:
    if not seeds:
        return "—"
    return f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]} ({len(seeds)})"


def write_html(card: Scorecard, out: str | os.PathLike[str], lang: str = "ja") -> Path:
    """Write ``scorecard-<lang>.html`` into the folder ``out`` (created), atomically; return its path.

    Raises:
        ScorecardError: If the file cannot be written.
    """
    folder = Path(out)
    path = folder / f"scorecard-{check_lang(lang)}.html"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_text(path, render_html(card, lang))
    except OSError as exc:
        raise ScorecardError(f"--out: cannot write {path}: {exc.strerror or exc}") from exc
    return path


# --------------------------------------------------------------------------------------
# the terminal
# --------------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns, with an ellipsis if it was cut."""
    if _width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(width - _width(text), 0)
    return fill + text if right else text + fill


def format_table(card: Scorecard, lang: str = "en") -> str:
    """Return the scorecard as a text table: target, source (year), role, model, band, result, seeds."""
    t = TEXT[check_lang(lang)]
    table = card.table()
    head = [t["result_h"], t["role_h"], "id", t["model_h"], t["band_short"], t["seeds_h"], t["source_h"], t["target_h"]]
    rows = []
    for row in table.to_dict("records"):
        rows.append([t[row["result"]], t[row["role"]], row["id"], model_text(row), band_text(row),
                     seeds_text(row), _cut(str(row["source_short"]), 30) + f" ({row['source_year']})",
                     _cut(row[f"description_{lang}"], 44)])
    widths = [max(_width(h), *(_width(r[i]) for r in rows)) for i, h in enumerate(head)]
    right = {3, 4, 5}
    lines = ["  ".join(_pad(h, w, i in right) for i, (h, w) in enumerate(zip(head, widths)))]
    lines += ["  ".join(_pad(v, w, i in right) for i, (v, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def summary_line(card: Scorecard, lang: str = "en") -> str:
    """One line: passes by role."""
    c = card.counts()
    return TEXT[check_lang(lang)]["summary_line"].format(
        cal_pass=c["calibration"]["pass"], cal_total=c["calibration"]["total"], val_pass=c["validation"]["pass"],
        val_total=c["validation"]["total"])


# --------------------------------------------------------------------------------------
# finding the scorecard of a model version (for the policy report)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorecardRef:
    """A scorecard written by ``kyojosim scorecard``, found by :func:`find_scorecard`.

    Attributes:
        folder: Its folder.
        manifest: Its ``scorecard.json``.
        html: Its page in the language asked for (``None`` if that page is missing).
        csv: Its ``scorecard.csv``.
    """

    folder: Path
    manifest: Mapping[str, Any] = field(repr=False)
    html: Path | None
    csv: Path

    @property
    def version(self) -> str:
        """The kyojosim version that was scored."""
        return str(self.manifest.get("kyojosim_version"))

    @property
    def counts(self) -> Mapping[str, Mapping[str, int]]:
        """Targets that pass, and all targets, by role (``{"validation": {"pass": 6, "total": 15}, ...}``)."""
        return self.manifest.get("counts") or {}

    @property
    def fast(self) -> bool:
        """Whether only the fast subset was scored."""
        return bool(self.manifest.get("fast"))

    def matches(self, digests: Iterable[str]) -> bool:
        """Whether every digest given is the digest of a scenario the scorecard ran (its base scenarios)."""
        own = set((self.manifest.get("scenario_digests") or {}).values())
        own |= {r.get("scenario_digest") for r in (self.manifest.get("runs") or {}).values()}
        return set(digests) <= own


def read_scorecard(folder: str | os.PathLike[str], lang: str = "ja") -> ScorecardRef | None:
    """Return the scorecard in ``folder`` (``None`` if it holds no readable ``scorecard.json``)."""
    path = Path(folder) / "scorecard.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return None
    page = path.parent / f"scorecard-{lang}.html"
    return ScorecardRef(path.parent, manifest, page if page.is_file() else None, path.parent / "scorecard.csv")


def find_scorecard(version: str | None = None, search: Sequence[str | os.PathLike[str]] = (DEFAULT_FOLDER,),
                   lang: str = "ja", full: bool = True) -> ScorecardRef | None:
    """Find the newest scorecard of a kyojosim version, for a report to link.

    Looks in each folder of ``search`` and in its subfolders (one level) for a ``scorecard.json``.

    Args:
        version: The kyojosim version whose scorecard is wanted (``None``: any).
        search: Folders to look in (default ``results/scorecard``).
        lang: The language of the page to return.
        full: Only scorecards of every target (not the fast subset).

    Returns:
        The newest matching scorecard (by its ``created`` time), or ``None``.
    """
    found: list[ScorecardRef] = []
    for root in search:
        base = Path(root)
        candidates = [base, *sorted(p for p in base.iterdir() if p.is_dir())] if base.is_dir() else []
        for folder in candidates:
            ref = read_scorecard(folder, lang)
            if ref is None or (version is not None and ref.version != str(version)) or (full and ref.fast):
                continue
            found.append(ref)
    if not found:
        return None
    return max(found, key=lambda r: str(r.manifest.get("created", "")))


__all__ = ["DEFAULT_FOLDER", "TEXT", "ScorecardRef", "band_chart", "find_scorecard", "format_table",
           "read_scorecard", "render_html", "summary_line", "write_html"]
