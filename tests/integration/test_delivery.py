"""TCP, WebSocket and HTTP API users reach each other through one real port."""
import base64
import json

from twisted.internet import reactor
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent
from twisted.web.http_headers import Headers

from tests.support.bodies import read_body
from tests.support.inprocess import start_jim
from tests.support.jimclient import tcp_client, ws_client
from twisted.web.client import FileBodyProducer
from io import BytesIO


async def http(port, method, path, body=None, auth=None, headers=None):
    """(status, parsed JSON or text) of one HTTP request to jim."""
    headers = Headers(headers or {})
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers.addRawHeader(b"Authorization", f"Basic {token}".encode())
    producer = None if body is None else FileBodyProducer(BytesIO(body))
    url = f"http://127.0.0.1:{port}{path}".encode()
    response = await Agent(reactor).request(method, url, headers, producer)
    data = await read_body(response)
    try:
        return response.code, json.loads(data)
    except ValueError:
        return response.code, data.decode()


def default_app(service):
    with open(f"{service.config.data}/default-app.json") as f:
        saved = json.load(f)
    return saved["appKey"], saved["masterSecret"]


class DeliveryTests(TestCase):
    timeout = 60

    async def test_tcp_and_websocket_users_chat(self):
        jim = await start_jim(self)
        alice = await tcp_client(jim.port)
        await alice.login("alice")
        bob = await ws_client(jim.port, "username=bob&password=secret")
        login = await bob.expect(6)
        self.assertEqual(login["code"], 10007)
        self.assertEqual(login["user"]["userId"], "bob")

        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": "hi bob", "from": "mallory"})
        ack = await alice.expect(12)
        self.assertEqual(ack["code"], 10000)
        push = await bob.expect(11)
        self.assertEqual(push["data"]["from"], "alice")  # not what the client claimed
        self.assertEqual(push["data"]["content"], "hi bob")
        self.assertEqual(push["data"]["id"], ack["data"]["id"])

        bob.send(11, {"cmd": "11", "chatType": "2", "to": "alice", "msgType": "0", "content": "yo"})
        self.assertEqual((await bob.expect(12))["code"], 10000)
        self.assertEqual((await alice.expect(11))["data"]["content"], "yo")

    async def test_group_chat_across_protocols(self):
        jim = await start_jim(self)
        alice = await tcp_client(jim.port)
        await alice.login("alice")
        bob = await ws_client(jim.port)
        await bob.login("bob")
        alice.send(7, {"cmd": 7, "groupId": "g1"})
        self.assertEqual((await alice.expect(9))["user"]["userId"], "alice")
        bob.send(7, {"cmd": 7, "group_id": "g1"})  # 2.x spelling
        self.assertEqual((await bob.expect(9))["group"], "g1")
        self.assertEqual((await alice.expect(9))["user"]["userId"], "bob")

        bob.send(11, {"cmd": 11, "chatType": 1, "groupId": "g1", "content": "hello group"})
        self.assertEqual((await bob.expect(12))["code"], 10000)
        for client in (alice, bob):  # J-IM sends group chats to the sender's connection too
            push = await client.expect(11)
            self.assertEqual(push["data"]["groupId"], "g1")
            self.assertEqual(push["data"]["from"], "bob")

    async def test_http_api_sends_to_tcp_and_websocket(self):
        jim = await start_jim(self)
        key, secret = default_app(jim)
        alice = await tcp_client(jim.port)
        await alice.login("alice")
        bob = await ws_client(jim.port, "username=bob&password=secret")
        await bob.expect(6)
        body = json.dumps({"from": "alice", "to": "bob", "chatType": 2, "content": "via http"})
        code, reply = await http(jim.port, b"POST", "/api/message/send", body.encode(), (key, secret))
        self.assertEqual((code, reply["code"], reply["command"]), (200, 10000, 12))
        push = await bob.expect(11)
        self.assertEqual((push["data"]["from"], push["data"]["content"]), ("alice", "via http"))
        # the sender's own connection sees what was sent in its name
        self.assertEqual((await alice.expect(11))["data"]["content"], "via http")

        # a refusal names the chat by its id, as an acknowledgement does
        body = json.dumps({"from": "alice", "to": "nobody", "chatType": 2, "id": "h-1"})
        code, reply = await http(jim.port, b"POST", "/api/message/send", body.encode(), (key, secret))
        self.assertEqual((code, reply["code"], reply["data"]), (200, 10002, {"clientId": "h-1"}))

        code, reply = await http(jim.port, b"GET", "/api/user/online?userid=bob", auth=(key, secret))
        self.assertEqual(reply, {"code": 10019, "msg": "online 用户在线"})
        # a userid that is not UTF-8 is refused like a missing one, not a server error
        code, reply = await http(jim.port, b"GET", "/api/user/online?userid=%FF", auth=(key, secret))
        self.assertEqual((code, reply["code"]), (200, 10020))
        code, reply = await http(jim.port, b"GET", "/api/user/close?userid=%FF", auth=(key, secret))
        self.assertEqual((code, reply["code"]), (200, 10020))
        code, reply = await http(jim.port, b"GET", "/api/user/online?userid=zed", auth=(key, secret))
        self.assertEqual(reply, {"code": 10001, "msg": "offline 用户不在线"})
        code, reply = await http(jim.port, b"GET", "/api/user/close?userid=bob", auth=(key, secret))
        self.assertEqual(reply, {"code": 10021, "msg": "close ok! 关闭成功"})
        await bob.wait_closed()

    async def test_http_api_refuses_what_other_sites_make_a_browser_send(self):
        jim = await start_jim(self)
        auth = default_app(jim)
        body = json.dumps({"from": "alice", "to": "alice", "chatType": 2}).encode()
        for site in (b"cross-site", b"same-site"):  # credentials a browser remembered
            fetch = {b"Sec-Fetch-Site": [site]}
            code, reply = await http(jim.port, b"POST", "/api/message/send", body, auth, fetch)
            self.assertEqual((code, reply["error"]["code"]), (403, 899403), site)
            code, reply = await http(jim.port, b"GET", "/api/user/close?userid=a", None, auth, fetch)
            self.assertEqual((code, reply["error"]["code"]), (403, 899403), site)
        self.assertEqual(jim.core.metrics.messages_in, 0)
        # the page's own origin, a typed address, and callers that are no browser all pass
        for fetch in ({b"Sec-Fetch-Site": [b"same-origin"]}, {b"Sec-Fetch-Site": [b"none"]}, None):
            code, reply = await http(jim.port, b"GET", "/api/user/online?userid=a", None, auth, fetch)
            self.assertEqual((code, reply["code"]), (200, 10001), fetch)

    async def test_http_api_needs_the_app_credentials(self):
        jim = await start_jim(self)
        key, secret = default_app(jim)
        code, reply = await http(jim.port, b"GET", "/api/user/online?userid=bob")
        self.assertEqual((code, reply["error"]["code"]), (401, 899007))
        code, reply = await http(jim.port, b"GET", "/api/user/online?userid=b", auth=(key, "x" * 24))
        self.assertEqual((code, reply["error"]["code"]), (401, 899008))
        code, reply = await http(jim.port, b"GET", "/api/user/online?userid=b", auth=("n" * 24, secret))
        self.assertEqual((code, reply["error"]["code"]), (401, 899008))  # unknown: as wrong
        code, reply = await http(jim.port, b"GET", "/api/user/online", auth=(key, secret))
        self.assertEqual((code, reply["code"]), (200, 10020))

    async def test_offline_messages_and_history(self):
        jim = await start_jim(self)
        bob = await tcp_client(jim.port)
        await bob.login("bob")
        bob.close()
        await bob.wait_closed()
        alice = await tcp_client(jim.port)
        await alice.login("alice")
        for text in ("one", "two"):
            alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": text})
            self.assertEqual((await alice.expect(12))["code"], 10001)

        bob = await ws_client(jim.port)
        await bob.login("bob")
        reply = await bob.request(19, {"cmd": 19, "type": 0, "userId": "bob"}, 20)
        self.assertEqual(reply["code"], 10016)
        self.assertEqual([m["content"] for m in reply["data"]["friends"]["alice"]], ["one", "two"])
        again = await bob.request(19, {"cmd": 19, "type": "0", "userId": "bob"}, 20)
        self.assertEqual(again["data"]["friends"], {})  # never fetched twice
        history = await bob.request(19, {"cmd": 19, "type": 1, "fromUserId": "alice"}, 20)
        self.assertEqual(history["code"], 10018)
        self.assertEqual([m["content"] for m in history["data"]["friends"]["alice"]], ["one", "two"])

    async def test_only_members_fetch_a_groups_offline_messages(self):
        """A user who is not in a group gets none of its messages by naming it in an offline
        fetch (nor in history); a member does."""
        jim = await start_jim(self)
        eve = await ws_client(jim.port)
        await eve.login("eve")  # registered before the message: its inbox reaches back to it
        alice = await tcp_client(jim.port)
        await alice.login("alice")
        alice.send(7, {"cmd": 7, "groupId": "g1"})
        await alice.expect(9)
        carol = await ws_client(jim.port)
        await carol.login("carol")
        carol.send(7, {"cmd": 7, "groupId": "g1"})
        await carol.expect(9)
        carol.close()
        await carol.wait_closed()
        alice.send(11, {"cmd": 11, "chatType": 1, "groupId": "g1", "content": "members only"})
        self.assertEqual((await alice.expect(12))["code"], 10000)
        for kind in (0, 1):
            reply = await eve.request(19, {"cmd": 19, "type": kind, "userId": "eve",
                                           "groupId": "g1"}, 20)
            self.assertNotIn("members only", str(reply), kind)
        carol = await ws_client(jim.port)
        await carol.login("carol")
        reply = await carol.request(19, {"cmd": 19, "type": 0, "userId": "carol",
                                         "groupId": "g1"}, 20)
        self.assertEqual([m["content"] for m in reply["data"]["groups"]["g1"]], ["members only"])

    async def test_health_and_metrics(self):
        jim = await start_jim(self)
        alice = await tcp_client(jim.port)
        await alice.login("alice")
        code, health = await http(jim.port, b"GET", "/healthz")
        self.assertEqual((code, health["status"], health["online_users"]), (200, "ok", 1))
        code, text = await http(jim.port, b"GET", "/metrics")
        self.assertEqual(code, 200)
        self.assertIn('jim_connections{protocol="tcp"} 1', text)
        self.assertIn("jim_logins_total 1", text)
        self.assertIn("jim_store_commit_seconds_count", text)

    async def test_web_chat_page_is_served(self):
        jim = await start_jim(self)
        code, page = await http(jim.port, b"GET", "/")
        self.assertEqual(code, 200)
        self.assertIn("<html", page.lower())
        for path in ("/no/such/page", "/api/nothing", "/static/missing.js", "/api", "/api/user",
                     "/api/message/"):
            for method in (b"GET", b"POST"):
                code, body = await http(jim.port, method, path)
                self.assertEqual((code, body["error"]["code"]), (404, 899404), (method, path))
        for path in ("/api", "/api/user"):  # HEAD too, with no body and no server error
            code, body = await http(jim.port, b"HEAD", path)
            self.assertEqual((code, body), (404, ""), path)


class HttpApiRefusalTests(TestCase):
    timeout = 30

    async def test_every_send_refusal_is_a_cmd_12_reply(self):
        jim = await start_jim(self)
        auth = default_app(jim)
        for body in (b"not json", b'{"to":"bob","chatType":2}', b'{"from":"ghost","to":"b","chatType":2}'):
            code, reply = await http(jim.port, b"POST", "/api/message/send", body, auth)
            self.assertEqual((code, reply["code"], reply["command"]), (200, 10002, 12), body)
        self.assertEqual(jim.core.metrics.bad_input, 3)  # counted as the J-IM wire counts them

    async def test_a_store_failure_is_a_cmd_12_refusal_not_a_server_error(self):
        from twisted.python.failure import Failure

        from jim import errors
        from jim.errors import JimError

        jim = await start_jim(self)
        alice = await tcp_client(jim.port, testcase=self)
        await alice.login("alice")

        def failing(message, then, *args):
            then(Failure(JimError(errors.SERVER_ERROR, "disk full (simulated)")), *args)

        # whether the store gives the chat its id first (append) or not (add), it fails
        self.patch(jim.core.messages.store, "add_message_then", failing)
        self.patch(jim.core.messages.store, "append_message_then", failing)
        body = json.dumps({"from": "alice", "to": "alice", "chatType": 2, "id": "s-1"}).encode()
        code, reply = await http(jim.port, b"POST", "/api/message/send", body, default_app(jim))
        self.assertEqual((code, reply["code"], reply["command"]), (200, 10002, 12))
        self.assertEqual((reply["detail"], reply["data"]), ("disk full (simulated)", {"clientId": "s-1"}))
        self.assertEqual(jim.core.metrics.bad_input, 0)  # jim's fault, not the caller's

    async def test_send_echoes_the_client_id(self):
        jim = await start_jim(self)
        alice = await tcp_client(jim.port, testcase=self)
        await alice.login("alice")
        body = json.dumps({"from": "alice", "to": "alice", "chatType": 2, "content": "x", "id": "c9"})
        code, reply = await http(jim.port, b"POST", "/api/message/send", body.encode(), default_app(jim))
        self.assertEqual(reply["data"]["clientId"], "c9")
