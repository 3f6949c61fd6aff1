"""JMessage's Web SDK on a page served over https: the SDK talks to the server over wss://."""

from tests.browser.jmessage_page import (PAGE, PAGE_PATH, STATIC_SDK, call, register,
                                         sign_in, wait_for_messages)
from tests.support.pw import browser, pages, tls_jim  # noqa: F401 (pytest fixtures)


def test_a_page_over_https_chats_over_wss(tls_jim, pages):
    register(tls_jim, "alice01", "bob01")
    origin = f"https://127.0.0.1:{tls_jim.port}/"
    html = PAGE.read_text(encoding="utf-8")
    opened = []
    for _ in range(2):
        page = pages.new(permissions=["local-network-access"], ignore_https_errors=True)
        page.route(origin + PAGE_PATH, lambda route: route.fulfill(
            status=200, body=html, content_type="text/html; charset=utf-8"))
        sockets = []
        page.on("websocket", lambda socket, sockets=sockets: sockets.append(socket.url))
        page.goto(origin + PAGE_PATH)
        opened.append((page, sockets))
    (alice, alice_sockets), (bob, _) = opened
    assert alice.evaluate("() => document.querySelector('script').src") == origin + STATIC_SDK[1:]
    sign_in(tls_jim, alice, "alice01")
    sign_in(tls_jim, bob, "bob01")
    assert alice_sockets == [f"wss://127.0.0.1:{tls_jim.port}/"]
    assert call(alice, "sendTextMessage", {"targetId": "bob01", "targetType": "single",
                                           "text": "over TLS"})["ok"]
    [got] = wait_for_messages(bob, 1)
    assert got["msg_body"] == {"text": "over TLS"}
