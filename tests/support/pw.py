"""Playwright for Python driving Debian's Chromium against a real ``twistd jim``, for plain
pytest tests (not trial: Playwright's synchronous API runs its own loop, and the server is a
separate process, so no reactor is needed in the test)::

    from tests.support.pw import browser, jim, pages  # noqa: F401 (pytest fixtures)

    def test_something(jim, pages):
        page = pages.new()
        page.goto(jim.url + "sdk/test-page.html")
        page.wait_for_function("window.done === true")

Every page of C{pages} is in its own browser context (its own cookies and storage), so two
pages can be two users; a page that logs a console error or throws an uncaught exception fails
its test when the test ends.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import suppress

import pytest

from tests.support.browser import CHROMIUM_FLAGS, chromium_or_skip
from tests.support.certs import write_pair
from tests.support.server import REPOSITORY_ROOT, ServerFiles, free_port

START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
TAIL_CHARS = 4000
#: the administrator's secret every JimProcess is started with
ADMIN_SECRET = "test-admin-secret-0123456789abcdef"


def playwright_or_skip():
    """Playwright's synchronous API; skips without it, but fails under CI=true."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            raise AssertionError("playwright is required on CI for the browser tests") from None
        pytest.skip("playwright is not installed (make test installs it)")
    return sync_playwright


class JimProcess(ServerFiles):
    """One C{twistd -n jim} child bound to 127.0.0.1:C{port}, with its own data directory."""

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = data_dir
        self.port = free_port()
        self.extra_args = tuple(extra_args)
        self.admin_secret = ADMIN_SECRET
        self._process = None

    def start(self):
        argv = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
                "-n", "--pidfile=", f"--logfile={self.log_path}", "jim",
                "--listen", f"tcp:{self.port}:interface=127.0.0.1", "--data", self.data_dir,
                "--admin-secret", self.admin_secret, "--scrypt-cost", "1024:8:1",
                *self.extra_args]
        self._process = subprocess.Popen(argv, cwd=str(REPOSITORY_ROOT),
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._fail(f"twistd exited during start-up (status {self._process.returncode})")
            with suppress(OSError):
                with urllib.request.urlopen(f"{self.url}healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            time.sleep(0.05)
        self._fail(f"twistd was not ready within {START_TIMEOUT:.0f} s")

    @property
    def running(self):
        return self._process is not None and self._process.poll() is None

    def stop(self, signum=signal.SIGTERM):
        """SIGTERM (a clean stop) or SIGKILL (a crash); waits for the process to be gone."""
        if not self.running:
            return
        self._process.send_signal(signum)
        try:
            self._process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(STOP_TIMEOUT)

    def kill(self):
        self.stop(signal.SIGKILL)

    def restart(self):
        """Stop if running, then start again on the same port with the same data."""
        self.stop()
        self.start()

    def _fail(self, what):
        self.stop(signal.SIGKILL)
        pytest.fail(f"{what}\n--- twistd.log (tail) ---\n{self.log_text()[-TAIL_CHARS:]}")


class Pages:
    """Opens pages, each in a fresh context, and records what each logs as an error."""

    def __init__(self, browser):
        self._browser = browser
        self._contexts = []
        self.errors = []

    def new(self, **context_options):
        context = self._browser.new_context(**context_options)
        self._contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: uncaught {error}"))
        return page

    def _console(self, page, message):
        if message.type == "error":
            self.errors.append(f"{page.url}: console error: {message.text}")

    def close(self):
        for context in self._contexts:
            with suppress(Exception):
                context.close()
        self._contexts.clear()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium under Playwright, one per test module."""
    executable = chromium_or_skip()
    sync_playwright = playwright_or_skip()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=[flag for flag in CHROMIUM_FLAGS
                                                    if flag not in ("--headless",
                                                                    "--remote-debugging-port=0")])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def pages(browser):
    """Pages for one test; any console error or uncaught exception in them fails the test."""
    opened = Pages(browser)
    try:
        yield opened
    finally:
        opened.close()
    assert not opened.errors, "errors in the page:\n" + "\n".join(opened.errors)


@pytest.fixture
def jim(request):
    """A running jim on the embedded default (SQLite), with open registration; its extra
    arguments come from a C{@pytest.mark.jim_args(...)} marker when the test has one."""
    marker = request.node.get_closest_marker("jim_args")
    extra = marker.args if marker else ()
    with tempfile.TemporaryDirectory(prefix="jim-pw-") as data_dir:
        server = JimProcess(data_dir, ("--open-registration", *extra))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def tls_jim(tmp_path):
    """L{jim} serving TLS too (a development certificate of its own, on the one port)."""
    cert, key = write_pair(str(tmp_path / "tls"))
    (tmp_path / "data").mkdir()
    server = JimProcess(str(tmp_path / "data"), ("--open-registration", "--tls-cert", cert,
                                                 "--tls-key", key))
    server.start()
    try:
        yield server
    finally:
        server.stop()
