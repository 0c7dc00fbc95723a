"""The HTML report in a real browser (Debian's chromium, driven by playwright): its tables and figures load,
and it reads on a phone (390 px wide) without anything wider than the screen."""

from __future__ import annotations

import pytest

from browser import chromium_page, require_chromium
from experiment_results import shared_results
from kyojosim.present.labels import text
from kyojosim.present.report import write_report


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    require_chromium()
    out = tmp_path_factory.mktemp("report")
    results = shared_results()
    return results, {lang: write_report(results, out / f"report-{lang}.html", lang=lang, n_boot=200)
                     for lang in ("ja", "en")}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_report_opens_in_chromium(reports, tmp_path, lang):
    results, paths = reports
    with chromium_page(width=1200, height=1600) as page:
        failed = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(paths[lang].resolve().as_uri())
        page.wait_for_load_state("load")
        rows = page.locator("table.headline tbody tr")
        assert rows.count() == len(results.variants)
        images = page.locator("img")
        assert images.count() == 5
        # every figure decoded and laid out (a broken image has no natural size)
        sizes = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        assert all(done and w > 300 and h > 150 for done, w, h in sizes), sizes
        # the Japanese glyphs come from the embedded font when the machine has none
        assert page.evaluate("document.fonts.check(\"16px KyojoJP\", \"施策\")")
        # on a wide screen the cells' own labels are hidden: the table's head says what a column is
        assert not page.locator("table.headline .cell-label").first.is_visible()
        assert not failed
        shot = tmp_path / f"report-{lang}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_report_reads_on_a_390_px_phone(reports, tmp_path, lang):
    """Nothing is wider than the screen: the headline table becomes one card per option, each cell labelled."""
    _, paths = reports
    with chromium_page(width=390, height=844) as page:
        page.goto(paths[lang].resolve().as_uri())
        page.wait_for_load_state("load")
        width = page.evaluate("window.innerWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        for table in ("headline", "money", "options", "facts"):
            right = page.evaluate(f"Math.max(...Array.from(document.querySelectorAll('table.{table}'))"
                                  ".map(t => t.getBoundingClientRect().right))")
            assert right <= width, (table, right, width)
        for img in page.locator("img").all():
            assert img.bounding_box()["width"] <= width
        # each cell says what it is, since the table's head is not shown
        label = page.locator("table.headline .cell-label").first
        assert label.is_visible() and label.inner_text() == text("report.rate_all", lang)
        # the caveats come first on the phone too
        assert page.locator("section").first.get_attribute("id") == "caveats"
        shot = tmp_path / f"report-{lang}-390.png"
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000
