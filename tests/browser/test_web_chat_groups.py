"""The web chat's groups and chat rooms: a group created from the page, its members and their
presence, members added, events shown in the conversation, leaving; a chat room made over the
REST API, entered, talked in and left."""
from tests.browser.chat_page import (messages, open_conversation, register, rest, say,
                                     shown_texts, signed_in, submit, wait_for_state,
                                     wait_for_text, wait_shown)
from tests.support.pw import browser, jim, pages  # noqa: F401 (pytest fixtures)


def group_key(page, name):
    page.wait_for_function("(name) => window.jimChat.groups.some(g => g.name === name)", arg=name)
    gid = page.evaluate("(name) => window.jimChat.groups.find(g => g.name === name).groupId", name)
    return f"group:{gid}"


def test_a_group_created_on_the_page_chats_and_tells_who_was_added(jim, pages):
    register(jim, "alice", "bobby", "carol")
    alice = signed_in(jim, pages, "alice")
    bobby = signed_in(jim, pages, "bobby")
    alice.fill("#create-group-members", "bobby")
    submit(alice, "create-group-input", "Launch team")
    key = group_key(alice, "Launch team")
    alice.wait_for_function("(key) => window.jimChat.active === key", arg=key)
    wait_shown(alice, "bobby was added by alice")
    assert alice.text_content("#conv-title") == "# Launch team"

    # bobby hears of it: the group shows up in his sidebar with the event
    bobby.wait_for_selector(f"[data-key='{key}']")
    say(alice, "welcome, bobby")
    wait_for_state(alice, key, "welcome, bobby", "sent")
    wait_for_text(bobby, key, "welcome, bobby")
    open_conversation(bobby, key)
    wait_shown(bobby, "welcome, bobby")
    assert "bobby was added by alice" in shown_texts(bobby)
    say(bobby, "thanks")
    wait_for_text(alice, key, "thanks")
    # each message once on either side
    assert [m["content"] for m in messages(alice, key) if m["kind"] == "text"] == [
        "welcome, bobby", "thanks"]

    # members, with who is online
    alice.click("#members-button")
    alice.wait_for_selector("#members-panel [data-user-id='bobby'].online")
    assert alice.is_visible("#members-panel [data-user-id='alice']")
    alice.fill("#add-member-input", "carol")
    alice.press("#add-member-input", "Enter")
    wait_shown(alice, "carol was added by alice")
    alice.wait_for_selector("#members-panel [data-user-id='carol']:not(.online)")
    wait_shown(bobby, "carol was added by alice")

    # carol signs in: bobby sees her come online, and she has the group and its history
    carol = signed_in(jim, pages, "carol")
    bobby.click("#members-button")
    bobby.wait_for_selector("#members-panel [data-user-id='carol'].online")
    carol.wait_for_selector(f"[data-key='{key}']")
    open_conversation(carol, key)
    wait_shown(carol, "thanks")

    # bobby leaves: the others are told, and the group leaves his sidebar
    bobby.click("#leave-button")
    bobby.wait_for_selector(f"[data-key='{key}']", state="detached")
    wait_shown(alice, "bobby left")
    alice.wait_for_selector("#members-panel [data-user-id='bobby']", state="detached")
    assert bobby.evaluate("() => window.jimChat.active") is None


def test_a_chat_room_is_entered_talked_in_and_left(jim, pages):
    register(jim, "alice", "bobby")
    status, created = rest(jim, "POST", "v1/chatroom", {"owner_username": "alice",
                                                        "name": "Lobby"})
    assert status == 201, created
    room = str(created["chatroom_id"])
    alice = signed_in(jim, pages, "alice")
    bobby = signed_in(jim, pages, "bobby")
    # a wrong id is refused on the status line, an empty form says what it needs, and the
    # next form sent clears what was said
    submit(alice, "enter-room-input", "abc")
    alice.wait_for_function("() => window.jimChat.status.includes('Could not enter the room')")
    submit(alice, "create-group-input", "")
    alice.wait_for_function("() => window.jimChat.status === 'Name the group to create.'")
    for page in (alice, bobby):
        submit(page, "enter-room-input", room)
        page.wait_for_function("(key) => window.jimChat.active === key", arg=f"room:{room}")
    assert alice.evaluate("() => window.jimChat.status") == ""
    say(alice, "hello room")
    wait_for_state(alice, f"room:{room}", "hello room", "sent")
    wait_shown(bobby, "hello room")
    say(bobby, "hi from bobby")
    wait_shown(alice, "hi from bobby")
    assert shown_texts(alice) == ["hello room", "hi from bobby"]

    bobby.click("#leave-button")
    bobby.wait_for_selector(f"[data-key='room:{room}']", state="detached")
    say(alice, "bobby has gone")
    wait_for_state(alice, f"room:{room}", "bobby has gone", "sent")
    bobby.wait_for_timeout(300)
    assert f"room:{room}" not in bobby.evaluate("() => window.jimChat.conversations")
