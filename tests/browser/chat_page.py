"""The web chat (GET /) in a real browser against a real jim: what its tests do the way a
person would (typing, clicking, pressing Enter), and read from the page's read-only
C{window.jimChat} hook and its DOM."""
import json
import re

from tests.browser.jmessage_page import PASSWORD, register, rest  # noqa: F401 (re-exported)

WAIT_MS = 15000
#: what Chromium itself logs for each connection tried while the server is down
REFUSED_CONNECTION = re.compile(
    r": console error: WebSocket connection to 'ws://127\.0\.0\.1:\d+/' failed: ")


def js(value):
    return json.dumps(value)


def open_chat(jim, pages, **context_options):
    page = pages.new(**context_options)
    page.goto(jim.url)
    page.wait_for_function("() => window.jimChat && !document.querySelector('#login').hidden",
                           timeout=WAIT_MS)
    return page


def sign_in(page, username, password=PASSWORD, app_key=None):
    page.fill("#login-user", username)
    page.fill("#login-password", password)
    if app_key:
        page.fill("#login-appkey", app_key)
    page.press("#login-password", "Enter")
    page.wait_for_function(
        "(user) => window.jimChat.loggedIn && window.jimChat.me.userId === user"
        " && !document.querySelector('#chat').hidden", arg=username, timeout=WAIT_MS)


def signed_in(jim, pages, username, **context_options):
    page = open_chat(jim, pages, **context_options)
    sign_in(page, username)
    return page


def submit(page, input_id, value):
    """Type into a sidebar form's input and press Enter."""
    page.fill(f"#{input_id}", value)
    page.press(f"#{input_id}", "Enter")


def open_with(page, peer):
    submit(page, "chat-with-input", peer)
    page.wait_for_function("(key) => window.jimChat.active === key", arg=f"user:{peer}",
                           timeout=WAIT_MS)


def say(page, text):
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def messages(page, key):
    return page.evaluate("(key) => window.jimChat.conversations[key] || []", key)


def wait_for_text(page, key, text, timeout=WAIT_MS):
    page.wait_for_function(
        "([key, text]) => (window.jimChat.conversations[key] || []).some(m => m.content === text)",
        arg=[key, text], timeout=timeout)


def wait_for_state(page, key, text, state, timeout=WAIT_MS):
    page.wait_for_function(
        "([key, text, state]) => (window.jimChat.conversations[key] || [])"
        ".some(m => m.content === text && m.state === state)",
        arg=[key, text, state], timeout=timeout)


def shown_texts(page):
    """The texts of the open conversation's messages and event lines, as shown."""
    return page.evaluate("""() => [...document.querySelectorAll(
        '#messages .message .text, #messages .event-line')].map(n => n.textContent)""")


def wait_shown(page, text, timeout=WAIT_MS):
    page.wait_for_function("""(text) => [...document.querySelectorAll(
        '#messages .message .text, #messages .event-line')].some(n => n.textContent === text)""",
                           arg=text, timeout=timeout)


def badge(page, key):
    return page.evaluate(
        "(key) => { const b = document.querySelector(`[data-key='${key}'] .badge`);"
        " return b ? b.textContent : null; }", key)


def open_conversation(page, key):
    page.click(f"#chat [data-key='{key}']")
    page.wait_for_function("(key) => window.jimChat.active === key", arg=key, timeout=WAIT_MS)


def forget_refused_connections(pages):
    """Chromium's own log of each refused connection is expected while the server is down."""
    pages.errors[:] = [e for e in pages.errors if not REFUSED_CONNECTION.search(e)]
