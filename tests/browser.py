"""Helpers for the browser tests: Debian's chromium driven by Playwright, headless.

Browsers cannot be downloaded on these machines, so the tests use the system chromium
(`.ci/run` installs it when missing) and skip, with the reason, only when it is absent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Iterator
from typing import Any

import pytest

#: Quiet, offline-friendly chromium: no sandbox (containers), no GPU, no background traffic.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The system chromium, or None."""
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _playwright_missing() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return True
    return False


requires_browser = pytest.mark.skipif(
    chromium_path() is None or _playwright_missing(),
    reason="needs chromium (apt-get install chromium; .ci/run installs it) and playwright "
    "(pip install 'groupsim[ui]')",
)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium browser (Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
