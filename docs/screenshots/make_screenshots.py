"""Screenshots of the web chat and the admin console for the README: ``make screenshots``.

Starts a jim of its own (SQLite in a temporary directory, on a free port), fills it with a
small conversation through the REST API, and drives Debian's chromium with Playwright for
Python: two people chatting 1:1 and in a group, the same chat on a phone-sized screen, and the
admin console. The pictures are written next to this file; nothing else is changed.
"""
import base64
import json
import sys
import tempfile
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the checkout: tests.support is the tests' harness

from tests.support.browser import CHROMIUM_FLAGS, find_chromium  # noqa: E402
from tests.support.pw import JimProcess  # noqa: E402

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "screenshot-pass-1"
WAIT_MS = 15_000


class Rest:
    """The REST API of the server's default app, with its Basic credentials."""

    def __init__(self, server):
        self.base = server.url.rstrip("/")
        token = base64.b64encode(f"{server.app_key}:{server.master_secret}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=self.headers)
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
        return json.loads(text) if text else None


def fill(rest):
    """Users with profiles, and a group of them."""
    people = [("alice", "Alice Chen"), ("bobby", "Bob Martin"), ("carol", "Carol Diaz")]
    rest.call("POST", "/v1/users", [{"username": name, "password": PASSWORD}
                                    for name, _ in people])
    for name, nickname in people:
        rest.call("PUT", f"/v1/users/{name}", {"nickname": nickname})
    group = rest.call("POST", "/v1/groups", {"owner_username": "alice", "name": "Launch team",
                                             "members_username": ["bobby", "carol"],
                                             "desc": "Shipping jim"})
    return group["gid"]


def sign_in(page, url, username):
    page.goto(url)
    page.fill("#login-user", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_function("() => window.jimChat && window.jimChat.loggedIn", timeout=WAIT_MS)


def chat(page, peer, text):
    if page.is_visible("#back-button"):  # a phone shows one conversation at a time
        page.click("#back-button")
    page.fill("#chat-with-input", peer)
    page.press("#chat-with-input", "Enter")
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def main():
    chromium = find_chromium()
    if chromium is None:
        sys.exit("make screenshots needs chromium (Debian's package)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="jim-screenshots-") as data:
        server = JimProcess(data, ("--open-registration",))
        server.start()
        try:
            fill(Rest(server))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium,
                    args=[f for f in CHROMIUM_FLAGS
                          if f not in ("--headless", "--remote-debugging-port=0")])
                shoot(browser, server)
                browser.close()
        finally:
            server.stop()


def shoot(browser, server):
    alice = browser.new_context(viewport=DESKTOP).new_page()
    bob = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    sign_in(alice, server.url, "alice")
    sign_in(bob, server.url, "bobby")
    lines = [(bob, "alice", "Morning! Did the cluster test pass overnight?"),
             (alice, "bobby", "It did: two nodes, one Redis, not a message lost."),
             (bob, "alice", "Great. Can you send the benchmark figures to the team?"),
             (alice, "bobby", "Sure, right after the stand-up.")]
    for page, peer, text in lines:
        chat(page, peer, text)
        page.wait_for_timeout(300)
    alice.wait_for_timeout(500)
    alice.screenshot(path=str(HERE / "chat.png"))
    print("wrote", HERE / "chat.png")
    bob.screenshot(path=str(HERE / "chat-phone.png"))
    print("wrote", HERE / "chat-phone.png")
    console = browser.new_context(viewport=DESKTOP).new_page()
    answer = console.goto(server.url + "admin")
    if answer is None or answer.status != 200:
        print("no admin console served at /admin: its screenshot is skipped")
        return
    console.wait_for_load_state("networkidle")
    # the administrator, working on the default app: its statistics, with the chat above in them
    console.check("input[name=mode][value=admin]")
    console.fill("#sign-in-admin-secret", server.admin_secret)
    console.click("#sign-in-submit")
    console.click(f"button[data-app='{server.app_key}']")
    console.click("#app-detail button:text('Use this app')")
    console.click("#nav a[data-section=stats]")
    console.wait_for_selector("#stats-results svg.chart", state="attached", timeout=WAIT_MS)
    console.wait_for_timeout(500)
    console.screenshot(path=str(HERE / "console.png"))
    print("wrote", HERE / "console.png")


if __name__ == "__main__":
    main()
