"""The web chat's session: a reload keeps it (the reconnect token, never the password) with the
history; a server killed mid-chat loses nothing; a reload while the server is away, a token
the server refuses; a page whose host configured the SDK with a signature first; presence;
a phone-sized screen; the page over https."""

from tests.browser.chat_page import (badge, forget_refused_connections, messages, open_chat,
                                     open_conversation, open_with, register, rest, say,
                                     shown_texts, sign_in, signed_in, wait_for_state,
                                     wait_for_text, wait_shown)
from tests.browser.jmessage_page import PASSWORD, v1_config
from tests.support.pw import browser, jim, pages, tls_jim  # noqa: F401 (pytest fixtures)

PHONE = {"width": 390, "height": 844}
#: JavaScript run before the page's own: while sessionStorage's "test.unreachable" is above 0,
#: each new WebSocket goes to a closed port (as if the server could not be reached) and the
#: count goes down by one.
UNREACHABLE_WHILE_COUNTED = """
    const RealWebSocket = WebSocket;
    window.WebSocket = function (url, protocols) {
      const left = Number(sessionStorage.getItem("test.unreachable") || 0);
      if (left > 0) {
        sessionStorage.setItem("test.unreachable", String(left - 1));
        url = url.replace(/^(wss?:\\/\\/[^/:]+)(:\\d+)?/, "$1:9");
      }
      return new RealWebSocket(url, protocols);
    };
    window.WebSocket.prototype = RealWebSocket.prototype;
    Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
"""


def test_a_reload_restores_the_session_and_the_history(jim, pages):
    register(jim, "alice", "bobby")
    alice = signed_in(jim, pages, "alice")
    bobby = signed_in(jim, pages, "bobby")
    open_with(alice, "bobby")
    for n in range(3):
        say(alice, f"before the reload {n}")
    wait_for_state(alice, "user:bobby", "before the reload 2", "sent")
    wait_for_text(bobby, "user:alice", "before the reload 2")
    saved = alice.evaluate("() => sessionStorage.getItem('jim.chat.session')")
    assert PASSWORD not in saved and '"token"' in saved

    alice.reload()
    alice.wait_for_function("() => window.jimChat.loggedIn")
    assert alice.evaluate("() => window.jimChat.active") == "user:bobby"
    assert alice.is_hidden("#login")
    wait_shown(alice, "before the reload 2")
    assert shown_texts(alice) == [f"before the reload {n}" for n in range(3)]
    assert badge(alice, "user:bobby") is None  # history is never unread
    open_conversation(bobby, "user:alice")
    say(bobby, "after your reload")
    wait_shown(alice, "after your reload")


def test_history_loads_older_pages_when_scrolling_back(jim, pages):
    register(jim, "bobby")
    assert rest(jim, "POST", "v1/admins", {"username": "sysop", "password": PASSWORD})[0] == 201
    for n in range(45):
        status, answer = rest(jim, "POST", "v1/messages", {
            "version": 1, "target_type": "single", "target_id": "bobby", "from_type": "admin",
            "from_id": "sysop", "msg_type": "text", "msg_body": {"text": f"old {n:02}"}})
        assert status == 201, answer
    bobby = signed_in(jim, pages, "bobby")
    # the 45 came while bobby was away
    bobby.wait_for_function(
        "() => (window.jimChat.conversations['user:sysop'] || []).length === 45")
    bobby.evaluate("""() => {
        const saved = JSON.parse(sessionStorage.getItem('jim.chat.session'));
        sessionStorage.setItem('jim.chat.session',
                               JSON.stringify(Object.assign(saved, {active: 'user:sysop'})));
    }""")
    bobby.reload()  # nothing on the page now: the history comes a page at a time
    bobby.wait_for_function("() => window.jimChat.loggedIn")
    wait_shown(bobby, "old 44")
    assert len(shown_texts(bobby)) == 30
    bobby.evaluate("() => document.querySelector('#messages').scrollTop = 0")
    wait_shown(bobby, "old 00")
    assert shown_texts(bobby) == [f"old {n:02}" for n in range(45)]
    assert len(bobby.evaluate("() => window.jimChat.conversations['user:sysop']")) == 45
    bobby.wait_for_function("() => document.querySelector('#history-button').disabled")


def test_a_server_killed_mid_chat_loses_nothing(jim, pages):
    register(jim, "alice", "bobby")
    alice = signed_in(jim, pages, "alice")
    bobby = signed_in(jim, pages, "bobby")
    open_with(alice, "bobby")
    open_with(bobby, "alice")
    say(alice, "before")
    wait_shown(bobby, "before")

    jim.kill()
    for page in (alice, bobby):
        page.wait_for_function("() => !window.jimChat.loggedIn")
        page.wait_for_selector("#connection[data-state='offline']")
        assert "reconnecting" in page.text_content("#connection-text")
    say(alice, "during 1")
    say(alice, "during 2")
    say(bobby, "reply during")
    wait_for_state(alice, "user:bobby", "during 2", "queued")
    assert alice.text_content("#messages .message[data-state='queued'] .note") == \
        "waiting for connection"
    jim.start()

    for page in (alice, bobby):
        page.wait_for_function("() => window.jimChat.loggedIn", timeout=30000)
        page.wait_for_selector("#connection[data-state='online']")
    wait_for_state(alice, "user:bobby", "during 2", "sent", timeout=30000)
    wait_shown(bobby, "during 2", timeout=30000)
    wait_shown(alice, "reply during", timeout=30000)
    say(alice, "after")
    wait_shown(bobby, "after")
    for page in (alice, bobby):
        shown = shown_texts(page)
        assert sorted(shown) == sorted(["before", "during 1", "during 2", "reply during", "after"])
        alices = [t for t in shown if t != "reply during"]
        assert alices == ["before", "during 1", "during 2", "after"]
    assert len({m["id"] for m in messages(bobby, "user:alice")}) == 5
    forget_refused_connections(pages)


def test_a_reload_while_the_server_cannot_be_reached_keeps_the_session(jim, pages):
    register(jim, "alice", "bobby")
    alice = open_chat(jim, pages)
    alice.add_init_script(UNREACHABLE_WHILE_COUNTED)
    sign_in(alice, "alice")
    open_with(alice, "bobby")
    alice.evaluate("() => sessionStorage.setItem('test.unreachable', '2')")
    alice.reload()
    # the chat, not the sign-in form, while it tries again with the saved token
    alice.wait_for_selector("#chat", state="visible")
    assert alice.is_hidden("#login") and not alice.evaluate("() => window.jimChat.loggedIn")
    assert alice.evaluate("() => window.jimChat.active") == "user:bobby"
    say(alice, "written while unreachable")  # kept until it is signed in
    wait_for_state(alice, "user:bobby", "written while unreachable", "queued")
    alice.wait_for_function("() => window.jimChat.loggedIn", timeout=30000)
    wait_for_state(alice, "user:bobby", "written while unreachable", "sent")
    forget_refused_connections(pages)


def test_a_reload_with_a_refused_token_returns_to_the_sign_in_form(jim, pages):
    register(jim, "alice")
    alice = signed_in(jim, pages, "alice")
    assert rest(jim, "PUT", "v1/users/alice/password", {"new_password": "another-pass-1"})[0] == 204
    alice.wait_for_selector("#login-form", state="visible")
    alice.reload()
    alice.wait_for_selector("#login-form", state="visible")
    sign_in(alice, "alice", "another-pass-1")


def test_a_page_whose_host_configured_the_sdk_signs_in_to_that_app(jim, pages):
    register(jim, "alice")
    page = open_chat(jim, pages)
    configured = page.evaluate("""(options) => new Promise((resolve) => {
        JMessage.ready(() => resolve(true));
        JMessage.error((code) => resolve(code));
        JMessage.config(options);
    })""", v1_config(jim.app_key, jim.master_secret))
    assert configured is True
    sign_in(page, "alice")
    saved = page.evaluate("() => JSON.parse(sessionStorage.getItem('jim.chat.session'))")
    assert saved["appKey"] == jim.app_key
    page.reload()  # the token's session needs no configuration
    page.wait_for_function("() => window.jimChat.loggedIn")


def test_presence_dots_follow_the_peer(jim, pages):
    register(jim, "alice", "bobby")
    alice = signed_in(jim, pages, "alice")
    open_with(alice, "bobby")
    alice.wait_for_selector("[data-key='user:bobby'][data-online='false']")
    bobby = signed_in(jim, pages, "bobby")
    open_with(bobby, "alice")
    alice.click("[data-key='user:bobby']")
    alice.wait_for_selector("[data-key='user:bobby'][data-online='true'] .presence.online")


def test_a_phone_sized_screen_has_no_horizontal_scroll(jim, pages):
    register(jim, "alice", "bobby")
    alice = signed_in(jim, pages, "alice", viewport=PHONE, is_mobile=True)
    bobby = signed_in(jim, pages, "bobby")
    no_scroll = ("() => document.documentElement.scrollWidth <= window.innerWidth"
                 " && document.body.scrollWidth <= window.innerWidth")
    assert alice.evaluate(no_scroll)
    open_with(alice, "bobby")
    assert alice.is_hidden(".sidebar") and alice.is_visible("#composer-input")
    say(alice, "a-very-long-word-" * 20)
    open_with(bobby, "alice")
    say(bobby, "short answer")
    wait_shown(alice, "short answer")
    assert alice.evaluate(no_scroll)
    alice.click("#back-button")
    alice.wait_for_selector(".sidebar", state="visible")
    assert alice.is_hidden("#composer") and alice.evaluate(no_scroll)


def test_the_page_over_https_talks_over_wss(tls_jim, pages):
    origin = f"https://127.0.0.1:{tls_jim.port}/"
    opened = []
    for name in ("alice", "bobby"):
        page = pages.new(ignore_https_errors=True)
        sockets = []
        page.on("websocket", lambda socket, sockets=sockets: sockets.append(socket.url))
        page.goto(origin)
        page.wait_for_selector("#login-form", state="visible")
        sign_in(page, name)
        opened.append((page, sockets))
    (alice, sockets), (bobby, _) = opened
    assert sockets == [f"wss://127.0.0.1:{tls_jim.port}/"]
    open_with(alice, "bobby")
    say(alice, "over TLS")
    wait_for_text(bobby, "user:alice", "over TLS")


def test_messages_written_while_the_sdk_gave_the_session_up_go_once_it_is_back(jim, pages):
    register(jim, "alice", "bobby")
    alice = signed_in(jim, pages, "alice")
    bobby = signed_in(jim, pages, "bobby")
    open_with(alice, "bobby")
    alice.clock.install()
    jim.kill()
    alice.wait_for_function("() => !window.jimChat.loggedIn")
    say(alice, "written in a long outage")
    wait_for_state(alice, "user:bobby", "written in a long outage", "queued")
    # more than the SDK's 5 minutes of reconnecting: it ends the session, and the page
    # resumes it with the saved token, the message still waiting
    for _ in range(12):
        alice.clock.run_for(40_000)
        alice.wait_for_timeout(100)
    assert alice.is_hidden("#login")
    [waiting] = messages(alice, "user:bobby")
    assert waiting["state"] == "queued"
    jim.start()
    for _ in range(40):
        if alice.evaluate("() => window.jimChat.loggedIn"):
            break
        alice.clock.run_for(5_000)
        alice.wait_for_timeout(100)
    wait_for_state(alice, "user:bobby", "written in a long outage", "sent")
    wait_for_text(bobby, "user:alice", "written in a long outage", timeout=30000)
    forget_refused_connections(pages)
