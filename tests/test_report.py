"""The HTML report and the compare/report commands (kyojosim.present.report, kyojosim.cli)."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiment_results import shared_results
from kyojosim import cli
from kyojosim.present import report
from kyojosim.present.report import ReportError, render_html, resolve_results, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


class Page(HTMLParser):
    """Collects headings, tables (rows of cell texts), images and links of a page."""

    def __init__(self):
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.tables: list[dict] = []
        self.imgs: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self._heading: str | None = None
        self._text: list[str] = []
        self._section: str | None = None
        self._cell: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("h1", "h2", "h3"):
            self._heading, self._text = tag, []
        elif tag == "table":
            self.tables.append({"class": a.get("class", ""), "head": [], "body": []})
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr":
            self.tables[-1]["head" if self._section == "thead" else "body"].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.imgs.append(a.get("src", ""))
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])

    def handle_endtag(self, tag):
        if tag == self._heading:
            self.headings.append((tag, "".join(self._text).strip()))
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["head" if self._section == "thead" else "body"][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag in ("thead", "tbody"):
            self._section = None

    def handle_data(self, data):
        self.text.append(data)
        if self._heading:
            self._text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture(scope="module")
def res():
    return shared_results()


@pytest.fixture(scope="module")
def pages(res, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    files = {lang: write_report(res, out / f"report-{lang}.html", lang=lang, n_boot=300) for lang in ("ja", "en")}
    return {lang: (path, path.read_text(encoding="utf-8")) for lang, path in files.items()}


def headline_table(page: Page) -> dict:
    return next(t for t in page.tables if t["class"] == "headline")


def test_report_parses_and_has_a_headline_row_per_variant(res, pages):
    for lang, (_, text) in pages.items():
        page = parse(text)
        table = headline_table(page)
        assert [row[0].split("（")[0].split(" (")[0] for row in table["body"]] == res.variants, lang
        platform = table["body"][1]
        # level, change [interval] of the matching rate: the platform's change is positive with its interval
        assert re.fullmatch(r"\+\d+\.\d \[\+\d+\.\d, \+\d+\.\d\]", platform[2]), platform
        assert platform[7].startswith("¥") and platform[8].startswith("¥") and platform[9].startswith("¥")
        assert table["body"][0][2] == "—"  # the baseline has no change from itself


def test_report_is_self_contained(pages):
    for lang, (path, text) in pages.items():
        page = parse(text)
        assert len(page.imgs) == 5, lang
        for src in page.imgs:
            assert src.startswith("data:image/png;base64,")
            assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_MAGIC
        assert not [s for s in page.srcs if not s.startswith("data:")]
        assert not re.search(r"<(link|script)\b", text)
        # the only url() is the embedded Japanese font (a data: URL, no request)
        assert re.findall(r"url\(([a-z]+):", text) == ["data"]
        assert "font-family: 'KyojoJP'" in text
        # the only link is the model description, relative to the report, and it resolves
        assert len(page.hrefs) == 1 and page.hrefs[0].endswith("docs/ODD.md")
        assert not page.hrefs[0].startswith(("http:", "https:"))
        assert (path.parent / page.hrefs[0]).resolve() == report.ODD_PATH
        # written atomically: no temporary file left beside it
        assert not list(path.parent.glob(".*.tmp"))


def test_japanese_and_english_versions_are_translated(pages):
    ja, en = parse(pages["ja"][1]), parse(pages["en"][1])
    ja_h2 = [h for tag, h in ja.headings if tag == "h2"]
    en_h2 = [h for tag, h in en.headings if tag == "h2"]
    assert ja_h2 == ["問い", "対象自治体と比較する施策", "主な結果", "図", "モデルの主な仮定", "実行の記録"]
    assert en_h2 == ["The question", "Municipality and variants", "Headline results", "Figures",
                     "Main assumptions of the model", "Provenance"]
    for tag, h in en.headings:
        assert tag == "h1" or not JAPANESE.search(h), h
    en_head = " ".join(" ".join(row) for row in headline_table(en)["head"])
    assert "Matching rate, aged 75+" in en_head and "cost per additional matched need" in en_head
    ja_head = " ".join(" ".join(row) for row in headline_table(ja)["head"])
    assert "マッチング率（75歳以上）" in ja_head and "追加マッチ1件あたり費用" in ja_head
    assert "山江村" in pages["ja"][1] and "Yamae village" in pages["en"][1]
    assert pages["ja"][1] != pages["en"][1]


def test_render_rejects_an_unknown_language(res):
    with pytest.raises(report.KyojoError, match="lang: got 'de'"):
        render_html(res, lang="de")


# -- resolving RESULTS_OR_EXPERIMENT and the commands ----------------------------------------


def test_resolve_results(tmp_path, monkeypatch):
    assert resolve_results(tmp_path) == tmp_path
    with pytest.raises(ReportError, match="no such results folder"):
        resolve_results(tmp_path / "missing")
    with pytest.raises(ReportError, match="no such experiment file"):
        resolve_results(tmp_path / "missing.yaml")


@pytest.mark.parametrize("command", ["compare", "report"])
def test_commands_on_a_missing_folder_exit_2(command, tmp_path, capsys):
    assert cli.main([command, str(tmp_path / "no" / "such")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_compare_and_report_commands_write_into_the_results_folder(res, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "results" / "yamae-test"
    folder.mkdir(parents=True)
    monkeypatch.setattr(report, "load_results", lambda target: (Path(target), res))
    assert cli.main(["compare", str(folder), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "matching_rate" in out and "platform" in out
    table = pd.read_csv(folder / "comparison" / "comparison.csv")
    assert set(table["variant"]) == {"platform"} and "matching_rate_age_75plus" in set(table["metric"])
    for name in cli.COMPARE_FIGURES:
        assert (folder / "comparison" / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
    assert cli.main(["report", str(folder), "--lang", "en", "-q"]) == 0
    assert (folder / "report-en.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_headline_numbers_are_scaled_to_the_municipality(res):
    head = report.headline(res, n_boot=200).set_index("variant")
    assert list(head.index) == res.variants
    factor = report.scale_factors(res)
    assert factor.round(6).unique().tolist() == [pytest.approx(1 / 0.3, rel=1e-3)]
    s = res.summary.set_index("run_id")
    runs = res.design.loc[res.design["variant"] == "platform", "run_id"]
    base = res.design.loc[res.design["variant"] == "baseline", "run_id"]
    paid = (s.loc[runs, "paid_by_requesters"] * factor[runs]).mean()
    subsidy = (s.loc[runs, "subsidy"] * factor[runs]).mean()
    extra = (s.loc[runs, "needs_matched"].mean() - s.loc[base, "needs_matched"].mean()) * factor[runs].mean()
    p = head.loc["platform"]
    assert p["paid_by_requesters"] == pytest.approx(paid)
    assert p["subsidy"] == pytest.approx(subsidy) and subsidy > 0
    assert p["extra_matched"] == pytest.approx(extra)
    assert p["cost_per_extra_match"] == pytest.approx((paid + subsidy) / extra)
    assert p["matching_rate_diff"] == pytest.approx(p["matching_rate"] - head.loc["baseline", "matching_rate"])
    assert np.isnan(head.loc["baseline", "cost_per_extra_match"])


def test_variants_are_described_in_the_report_language():
    manifest = {"experiment": {"variants": {
        "baseline": {"baseline": True, "interventions": {}, "overrides": {}},
        "both": {"interventions": {"sharing_platform": {"start": 2018, "enabled": True},
                                   "local_sns": {"start": 2018, "end": 2025, "enabled": True}},
                 "overrides": {"helping.hours_per_week": 3}},
    }}}
    ja = report.variant_descriptions(manifest, "ja")
    en = report.variant_descriptions(manifest, "en")
    assert ja["baseline"] == "施策なし（現状のまま）" and en["baseline"] == "no intervention (as is)"
    assert ja["both"] == ("有償シェアリングサービス（2018年から）、地域SNS（2018年から2025年まで）、"
                          "helping.hours_per_week=3")
    assert en["both"] == ("paid sharing platform (from 2018); local SNS (from 2018 until 2025); "
                          "helping.hours_per_week=3")
