"""jim's additions to the SDK for a page that signs its users in itself (JMessage.jim.login,
resume, onLogin, onSessionEnded), presence and the user's groups (getConversations,
getPresence, onPresence), and sendMessage (a text or a file, answered with the stored
message)."""
from tests.browser.jmessage_page import (PASSWORD, call, jim_call, open_page, register, rest,
                                         seen, wait_for_messages)
from tests.support.pw import browser, jim, pages  # noqa: F401 (pytest fixtures)

RECORD = """() => {
    window.logins = []; window.ended = []; window.presence = [];
    JMessage.jim.onLogin((info) => logins.push(info));
    JMessage.jim.onSessionEnded((code, message, reason) => ended.push({code, message, reason}));
    JMessage.jim.onPresence((p) => presence.push(p));
}"""


def recording_page(jim, pages):
    page = open_page(jim, pages)
    page.evaluate(RECORD)
    return page


def login(page, username, **extra):
    return jim_call(page, "login", dict({"username": username, "password": PASSWORD}, **extra))


def test_a_login_without_a_signature_and_a_resume_with_its_token(jim, pages):
    register(jim, "alice01", "bob01")
    alice = recording_page(jim, pages)
    assert login(alice, "alice01") == {"ok": True, "args": []}
    [info] = alice.evaluate("() => logins")
    assert (info["username"], info["appKey"], info["maxBody"]) == ("alice01", "", 65536)
    assert info["token"]
    wrong = jim_call(alice, "login", {"username": "alice01", "password": "wrong-pass-1"})
    assert (wrong["ok"], wrong["code"]) == (False, 872003)
    elsewhere = login(alice, "alice01", appKey="no-such-app-key-0123456789")
    assert (elsewhere["ok"], elsewhere["code"]) == (False, 872003)
    into_default = login(alice, "alice01", appKey=jim.app_key)
    assert into_default["ok"]
    token = alice.evaluate("() => logins[logins.length - 1].token")

    # a reloaded page: the token, never the password
    alice.reload()
    alice.wait_for_function("() => window.JMessage !== undefined")
    alice.evaluate(RECORD)
    assert jim_call(alice, "resume", {"username": "alice01", "token": token}) == {
        "ok": True, "args": []}
    [resumed] = alice.evaluate("() => logins")
    assert resumed["username"] == "alice01" and resumed["token"]
    assert call(alice, "sendTextMessage", {"targetId": "bob01", "targetType": "single",
                                           "text": "resumed"})["ok"]

    # a token the server no longer takes
    changed = rest(jim, "PUT", "v1/users/alice01/password", {"new_password": "another-pass-1"})
    assert changed[0] == 204
    alice.wait_for_function("() => ended.length === 1")
    other = open_page(jim, pages)
    other.evaluate(RECORD)
    refused = jim_call(other, "resume", {"username": "alice01", "token": token})
    assert (refused["ok"], refused["code"]) == (False, 872007)
    [end] = other.evaluate("() => ended")
    assert (end["code"], end["reason"]) == (872007, "refused")


def test_a_configured_sdk_logs_in_to_its_app_only(jim, pages):
    from tests.browser.jmessage_page import v1_config
    register(jim, "alice01")
    page = recording_page(jim, pages)
    assert page.evaluate("(o) => configure(o)", v1_config(jim.app_key, jim.master_secret)) == {
        "ok": True}
    other = login(page, "alice01", appKey="another-app-key-0123456789")
    assert (other["ok"], other["code"]) == (False, 872002)
    assert login(page, "alice01")["ok"]
    assert page.evaluate("() => logins[0].appKey") == jim.app_key


def test_groups_presence_and_sending_with_the_stored_message(jim, pages):
    register(jim, "alice01", "bob01")
    alice, bob = recording_page(jim, pages), recording_page(jim, pages)
    assert login(alice, "alice01")["ok"]
    gid = call(alice, "createGroup", {"groupName": "Team"})["args"][0]["gid"]
    assert call(alice, "addGroupMembers", {"groupId": gid, "memberUsernames": ["bob01"]})["ok"]
    away = jim_call(alice, "getPresence", {"username": "bob01"})
    assert away == {"ok": True, "args": [{"username": "bob01", "nickname": "", "online": False}]}

    assert login(bob, "bob01")["ok"]
    alice.wait_for_function("() => presence.some(p => p.username === 'bob01' && p.online)")
    came = [p for p in alice.evaluate("() => presence") if p["username"] == "bob01"][-1]
    assert came == {"groupId": str(gid), "username": "bob01", "nickname": "", "online": True,
                    "joined": True}
    [answer] = jim_call(bob, "getConversations")["args"]
    assert answer["username"] == "bob01"
    [group] = answer["groups"]
    assert (group["groupId"], group["name"], group["online"]) == (str(gid), "Team", 2)
    assert sorted((m["username"], m["online"]) for m in group["members"]) == [
        ("alice01", True), ("bob01", True)]
    missing = jim_call(bob, "getPresence", {"username": "nobody01"})
    assert missing["ok"] is False

    sent = call(alice, "sendTextMessage", {"targetId": "bob01", "targetType": "single",
                                           "text": "warm-up"})
    assert sent["ok"]
    stored = alice.evaluate("""() => new Promise((resolve) => JMessage.jim.sendMessage({
        targetType: "group", targetId: %d, text: "to the team",
        success: (rid, message) => resolve({rid, message}),
        fail: (code, message) => resolve({code, message})}))""" % gid)
    message = stored["message"]
    assert (message["target_type"], message["target_id"], message["from_id"]) == (
        "group", gid, "alice01")
    assert message["msg_body"] == {"text": "to the team"} and message["msg_id"].isdigit()
    assert message["jim_client_id"] == str(stored["rid"])
    got = wait_for_messages(bob, 2)
    assert got[-1]["msg_id"] == message["msg_id"]
    assert got[-1]["create_time"] == message["create_time"]

    # with the app's word filter on, what the sender is given is the text kept, as bob gets it
    assert rest(jim, "POST", "v1/sensitiveword", ["secret"])[0] == 204
    assert rest(jim, "PUT", "v1/sensitiveword/status?status=1")[0] == 204
    masked = alice.evaluate("""() => new Promise((resolve) => JMessage.jim.sendMessage({
        targetType: "group", targetId: %d, text: "a secret plan",
        success: (rid, message) => resolve(message),
        fail: (code, message) => resolve({code, message})}))""" % gid)
    assert masked["msg_body"] == {"text": "a ****** plan"}, masked
    assert wait_for_messages(bob, 3)[-1]["msg_body"] == {"text": "a ****** plan"}

    uploaded = alice.evaluate("""() => new Promise((resolve) => JMessage.jim.sendMessage({
        targetType: "single", targetId: "bob01",
        file: new File(["the minutes"], "minutes.txt", {type: "text/plain"}),
        success: (rid, message) => resolve(message),
        fail: (code, message) => resolve({code, message})}))""")
    assert uploaded["msg_type"] == "file" and uploaded["msg_body"]["fname"] == "minutes.txt"
    got = wait_for_messages(bob, 3)
    assert got[-1]["msg_type"] == "file" and got[-1]["msg_body"] == uploaded["msg_body"]
    empty = alice.evaluate("""() => new Promise((resolve) => JMessage.jim.sendMessage({
        targetType: "single", targetId: "bob01", file: new Blob([]),
        success: () => resolve(null), fail: (code) => resolve(code)}))""")
    assert empty == 872002
    assert seen(bob, "errors") == []

    # bob goes: alice hears it
    bob.evaluate("() => JMessage.logout()")
    alice.wait_for_function("() => presence.some(p => p.username === 'bob01' && !p.online)")
