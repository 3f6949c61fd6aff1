"""jim's additions to JMessage's Web SDK 1.0 (JMessage.jim: chat rooms, retraction, history,
the device id), and what the SDK does when the server goes away mid-chat."""
import json
import re

from tests.browser.jmessage_page import (call, jim_call, open_page, register, rest, seen,
                                         sign_in, wait_for_event, wait_for_messages)
from tests.support.pw import browser, jim, pages  # noqa: F401 (pytest fixtures)

#: what Chromium itself logs for each connection the SDK tries while the server is down
REFUSED_CONNECTION = re.compile(
    r": console error: WebSocket connection to 'ws://127\.0\.0\.1:\d+/' failed: "
    r"Error in connection establishment: net::ERR_CONNECTION_REFUSED$")


def text_message(target_id, text, target_type="single"):
    return {"targetId": target_id, "targetType": target_type, "text": text}


def test_a_chat_room_retraction_and_history(jim, pages):
    register(jim, "alice01", "bob01")
    status, created = rest(jim, "POST", "v1/chatroom", {"owner_username": "alice01",
                                                        "name": "Lobby"})
    assert status == 201, created
    room = created["chatroom_id"]
    alice, bob = open_page(jim, pages), open_page(jim, pages)
    sign_in(jim, alice, "alice01")
    sign_in(jim, bob, "bob01")

    assert jim_call(bob, "enterChatRoom", {"roomId": room}) == {"ok": True, "args": [room]}
    assert call(alice, "sendTextMessage", text_message(room, "hello room", "chatroom"))["ok"]
    [got] = wait_for_messages(bob, 1)
    assert (got["target_type"], got["target_id"], got["from_id"], got["msg_body"]) == (
        "chatroom", room, "alice01", {"text": "hello room"})
    assert jim_call(bob, "exitChatRoom", {"roomId": room})["ok"]
    gone = call(bob, "sendTextMessage", text_message(room, "anyone?", "chatroom"))
    assert gone["ok"] is False
    nowhere = jim_call(bob, "enterChatRoom", {"roomId": room + 99})
    assert nowhere["ok"] is False

    for n in range(3):
        sent = call(alice, "sendTextMessage", text_message("bob01", f"private {n}"))
        assert sent["ok"]
    wait_for_messages(bob, 4)
    history = jim_call(alice, "getHistory", {"targetType": "single", "targetId": "bob01"})
    messages, page = history["args"]
    assert [m["msg_body"]["text"] for m in messages] == ["private 0", "private 1", "private 2"]
    assert page["more"] is False
    assert messages[-1]["jim_client_id"] == str(sent["rid"])
    older = jim_call(alice, "getHistory", {"targetType": "single", "targetId": "bob01",
                                           "count": 2, "offset": 0})
    assert [m["msg_body"]["text"] for m in older["args"][0]] == ["private 0", "private 1"]

    retracted = jim_call(alice, "retractMessage", {"msgId": messages[-1]["msg_id"]})
    assert retracted == {"ok": True, "args": [messages[-1]["msg_id"]]}
    [event] = wait_for_event(bob, "message_retracted")
    assert event["jim_data"]["msgid_list"] == [int(messages[-1]["msg_id"])]
    not_mine = jim_call(bob, "retractMessage", {"msgId": messages[0]["msg_id"]})
    assert not_mine["ok"] is False and not 872000 <= not_mine["code"] <= 872008  # the server's

    device = alice.evaluate("() => JMessage.jim.deviceId")
    assert device.startswith("web-") and device == alice.evaluate("() => JMessage.jim.getDeviceId()")
    assert device != bob.evaluate("() => JMessage.jim.deviceId")


def test_a_server_killed_mid_chat_loses_nothing(jim, pages):
    register(jim, "alice01", "bob01")
    alice, bob = open_page(jim, pages), open_page(jim, pages)
    sign_in(jim, alice, "alice01")
    sign_in(jim, bob, "bob01")
    assert call(alice, "sendTextMessage", text_message("bob01", "before"))["ok"]
    wait_for_messages(bob, 1)

    jim.kill()
    alice.wait_for_function("() => seen.disconnected === 1")
    bob.wait_for_function("() => seen.disconnected === 1")
    # written while the server is away: their callbacks wait for it
    alice.evaluate("""() => {
        window.outage = [];
        for (const text of ["during 1", "during 2"]) {
            call("sendTextMessage", {targetId: "bob01", targetType: "single", text})
                .then((answer) => window.outage.push(answer));
        }
    }""")
    bob.evaluate("""() => {
        window.outage = [];
        call("sendTextMessage", {targetId: "alice01", targetType: "single", text: "reply"})
            .then((answer) => window.outage.push(answer));
    }""")
    jim.start()

    alice.wait_for_function("() => window.outage.length === 2", timeout=30000)
    bob.wait_for_function("() => window.outage.length === 1", timeout=30000)
    assert all(answer["ok"] for answer in alice.evaluate("() => window.outage"))
    assert seen(alice, "connected") == 2 and seen(bob, "connected") == 2
    got = wait_for_messages(bob, 3)
    assert [m["msg_body"]["text"] for m in got] == ["before", "during 1", "during 2"]
    [reply] = wait_for_messages(alice, 1)
    assert reply["msg_body"] == {"text": "reply"}

    # and nothing twice: a message after the outage is the only one more
    assert call(alice, "sendTextMessage", text_message("bob01", "after"))["ok"]
    got = wait_for_messages(bob, 4)
    assert [m["msg_body"]["text"] for m in got] == ["before", "during 1", "during 2", "after"]
    assert len({m["msg_id"] for m in got}) == 4
    # Chromium's own log of each refused connection is expected while the server is down
    pages.errors[:] = [e for e in pages.errors if not REFUSED_CONNECTION.search(e)]


def test_a_request_the_server_never_answers_fails_with_872006_and_heartbeats_go(jim, pages):
    register(jim, "alice01")
    alice = open_page(jim, pages)
    alice.clock.install()

    commands = []

    def between(page_side):
        server = page_side.connect_to_server()

        def upward(message):
            commands.append(json.loads(message).get("cmd"))
            if commands[-1] != 113:  # the profile request is lost
                server.send(message)
        page_side.on_message(upward)
        server.on_message(page_side.send)

    alice.route_web_socket(re.compile(r"^ws://"), between)
    sign_in(jim, alice, "alice01")
    alice.evaluate("""() => {
        window.profile = null;
        call("getUserInfo", {username: "alice01"}).then((answer) => { window.profile = answer; });
    }""")
    alice.clock.run_for(29000)
    assert alice.evaluate("() => window.profile") is None
    alice.clock.run_for(2000)
    alice.wait_for_function("() => window.profile !== null")
    answer = alice.evaluate("() => window.profile")
    assert (answer["ok"], answer["code"]) == (False, 872006)
    assert commands.count(13) == 1  # the heartbeat, every 30 s
    assert call(alice, "getGroupList")["ok"]  # the session goes on


def test_a_session_the_server_no_longer_takes_fails_what_waits_with_872007(jim, pages):
    register(jim, "alice01", "bob01")
    alice = open_page(jim, pages)
    sign_in(jim, alice, "alice01")
    assert rest(jim, "DELETE", "v1/users/alice01")[0] == 204
    wait_for_event(alice, "user_deleted")
    # the SDK reconnects with its token, which no longer has a user: the session is lost
    waiting = call(alice, "sendTextMessage", text_message("bob01", "anyone?"))
    assert (waiting["ok"], waiting["code"]) == (False, 872007)
    assert seen(alice, "disconnected") == 1
    later = call(alice, "getGroupList")
    assert (later["ok"], later["code"]) == (False, 872007)
