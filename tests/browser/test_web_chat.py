"""The web chat page (GET /, built on jim's JS SDK) in a real browser against a real jim."""
from tests.browser.chat_page import (badge, messages, open_chat, open_with, register, say,
                                     shown_texts, sign_in, signed_in, wait_for_state, wait_for_text,
                                     wait_shown)
from tests.support.pw import browser, jim, pages  # noqa: F401 (pytest fixtures)


def test_two_users_chat_one_to_one(jim, pages):
    alice = signed_in(jim, pages, "alice")
    bobby = signed_in(jim, pages, "bobby")
    text = "hello <b>bobby</b> & friends"
    open_with(alice, "bobby")
    say(alice, text)
    wait_for_state(alice, "user:bobby", text, "sent")
    wait_for_text(bobby, "user:alice", text)
    assert badge(bobby, "user:alice") == "1"
    assert bobby.title() == "(1) jim chat"
    bobby.click("[data-key='user:alice']")
    wait_shown(bobby, text)
    assert badge(bobby, "user:alice") is None and bobby.title() == "jim chat"
    say(bobby, "hi alice")
    wait_for_text(alice, "user:bobby", "hi alice")
    wait_shown(alice, "hi alice")
    assert shown_texts(alice) == [text, "hi alice"]
    [mine] = [m for m in messages(alice, "user:bobby") if m["own"]]
    assert mine["id"].isdigit() and mine["state"] == "sent"


def test_a_refused_message_fails_alone_and_the_next_one_goes(jim, pages):
    alice = signed_in(jim, pages, "alice")
    signed_in(jim, pages, "bobby")
    open_with(alice, "nobody-here")
    say(alice, "into the void")
    wait_for_state(alice, "user:nobody-here", "into the void", "failed")
    assert "Message not sent" in alice.evaluate("() => window.jimChat.status")
    open_with(alice, "bobby")
    say(alice, "to bobby")
    wait_for_state(alice, "user:bobby", "to bobby", "sent")
    assert [m["state"] for m in messages(alice, "user:nobody-here")] == ["failed"]


def test_a_wrong_password_shows_the_servers_reason(jim, pages):
    signed_in(jim, pages, "alice")
    page = open_chat(jim, pages)
    page.fill("#login-user", "alice")
    page.fill("#login-password", "not-the-password")
    page.press("#login-password", "Enter")
    page.wait_for_function("() => document.querySelector('#login-error').textContent !== ''")
    assert "wrong" in page.text_content("#login-error")
    assert page.is_hidden("#chat") and not page.evaluate("() => window.jimChat.loggedIn")
    assert page.input_value("#login-password") == ""
    sign_in(page, "alice")  # and the form still signs in


def test_a_message_over_the_servers_limit_fails_alone(jim, pages):
    register(jim, "bobby")
    alice = signed_in(jim, pages, "alice")
    open_with(alice, "bobby")
    say(alice, "x" * 70000)
    alice.wait_for_function("() => (window.jimChat.conversations['user:bobby'] || [])"
                            ".some(m => m.state === 'failed')")
    assert "65536" in alice.evaluate("() => window.jimChat.status")
    say(alice, "short")
    wait_for_state(alice, "user:bobby", "short", "sent")


def test_own_messages_from_another_tab_are_shown_and_not_unread(jim, pages):
    first = signed_in(jim, pages, "alice")
    second = signed_in(jim, pages, "alice")
    signed_in(jim, pages, "bobby")
    open_with(first, "bobby")
    say(first, "same text")
    wait_for_state(first, "user:bobby", "same text", "sent")
    wait_for_text(second, "user:bobby", "same text")
    assert badge(second, "user:bobby") is None
    [copy] = messages(second, "user:bobby")
    assert copy["own"] and copy["state"] == "sent"


def test_offline_messages_arrive_at_sign_in_with_their_unread_count(jim, pages):
    register(jim, "carol")
    alice = signed_in(jim, pages, "alice")
    open_with(alice, "carol")
    for n in range(3):
        say(alice, f"while away {n}")
        wait_for_state(alice, "user:carol", f"while away {n}", "sent")
    carol = signed_in(jim, pages, "carol")
    carol.wait_for_function("() => (window.jimChat.conversations['user:alice'] || []).length === 3")
    assert badge(carol, "user:alice") == "3" and carol.title() == "(3) jim chat"
    carol.click("[data-key='user:alice']")
    wait_shown(carol, "while away 2")
    assert shown_texts(carol) == ["while away 0", "while away 1", "while away 2"]


def test_signing_out_clears_the_unread_count_and_the_session(jim, pages):
    alice = signed_in(jim, pages, "alice")
    bobby = signed_in(jim, pages, "bobby")
    open_with(alice, "bobby")
    say(alice, "unread")
    wait_for_text(bobby, "user:alice", "unread")
    assert bobby.title() == "(1) jim chat"
    bobby.click("#logout")
    bobby.wait_for_selector("#login-form", state="visible")
    assert bobby.title() == "jim chat"
    assert bobby.evaluate("() => sessionStorage.getItem('jim.chat.session')") is None
    bobby.reload()
    bobby.wait_for_selector("#login-form", state="visible")
    assert not bobby.evaluate("() => window.jimChat.loggedIn")
