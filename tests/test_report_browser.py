"""The HTML report in a real browser (Debian's chromium, driven by playwright): its table and figures load."""

from __future__ import annotations

import pytest

from browser import chromium_page, require_chromium
from experiment_results import shared_results
from kyojosim.present.report import write_report


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_report_opens_in_chromium(tmp_path, lang):
    require_chromium()
    results = shared_results()
    path = write_report(results, tmp_path / f"report-{lang}.html", lang=lang, n_boot=200)
    with chromium_page(width=1200, height=1600) as page:
        failed = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(path.resolve().as_uri())
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
        assert not failed
        shot = tmp_path / f"report-{lang}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
