"""The HTML report and the compare/report commands (kyojosim.present.report, kyojosim.cli)."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kyojosim
from experiment_results import PLATFORM_START, shared_results
from kyojosim import cli
from kyojosim.analysis.compare import compare
from kyojosim.present import report
from kyojosim.present.labels import text
from kyojosim.present.report import ReportError, render_html, resolve_results, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
INTERNAL = re.compile(r"\b(baseline|platform)\b")
"""The internal names of the variants of the test results: a reader must never see them."""
JARGON = ("施策（バリアント）", "対のブートストラップ", "決着したニーズ", "— yamae", "yamae-test", "ニーズ",
          "バリアント", "ベースライン")
"""Words of the former report that an official would not use."""


class Page(HTMLParser):
    """Collects headings, sections, tables (rows of cell texts), images, links and the visible text of a page."""

    def __init__(self):
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.sections: list[str] = []
        self.tables: list[dict] = []
        self.imgs: list[str] = []
        self.alts: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.paragraphs: dict[str, list[str]] = {}
        self._heading: str | None = None
        self._text: list[str] = []
        self._section_id: str | None = None
        self._part: str | None = None
        self._cell: list[str] | None = None
        self._p: list[str] | None = None
        self._skip = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("style", "title"):
            self._skip += 1
        if tag == "section":
            self._section_id = a.get("id", "")
            self.sections.append(self._section_id)
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading, self._text = tag, []
        elif tag == "table":
            self.tables.append({"class": a.get("class", ""), "section": self._section_id, "head": [], "body": []})
        elif tag in ("thead", "tbody"):
            self._part = tag
        elif tag == "tr":
            self.tables[-1]["head" if self._part == "thead" else "body"].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "p":
            self._p = []
        elif tag == "img":
            self.imgs.append(a.get("src", ""))
            self.alts.append(a.get("alt", ""))
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])

    def handle_endtag(self, tag):
        if tag in ("style", "title"):
            self._skip -= 1
        if tag == self._heading:
            self.headings.append((tag, "".join(self._text).strip()))
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["head" if self._part == "thead" else "body"][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag in ("thead", "tbody"):
            self._part = None
        elif tag == "p" and self._p is not None:
            self.paragraphs.setdefault(self._section_id or "", []).append("".join(self._p).strip())
            self._p = None

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._heading:
            self._text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._p is not None:
            self._p.append(data)

    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(text_: str) -> Page:
    page = Page()
    page.feed(text_)
    page.close()
    return page


@pytest.fixture(scope="module")
def res():
    return shared_results()


@pytest.fixture(scope="module")
def comparison(res):
    return compare(res, n_boot=300)


@pytest.fixture(scope="module")
def pages(res, comparison, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    files = {}
    for lang in ("ja", "en"):
        path = out / f"report-{lang}.html"
        path.write_text(render_html(res, lang=lang, comparison=comparison, n_boot=300), encoding="utf-8")
        files[lang] = path
    return {lang: (path, path.read_text(encoding="utf-8")) for lang, path in files.items()}


def table_of(page: Page, kind: str) -> dict:
    return next(t for t in page.tables if kind in t["class"].split())


def test_report_has_a_headline_row_per_option_by_its_display_name(res, pages):
    names = {"ja": ["施策なし", "有償シェアサービス"], "en": ["No intervention", "Paid sharing service"]}
    for lang, (_, html) in pages.items():
        table = table_of(parse(html), "headline")
        assert [row[0] for row in table["body"]] == names[lang]
        platform = table["body"][1]
        # each cell says what it is (read on a phone), its level, then the change and its interval
        unit = "ポイント" if lang == "ja" else " points"
        assert re.search(rf"\d+\.\d%\+\d+\.\d{unit} ?[［\[]\+\d+\.\d(〜| to )\+\d+\.\d[］\]]$", platform[1]), platform
        base = table["body"][0]
        assert "ポイント" not in base[1] and "points" not in base[1]  # the reference has no change from itself


def test_report_is_self_contained_and_links_the_model_absolutely(res, comparison, monkeypatch):
    for lang in ("ja", "en"):
        html = render_html(res, lang=lang, comparison=comparison, n_boot=300)
        page = parse(html)
        assert len(page.imgs) == 5, lang
        for src in page.imgs:
            assert src.startswith("data:image/png;base64,")
            assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_MAGIC
        assert not [s for s in page.srcs if not s.startswith("data:")]
        assert not re.search(r"<(link|script)\b", html)
        # the only url() is the embedded Japanese font (a data: URL, no request)
        assert re.findall(r"url\(([a-z]+):", html) == ["data"]
        assert "font-family: 'KyojoJP'" in html
        # the only links are the model description and the scorecard of this version, by absolute addresses that
        # work once mailed
        assert page.hrefs == [kyojosim.ODD_URL, kyojosim.SCORECARD_URL] and kyojosim.ODD_URL.startswith("https://")
        assert kyojosim.ODD_URL.endswith(f"/v{kyojosim.__version__}/docs/ODD.md")
        assert kyojosim.SCORECARD_URL.endswith(f"/v{kyojosim.__version__}/docs/validation.md#the-full-scorecard")
    # without an address, the report names the file (its short description is embedded) and links nothing
    monkeypatch.setattr(report, "model_url", lambda: None)
    monkeypatch.setattr(report, "scorecard_url", lambda: None)
    page = parse(render_html(res, lang="ja", comparison=comparison, n_boot=300))
    assert page.hrefs == [] and "docs/ODD.md" in page.visible()


def test_report_is_written_atomically(res, tmp_path):
    path = write_report(res, tmp_path / "out" / "report-ja.html", lang="ja", n_boot=100)
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(path.parent.glob(".*.tmp"))


def test_title_names_the_municipality_and_the_question(pages):
    ja, en = parse(pages["ja"][1]), parse(pages["en"][1])
    assert ja.headings[0] == ("h1", "山江村：有償シェアサービスで、困りごとの手助けはどれだけ増えるか")
    assert en.headings[0] == ("h1", "Yamae village: how much more help with everyday troubles would the paid "
                                    "sharing service bring?")
    for html in (pages["ja"][1], pages["en"][1]):
        title = re.search(r"<title>(.*)</title>", html).group(1)
        assert "yamae" not in title and ("山江村" in title or "Yamae village" in title)


def test_caveats_come_first_then_the_findings_then_the_figures(pages):
    for lang, (_, html) in pages.items():
        page = parse(html)
        assert page.sections[:3] == ["caveats", "findings", "headline"], lang
        assert page.sections.index("figures") > page.sections.index("money")
        first_h2 = [h for tag, h in page.headings if tag == "h2"][0]
        assert first_h2 == text("report.caveats_h", lang)
    ja = parse(pages["ja"][1]).visible()
    assert "予測ではありません" in ja and "住民の30%" in ja and "3回の試行" in ja
    en = parse(pages["en"][1]).visible()
    assert "not forecasts" in en and "30% of the residents" in en


def test_a_sentence_says_what_each_intervention_does_with_its_interval(res, pages, comparison):
    row = comparison.set_index(["variant", "metric"]).loc[("platform", "matching_rate")]
    d, lo, hi = (f"{100 * row[k]:+.1f}" if round(100 * row[k], 1) != 0 else "+0.0" for k in ("diff", "lo", "hi"))
    up, down = row["lo"] > 0, row["hi"] < 0  # the sentence follows the interval: up, down, or no clear difference
    ja = " ".join(parse(pages["ja"][1]).paragraphs["findings"])
    assert f"有償シェアサービス（{PLATFORM_START}年から）" in ja
    if up or down:
        assert f"{d}ポイント{'上がります' if up else '下がります'}（95%区間 {lo}〜{hi}ポイント）" in ja
    else:
        assert f"差ははっきりしません（{d}ポイント、95%区間 {lo}〜{hi}ポイント）" in ja
    assert "75歳以上の住民では" in ja and "に左右されます" in ja
    en = " ".join(parse(pages["en"][1]).paragraphs["findings"])
    assert f"“Paid sharing service” (from {PLATFORM_START})" in en and "depends most on" in en
    if up or down:
        assert f"by {d} points (95% interval {lo} to {hi} points)" in en
    else:
        assert f"no clear difference to the matching rate (the share of troubles for which a helper is found): {d} " \
               f"points, 95% interval {lo} to {hi} points" in en


def test_money_is_split_into_what_residents_pay_and_what_the_municipality_pays(res, pages):
    head = report.headline(res, n_boot=200).set_index("variant").loc["platform"]
    ja = parse(pages["ja"][1])
    money = table_of(ja, "money")
    assert money["head"][0] == ["比較した案", "住民の支払い（年あたり）", "村の補助（年あたり）",
                                "増えたマッチ（年あたり）", "増えたマッチ1件あたり：住民", "増えたマッチ1件あたり：村"]
    assert [h for tag, h in ja.headings if tag == "h2"][3] == "費用（住民の支払いと村の補助）"
    row = money["body"][0]
    assert row[0] == "有償シェアサービス"
    per_match = f"{head['paid_per_extra_match']:,.0f}円"
    assert row[4].endswith(per_match)
    assert "の予算からの支出ではありません" in " ".join(ja.paragraphs["money"])
    en = table_of(parse(pages["en"][1]), "money")
    assert en["head"][0][1:3] == ["Residents pay (a year)", "The village pays (a year)"]
    # a year: the total of the years the platform ran, over those years
    assert head["paid_by_requesters_per_year"] == pytest.approx(head["paid_by_requesters"] / head["years_active"],
                                                                rel=1e-9)
    assert head["years_active"] == pytest.approx(4 - (PLATFORM_START - 2015))


def test_no_internal_names_or_jargon(pages):
    for lang, (_, html) in pages.items():
        page = parse(html)
        shown = page.visible() + " " + " ".join(page.alts)
        provenance_free = shown.split(text("report.provenance_h", lang))[0]
        # a command to type names the experiment as the command line knows it (the caveat without robustness)
        provenance_free = provenance_free.replace("kyojosim robustness yamae-test", "")
        assert not INTERNAL.findall(provenance_free), (lang, INTERNAL.findall(provenance_free))
        for word in JARGON:
            assert word not in provenance_free, (lang, word)
    en = parse(pages["en"][1])
    for tag, h in en.headings:
        assert tag == "h1" or not JAPANESE.search(h), h


def test_japanese_and_english_versions_are_translated(pages):
    ja, en = parse(pages["ja"][1]), parse(pages["en"][1])
    keys = ["caveats_h", "findings_h", "headline_h", "money_h", "figures_h", "options_h", "setting_h", "assumptions_h",
            "model_h", "provenance_h"]
    assert [h for tag, h in ja.headings if tag == "h2"] == [text(f"report.{k}", "ja", city="村") for k in keys]
    assert [h for tag, h in en.headings if tag == "h2"] == [text(f"report.{k}", "en", city="village") for k in keys]
    assert "山江村" in pages["ja"][1] and "Yamae village" in pages["en"][1]


def test_undefined_numbers_show_as_a_dash(res, comparison):
    """A comparison with no interval (one run) or no value (nothing decided) reads "—", never nan."""
    one = comparison.copy()
    one[["lo", "hi"]] = np.nan
    one.loc[one["metric"] == "tsunagari_mean", "diff"] = np.nan
    page = parse(render_html(res, lang="ja", comparison=one, n_boot=300))
    text_ = page.visible()
    assert "nan" not in text_.lower()
    assert "試行が1回のため区間は求められません" in text_
    platform = table_of(page, "headline")["body"][1]
    assert platform[3].endswith("—")  # つながり力: level, then the dash of its change
    assert "［" not in platform[1]  # no empty interval


# -- what holds under the assumptions (a robustness analysis) ---------------------------------


def finding(metric, holds, share, median, p05, p95, lo, hi, regions=(), threshold=0.02, factor=100.0):
    """One record of findings.json (numbers in the metric's stored unit: a rate as a fraction)."""
    return {"scenario": "yamae", "variant": "platform", "metric": metric, "unit": "points", "display_factor": factor,
            "n_samples": 8, "median": median, "p05": p05, "p95": p95, "mean": median, "min": lo, "max": hi,
            "threshold": threshold, "share_above": share, "holds": holds,
            "top_assumptions": [{"parameter": "helping.weekly_hours_75plus", "index": 0.6, "conf": 0.3, "rho": 0.8,
                                 "method": "rbd_fast"}],
            "failure_regions": list(regions), "prim_note": ""}


HOURS_REGION = {"box": 0, "coverage": 1.0, "density": 1.0, "mass": 0.25, "n": 2, "k": 2,
                "conditions": [{"parameter": "helping.weekly_hours_75plus", "lo": 0.5, "hi": 1.5,
                                "plausible_lo": 0.5, "plausible_hi": 4.0, "restricted": "upper"}]}


def robustness_data(records):
    return {"findings": {"experiment": "yamae-test-robustness", "design": "lhs", "n_samples": 8,
                         "parameters": [{"key": "helping.weekly_hours_75plus"}, {"key": "needs.hours"}],
                         "thresholds": {}, "findings": records},
            "effects": None, "spread": None, "folder": Path("unused")}


HOLDS = robustness_data([
    finding("matching_rate", "everywhere", 1.0, 0.11, 0.08, 0.15, 0.081, 0.152),
    finding("matching_rate_age_75plus", "mostly", 0.75, 0.04, 0.01, 0.06, 0.005, 0.065, [HOURS_REGION]),
    finding("tsunagari_mean", "often", 0.5, 0.0, -0.1, 0.1, -0.2, 0.2, threshold=0.0, factor=1.0)])
FAILS = robustness_data([
    {**finding("matching_rate", "nowhere", 0.0, 0.001, 0.0, 0.003, -0.001, 0.004),
     "top_assumptions": [{"parameter": "needs.hours", "index": None, "conf": None, "rho": 0.1, "method": "rbd_fast"}]},
    finding("matching_rate_age_75plus", "nowhere", 0.0, -0.01, -0.02, -0.005, -0.03, -0.004)])
"""An option that fails everywhere; too few samples to rank the assumptions of the first record (no index)."""


def test_the_report_leads_with_what_holds_then_the_runs_the_bands_and_the_regions(res, comparison):
    for lang, words in (("en", ("raises the matching rate by +8.1 to +15.2 points under all 8 combinations",
                                "only if hours a week helpers 75+ can give is at least 1.5 hours",
                                "where hours a week helpers 75+ can give is below 1.5 hours, the matching rate of "
                                "residents aged 75+ changes by no more than 2 points")),
                        ("ja", ("試した8通りの仮定の組み合わせのすべてで、マッチング率を+8.1〜+15.2ポイント上げます",
                                "75歳以上の人が手助けに割ける時間（週）が1.5時間以上の場合に限られます",
                                "75歳以上の人が手助けに割ける時間（週）が1.5時間未満のとき、75歳以上の住民のマッチング率の差が"
                                "2ポイント以下"))):
        page = parse(render_html(res, lang=lang, comparison=comparison, n_boot=300, robustness=HOLDS))
        order = [page.sections.index(s) for s in ("caveats", "holds", "findings", "headline", "bands", "regions",
                                                  "figures")]
        assert order == sorted(order), page.sections
        holds = " ".join(page.paragraphs["holds"])
        assert words[0] in holds and words[1] in holds
        assert words[2] in page.visible().split(text("report.regions_h", lang), 1)[1]
        caveats = page.visible().split(text("report.robustness_h", lang), 1)[0]
        assert "8" in caveats and text("report.caveat_checked", lang, n=8) in page.visible()
        bands = table_of(page, "bands")
        assert len(bands["body"]) == 3 and bands["section"] == "bands"
        assert any("75%" in cell for cell in bands["body"][1])  # share above the threshold, for residents 75+
        assert not INTERNAL.search(holds)


def test_the_headline_says_when_an_intervention_fails_under_every_assumption(res, comparison):
    page = parse(render_html(res, lang="en", comparison=comparison, n_boot=300, robustness=FAILS))
    holds = " ".join(page.paragraphs["holds"])
    assert "does not raise the matching rate by more than 2 points under any of the 8 combinations" in holds
    assert "lowers the matching rate of residents aged 75+ under all 8 combinations" in holds
    assert "raises the matching rate by" not in holds
    ja = " ".join(parse(render_html(res, lang="ja", comparison=comparison, n_boot=300,
                                    robustness=FAILS)).paragraphs["holds"])
    assert "どれでも、マッチング率を2ポイントより大きくは上げません" in ja
    assert "すべてで、75歳以上の住民のマッチング率を下げます" in ja
    assert text("report.no_regions", "en") in page.visible()
    bands = table_of(page, "bands")["body"]
    assert bands[0][-1].endswith("—") and "hours a week helpers 75+ can give" in bands[1][-1]


def test_without_a_robustness_analysis_the_caveats_name_the_command_that_checks_the_assumptions(res, comparison):
    for lang in ("ja", "en"):
        page = parse(render_html(res, lang=lang, comparison=comparison, n_boot=300))
        assert "holds" not in page.sections and "bands" not in page.sections
        caveats = page.visible().split(text("report.findings_h", lang), 1)[0]
        assert "kyojosim robustness yamae-test --samples 8" in caveats


def test_a_robustness_folder_is_read_and_must_belong_to_the_experiment(res, comparison, tmp_path):
    from kyojosim.present.robustness_report import RobustnessReportError, load_robustness

    folder = tmp_path / "yamae-test-robustness"
    folder.mkdir()
    with pytest.raises(RobustnessReportError, match="no findings.json"):
        load_robustness(folder)
    (folder / "findings.json").write_text(json.dumps(HOLDS["findings"]), encoding="utf-8")
    with pytest.raises(RobustnessReportError, match="not of the experiment reported .'other'"):
        load_robustness(folder, "other")
    data = load_robustness(folder, "yamae-test")
    page = parse(render_html(res, lang="en", comparison=comparison, n_boot=300, robustness=folder))
    assert data["findings"]["n_samples"] == 8 and "holds" in page.sections


def test_the_report_command_reads_the_robustness_folder_beside_the_results(res, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "results" / "yamae-test"
    folder.mkdir(parents=True)
    monkeypatch.setattr(report, "load_results", lambda target: (Path(target), res))
    beside = tmp_path / "results" / "yamae-test-robustness"
    beside.mkdir()
    (beside / "findings.json").write_text(json.dumps(FAILS["findings"]), encoding="utf-8")
    assert cli.main(["report", str(folder), "--lang", "en"]) == 0
    assert str(beside) in capsys.readouterr().out
    page = parse((folder / "report-en.html").read_text(encoding="utf-8"))
    assert "does not raise the matching rate" in " ".join(page.paragraphs["holds"])
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "findings.json").write_text(json.dumps({**FAILS["findings"], "experiment": "ikoma-robustness"}),
                                         encoding="utf-8")
    assert cli.main(["report", str(folder), "--robustness", str(other)]) == 2
    err = capsys.readouterr().err
    assert "not of the experiment reported" in err and "Traceback" not in err


def test_render_rejects_an_unknown_language(res):
    with pytest.raises(report.KyojoError, match="lang: got 'de'"):
        render_html(res, lang="de")


def test_text_is_escaped(res, comparison):
    """Names come from files users write: they are escaped, never markup."""
    manifest = {**res.manifest, "experiment": {**res.manifest["experiment"], "variants": {
        "baseline": {}, "platform": {"label": {"ja": "<b>有償</b>", "en": "<script>x</script>"},
                                     "interventions": {"sharing_platform": {"start": 2016}}}}}}
    renamed = type(res)(tables=res.tables, manifest=manifest)
    html = render_html(renamed, lang="en", comparison=comparison, n_boot=100)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


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
    assert "matching rate (75+)" in out and "Paid sharing service" in out and "Yamae village" in out
    assert not INTERNAL.search(out.split("\n", 1)[1].rsplit("results:", 1)[0])
    table = pd.read_csv(folder / "comparison" / "comparison.csv")
    assert set(table["variant"]) == {"platform"} and "matching_rate_age_75plus" in set(table["metric"])
    for name in cli.COMPARE_FIGURES:
        assert (folder / "comparison" / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
    assert cli.main(["compare", str(folder)]) == 0  # Japanese by default
    out = capsys.readouterr().out
    assert "マッチング率（75歳以上）" in out and "有償シェアサービス" in out and "「施策なし」" in out
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
    assert p["paid_per_extra_match"] == pytest.approx(paid / extra)
    assert p["subsidy_per_extra_match"] == pytest.approx(subsidy / extra)
    assert p["extra_matched_per_year"] == pytest.approx(extra / p["years_active"])
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
    assert ja["baseline"] == "施策なし" and en["baseline"] == "No intervention"
    assert ja["both"] == "有償シェアサービス（2018年から）、地域SNS（2018年から2025年まで）、設定を1項目変更"
    assert en["both"] == ("paid sharing service (from 2018); local social network (from 2018 until 2025); "
                          "settings changed (1)")


@pytest.mark.parametrize("diff, lo, hi, words", [(0.05, 0.03, 0.07, ("+5.0ポイント上がります", "+3.0〜+7.0")),
                                                 (-0.05, -0.07, -0.03, ("-5.0ポイント下がります", "-7.0〜-3.0")),
                                                 (0.01, -0.02, 0.04, ("差ははっきりしません", "-2.0〜+4.0"))])
def test_the_sentence_follows_the_interval(res, comparison, diff, lo, hi, words):
    """Up or down when the interval lies on one side of 0, no clear difference when it spans 0."""
    mine = comparison.copy()
    rate = mine["metric"] == "matching_rate"
    mine.loc[rate, ["diff", "lo", "hi"]] = [diff, lo, hi]
    findings = " ".join(parse(render_html(res, lang="ja", comparison=mine, n_boot=100)).paragraphs["findings"])
    for w in words:
        assert w in findings
