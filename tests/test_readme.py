"""The README stays a short entry page, every link of the README and of docs/ resolves, and the
licence, notice and citation files are there and agree with pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

import kyojosim
from kyojosim.distribution import HOMEPAGE

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "notebooks" / "README.md"]
MAX_README_BYTES = 8 * 1024
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def slug(heading: str) -> str:
    """The anchor a Markdown heading gets (GitHub's rule: lower case, punctuation dropped, spaces to -)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


def links(path: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8")))


def test_readme_is_short():
    size = len(README.read_bytes())
    assert size <= MAX_README_BYTES, f"README.md is {size:,} bytes; keep it under 8 KB and move detail to docs/"


def test_readme_starts_with_the_two_commands_and_links_the_docs():
    text = README.read_text(encoding="utf-8")
    first_block = FENCE.search(text).group(0)
    assert "make run" in first_block and "make test" in first_block
    targets = set(links(README))
    for page in ("docs/ODD.md", "docs/validation.md", "docs/benchmarks.md", "docs/scenarios.md", "docs/experiments.md",
                 "docs/japan.md", "docs/dashboard.md", "docs/install.md"):
        assert any(t.split("#")[0] == page for t in targets), f"README.md does not link {page}"
    for heading in ("What `make run` prints, and how to read it", "Install", "In a notebook"):
        assert f"## {heading}" in text


def test_slug_follows_the_markdown_rule():
    assert slug("7.17 Parameter table") == "717-parameter-table"
    assert slug("A scenario for any municipality: `kyojosim new`") == "a-scenario-for-any-municipality-kyojosim-new"
    assert slug("The 2008 → 2017 experiment and the fit") == "the-2008--2017-experiment-and-the-fit"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(page):
    broken = []
    for target in links(page):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no heading #{anchor} in {path.name}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_readme_notebook_example_uses_the_public_api():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    compile(block, "README.md", "exec")
    assert len(block.strip().splitlines()) <= 12
    for name in set(re.findall(r"kyojosim\.(\w+)\(", block)):
        assert hasattr(kyojosim, name), f"README uses kyojosim.{name}, which does not exist"


def test_licence_notice_and_font_licence():
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert _pyproject()["project"]["license"] == "MIT"
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    assert "IPA Font License Agreement v1.0" in notice and "LICENSES/IPA_Font_License.txt" in notice
    ipa = (ROOT / "LICENSES" / "IPA_Font_License.txt").read_text(encoding="utf-8")
    assert "IPA Font License Agreement v1.0" in ipa and "Article 3 (Restriction)" in ipa
    # the text as the font's own package ships it
    fontja = pytest.importorskip("matplotlib_fontja")
    shipped = Path(fontja.__file__).parent / "fonts" / "IPA_Font_License_Agreement_v1.0.txt"
    if shipped.is_file():
        assert shipped.read_text(encoding="utf-8-sig").replace("\r\n", "\n").strip() == ipa.strip()


def test_citation_cff_is_valid_and_current():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "version", "license", "type"):
        assert cff.get(key), f"CITATION.cff: {key} missing"
    assert all(isinstance(a, dict) and (a.get("name") or a.get("family-names")) for a in cff["authors"])
    project = _pyproject()["project"]
    assert str(cff["version"]) == project["version"] and cff["license"] == project["license"]
    assert cff["repository-code"] == HOMEPAGE == project["urls"]["Homepage"]


def test_changelog_has_an_unreleased_section():
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
