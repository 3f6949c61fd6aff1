"""JMessage's Web SDK 1.0 API (jim/web/static/sdk/) in a real browser, through a page written
only against that API (pages/jmessage_v1.html), against a real jim: the signed config, login,
1:1 and group chat, images, offline messages, groups and profiles, in the SDK's shapes."""
import re
import time
import urllib.request

from tests.browser.jmessage_page import (PASSWORD, SDK, call, jim_call, open_page, register,
                                         record_frames, rest, seen, sign_in, v1_config,
                                         v2_config, wait_for_event, wait_for_messages)
from tests.support.media import image_bytes
from tests.support.pw import browser, jim, pages  # noqa: F401 (pytest fixtures)

TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def text_message(target_id, text, target_type="single"):
    return {"targetId": target_id, "targetType": target_type, "text": text}


def wait_for_frame(page, frames, matches, count=1, timeout=10.0):
    """The count-th frame the page received that matches."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [frame for way, frame in frames if way == "received" and matches(frame)]
        if len(found) >= count:
            return found[count - 1]
        page.wait_for_timeout(50)
    raise AssertionError(f"no such frame among {frames}")


def test_a_wrong_signature_calls_error_with_872004_and_an_old_one_872005(jim, pages):
    page = open_page(jim, pages)
    wrong = dict(v1_config(jim.app_key, jim.master_secret), signature="0" * 32)
    answered = page.evaluate("(options) => configure(options)", wrong)
    assert answered["ok"] is False and answered["code"] == 872004
    assert seen(page, "errors")[0]["code"] == 872004 and seen(page, "ready") == 0
    refused = call(page, "login", {"username": "alice01", "password": PASSWORD})
    assert (refused["ok"], refused["code"]) == (False, 872004)

    later = open_page(jim, pages)
    an_hour_ago = v1_config(jim.app_key, jim.master_secret, seconds=time.time() - 3600)
    answered = later.evaluate("(options) => configure(options)", an_hour_ago)
    assert answered["ok"] is False and answered["code"] == 872005


def test_the_later_sdks_signature_is_taken_too(jim, pages):
    register(jim, "alice01")
    page = open_page(jim, pages)
    answered = page.evaluate("(options) => configure(options)",
                             v2_config(jim.app_key, jim.master_secret))
    assert answered == {"ok": True}
    assert call(page, "login", {"username": "alice01", "password": PASSWORD})["ok"]
    unsigned = open_page(jim, pages)
    assert unsigned.evaluate("(options) => configure(options)", {"appKey": jim.app_key}) == {
        "ok": False, "code": 872004,
        "message": "config needs appKey, timestamp, randomStr and signature"}


def test_two_users_chat_one_to_one_from_either_url_of_the_script(jim, pages):
    register(jim, "alice01", "bob01", nicknames={"alice01": "Alice", "bob01": "Bob"})
    alice, bob = open_page(jim, pages), open_page(jim, pages, sdk=SDK)
    sign_in(jim, alice, "alice01")
    sign_in(jim, bob, "bob01")
    assert seen(alice, "ready") == 1 and seen(alice, "connected") == 1

    sent = call(alice, "sendTextMessage", text_message("bob01", "hello bob"))
    assert sent["ok"] and sent["args"] == [sent["rid"]] and isinstance(sent["rid"], int)
    [got] = wait_for_messages(bob, 1)
    assert got["msg_id"].isdigit() and isinstance(got["create_time"], int)
    assert {k: v for k, v in got.items() if k not in ("msg_id", "create_time")
            and not k.startswith("jim_")} == {
        "version": 1, "target_type": "single", "target_id": "bob01", "target_name": "Bob",
        "from_type": "user", "from_id": "alice01", "from_name": "Alice", "msg_type": "text",
        "msg_body": {"text": "hello bob"}}

    assert call(bob, "sendTextMessage", text_message("alice01", "hi alice"))["ok"]
    [answer] = wait_for_messages(alice, 1)
    assert (answer["from_id"], answer["msg_body"]) == ("bob01", {"text": "hi alice"})
    assert len(seen(bob, "messages")) == 1  # its own message is not given back to bob

    profile = call(bob, "getUserInfo", {"username": "alice01"})["args"][0]
    assert profile["username"] == "alice01" and profile["nickname"] == "Alice"
    assert set(profile) >= {"star", "avatar", "gender", "signature", "region", "address"}
    assert TIME.match(profile["mtime"]) and TIME.match(profile["ctime"])
    unknown = call(bob, "getUserInfo", {"username": "nobody01"})
    assert (unknown["ok"], unknown["code"]) == (False, 899002)
    missing = call(bob, "getUserInfo", {})
    assert (missing["ok"], missing["code"]) == (False, 872002)


def test_offline_messages_arrive_once_and_a_reload_gets_none_again(jim, pages):
    register(jim, "alice01", "carol01")
    alice = open_page(jim, pages)
    sign_in(jim, alice, "alice01")
    for n in range(3):
        assert call(alice, "sendTextMessage", text_message("carol01", f"offline {n}"))["ok"]
    gid = call(alice, "createGroup", {"groupName": "Later"})["args"][0]["gid"]
    assert call(alice, "addGroupMembers", {"groupId": gid, "memberUsernames": ["carol01"]})["ok"]

    carol = open_page(jim, pages)
    frames = record_frames(carol)
    sign_in(jim, carol, "carol01")
    got = wait_for_messages(carol, 3)
    assert [m["msg_body"]["text"] for m in got] == ["offline 0", "offline 1", "offline 2"]
    [added] = wait_for_event(carol, "add_members")
    assert (added["gid"], added["to_username_list"]) == (gid, ["carol01"])
    newest = max(int(got[-1]["msg_id"]), added["jim_event_id"])
    wait_for_frame(carol, frames, lambda frame: frame.get("command") == 104
                   and frame["data"]["cursor"] >= newest)

    # the same tab again: the same device, whose cursor the page moved past those three
    device = carol.evaluate("() => JMessage.jim.deviceId")
    carol.reload()
    assert carol.evaluate("() => JMessage.jim.deviceId") == device
    sign_in(jim, carol, "carol01")
    synced = wait_for_frame(carol, frames, lambda frame: frame.get("command") == 102, count=2)
    assert (synced["data"]["messages"], synced["data"]["events"]) == ([], [])
    # anything the sync had listed would come before this
    assert call(alice, "sendTextMessage", text_message("carol01", "after the reload"))["ok"]
    got = wait_for_messages(carol, 1)
    assert [m["msg_body"]["text"] for m in got] == ["after the reload"]
    assert seen(carol, "events") == []


def test_a_refused_message_fails_with_its_rid_and_resends_with_it(jim, pages):
    register(jim, "alice01")
    alice = open_page(jim, pages)
    sign_in(jim, alice, "alice01")
    failed = call(alice, "sendTextMessage", text_message("dave0001", "are you there?"))
    assert (failed["ok"], failed["code"]) == (False, 872002)
    assert failed["rid"] == failed["generated"]

    register(jim, "dave0001")
    resent = call(alice, "resendMessage", {"rid": failed["rid"]})
    assert resent["ok"] and resent["args"] == [failed["rid"]]
    again = call(alice, "resendMessage", {"rid": failed["rid"]})
    assert (again["ok"], again["code"]) == (False, 872002)  # nothing failed with that rid now

    dave = open_page(jim, pages)
    sign_in(jim, dave, "dave0001")
    [got] = wait_for_messages(dave, 1)
    assert got["msg_body"] == {"text": "are you there?"}

    # over the server's largest message: refused by the SDK, the connection kept
    too_long = call(alice, "sendTextMessage", text_message("dave0001", "x" * 70000))
    assert (too_long["ok"], too_long["code"]) == (False, 872002) and too_long["rid"]
    assert call(alice, "sendTextMessage", text_message("dave0001", "short"))["ok"]
    assert seen(alice, "disconnected") == 0


def test_logout_and_calls_without_a_login(jim, pages):
    register(jim, "alice01")
    alice = open_page(jim, pages)
    not_yet = call(alice, "sendTextMessage", text_message("bob01", "hi"))
    assert (not_yet["ok"], not_yet["code"]) == (False, 872001)
    sign_in(jim, alice, "alice01")
    assert call(alice, "getGroupList")["ok"]
    alice.evaluate("() => logout()")
    after = call(alice, "getGroupList")
    assert (after["ok"], after["code"]) == (False, 872001)
    assert seen(alice, "disconnected") == 0  # a logout is no lost connection
    refused = call(alice, "login", {"username": "alice01", "password": "wrong-password"})
    assert (refused["ok"], refused["code"]) == (False, 872003)
    assert call(alice, "login", {"username": "alice01", "password": PASSWORD})["ok"]
    assert call(alice, "getGroupList")["args"] == [[]]


def test_groups_their_events_and_group_chat(jim, pages):
    register(jim, "alice01", "bob01", "carol01")
    alice, bob = open_page(jim, pages), open_page(jim, pages)
    sign_in(jim, alice, "alice01")
    sign_in(jim, bob, "bob01")

    created = call(alice, "createGroup", {"groupName": "Book club", "groupDescription": "reads"})
    group = created["args"][0]
    assert set(group) == {"groupName", "groupDescription", "groupLevel", "flag", "gid"}
    assert (group["groupName"], group["groupDescription"]) == ("Book club", "reads")
    gid = group["gid"]
    assert isinstance(gid, int) and isinstance(group["groupLevel"], int)
    [event] = wait_for_event(alice, "create_group")
    assert (event["gid"], event["from_username"], event["jim_event_type"]) == (gid, "alice01", 8)
    assert TIME.match(event["ctime"]) and set(event) >= {"to_username_list", "description"}

    assert call(alice, "addGroupMembers", {"groupId": gid, "memberUsernames": ["bob01"]})["ok"]
    [added] = wait_for_event(bob, "add_members")
    assert (added["gid"], added["to_username_list"], added["from_username"]) == (
        gid, ["bob01"], "alice01")

    info = call(bob, "getGroupInfo", {"groupId": gid})["args"][0]
    assert (info["gid"], info["ownerUsername"], info["groupName"], info["groupDesc"]) == (
        gid, "alice01", "Book club", "reads")
    assert sorted(m["username"] for m in info["members"]) == ["alice01", "bob01"]
    assert all("nickname" in m and "avatar" in m for m in info["members"])

    updated = call(alice, "updateGroupInfo", {"groupId": gid, "groupName": "Readers",
                                              "groupDescription": "monthly"})
    assert updated["args"][0]["groupName"] == "Readers"
    assert updated["args"][0]["groupDescription"] == "monthly"
    refused = call(bob, "updateGroupInfo", {"groupId": gid, "groupName": "Mine"})
    assert refused["ok"] is False and refused["code"] == 899016

    [entry] = call(bob, "getGroupList")["args"][0]
    assert entry == {"gid": gid, "ownerUsername": "alice01", "groupName": "Readers",
                     "groupDesc": "monthly", "membersUsername": entry["membersUsername"]}
    assert sorted(entry["membersUsername"]) == ["alice01", "bob01"]

    assert call(alice, "sendTextMessage", text_message(gid, "hi all", "group"))["ok"]
    [got] = wait_for_messages(bob, 1)
    assert (got["target_type"], got["target_id"], got["target_name"], got["from_id"]) == (
        "group", gid, "Readers", "alice01")
    assert call(bob, "sendTextMessage", text_message(str(gid), "hi alice", "group"))["ok"]
    [answer] = wait_for_messages(alice, 1)
    assert answer["msg_body"] == {"text": "hi alice"} and answer["target_id"] == gid

    assert call(alice, "addGroupMembers", {"groupId": gid, "memberUsernames": ["carol01"]})["ok"]
    removed = call(alice, "removeGroupMembers", {"groupId": gid, "memberUsernames": ["carol01"]})
    assert removed == {"ok": True, "args": [], "rid": None}
    [gone] = wait_for_event(bob, "remove_members")
    assert gone["to_username_list"] == ["carol01"]

    assert call(bob, "exitGroup", {"groupId": gid})["ok"]
    [left] = wait_for_event(alice, "exit_group")
    assert left["gid"] == gid and left["from_username"] == "bob01"
    assert call(bob, "getGroupList")["args"] == [[]]
    not_member = call(bob, "getGroupInfo", {"groupId": gid})
    assert not_member["ok"] is False and not_member["code"] > 872008
    bad = call(bob, "addGroupMembers", {"groupId": "x", "memberUsernames": ["carol01"]})
    assert (bad["ok"], bad["code"]) == (False, 872002)


def test_an_image_round_trips(jim, pages):
    register(jim, "alice01", "bob01")
    alice, bob = open_page(jim, pages), open_page(jim, pages)
    sign_in(jim, alice, "alice01")
    sign_in(jim, bob, "bob01")
    picture = image_bytes("PNG", size=(12, 9))
    alice.set_input_files("#picture", files=[{"name": "photo.png", "mimeType": "image/png",
                                              "buffer": picture}])
    sent = call(alice, "sendImageMessage", {"targetId": "bob01", "targetType": "single",
                                             "fileId": "picture"})
    assert sent["ok"] and sent["args"] == [sent["rid"]]

    [got] = wait_for_messages(bob, 1)
    body = got["msg_body"]
    assert got["msg_type"] == "image" and got["jim_msg_type"] == 1
    assert body["media_id"].startswith("qiniu/image/") and body["format"] == "png"
    assert (body["width"], body["height"], body["fsize"]) == (12, 9, len(picture))

    link = jim_call(bob, "getResource", {"mediaId": body["media_id"]})
    assert link["ok"], link
    with urllib.request.urlopen(link["args"][0], timeout=10) as download:
        assert download.read() == picture

    nothing = call(alice, "sendImageMessage", {"targetId": "bob01", "targetType": "single",
                                                "fileId": "no-such-input"})
    assert (nothing["ok"], nothing["code"]) == (False, 872002)


def test_the_same_device_signing_in_elsewhere_ends_the_first_with_872008(jim, pages):
    register(jim, "alice01")
    same_device = "sessionStorage.setItem('jmessage.deviceId', 'web-shared-device')"
    first = open_page(jim, pages, init_script=same_device)
    sign_in(jim, first, "alice01")
    second = open_page(jim, pages, init_script=same_device)
    sign_in(jim, second, "alice01")

    [event] = wait_for_event(first, "logged_in_elsewhere")
    assert event["return_code"] == 872008 and event["jim_event_type"] == 1
    first.wait_for_function("() => seen.disconnected === 1")
    after = call(first, "sendTextMessage", text_message("alice01", "still here?"))
    assert (after["ok"], after["code"]) == (False, 872008)
    assert call(second, "getGroupList")["ok"]
    assert rest(jim, "GET", "v1/users/alice01")[0] == 200
