"""Dashboard start benchmark: how long until ``kyojosim dashboard`` answers and its page is usable.

Starts ``kyojosim dashboard SCENARIO`` on a free port, polls it until it answers, opens the page in
headless Chromium (Debian's ``/usr/bin/chromium`` through playwright) until the summary and the four
charts are shown, clicks the step button once, and stops the server; ``--runs`` times. Then, in this
process, times the parts of the first minute one by one (imports, the app's menu and controls, the
first model, the page's font, the first charts, the first step). Prints seconds (never asserts).

    .venv/bin/python benchmarks/bench_dashboard_start.py
    .venv/bin/python benchmarks/bench_dashboard_start.py ikoma --runs 5 --lang en
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

CHROMIUM = os.environ.get("KYOJOSIM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_start(scenario: str, lang: str) -> dict[str, float]:
    """Start the dashboard once; return seconds to the first answer, to a usable page and of the first step.

    The browser is started before the server, so that its own start is not counted.
    """
    from playwright.sync_api import sync_playwright

    from kyojosim.present.labels import text

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "kyojosim", "dashboard", scenario, "--port", str(port),
                                 "--lang", lang], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the dashboard exited with {proc.returncode}")
                try:
                    urllib.request.urlopen(url, timeout=2).close()
                    break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    time.sleep(0.05)
            answered = time.perf_counter() - t0
            page.goto(url)
            page.locator(".kyojo-summary").wait_for(timeout=120_000)
            page.locator(".kyojo-page img").nth(3).wait_for(timeout=120_000)
            usable = time.perf_counter() - t0
            t1 = time.perf_counter()
            page.get_by_role("button", name=text("dashboard.step", lang), exact=True).click()
            page.wait_for_function("document.querySelector('.kyojo-progress').innerText.match(/^(1ステップ|Step 1 )/)",
                                   timeout=120_000)
            first_step = time.perf_counter() - t1
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
            browser.close()
    return {"answers_s": answered, "usable_s": usable, "first_step_s": first_step}


def parts(scenario: str, lang: str) -> dict[str, float]:
    """Time the parts of the first minute in this process (the first import of each module counts)."""
    out: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        out[name] = now - t
        t = now

    import solara.server.app  # noqa: F401

    lap("import solara and its server")
    import kyojosim  # noqa: F401

    lap("import kyojosim")
    from kyojosim.present.dashboard import charts, components, wrapper

    lap("import the dashboard")
    choices = wrapper.scenario_choices(scenario, lang)
    params = components.model_params(choices, lang)
    words = components.page_text(choices, lang)
    lap("menu, controls and page text")
    model = wrapper.DashboardModel(**{k: v["value"] if isinstance(v, dict) else v for k, v in params.items()})
    lap("first model (and its baseline)")
    from kyojosim.present.webfont import font_css

    font_css(words)
    lap("page font")
    for make in (charts.matching_figure, charts.district_figure, charts.pyramid_figure, charts.tsunagari_figure):
        make(model).savefig(io.BytesIO(), format="png")
    lap("first four charts")
    model.step()
    lap("first step (a month)")
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Measure and print the dashboard's first minute."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="yamae")
    parser.add_argument("--runs", type=int, default=3, help="starts of the server (default 3)")
    parser.add_argument("--lang", choices=("ja", "en"), default="ja")
    parser.add_argument("--no-browser", action="store_true", help="only the parts, in this process")
    args = parser.parse_args(argv)
    starts = [] if args.no_browser else [one_start(args.scenario, args.lang) for _ in range(args.runs)]
    load = os.getloadavg()[0]
    if starts:
        print(f"kyojosim dashboard {args.scenario} --lang {args.lang}: {len(starts)} starts "
              f"(load average {load:.1f} on {os.cpu_count()} cores)")
        print("run  server answers (s)  page usable (s)  first step (s)")
        for i, r in enumerate(starts, 1):
            print(f"{i:>3}  {r['answers_s']:>18.1f}  {r['usable_s']:>15.1f}  {r['first_step_s']:>14.1f}")
        med = {k: statistics.median(r[k] for r in starts) for k in starts[0]}
        print(f"med  {med['answers_s']:>18.1f}  {med['usable_s']:>15.1f}  {med['first_step_s']:>14.1f}")
    p = parts(args.scenario, args.lang)
    print("where the first minute goes, in one process (s):")
    for name, seconds in p.items():
        print(f"  {name:<32} {seconds:6.2f}")
    return {"starts": starts, "parts": p, "load": load}


if __name__ == "__main__":
    main()
