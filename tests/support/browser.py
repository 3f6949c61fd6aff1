"""Headless Chromium for tests of the web pages, driven over the DevTools protocol.

Nothing beyond the project's own dependencies is needed: Chromium is started with
C{reactor.spawnProcess}, its DevTools port is read from C{DevToolsActivePort}, targets are listed
with L{twisted.web.client.Agent}, and commands travel over autobahn's Twisted WebSocket client::

    browser = await Browser.launch(self)
    page = await browser.new_page()
    await page.navigate(server.url)
    await page.wait_for("window.jimChat && window.jimChat.loggedIn")

Every page gets its own browser context (separate cookies and storage), so two pages can be two
different users. The browser is closed by a cleanup registered on the test case.
"""
import base64
import json
import os
import shutil
import signal
import tempfile
import time
from itertools import count
from unittest import SkipTest

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import defer, error, task
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.web.client import Agent

from tests.support.bodies import read_body
from tests.support.process import TailProcess

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
)
LAUNCH_TIMEOUT = 30.0
CALL_TIMEOUT = 30.0
CLOSE_TIMEOUT = 10.0
POLL_INTERVAL = 0.05
TAIL_CHARS = 3000


class BrowserError(Exception):
    """The browser refused a command or could not be driven."""


class JavaScriptError(Exception):
    """An expression evaluated in the page threw."""


def find_chromium():
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    )


def chromium_or_skip():
    """The Chromium executable; skips the test if there is none, but fails it on CI."""
    found = find_chromium()
    if found:
        return found
    if os.environ.get("CI") == "true":
        raise AssertionError("chromium is required on CI for the browser tests but was not found")
    raise SkipTest("chromium is not installed")


async def _pause(reactor):
    await task.deferLater(reactor, POLL_INTERVAL, lambda: None)


class _DevToolsProtocol(WebSocketClientProtocol):
    """Forwards one WebSocket's events to its L{DevToolsConnection}."""

    def onOpen(self):
        self.factory.connection._opened(self)

    def onMessage(self, payload, isBinary):
        self.factory.connection._received(json.loads(payload))

    def onClose(self, wasClean, code, reason):
        self.factory.connection._closed(reason)


class DevToolsConnection:
    """One DevTools WebSocket: numbered commands with their replies, and events by name."""

    def __init__(self, reactor):
        self._reactor = reactor
        self._ids = count(1)
        self._replies = {}
        self._event_waiters = {}
        self._listeners = []
        self._protocol = None
        self._open = defer.Deferred()
        self.closed = defer.Deferred()

    @classmethod
    async def connect(cls, reactor, url):
        connection = cls(reactor)
        factory = WebSocketClientFactory(url)
        factory.protocol = _DevToolsProtocol
        factory.connection = connection
        host, port = factory.host, factory.port
        await TCP4ClientEndpoint(reactor, host, port, timeout=CALL_TIMEOUT).connect(factory)
        await connection._open.addTimeout(CALL_TIMEOUT, reactor)
        return connection

    def add_listener(self, callback):
        """Call C{callback(method, params)} for every event."""
        self._listeners.append(callback)

    def next_event(self, method):
        """A Deferred for the next event named C{method}; ask before causing the event."""
        waiter = defer.Deferred()
        self._event_waiters.setdefault(method, []).append(waiter)
        return waiter

    async def call(self, method, timeout=CALL_TIMEOUT, **params):
        if self._protocol is None:
            raise BrowserError(f"{method}: the DevTools connection is closed")
        call_id = next(self._ids)
        reply = defer.Deferred()
        self._replies[call_id] = reply
        message = {"id": call_id, "method": method, "params": params}
        self._protocol.sendMessage(json.dumps(message).encode("utf-8"))
        try:
            answer = await reply.addTimeout(timeout, self._reactor)
        finally:
            self._replies.pop(call_id, None)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error'].get('message')}")
        return answer.get("result", {})

    async def close(self):
        if self._protocol is not None:
            self._protocol.sendClose()
        await _wait_until(self._reactor, lambda: self.closed.called, CLOSE_TIMEOUT)
        if not self.closed.called and self._protocol is not None:
            self._protocol.transport.abortConnection()

    # -- called by the protocol ---------------------------------------------------------------

    def _opened(self, protocol):
        self._protocol = protocol
        self._open.callback(None)

    def _received(self, message):
        if "id" in message:
            waiter = self._replies.pop(message["id"], None)
            if waiter is not None:
                waiter.callback(message)
            return
        method, params = message.get("method"), message.get("params", {})
        for listener in self._listeners:
            listener(method, params)
        for waiter in self._event_waiters.pop(method, []):
            waiter.callback(params)

    def _closed(self, reason):
        self._protocol = None
        pending = list(self._replies.values())
        self._replies.clear()
        for waiter in pending:
            waiter.errback(BrowserError(f"DevTools connection closed: {reason}"))
        if not self.closed.called:
            self.closed.callback(reason)
        if not self._open.called:
            self._open.errback(BrowserError(f"DevTools connection refused: {reason}"))


def _describe(exception_details):
    """The most useful line of a DevTools C{ExceptionDetails}."""
    thrown = exception_details.get("exception", {})
    return thrown.get("description") or exception_details.get("text")


async def _wait_until(reactor, predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        await _pause(reactor)
    return predicate()


class Browser:
    """A headless Chromium process and its browser-wide DevTools connection."""

    def __init__(self, testcase, reactor, process, transport, port, connection):
        self._testcase = testcase
        self._reactor = reactor
        self._process = process
        self._transport = transport
        self._connection = connection
        self._pages = []
        self.port = port

    @classmethod
    async def launch(cls, testcase, extra_flags=(), reactor=None):
        """Start Chromium; C{extra_flags} are added to the command line."""
        executable = chromium_or_skip()
        if reactor is None:
            from twisted.internet import reactor
        # A short path of its own: Chromium puts a Unix socket in the profile, and socket paths
        # are limited to about 100 bytes, which a test's deep mktemp() path can exceed.
        profile = tempfile.mkdtemp(prefix="jim-chromium-")
        testcase.addCleanup(shutil.rmtree, profile, ignore_errors=True)
        process = TailProcess(TAIL_CHARS)
        argv = [executable, *CHROMIUM_FLAGS, *extra_flags, f"--user-data-dir={profile}"]
        argv.append("about:blank")
        transport = reactor.spawnProcess(process, executable, argv, env=dict(os.environ))
        browser = cls(testcase, reactor, process, transport, None, None)
        testcase.addCleanup(browser.close)
        port, path = await browser._devtools_address(profile)
        browser.port = port
        url = f"ws://127.0.0.1:{port}{path}"
        browser._connection = await DevToolsConnection.connect(reactor, url)
        return browser

    async def _devtools_address(self, profile):
        """Chromium writes its port and browser target path to DevToolsActivePort once ready."""
        marker = os.path.join(profile, "DevToolsActivePort")

        def announced():
            try:
                with open(marker, encoding="ascii") as marker_file:
                    lines = marker_file.read().split()
            except FileNotFoundError:
                return None
            return (int(lines[0]), lines[1]) if len(lines) >= 2 else None

        ended = self._process.ended
        await _wait_until(self._reactor, lambda: announced() or ended.called, LAUNCH_TIMEOUT)
        address = announced()
        if address is None:
            tail = self._process.tail()
            self._testcase.fail(f"chromium did not start its DevTools server:\n{tail}")
        return address

    async def targets(self):
        """The browser's page list, from C{GET /json/list}."""
        url = f"http://127.0.0.1:{self.port}/json/list".encode("ascii")
        response = await Agent(self._reactor).request(b"GET", url)
        return json.loads(await read_body(response).addTimeout(CALL_TIMEOUT, self._reactor))

    async def new_page(self, width=1280, height=800):
        """A fresh tab in a browser context of its own (its own cookies and storage)."""
        context = await self._connection.call("Target.createBrowserContext")
        created = await self._connection.call(
            "Target.createTarget", url="about:blank", browserContextId=context["browserContextId"]
        )
        target = next((t for t in await self.targets() if t.get("id") == created["targetId"]), None)
        if target is None:
            raise BrowserError(f"target {created['targetId']} is not in /json/list")
        connection = await DevToolsConnection.connect(self._reactor, target["webSocketDebuggerUrl"])
        page = Page(self._reactor, connection)
        self._pages.append(page)
        await page._prepare(width, height)
        return page

    async def close(self):
        for page in self._pages:
            await page.close()
        self._pages = []
        if self._connection is not None:
            try:
                await self._connection.call("Browser.close", timeout=CLOSE_TIMEOUT)
            except (BrowserError, defer.TimeoutError):
                pass
            await self._connection.close()
            self._connection = None
        for signum in (signal.SIGTERM, signal.SIGKILL):
            if await _wait_until(self._reactor, lambda: self._process.ended.called, CLOSE_TIMEOUT):
                return
            try:
                self._transport.signalProcess(signum)
            except error.ProcessExitedAlready:
                pass
        if not await _wait_until(self._reactor, lambda: self._process.ended.called, CLOSE_TIMEOUT):
            self._testcase.fail("chromium did not exit even after SIGKILL")


class Page:
    """One tab. C{console} collects console output and uncaught errors, for failure messages."""

    def __init__(self, reactor, connection):
        self._reactor = reactor
        self._connection = connection
        self.console = []
        connection.add_listener(self._on_event)

    async def _prepare(self, width, height):
        await self._connection.call("Page.enable")
        await self._connection.call("Runtime.enable")
        await self._connection.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        # Several tabs share one headless window; each must behave as if it had the focus.
        await self._connection.call("Emulation.setFocusEmulationEnabled", enabled=True)

    def _on_event(self, method, params):
        if method == "Runtime.consoleAPICalled":
            args = params.get("args", [])
            text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in args)
            self.console.append(f"console.{params.get('type')}: {text}")
        elif method == "Runtime.exceptionThrown":
            self.console.append(f"uncaught: {_describe(params.get('exceptionDetails', {}))}")

    async def run_before_scripts(self, source):
        """Run the JavaScript C{source} in every document this page loads from now on, before
        the document's own scripts."""
        await self._connection.call("Page.addScriptToEvaluateOnNewDocument", source=source)

    async def navigate(self, url, timeout=CALL_TIMEOUT):
        """Load C{url} and wait for its load event."""
        loaded = self._connection.next_event("Page.loadEventFired")
        result = await self._connection.call("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"navigating to {url}: {result['errorText']}")
        await loaded.addTimeout(timeout, self._reactor)

    async def reload(self, timeout=CALL_TIMEOUT):
        loaded = self._connection.next_event("Page.loadEventFired")
        await self._connection.call("Page.reload")
        await loaded.addTimeout(timeout, self._reactor)

    async def evaluate(self, expression, timeout=CALL_TIMEOUT):
        """The JSON value of C{expression} (promises are awaited); raises L{JavaScriptError}."""
        result = await self._connection.call(
            "Runtime.evaluate",
            timeout=timeout,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
            userGesture=True,
        )
        if "exceptionDetails" in result:
            raise JavaScriptError(f"{expression!r} threw: {_describe(result['exceptionDetails'])}")
        return result.get("result", {}).get("value")

    async def wait_for(self, condition, timeout=10.0):
        """Poll until the JavaScript C{condition} is truthy; fail with what the page said if not."""
        deadline = time.monotonic() + timeout
        last_error = None
        while True:
            try:
                if await self.evaluate(f"Boolean({condition})"):
                    return
            except (JavaScriptError, BrowserError) as failed:
                # The page may be loading or not yet have defined what the condition reads.
                last_error = failed
            if time.monotonic() >= deadline:
                break
            await _pause(self._reactor)
        console = "\n".join(self.console[-20:])
        raise AssertionError(
            f"timed out after {timeout} s waiting for {condition!r}"
            f"\nlast error: {last_error}\nconsole:\n{console}"
        )

    async def fill(self, selector, text):
        """Focus the field matching C{selector}, clear it and type C{text} into it."""
        await self.evaluate(
            f"(() => {{ const f = document.querySelector({json.dumps(selector)});"
            " f.focus(); f.select(); return true; })()"
        )
        await self._connection.call("Input.insertText", text=text)

    async def press(self, key, code=None, key_code=None):
        """Press and release a key in the focused element, e.g. C{press("Enter")}."""
        key_codes = {"Enter": 13, "Tab": 9, "Escape": 27}
        event = {
            "key": key,
            "code": code or key,
            "windowsVirtualKeyCode": key_code or key_codes.get(key, 0),
        }
        text = {"Enter": "\r"}.get(key)
        if text:
            await self._connection.call(
                "Input.dispatchKeyEvent", type="keyDown", text=text, **event
            )
        else:
            await self._connection.call("Input.dispatchKeyEvent", type="rawKeyDown", **event)
        await self._connection.call("Input.dispatchKeyEvent", type="keyUp", **event)

    async def click(self, selector):
        """Click the element matching C{selector} (a DOM click, as a user's would dispatch)."""
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).click(), true")

    async def screenshot(self, path):
        """Save a PNG of the visible page to C{path}."""
        shot = await self._connection.call("Page.captureScreenshot", format="png")
        with open(path, "wb") as png:
            png.write(base64.b64decode(shot["data"]))
        return path

    async def close(self):
        await self._connection.close()
