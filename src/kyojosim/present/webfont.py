"""A Japanese web font for the dashboard page and the HTML report, cut from the font matplotlib_fontja ships.

A browser on a machine without Japanese fonts draws 山江村 as empty boxes. The page and the report
therefore carry their own font: IPAexGothic (:mod:`matplotlib_fontja`'s bundled font, under the IPA Font
License), cut down with :mod:`fontTools.subset` to the characters the page shows and embedded
as a data URL in a CSS ``@font-face`` rule (tens of kilobytes, instead of the whole 4 MB font).
"""

from __future__ import annotations

import base64
import functools
import io
from pathlib import Path

FAMILY = "KyojoJP"
"""CSS family name of the embedded font."""


def font_path() -> Path:
    """Return the path of the IPAexGothic font file that matplotlib_fontja ships."""
    import matplotlib_fontja

    return Path(matplotlib_fontja.__file__).resolve().parent / "fonts" / "ipaexg.ttf"


def subset_font(text: str) -> bytes:
    """Return a TrueType font with only the glyphs of the non-ASCII characters of ``text``."""
    return _subset("".join(sorted({ch for ch in text if ord(ch) > 127})) or "・")


@functools.lru_cache(maxsize=8)
def _subset(chars: str) -> bytes:
    """Cut the font down to ``chars`` (cached by the set of characters, not by the page that uses them)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(font_path())
    sub = subset.Subsetter(options)
    sub.populate(text=chars)
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def font_css(text: str) -> str:
    """Return CSS that embeds the font for ``text`` and puts it after Roboto in the page's fonts.

    Latin letters and digits keep the page's own font (Roboto); the browser falls back to the
    embedded font for the Japanese characters.
    """
    data = base64.b64encode(subset_font(text)).decode("ascii")
    return (
        f"@font-face {{ font-family: '{FAMILY}'; src: url(data:font/ttf;base64,{data}) format('truetype'); }}\n"
        f".v-application, .v-application .text-h6, .v-application .title, body {{ "
        f"font-family: Roboto, '{FAMILY}', sans-serif !important; }}\n"
    )


__all__ = ["FAMILY", "font_css", "font_path", "subset_font"]

