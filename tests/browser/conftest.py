"""Browser-test fixtures: the test app served over real HTTP, and Debian's Chromium driven by Playwright.

The live server runs the session ``app`` (the same database the autouse fixture refills before every test) with
werkzeug's ``make_server`` in a background thread. CSRF protection is on for every browser test, so the real forms
must carry their real tokens. A server-side exception fails the test that caused it.

Chromium is Debian's (``/usr/bin/chromium``): Playwright never downloads a browser here. Without it the tests skip.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("EXPO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
                 "--disable-extensions"]


class ErrorRecorder:
    """WSGI middleware that remembers exceptions and 5xx answers, which a browser would only show as a page."""

    def __init__(self, app):
        self.app = app
        self.errors: list[str] = []

    def __call__(self, environ, start_response):
        where = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"

        def recording_start_response(status, headers, exc_info=None):
            if status.startswith("5"):
                self.errors.append(f"{where} answered {status}")
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, recording_start_response)
            # Read the answer whole and close it here: when the browser drops a connection half-way (a page left
            # while a stylesheet still loads), werkzeug's server leaves a file answer open for the garbage
            # collector, whose ResourceWarning would fail whichever test runs then. (No answer here streams.)
            try:
                return [b"".join(result)]
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception as exc:  # noqa: BLE001 - recorded for the test, then werkzeug answers 500 as usual
            self.errors.append(f"{where} raised {exc!r}")
            raise


class LiveServer:
    def __init__(self, app):
        self.recorder = ErrorRecorder(app)
        self.server = make_server("127.0.0.1", 0, self.recorder, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="expo-live-server", daemon=True)

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(app):
    server = LiveServer(app)
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join(timeout=10)


@pytest.fixture
def live(live_server, csrf_enabled):
    """The live server's base URL maker for one test, with CSRF on; fails the test if the server broke."""
    live_server.recorder.errors.clear()
    yield live_server
    errors = list(live_server.recorder.errors)
    live_server.recorder.errors.clear()
    assert not errors, f"the server failed: {errors}"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # Playwright's sync API refuses to run inside an event loop; say so plainly instead
        pytest.fail("an asyncio event loop is running: Playwright's sync API cannot be used here")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, live):
    """Open browser contexts (separate cookie jars: one per person) for one test; closed at its end."""
    contexts = []

    def make(locale: str = "en-US", **kwargs):
        context = browser.new_context(base_url=live.url, locale=locale, **kwargs)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    """Where screenshots go: ``EXPO_SCREENSHOT_DIR`` when set (to look at them), else the test's tmp folder."""
    folder = Path(os.environ.get("EXPO_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder

