"""The web chat page when the connection is not there, or its answers come late: a real jim
server process and a real headless Chromium, as in test_web_chat.py."""
from twisted.trial.unittest import TestCase

from tests.integration import test_web_chat as chat_page
from tests.integration.test_web_chat import badge, has_message, messages
from tests.support.browser import Browser
from tests.support.server import JimServer


def history_replies_held_back(ms):
    """JavaScript run before the page's own: history pages (cmd 20 answers to a cmd 19 of type
    1) reach the page C{ms} milliseconds late."""
    return f"""
        const listen = WebSocket.prototype.addEventListener;
        WebSocket.prototype.addEventListener = function (type, listener, options) {{
          if (type !== "message") return listen.call(this, type, listener, options);
          return listen.call(this, type, (event) => {{
            const page = /"command":20[,}}]/.test(event.data) && /"code":10018[,}}]/.test(event.data);
            if (page) setTimeout(() => listener(event), {ms}); else listener(event);
          }}, options);
        }};
    """


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


class OfflineWebChatTests(TestCase):
    timeout = 120
    open_page = chat_page.WebChatTests.open_page
    sign_in = chat_page.WebChatTests.sign_in
    signed_in_page = chat_page.WebChatTests.signed_in_page
    submit = chat_page.WebChatTests.submit
    say = chat_page.WebChatTests.say

    async def setUp(self):
        self.server = await JimServer.start(self)
        self.browser = await Browser.launch(self)

    async def page_with(self, script):
        page = await self.browser.new_page()
        await page.run_before_scripts(script)
        await page.navigate(self.server.url)
        await page.wait_for("window.jimChat && !document.querySelector('#login').hidden")
        return page

    async def test_history_that_arrives_after_switching_away_is_not_unread(self):
        bob = await self.signed_in_page("bob")
        alice = await self.page_with(history_replies_held_back(800))
        await self.sign_in(alice, "alice")
        await self.submit(bob, "chat-with", "alice")
        for text in ("old 1", "old 2", "old 3"):
            await self.say(bob, text)
            await alice.wait_for(has_message("user:bob", text))
        await alice.reload()  # the old messages are gone from the page: history now
        await alice.wait_for("window.jimChat.loggedIn")
        await self.submit(alice, "chat-with", "carol")
        await alice.click('[data-key="user:bob"]')
        await alice.wait_for("!document.querySelector('#history-button').disabled")
        await alice.click("#history-button")
        await alice.click('[data-key="user:carol"]')  # looks elsewhere while it loads
        await alice.wait_for("window.jimChat.status.startsWith('Loaded')")
        self.assertEqual(await alice.evaluate(f"{messages('user:bob')}.length"), 3)
        self.assertIsNone(await alice.evaluate(badge("user:bob")))
        self.assertEqual(await alice.evaluate("document.title"), "jim chat")
        await self.say(bob, "new one")  # a message that is new still counts
        await alice.wait_for(badge("user:bob"))
        self.assertEqual(await alice.evaluate(f"{badge('user:bob')}.textContent"), "1")

    async def test_a_join_asked_for_while_offline_is_sent_at_the_next_login(self):
        alice = await self.signed_in_page("alice")
        await self.server.stop()
        await alice.wait_for("document.querySelector('#connection').dataset.state === 'offline'")
        await self.submit(alice, "join-group", "room1")
        await self.server.restart()
        await alice.wait_for("window.jimChat.loggedIn", timeout=30)
        await alice.wait_for("window.jimChat.groups.some(g => g.groupId === 'room1')")
        await self.say(alice, "anyone here?")
        await alice.wait_for(f"{messages('group:room1')}[0].state === 'sent'")

    async def test_a_reload_while_the_server_cannot_be_reached_keeps_the_session(self):
        alice = await self.page_with(UNREACHABLE_WHILE_COUNTED)
        await self.sign_in(alice, "alice")
        await self.signed_in_page("bob")
        await self.submit(alice, "chat-with", "bob")
        await alice.evaluate("sessionStorage.setItem('test.unreachable', '2'), true")
        await alice.reload()
        # the chat, not the sign-in form, while it retries with the saved token
        await alice.wait_for(
            "document.querySelector('#connection-text').textContent.includes('reconnecting')")
        self.assertTrue(await alice.evaluate("document.querySelector('#login').hidden"))
        self.assertEqual(await alice.evaluate("window.jimChat.active"), "user:bob")
        await self.say(alice, "written while unreachable")  # kept until it is signed in
        await alice.wait_for("window.jimChat.loggedIn", timeout=30)
        await alice.wait_for(f"{messages('user:bob')}[0].state === 'sent'")

    async def test_a_reload_with_a_refused_token_returns_to_the_sign_in_form(self):
        alice = await self.signed_in_page("alice")
        await alice.evaluate("""(() => {  // as if the token had expired meanwhile
            const saved = JSON.parse(sessionStorage.getItem("jim.chat.session"));
            saved.token = "not-a-token";
            sessionStorage.setItem("jim.chat.session", JSON.stringify(saved));
            return true;
        })()""")
        await alice.reload()
        await alice.wait_for("!document.querySelector('#login').hidden"
                             " && document.querySelector('#chat').hidden")
        error = await alice.evaluate("document.querySelector('#login-error').textContent")
        self.assertIn("sign in again", error)
        self.assertIsNone(await alice.evaluate("sessionStorage.getItem('jim.chat.session')"))
        self.assertFalse(await alice.evaluate("window.jimChat.loggedIn"))
