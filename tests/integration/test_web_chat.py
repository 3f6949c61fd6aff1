"""The web chat page in a real browser against a real ``twistd jim``.

Each test starts a server process and a headless Chromium, and drives the page the way a person
would: typing into the form fields, clicking, pressing Enter. The page's read-only
C{window.jimChat} hook is used to wait for state; what the user sees is checked in the DOM.
"""
import base64
import hashlib
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from jim.net.devcert import make_dev_certs
from tests.support.browser import Browser
from tests.support.server import JimServer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def js(value):
    """A Python value as a JavaScript literal."""
    return json.dumps(value)


def shown_texts(key):
    """JavaScript: the message texts on screen, if conversation C{key} is the open one."""
    return (
        f"(window.jimChat.active === {js(key)} ?"
        " [...document.querySelectorAll('#messages .message .text')].map(n => n.textContent) : [])"
    )


def messages(key):
    """JavaScript: the page's messages of conversation C{key} (empty if it has none)."""
    return f"(window.jimChat.conversations[{js(key)}] || [])"


def has_message(key, text):
    return f"{messages(key)}.some(m => m.content === {js(text)})"


def first_state(key, *states):
    """JavaScript: the first message of C{key} is in one of C{states} (sent, stored, queued…)."""
    return f"{js(list(states))}.includes(({messages(key)}[0] || {{}}).state)"


def badge(key):
    """JavaScript: the unread badge of conversation C{key} in the sidebar, or null."""
    return f"document.querySelector('[data-key={js(key)}] .badge')"


def acknowledgements_held_back(ms, codes="[0-9]+"):
    """JavaScript run before the page's own: the page sees cmd 12 replies whose code matches
    the regular expression C{codes} C{ms} milliseconds late, as after a slow commit."""
    return f"""
        const listen = WebSocket.prototype.addEventListener;
        WebSocket.prototype.addEventListener = function (type, listener, options) {{
          if (type !== "message") return listen.call(this, type, listener, options);
          return listen.call(this, type, (event) => {{
            const ack = /"command":12/.test(event.data) && /"code":{codes}[,}}]/.test(event.data);
            if (ack) setTimeout(() => listener(event), {ms}); else listener(event);
          }}, options);
        }};
    """


def login_replies_without_max_body():
    """JavaScript run before the page's own: login replies reach the page without maxBody, as
    from a server that does not tell its limit."""
    return r"""
        const listen = WebSocket.prototype.addEventListener;
        WebSocket.prototype.addEventListener = function (type, listener, options) {
          if (type !== "message") return listen.call(this, type, listener, options);
          return listen.call(this, type, (event) => {
            if (!/"command":6[,}]/.test(event.data)) return listener(event);
            const data = event.data.replace(/,"maxBody":\d+/, "");
            listener(new MessageEvent("message", { data }));
          }, options);
        };
    """


def spki_fingerprint(cert_path):
    """Base64 SHA-256 of a certificate's public key, as Chromium's SPKI allow-list wants it."""
    with open(cert_path, "rb") as pem:
        key = x509.load_pem_x509_certificate(pem.read()).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


class WebChatTests(TestCase):
    timeout = 120

    async def setUp(self):
        self.server = await JimServer.start(self)
        self.browser = await Browser.launch(self)

    async def open_page(self):
        page = await self.browser.new_page()
        await page.navigate(self.server.url)
        await page.wait_for("window.jimChat && !document.querySelector('#login').hidden")
        return page

    async def sign_in(self, page, user, password="secret"):
        await page.fill("#login-user", user)
        await page.fill("#login-password", password)
        await page.press("Enter")
        await page.wait_for("window.jimChat.loggedIn && !document.querySelector('#chat').hidden")
        await page.wait_for(f"window.jimChat.me.userId === {js(user)}")

    async def signed_in_page(self, user, password="secret"):
        page = await self.open_page()
        await self.sign_in(page, user, password)
        return page

    async def submit(self, page, form, value):
        """Type into one of the sidebar forms (chat-with, join-group) and press its button."""
        await page.fill(f"#{form}-input", value)
        await page.click(f"#{form}-form button")

    async def say(self, page, text):
        """Type a message into the composer and send it with Enter."""
        await page.fill("#composer-input", text)
        await page.press("Enter")

    async def shown_once(self, page, key, text):
        await page.wait_for(f"{shown_texts(key)}.includes({js(text)})")
        texts = await page.evaluate(shown_texts(key))
        self.assertEqual(texts.count(text), 1, texts)

    async def test_private_message_reaches_the_peer(self):
        alice = await self.signed_in_page("alice")
        bob = await self.signed_in_page("bob")
        text = "hello <b>bob</b> & friends"

        await self.submit(alice, "chat-with", "bob")
        await alice.wait_for("window.jimChat.active === 'user:bob'")
        await self.say(alice, text)

        # Bob is elsewhere: the conversation shows up with an unread badge.
        await bob.wait_for(has_message("user:alice", text))
        self.assertEqual(await bob.evaluate(f"{badge('user:alice')}.textContent"), "1")

        await bob.click('[data-key="user:alice"]')
        await self.shown_once(bob, "user:alice", text)
        # Text is text: no element was made out of the message.
        self.assertEqual(await bob.evaluate("document.querySelectorAll('#messages b').length"), 0)
        self.assertIsNone(await bob.evaluate(badge("user:alice")))

        await self.shown_once(alice, "user:bob", text)
        own = "document.querySelector('#messages .message').classList.contains('own')"
        self.assertTrue(await alice.evaluate(own))
        await alice.wait_for(first_state("user:bob", "sent"))

        await self.say(bob, "hi alice")
        await self.shown_once(alice, "user:bob", "hi alice")

    async def test_a_refusal_marks_the_message_it_refused_and_no_other(self):
        # Acknowledgements held back: a refusal overtakes the acknowledgement of an earlier
        # chat, as it does when that chat's commit is slow.
        held_back = acknowledgements_held_back(300, codes="1000[01]")
        bob = await self.signed_in_page("bob")
        alice = await self.browser.new_page()
        await alice.run_before_scripts(held_back)
        await alice.navigate(self.server.url)
        await alice.wait_for("window.jimChat && !document.querySelector('#login').hidden")
        await self.sign_in(alice, "alice")
        for peer in ("bob", "ghost"):  # ghost: a mistyped name, no such user
            await self.submit(alice, "chat-with", peer)
            await alice.wait_for(f"window.jimChat.active === {js('user:' + peer)}")
        await alice.click('[data-key="user:bob"]')
        await self.say(alice, "to bob")
        await alice.click('[data-key="user:ghost"]')
        await self.say(alice, "to ghost")

        await alice.wait_for(first_state("user:ghost", "failed"))
        await bob.wait_for(has_message("user:alice", "to bob"))
        await alice.wait_for(first_state("user:bob", "sent"))
        self.assertEqual(
            await alice.evaluate(f"{messages('user:bob')}.map(m => m.state)"), ["sent"]
        )

    async def test_group_message_reaches_the_other_member(self):
        alice = await self.signed_in_page("alice")
        bob = await self.signed_in_page("bob")

        await self.submit(alice, "join-group", "room1")
        await alice.wait_for("window.jimChat.groups.some(g => g.groupId === 'room1')")
        await self.submit(bob, "join-group", "room1")
        # Alice hears that bob joined and sees him online in the member list.
        await alice.wait_for("document.querySelector('.member.online[data-user-id=\"bob\"]')")

        await alice.click('[data-key="group:room1"]')
        await self.say(alice, "hello room")
        await bob.wait_for(has_message("group:room1", "hello room"))
        await self.shown_once(bob, "group:room1", "hello room")
        # The server echoes group messages to the sender; the page must not show them twice.
        await self.shown_once(alice, "group:room1", "hello room")
        await alice.wait_for(f"{messages('group:room1')}[0].id !== null")
        self.assertEqual(await alice.evaluate(f"{messages('group:room1')}.length"), 1)

        await self.say(bob, "hello alice")
        await alice.wait_for(has_message("group:room1", "hello alice"))

        # A private message while alice looks at the group: an unread badge, seen on screen.
        await self.submit(bob, "chat-with", "alice")
        await self.say(bob, "psst")
        await alice.wait_for(badge("user:bob"))
        shots = os.path.abspath(self.mktemp())
        os.makedirs(shots)
        path = await alice.screenshot(os.path.join(shots, "chat.png"))
        with open(path, "rb") as png:
            self.assertEqual(png.read(len(PNG_SIGNATURE)), PNG_SIGNATURE)

    async def test_a_message_too_long_fails_alone(self):
        alice = await self.signed_in_page("alice")
        bob = await self.signed_in_page("bob")
        await self.submit(alice, "chat-with", "bob")
        await alice.wait_for("window.jimChat.active === 'user:bob'")
        await alice.evaluate("""(() => {  // typing 70,000 characters takes too long: paste them
            const box = document.querySelector('#composer-input');
            box.value = 'x'.repeat(70000);
            document.querySelector('#composer').requestSubmit();
            return true;
        })()""")
        # refused by the page: never sent, so the socket is not closed for it (1009) and the
        # page does not reconnect and resend it for ever
        await alice.wait_for(first_state("user:bob", "failed"))
        status = await alice.evaluate("document.querySelector('#status').textContent")
        self.assertIn("over the server's 65536", status)
        await self.say(alice, "small one after it")
        await bob.wait_for(has_message("user:alice", "small one after it"))
        self.assertTrue(await alice.evaluate("window.jimChat.loggedIn"))

    async def test_own_message_from_another_tab_is_shown_too(self):
        held_back = acknowledgements_held_back(1500)
        bob = await self.signed_in_page("bob")
        first = await self.browser.new_page()
        await first.run_before_scripts(held_back)  # its own chat stays "sending" a while
        await first.navigate(self.server.url)
        await first.wait_for("window.jimChat && !document.querySelector('#login').hidden")
        await self.sign_in(first, "alice")
        second = await self.signed_in_page("alice")
        for tab in (first, second):
            await self.submit(tab, "chat-with", "bob")
            await tab.wait_for("window.jimChat.active === 'user:bob'")
        await self.say(first, "ok")
        await self.say(second, "ok")  # the same text, from the other tab
        await bob.wait_for(f"{messages('user:alice')}.length === 2")
        await first.wait_for(f"{messages('user:bob')}.length === 2")
        # its own chat, acknowledged, and the other tab's, pushed: two messages, not one
        await first.wait_for(f"{messages('user:bob')}.some(m => m.state === 'sent')")
        self.assertEqual(await first.evaluate(f"{messages('user:bob')}.length"), 2)

    async def test_signing_out_clears_the_unread_count_in_the_title(self):
        alice = await self.signed_in_page("alice")
        bob = await self.signed_in_page("bob")
        await self.submit(bob, "chat-with", "alice")
        await self.say(bob, "unread")
        await alice.wait_for("document.title === '(1) jim chat'")
        await alice.click("#logout")
        await alice.wait_for("!document.querySelector('#login').hidden")
        self.assertEqual(await alice.evaluate("document.title"), "jim chat")

    async def test_history_fills_the_gap_between_offline_messages(self):
        from tests.support.jimclient import tcp_client

        bob = await tcp_client(self.server.port, testcase=self)
        await bob.login("bob")
        sent = []

        async def gone():  # until the server, too, has seen the phone's connection end
            for _ in range(100):
                bob.send(17, {"cmd": 17, "type": 0, "userId": "alice"})
                if (await bob.expect(18))["data"]["status"] == "offline":
                    return
                await deferLater(reactor, 0.02, lambda: None)
            self.fail("alice still online")

        async def chat(text):
            bob.send(11, {"cmd": 11, "chatType": 2, "to": "alice", "content": text})
            sent.append((text, (await bob.expect(12))["code"]))

        alice_phone = await tcp_client(self.server.port, testcase=self)
        await alice_phone.login("alice")  # registers her
        alice_phone.close()  # alice is offline: b1 waits for her
        await gone()
        await chat("b1")
        alice_phone = await tcp_client(self.server.port, testcase=self)
        await alice_phone.login("alice")  # her phone fetches nothing: b2 and b3 reach it live
        await chat("b2")
        await chat("b3")
        alice_phone.close()
        await gone()
        await chat("b4")
        self.assertEqual(sent, [("b1", 10001), ("b2", 10000), ("b3", 10000), ("b4", 10001)])

        alice = await self.signed_in_page("alice")  # the offline batch: b1 and b4
        await alice.wait_for(f"{messages('user:bob')}.length === 2")
        await alice.click('[data-key="user:bob"]')
        await alice.wait_for("!document.querySelector('#history-button').disabled")
        await alice.click("#history-button")
        await alice.wait_for(f"{shown_texts('user:bob')}.length === 4")
        self.assertEqual(await alice.evaluate(shown_texts("user:bob")), ["b1", "b2", "b3", "b4"])

    async def test_history_loads_after_a_reload(self):
        alice = await self.signed_in_page("alice")
        bob = await self.signed_in_page("bob")
        await self.submit(alice, "chat-with", "bob")
        for text in ("first", "second"):
            await self.say(alice, text)
            await bob.wait_for(has_message("user:alice", text))

        await alice.reload()
        # The tab keeps its reconnect token: the page signs itself back in.
        await alice.wait_for("window.jimChat.loggedIn")
        self.assertEqual(await alice.evaluate(f"{messages('user:bob')}.length"), 0)

        await alice.click('[data-key="user:bob"]')
        await alice.wait_for("!document.querySelector('#history-button').disabled")
        await alice.click("#history-button")
        await alice.wait_for(f"{shown_texts('user:bob')}.length === 2")
        self.assertEqual(await alice.evaluate(shown_texts("user:bob")), ["first", "second"])

    async def test_wrong_password_shows_an_error(self):
        first = await self.signed_in_page("carol", "right password")
        await first.click("#logout")
        await first.wait_for("!document.querySelector('#login').hidden")

        page = await self.open_page()
        await page.fill("#login-user", "carol")
        await page.fill("#login-password", "wrong password")
        await page.click("#login-submit")
        await page.wait_for("document.querySelector('#login-error').textContent.trim() !== ''")
        self.assertFalse(await page.evaluate("window.jimChat.loggedIn"))
        self.assertTrue(await page.evaluate("document.querySelector('#chat').hidden"))
        self.assertFalse(await page.evaluate("document.querySelector('#login-submit').disabled"))

    async def test_message_sent_while_offline_is_shown_at_sign_in(self):
        bob = await self.signed_in_page("bob")
        await bob.click("#logout")
        await bob.wait_for("!window.jimChat.connected && !document.querySelector('#login').hidden")

        alice = await self.signed_in_page("alice")
        await self.submit(alice, "chat-with", "bob")
        await self.say(alice, "while you were away")
        await alice.wait_for(first_state("user:bob", "stored"))

        await self.sign_in(bob, "bob")
        await bob.wait_for(has_message("user:alice", "while you were away"))
        await bob.wait_for(badge("user:alice"))
        await bob.click('[data-key="user:alice"]')
        await self.shown_once(bob, "user:alice", "while you were away")

    async def test_pages_reconnect_after_a_server_restart(self):
        alice = await self.signed_in_page("alice")
        bob = await self.signed_in_page("bob")
        await self.submit(alice, "chat-with", "bob")

        await self.server.stop()
        await alice.wait_for("!window.jimChat.connected")
        await alice.wait_for("document.querySelector('#connection').dataset.state === 'offline'")
        # Written while the server is away: kept, then sent once the page is back.
        await self.say(alice, "sent while you were down")
        await alice.wait_for(first_state("user:bob", "queued"))

        await self.server.restart()
        # The backoff may have grown to several seconds while the server was down.
        for page in (alice, bob):
            await page.wait_for("window.jimChat.loggedIn", timeout=30)
        await alice.wait_for(first_state("user:bob", "sent", "stored"))
        await bob.wait_for(has_message("user:alice", "sent while you were down"))
        await bob.click('[data-key="user:alice"]')
        await self.shown_once(bob, "user:alice", "sent while you were down")


class SecureWebChatTests(TestCase):
    timeout = 120

    async def test_page_served_over_https_talks_over_wss(self):
        """With a certificate the same port serves https://, and the page then uses wss://."""
        certs = make_dev_certs(os.path.abspath(self.mktemp()))
        tls = ("--tls-cert", certs.server, "--tls-key", certs.server_key)
        server = await JimServer.start(self, extra_args=tls)
        # Trust exactly this server key, as a user who imported the development CA would.
        trust = f"--ignore-certificate-errors-spki-list={spki_fingerprint(certs.server)}"
        browser = await Browser.launch(self, extra_flags=(trust,))
        page = await browser.new_page()
        await page.navigate(f"https://127.0.0.1:{server.port}/")
        await page.wait_for("window.jimChat !== undefined")
        self.assertEqual(await page.evaluate("location.protocol"), "https:")

        # An https page may only open wss:// sockets, so signing in proves the socket is TLS too.
        await page.fill("#login-user", "alice")
        await page.fill("#login-password", "secret")
        await page.fill("#login-appkey", server.app_key)
        await page.press("Enter")
        await page.wait_for("window.jimChat.loggedIn")
        await page.fill("#join-group-input", "lobby")
        await page.click("#join-group-form button")
        await page.fill("#composer-input", "over tls")
        await page.press("Enter")
        await page.wait_for(first_state("group:lobby", "sent"))


class SmallLimitsWebChatTests(TestCase):
    """The page against a server whose groups hold one member and whose messages 2 KiB."""

    timeout = 120
    open_page = WebChatTests.open_page
    sign_in = WebChatTests.sign_in
    signed_in_page = WebChatTests.signed_in_page
    submit = WebChatTests.submit
    say = WebChatTests.say

    async def test_a_message_over_the_limit_the_server_told_is_refused_by_the_page(self):
        alice = await self.signed_in_page("alice")
        bob = await self.signed_in_page("bob")
        self.assertEqual(await alice.evaluate("window.jimChat.maxBody"), 2048)
        await self.submit(alice, "chat-with", "bob")
        await alice.wait_for("window.jimChat.active === 'user:bob'")
        await self.say(alice, "y" * 3000)
        await alice.wait_for(first_state("user:bob", "failed"))
        status = await alice.evaluate("document.querySelector('#status').textContent")
        self.assertIn("over the server's 2048", status)
        await self.say(alice, "small one after it")
        await bob.wait_for(has_message("user:alice", "small one after it"))
        # bob may get it before alice's acknowledgement (pushes do not wait for the commit)
        states = f"{messages('user:bob')}.map(m => m.state).join()"
        await alice.wait_for(f"{states} === 'failed,sent'")
        self.assertEqual(await alice.evaluate(f"{messages('user:bob')}.map(m => m.state)"),
                         ["failed", "sent"])

    async def test_a_message_the_server_closes_the_socket_for_fails_and_is_not_resent(self):
        alice = await self.browser.new_page()
        await alice.run_before_scripts(login_replies_without_max_body())
        await alice.navigate(self.server.url)
        await alice.wait_for("window.jimChat && !document.querySelector('#login').hidden")
        await self.sign_in(alice, "alice")
        self.assertEqual(await alice.evaluate("window.jimChat.maxBody"), 65536)
        bob = await self.signed_in_page("bob")
        await self.submit(alice, "chat-with", "bob")
        await alice.wait_for("window.jimChat.active === 'user:bob'")
        await self.say(alice, "y" * 3000)  # under the page's limit, over this server's: 1009
        await alice.wait_for(first_state("user:bob", "failed"))
        await alice.wait_for("window.jimChat.loggedIn")  # back, after one reconnect
        await self.say(alice, "small one after it")
        await bob.wait_for(has_message("user:alice", "small one after it"))
        # bob may get it before alice's acknowledgement (pushes do not wait for the commit)
        states = f"{messages('user:bob')}.map(m => m.state).join()"
        await alice.wait_for(f"{states} === 'failed,sent'")
        self.assertEqual(await alice.evaluate(f"{messages('user:bob')}.map(m => m.state)"),
                         ["failed", "sent"])

    async def setUp(self):
        self.server = await JimServer.start(
            self, extra_args=("--group-size", "1", "--max-body", "2048")
        )
        self.browser = await Browser.launch(self)

    async def test_a_refused_join_leaves_the_sidebar(self):
        alice = await self.signed_in_page("alice")
        await self.submit(alice, "join-group", "small")
        await alice.wait_for("window.jimChat.groups.some(g => g.groupId === 'small')")
        bob = await self.signed_in_page("bob")
        await self.submit(bob, "join-group", "small")  # full
        await bob.wait_for("document.querySelector('#status').textContent.includes('full')")
        await bob.wait_for("!window.jimChat.conversations['group:small']")
        self.assertIsNone(await bob.evaluate("document.querySelector('[data-key=\"group:small\"]')"))
