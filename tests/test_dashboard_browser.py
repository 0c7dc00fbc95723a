"""The dashboard in a real browser: `kyojosim dashboard yamae` served, driven in headless Chromium.

Needs Debian's chromium (``make test`` installs it as root) and the playwright package; skips with
the reason otherwise. Set ``KYOJOSIM_UPDATE_SCREENSHOT=1`` to copy the screenshot to
docs/figures/dashboard.png (the figure of docs/dashboard.md).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from browser import chromium_page, free_port, require_chromium, serve, stop

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = ".kyojo-summary"


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    """Serve the yamae dashboard on a free loopback port for the tests of this module; stop it after."""
    require_chromium()
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    url = f"http://127.0.0.1:{port}/"
    proc = serve([sys.executable, "-m", "kyojosim", "dashboard", "yamae", "--port", str(port)], url, log=log,
                 timeout=90)
    try:
        yield url
    finally:
        stop(proc)


def open_dashboard(page, url):
    page.goto(url)
    page.locator(SUMMARY).wait_for(timeout=60_000)
    page.locator(".vue-grid-item img").nth(3).wait_for(timeout=30_000)


def summary(page) -> str:
    return page.locator(SUMMARY).inner_text()


def chart(page, i: int) -> bytes:
    """A screenshot of the i-th grid cell (1 matching rate, 2 district map, 3 pyramid, 4 つながり力)."""
    return page.locator(".vue-grid-item").nth(i).screenshot()


def click_step(page, n: int) -> None:
    """Click STEP and wait for mesa's step counter to read ``n``."""
    page.get_by_role("button", name="Step").click()
    page.get_by_text(f"Step: {n}", exact=True).wait_for(timeout=30_000)


def test_page_renders_in_japanese(dashboard_url):
    with chromium_page() as page:
        open_dashboard(page, dashboard_url)
        text = summary(page)
        assert "山江村　2015年1月" in text and "人口 3,422人" in text
        sidebar = page.locator(".v-navigation-drawer").inner_text()
        for label in ("地域SNS", "有償シェアサービス", "地域の通報窓口", "オフライン交流会", "施策なしと並べて比較"):
            assert label in sidebar
        # the page's own Japanese font (machines without Japanese fonts would show empty boxes) is loaded
        page.wait_for_function("[...document.fonts].some(f => f.family.replace(/[\"']/g, '') === 'KyojoJP' "
                               "&& f.status === 'loaded')", timeout=10_000)


def test_switch_an_intervention_on_step_and_the_charts_change(dashboard_url, tmp_path):
    with chromium_page(height=1250) as page:
        open_dashboard(page, dashboard_url)
        # the reporting hub, from the first year (its start-year slider to the left end), a year a step
        page.get_by_text("地域の通報窓口", exact=True).click()
        page.get_by_role("slider", name="地域の通報窓口の開始年").focus()
        page.keyboard.press("Home")
        page.locator(".v-select", has_text="1ステップの長さ").locator(".v-select__slot").click()
        page.get_by_role("option", name="1年").click()
        page.get_by_role("button", name="Reset").click()
        page.get_by_text("地域の通報窓口（2015年〜）").wait_for(timeout=30_000)
        assert "1ステップ＝1年" in summary(page)
        before = {i: chart(page, i) for i in (1, 2, 4)}
        start = time.perf_counter()
        click_step(page, 1)
        first_click = time.perf_counter() - start
        click_step(page, 2)
        page.get_by_text("2017年1月", exact=False).wait_for(timeout=30_000)
        page.wait_for_timeout(1000)  # let the browser draw the new images
        text = summary(page)
        rate = page.locator(".kyojo-rate").inner_text()
        base_rate = page.locator(".kyojo-base-rate").inner_text()
        assert rate.endswith("%") and base_rate.endswith("%")
        assert rate != base_rate, text  # the hub changes the matching rate against the baseline
        for i, image in before.items():
            assert chart(page, i) != image, f"chart {i} did not change"
        update = bool(os.environ.get("KYOJOSIM_UPDATE_SCREENSHOT"))
        for n in range(3, 11 if update else 3):  # the figure of docs/dashboard.md: ten years in
            click_step(page, n)
        page.wait_for_timeout(1000)
        page.locator(SUMMARY).scroll_into_view_if_needed()
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=shot)
        assert shot.stat().st_size > 50_000
        print(f"\ndashboard: {first_click:.2f} s from clicking STEP (a year) to the redrawn page; screenshot {shot}")
        if update:
            shutil.copyfile(shot, ROOT / "docs" / "figures" / "dashboard.png")
