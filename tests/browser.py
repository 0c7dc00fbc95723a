"""Helpers of the browser tests: a headless Chromium driven by playwright, and local servers.

Debian's Chromium (``apt-get install chromium``; ``make test`` installs it as root) is driven
through the Python ``playwright`` package, never with a browser playwright downloads. Use::

    from browser import chromium_page, require_chromium

    def test_something(tmp_path):
        require_chromium()                       # skips with a clear reason if there is none
        with chromium_page() as page:
            page.goto("file:///.../report.html")
            page.screenshot(path=tmp_path / "report.png")

and :func:`serve` / :func:`stop` to run a server (such as the dashboard) in its own process group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
"""Where Debian (and Ubuntu) install Chromium."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
"""Flags for a headless Chromium as root on a machine with no network beyond loopback."""


def chromium_path() -> str | None:
    """Return the path of the system Chromium (``$KYOJOSIM_CHROMIUM`` first), or ``None``."""
    for candidate in (os.environ.get("KYOJOSIM_CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_chromium() -> str:
    """Return the Chromium path, or skip the test with the reason (no browser, no playwright)."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium at /usr/bin/chromium: run `make test` as root (it installs Debian's chromium) "
                    "or `apt-get install -y chromium`")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is missing: pip install -e '.[test]'")
    return path


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 900) -> Iterator:
    """Yield a playwright page of a fresh headless Chromium (closed afterwards)."""
    from playwright.sync_api import sync_playwright

    path = require_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(argv: Sequence[str], url: str, *, env: Mapping[str, str] | None = None, log: Path | None = None,
          timeout: float = 60.0) -> subprocess.Popen:
    """Start a server in a new process group and wait until ``url`` answers.

    Args:
        argv: The command.
        url: The address to poll (any HTTP answer counts).
        env: Extra environment variables.
        log: File for the server's output (default: discarded).
        timeout: Seconds to wait for an answer.

    Raises:
        RuntimeError: If the server exits or does not answer in time (its log is in the message).
    """
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - closed by stop()
    proc = subprocess.Popen(list(argv), env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    proc.log_file = out  # type: ignore[attr-defined]
    proc.log_path = log  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = Path(log).read_text(errors="replace")[-3000:] if log else ""
            stop(proc)
            raise RuntimeError(f"server exited with {proc.returncode}: {' '.join(argv)}\n{text}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return proc
        except urllib.error.HTTPError:
            return proc
        except OSError:
            time.sleep(0.3)
    text = Path(log).read_text(errors="replace")[-3000:] if log else ""
    stop(proc)
    raise RuntimeError(f"server did not answer {url} within {timeout:.0f} s\n{text}")


def stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Stop a server started by :func:`serve`: SIGTERM to its process group, SIGKILL if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(grace)
    log_file = getattr(proc, "log_file", None)
    if log_file not in (None, subprocess.DEVNULL):
        log_file.close()
