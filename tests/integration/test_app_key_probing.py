"""Which app keys exist is not told: an unknown appKey gets the very answer a known appKey with
a wrong secret (or a J-IM login with a wrong password) gets, byte for byte but the Date, over
the REST API, J-IM's HTTP API, J-IM TCP and WebSocket logins."""
from twisted.trial.unittest import TestCase

from tests.support.jimclient import tcp_client, ws_client
from tests.support.rest import basic, build_request, send_raw, start_rest

UNKNOWN = "N" * 24


def without_date(response):
    headers = {name: values for name, values in response.headers.items() if name != "date"}
    return response.status, headers, response.body


class AppKeyProbingTests(TestCase):
    timeout = 60

    async def test_http_answers_are_identical(self):
        jim, rest = await start_rest(self)
        for method, path, body in (
            ("POST", "/v1/users/", b'[{"username":"alice","password":"pw12"}]'),
            ("GET", "/v1/users?start=0&count=10", None),
            ("GET", "/api/user/online?userid=alice", None),
        ):
            answers = []
            for key, secret in ((rest.key, "x" * 24), (UNKNOWN, "x" * 24),
                                (UNKNOWN, rest.secret)):
                request = build_request(method, path, body,
                                        [("Authorization", basic(key, secret))])
                answers.append(without_date(await send_raw(jim.port, request)))
            self.assertEqual(answers[0][0], 401, answers[0])
            self.assertIn(b"899008", answers[0][2])
            self.assertEqual(answers[1], answers[0], path)
            self.assertEqual(answers[2], answers[0], path)

    async def test_jim_login_replies_are_identical(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", password="wonderland")
        for connect in (tcp_client, ws_client):
            replies = []
            for app_key, password in ((rest.key, "wrong"), (UNKNOWN, "wrong"),
                                      (UNKNOWN, "wonderland")):
                client = await connect(jim.port, testcase=self)
                replies.append(await client.request(
                    5, {"cmd": 5, "userId": "alice", "password": password, "appKey": app_key}, 6))
            self.assertEqual(replies[0]["code"], 10008, replies[0])
            self.assertEqual(replies[1], replies[0], connect)
            self.assertEqual(replies[2], replies[0], connect)

    async def test_websocket_url_login_replies_are_identical(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", password="wonderland")
        replies = []
        for app_key, password in ((rest.key, "wrong"), (UNKNOWN, "wonderland")):
            client = await ws_client(
                jim.port, f"username=alice&password={password}&appKey={app_key}", testcase=self)
            replies.append(await client.expect(6))
        self.assertEqual(replies[0]["code"], 10008, replies[0])
        self.assertEqual(replies[1], replies[0])
