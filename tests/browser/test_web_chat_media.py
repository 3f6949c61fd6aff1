"""The web chat's images and files (uploaded through the SDK, shown as a thumbnail that opens
the full image, or a download link) and retraction, seen on both sides."""
import urllib.request

from tests.browser.chat_page import (messages, open_conversation, open_with, register, say,
                                     signed_in, wait_for_state, wait_shown)
from tests.support.media import image_bytes
from tests.support.pw import browser, jim, pages  # noqa: F401 (pytest fixtures)

PNG = image_bytes("PNG", size=(64, 48))


def test_an_image_round_trips_as_a_thumbnail_that_opens_the_full_image(jim, pages):
    register(jim, "alice", "bobby")
    alice = signed_in(jim, pages, "alice")
    bobby = signed_in(jim, pages, "bobby")
    open_with(alice, "bobby")
    alice.set_input_files("#file-input", files=[{"name": "red.png", "mimeType": "image/png",
                                                 "buffer": PNG}])
    alice.wait_for_function("() => (window.jimChat.conversations['user:bobby'] || [])"
                            ".some(m => m.kind === 'image' && m.state === 'sent')")
    [sent] = messages(alice, "user:bobby")
    body = sent["body"]
    assert (body["width"], body["height"], body["format"]) == (64, 48, "png")

    bobby.wait_for_selector("[data-key='user:alice'] .badge")
    open_conversation(bobby, "user:alice")
    thumbnail = bobby.wait_for_selector("#messages .message[data-kind='image'] .thumb img")
    bobby.wait_for_function("(img) => img.complete && img.naturalWidth === 64", arg=thumbnail)
    [got] = messages(bobby, "user:alice")
    assert got["id"] == sent["id"] and got["body"]["media_id"] == sent["body"]["media_id"]
    with urllib.request.urlopen(thumbnail.get_attribute("src"), timeout=10) as answer:
        assert answer.read() == PNG

    thumbnail.click()
    bobby.wait_for_selector("#viewer[open] #viewer-image")
    bobby.wait_for_function("() => document.querySelector('#viewer-image').naturalWidth === 64")
    bobby.click("#viewer")
    bobby.wait_for_selector("#viewer", state="hidden")
    # the sender sees its own image too
    alice.wait_for_selector("#messages .message.own[data-kind='image'] .thumb img")


def test_a_file_is_sent_with_a_download_link(jim, pages):
    register(jim, "alice", "bobby")
    alice = signed_in(jim, pages, "alice")
    bobby = signed_in(jim, pages, "bobby")
    open_with(alice, "bobby")
    content = b"minutes of the meeting\n" * 40
    alice.set_input_files("#file-input", files=[{"name": "minutes.txt", "mimeType": "text/plain",
                                                 "buffer": content}])
    wait_for_state(alice, "user:bobby", "minutes.txt", "sent")
    open_conversation(bobby, "user:alice")
    link = bobby.wait_for_selector("#messages .message[data-kind='file'] a.file-link")
    assert link.text_content() == "minutes.txt" and link.get_attribute("download") == "minutes.txt"
    assert bobby.text_content("#messages .file-size") == "920 B"
    with urllib.request.urlopen(link.get_attribute("href"), timeout=10) as answer:
        assert answer.read() == content


def test_a_retraction_shows_on_both_sides(jim, pages):
    register(jim, "alice", "bobby")
    alice = signed_in(jim, pages, "alice")
    bobby = signed_in(jim, pages, "bobby")
    open_with(alice, "bobby")
    say(alice, "oops, wrong chat")
    say(alice, "this one stays")
    wait_for_state(alice, "user:bobby", "this one stays", "sent")
    open_conversation(bobby, "user:alice")
    wait_shown(bobby, "oops, wrong chat")
    # only one's own messages can be retracted
    assert bobby.query_selector("#messages .retract") is None

    retract = alice.wait_for_selector("#messages .message.own:first-child .retract")
    retract.click()
    for page in (alice, bobby):
        page.wait_for_selector("#messages .message[data-retracted='true'] .text.retracted")
        shown = page.evaluate("() => [...document.querySelectorAll('#messages .message .text')]"
                              ".map(n => n.textContent)")
        assert shown == ["This message was retracted.", "this one stays"]
    key = "user:alice"
    assert [m["retracted"] for m in messages(bobby, key)] == [True, False]
