"""JMessage's REST API over HTTP: authentication, routing, body limits, the rate limit, the
request quirks of JMessage's clients (reference 1.2 and 1.3), and per-app isolation."""
import json
import re

from twisted.trial.unittest import TestCase

from jim.web.rest_v1 import ROUTES
from tests.support.jimclient import tcp_client
from tests.support.rest import (Checks, Rest, basic, build_request, second_app, send_raw,
                                start_rest, text_message)

BAD_CREDENTIALS = [
    # (Authorization header or None, JMessage code)
    (None, 899007),
    ("Basic ", 899007),
    ("Bearer abc", 899007),
    ("Basic !!!not-base64!!!", 899008),
    ("Basic " + "bm9jb2xvbg==", 899008),  # "nocolon": no key:secret
    ("Basic //79", 899008),  # not UTF-8
]


class AuthenticationTests(TestCase, Checks):
    timeout = 60

    async def test_every_credential_failure_is_a_401_with_a_challenge(self):
        jim, rest = await start_rest(self)
        cases = BAD_CREDENTIALS + [
            (basic(rest.key, "x" * 24), 899008),
            (basic(rest.key, ""), 899008),
            (basic("N" * 24, rest.secret), 899008),  # an unknown appKey: as a wrong secret
            (basic(rest.secret, rest.key), 899008),
        ]
        for header, code in cases:
            response = await rest.post("/v1/users/", [{"username": "alice", "password": "pw12"}],
                                       auth=header or False)
            self.assertError(response, 401, code)
            self.assertEqual(response.header("www-authenticate"), 'Basic realm="jim"')
        listed = self.assertJson(await rest.get("/v1/users?start=0&count=10"))
        self.assertEqual(listed["total"], 0)  # none of the refused calls registered anyone

    async def test_the_right_credentials_pass_whatever_the_scheme_case(self):
        jim, rest = await start_rest(self)
        token = rest.auth.split(" ")[1]
        for scheme in ("Basic", "basic", "BASIC"):
            response = await rest.get("/v1/users?count=1", auth=f"{scheme} {token}")
            self.assertJson(response)

    async def test_a_cross_site_browser_request_is_refused(self):
        jim, rest = await start_rest(self)
        response = await rest.post("/v1/users", [{"username": "alice", "password": "pw12"}],
                                   headers=[("Sec-Fetch-Site", "cross-site")])
        self.assertError(response, 403, 899403)
        self.assertEqual(self.assertJson(await rest.get("/v1/users?count=5"))["total"], 0)


class RoutingTests(TestCase, Checks):
    timeout = 60

    async def test_an_unknown_route_is_a_404_in_the_error_envelope(self):
        jim, rest = await start_rest(self)
        for path in ("/v1", "/v1/", "/v1/nothing", "/v1/users/alice/nothing", "/v2/users",
                     "/v1/chatroom/1/nothing", "/v1/sensitiveword/nothing", "/v2/users/statuser"):
            self.assertError(await rest.get(path), 404, 899404)
        # with or without credentials
        self.assertError(await rest.get("/v1/nothing", auth=False), 404, 899404)

    async def test_a_known_path_with_another_method_is_a_405_with_allow(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        cases = [("PATCH", "/v1/users/alice", "DELETE, GET, PUT"),
                 ("POST", "/v1/users/alice", "DELETE, GET, PUT"),
                 ("GET", "/v1/groups/owner/10000001", "PUT"),
                 ("DELETE", "/v1/messages", "POST"),
                 ("GET", "/v1/users/alice/nodisturb", "POST"),
                 ("PUT", "/v1/users/", "DELETE, GET, POST")]
        for method, path, allow in cases:
            response = await rest.call(method, path, body=b"")
            self.assertError(response, 405, 899405)
            self.assertEqual(response.header("allow"), allow, (method, path))
        self.assertJson(await rest.get("/v1/users/alice"))  # still there

    async def test_every_declared_route_is_served(self):
        jim, rest = await start_rest(self)
        values = {"username": "nobody", "gid": "99999999", "msgid": "1", "id": "99999999",
                  "roomid": "99999999"}
        for route in ROUTES:
            path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], route.pattern)
            response = await rest.call(route.method.decode(), path, body=b"")
            self.assertNotIn(response.status, (404, 405), (route.name, response))
            self.assertIn(response.status, (200, 201, 204, 400, 403), (route.name, response))

    async def test_trailing_and_doubled_slashes_are_the_same_route(self):
        jim, rest = await start_rest(self)
        self.assertEqual((await rest.post("/v1//users/", [{"username": "alice",
                                                           "password": "pw12"}])).status, 201)
        await rest.register("bobby")
        for path in ("/v1/users/alice", "/v1/users/alice/", "/v1//users//alice",
                     "/v1/users/alice//", "/v1/users///alice///"):
            self.assertEqual(self.assertJson(await rest.get(path))["username"], "alice", path)
        self.assertEmpty(await rest.post("/v1/users//alice/friends/", ["bobby"]), 201)
        friends = self.assertJson(await rest.get("/v1/users/alice//friends//"))
        self.assertEqual([f["username"] for f in friends], ["bobby"])

    async def test_a_doubled_slash_before_v1_is_the_same_route(self):
        """JMessage's Java and PHP clients send ``//v1/...``: it is the REST API, with the
        same authentication, not the chat page or a 404."""
        jim, rest = await start_rest(self)
        await rest.register("alice", nickname="Alice")
        plain = self.assertJson(await rest.get("/v1/users/alice"))
        doubled = await rest.get("//v1/users/alice")
        self.assertEqual(self.assertJson(doubled), plain)
        self.assertEqual(plain["nickname"], "Alice")
        self.assertError(await rest.get("//v1/users/alice", auth=False), 401, 899007)

    async def test_path_parameters_are_percent_decoded(self):
        jim, rest = await start_rest(self)
        await rest.register("a@b.c-d_e")
        found = self.assertJson(await rest.get("/v1/users/a%40b.c-d_e"))
        self.assertEqual(found["username"], "a@b.c-d_e")
        # a segment that is not UTF-8 once decoded is a bad request, not a server error
        self.assertError(await rest.get("/v1/users/%FF%FE"), 400, 899003)
        self.assertError(await rest.get("/v1/users/nobody%2F"), 403, 899002)


class BodyTests(TestCase, Checks):
    timeout = 60

    async def test_the_body_is_json_whatever_its_content_type(self):
        jim, rest = await start_rest(self)
        types = ["application/json", "application/json; charset=utf-8",
                 "application/json;charset:utf-8", "text/plain",
                 "application/x-www-form-urlencoded", None]
        for i, content_type in enumerate(types):
            response = await rest.post("/v1/users/", [{"username": f"user{i}", "password": "pw12"}],
                                       content_type=content_type)
            self.assertEqual(self.assertJson(response, 201), [{"username": f"user{i}"}],
                             content_type)

    async def test_a_body_that_is_not_json_is_a_400_that_changes_nothing(self):
        jim, rest = await start_rest(self)
        for body in (b"{", b"not json", b"[{\"username\": \"alice\", ]", b"\xff\xfe",
                     b"NaN", b"[1e999999]"):
            response = await rest.post("/v1/users/", body=body)
            self.assertError(response, 400, 899003)
        self.assertEqual(self.assertJson(await rest.get("/v1/users?count=5"))["total"], 0)

    async def test_put_and_delete_without_a_body_but_with_a_json_content_type(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", "bobby")
        empty = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", "0")]
        response = await rest.put("/v1/users/alice/forbidden?disable=False", body=b"",
                                  headers=empty, content_type=None)
        self.assertEmpty(response)
        self.assertEmpty(await rest.delete("/v1/users/bobby", body=b"", headers=empty,
                                           content_type=None))
        self.assertError(await rest.get("/v1/users/bobby"), 403, 899002)
        # no Content-Length at all
        self.assertEmpty(await rest.delete("/v1/users/alice", content_type=None))

    async def test_a_body_over_the_route_limit_is_a_413_that_changes_nothing(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        before = await rest.snapshot(["alice"])
        # PUT /v1/users/{u} takes 8 KiB: 9 KiB is refused by the route, under the site's cap
        big = {"nickname": "n", "signature": "s" * (9 * 1024)}
        self.assertError(await rest.put("/v1/users/alice", big), 413, 899003)
        # declared over the route's limit (register: 1 MiB, above the site's 64 KiB): refused
        # before any of it is read, and the connection closed (the body is not sent: a server
        # that closes with a body unread resets the connection, and the client may lose the
        # answer)
        response = await rest.post("/v1/users/", body=b"",
                                   headers=[("Content-Length", str(1024 * 1024 + 1))])
        self.assertError(response, 413, 899003)
        self.assertEqual(response.header("connection"), "close")
        # a route with a small limit is refused the same way, before its body is read
        response = await rest.call("PUT", "/v1/users/alice/password", body=b"",
                                   headers=[("Content-Length", str(4 * 1024 + 1))])
        self.assertError(response, 413, 899003)
        self.assertEqual(await rest.snapshot(["alice"]), before)

    async def test_a_register_body_over_the_sites_cap_is_taken(self):
        """500 users with their profiles do not fit 64 KiB (--max-body): the register route
        takes up to 1 MiB."""
        jim, rest = await start_rest(self)
        users = [{"username": f"user{i:04d}", "password": "secret", "signature": "s" * 200}
                 for i in range(400)]
        response = await rest.post("/v1/users/", users)
        self.assertEqual(response.status, 201)
        self.assertEqual(len(response.json()), 400)

    async def test_the_body_of_a_get_is_ignored(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        response = await rest.call("GET", "/v1/users/alice", body=b"{not json")
        self.assertEqual(self.assertJson(response)["username"], "alice")


class RateLimitTests(TestCase, Checks):
    timeout = 60

    async def test_over_the_rate_is_a_429_that_changes_nothing(self):
        # 3 calls a minute: the bucket holds 3 and one call comes back every 20 s, far longer
        # than these calls take together; within that, what is checked does not depend on time
        jim, rest = await start_rest(self, limits=dict(rest_rate=3), open_registration=False)
        answers = [await rest.post("/v1/users/", [{"username": name, "password": "secret"}])
                   for name in ("user2", "user1", "user0", "late", "later")]
        self.assertEqual([a.status for a in answers], [201, 201, 201, 429, 429])
        self.assertEqual([a.header("x-rate-limit-limit") for a in answers], ["3"] * 5)
        self.assertEqual([a.header("x-rate-limit-remaining") for a in answers],
                         ["2", "1", "0", "0", "0"])
        for allowed, remaining in zip(answers, (2, 1, 0)):
            # seconds until the bucket is full again: the calls missing from it (3 - remaining
            # of them, the last one perhaps partly back) at 20 s each
            reset = int(allowed.header("x-rate-limit-reset"))
            self.assertTrue(20 * (2 - remaining) < reset <= 20 * (3 - remaining), reset)
        for refused in answers[3:]:
            self.assertError(refused, 429, 899030)
            # seconds until the next call is allowed: at most one call's 20 s
            self.assertIn(int(refused.header("x-rate-limit-reset")), range(1, 21))
        # nothing was registered: "late" cannot log in, "user0" can
        client = await tcp_client(jim.port, testcase=self)
        reply = await client.request(5, {"cmd": 5, "userId": "late", "password": "secret"}, 6)
        self.assertEqual(reply["code"], 10008)
        client = await tcp_client(jim.port, testcase=self)
        await client.login("user0")
        # each app has its own bucket
        other = await second_app(jim)
        response = await other.get("/v1/users?count=5")
        self.assertEqual((response.status, response.header("x-rate-limit-remaining")),
                         (200, "2"))

    async def test_no_rate_headers_when_the_limit_is_off(self):
        jim, rest = await start_rest(self)  # rest_rate=0
        response = await rest.get("/v1/users?count=5")
        self.assertJson(response)
        self.assertIsNone(response.header("x-rate-limit-limit"))


class AppIsolationTests(TestCase, Checks):
    timeout = 60

    async def _two_apps(self):
        jim, rest = await start_rest(self)
        other = await second_app(jim)
        await rest.register("alice", "bobby", nickname="mine")
        admin = await rest.admin("boss")
        gid = await rest.group("alice", ["bobby"])
        sent = await rest.send(admin, "alice")
        return jim, rest, other, gid, sent

    async def test_another_app_sees_none_of_this_apps_users_groups_or_messages(self):
        jim, rest, other, gid, sent = await self._two_apps()
        for path in ("/v1/users/alice", "/v1/users/alice/friends", "/v1/users/alice/blacklist",
                     "/v1/users/alice/groups", "/v1/users/alice/userstat"):
            self.assertError(await other.get(path), 403, 899002)
        self.assertError(await other.post("/v1/users/userstat", ["alice"]), 403, 899002)
        for path in ("/v1/users?count=10", "/v1/admins?count=10", "/v1/groups?count=10"):
            listed = self.assertJson(await other.get(path))
            self.assertEqual(listed["total"], 0, path)
        self.assertError(await other.get(f"/v1/groups/{gid}"), 403, 899006)
        self.assertError(await other.get(f"/v1/groups/{gid}/members"), 403, 899006)

    async def test_another_app_changes_none_of_this_apps_users_groups_or_messages(self):
        jim, rest, other, gid, sent = await self._two_apps()
        before = await rest.snapshot(["alice", "bobby", "boss"])
        refusals = [
            (other.put("/v1/users/alice", {"nickname": "theirs"}), 403, 899002),
            (other.put("/v1/users/alice/password", {"new_password": "taken"}), 403, 899002),
            (other.put("/v1/users/alice/forbidden?disable=true"), 403, 899002),
            (other.delete("/v1/users/alice"), 403, 899002),
            (other.post("/v1/users/alice/friends", ["bobby"]), 403, 899002),
            (other.put("/v1/users/alice/blacklist", ["bobby"]), 403, 899002),
            (other.put(f"/v1/groups/{gid}", {"name": "theirs"}), 403, 899006),
            (other.delete(f"/v1/groups/{gid}"), 403, 899006),
            (other.post(f"/v1/groups/{gid}/members", {"remove": ["bobby"]}), 403, 899006),
            (other.put(f"/v1/groups/owner/{gid}", {"username": "bobby"}), 403, 899006),
            (other.post("/v1/messages", text_message("boss", "alice")), 403, 899002),
            (other.post(f"/v1/messages/boss/{sent['msg_id']}/retract"), 403, 855003),
        ]
        for call, status, code in refusals:
            self.assertError(await call, status, code)
        # a batch delete in the other app finds nobody to delete
        self.assertEmpty(await other.delete("/v1/users/", ["alice", "bobby"]))
        self.assertEqual(await rest.snapshot(["alice", "bobby", "boss"]), before)
        # the message is still this app's to retract
        self.assertEmpty(await rest.post(f"/v1/messages/boss/{sent['msg_id']}/retract"))

    async def test_the_same_names_live_apart_in_each_app(self):
        jim, rest, other, gid, sent = await self._two_apps()
        await other.register("alice", password="another", nickname="theirs")
        self.assertEqual(self.assertJson(await other.get("/v1/users/alice"))["nickname"],
                         "theirs")
        self.assertEqual(self.assertJson(await rest.get("/v1/users/alice"))["nickname"], "mine")
        # a message may not name another app's user as its target, unless the two apps allow
        # each other (cross-app chat)
        body = text_message("boss", "alice", target_appkey=other.key)
        self.assertError(await rest.post("/v1/messages", body), 403, 899020)
        # and a group owner handed to another app is refused
        response = await rest.put(f"/v1/groups/owner/{gid}",
                                  {"username": "bobby", "appkey": other.key})
        self.assertError(response, 403, 899021)

    async def test_credentials_of_one_app_with_the_key_of_another_fail(self):
        jim, rest, other, gid, sent = await self._two_apps()
        for key, secret in ((other.key, rest.secret), (rest.key, other.secret)):
            response = await Rest(jim, key, secret).get("/v1/users/alice")
            self.assertError(response, 401, 899008)
        # written by hand: an Authorization header as any client sends it
        raw = build_request("GET", "/v1/users/alice", None, [("Authorization", rest.auth)])
        self.assertEqual(json.loads((await send_raw(jim.port, raw)).body)["username"], "alice")
