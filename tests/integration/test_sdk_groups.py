"""A user's own group calls (cmd 111) and profiles (cmd 113) over real sockets, TCP and
WebSocket: what each call answers is what the REST API reads back, the members hear of each
change (cmd 100, from the acting user), ``seq`` matches replies to requests in flight, and a
refusal is 10020 with its JMessage code, keeps the connection open and changes nothing (per
app: another app's group is no group)."""
from twisted.trial.unittest import TestCase

from tests.integration.test_rest_live import Clients
from tests.support.jimclient import ws_client
from tests.support.rest import Checks, second_app, start_rest


async def _app(testcase):
    jim, rest = await start_rest(testcase)
    await rest.register("alice", "bobby", "carol", "dave1")
    return jim, rest


class SdkGroupTests(TestCase, Checks, Clients):
    timeout = 60

    async def call(self, client, seq, **request):
        """One cmd 111 and its reply (cmd 112), which must echo C{seq}."""
        reply = await client.request(111, {"cmd": 111, "seq": seq, **request}, 112)
        self.assertEqual(reply["data"]["seq"], seq, reply)
        self.assertEqual(reply["data"]["op"], request["op"], reply)
        return reply

    async def ok(self, client, seq, **request):
        reply = await self.call(client, seq, **request)
        self.assertEqual(reply["code"], 10000, reply)
        return reply["data"]

    async def refusal(self, client, seq, code, **request):
        reply = await self.call(client, seq, **request)
        self.assertEqual((reply["code"], reply["data"]["code"]), (10020, code), reply)
        self.assertIsInstance(reply["detail"], str)
        return reply

    async def test_create_and_the_members_hear_of_it(self):
        jim, rest = await _app(self)
        alice = await self.ws(jim, "alice")
        bobby = await self.tcp(jim, "bobby")
        data = await self.ok(alice, 1, op="create", name="team", desc="ours",
                             usernames=["bobby", "carol"])
        gid = data["group"]["gid"]
        self.assertEqual(data["group"], self.assertJson(await rest.get(f"/v1/groups/{gid}")))
        self.assertEqual((data["group"]["owner_username"], data["group"]["desc"]),
                         ("alice", "ours"))
        for client in (alice, bobby):
            event = await self.event(client, 8)
            self.assertEqual((event["kind"], event["gid"], event["from_username"]),
                             ("group_created", gid, "alice"))
            self.assertEqual([u["username"] for u in event["to_usernames"]],
                             ["alice", "bobby", "carol"])
        members = self.assertJson(await rest.get(f"/v1/groups/{gid}/members"))
        self.assertEqual([(m["username"], m["flag"]) for m in members],
                         [("alice", 1), ("bobby", 0), ("carol", 0)])
        info = await self.ok(bobby, 2, op="info", gid=gid)
        self.assertEqual((info["group"], info["members"]), (data["group"], members))
        listed = await self.ok(bobby, 3, op="list")
        self.assertEqual(listed["groups"], [dict(data["group"],
                                                 member_usernames=["alice", "bobby", "carol"])])

    async def test_update_add_remove_exit(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"], name="team")
        alice = await self.tcp(jim, "alice")
        bobby = await self.ws(jim, "bobby")
        carol = await self.tcp(jim, "carol")
        updated = await self.ok(alice, 10, op="update", gid=gid, name="renamed")
        self.assertEqual(updated["group"]["name"], "renamed")
        self.assertEqual(updated["group"],
                         self.assertJson(await rest.get(f"/v1/groups/{gid}")))
        for client in (alice, bobby):
            event = await self.event(client, 12)
            self.assertEqual((event["from_username"], event["group_name"]),
                             ("alice", "renamed"))

        self.assertEqual(await self.ok(bobby, 11, op="add", gid=gid, usernames=["carol"]),
                         {"op": "add", "seq": 11, "gid": gid})
        for client in (alice, bobby, carol):
            event = await self.event(client, 10)
            self.assertEqual((event["from_username"], [u["username"] for u in
                                                       event["to_usernames"]]),
                             ("bobby", ["carol"]))

        self.assertEqual(await self.ok(alice, 12, op="remove", gid=gid, usernames=["bobby"]),
                         {"op": "remove", "seq": 12, "gid": gid})
        for client in (alice, bobby, carol):
            event = await self.event(client, 11)
            self.assertEqual(event["from_username"], "alice")
        self.assertEqual((await self.ok(bobby, 13, op="list"))["groups"], [])

        self.assertEqual(await self.ok(alice, 14, op="exit", gid=gid),
                         {"op": "exit", "seq": 14, "gid": gid})
        event = await self.event(carol, 9)
        self.assertEqual((event["from_username"], event["new_owner"]), ("alice", "carol"))
        group = self.assertJson(await rest.get(f"/v1/groups/{gid}"))
        self.assertEqual(group["owner_username"], "carol")
        members = self.assertJson(await rest.get(f"/v1/groups/{gid}/members"))
        self.assertEqual([(m["username"], m["flag"]) for m in members], [("carol", 1)])

    async def test_replies_match_requests_in_flight_by_seq(self):
        jim, rest = await _app(self)
        gids = [await rest.group("alice", [], name=f"g{i}") for i in range(3)]
        alice = await self.ws(jim, "alice")
        for seq, gid in enumerate(gids, 100):
            alice.send(111, {"cmd": 111, "op": "info", "gid": gid, "seq": seq})
        alice.send(113, {"cmd": 113, "username": "bobby", "seq": 7})
        replies = [await alice.expect(112) for _ in gids]
        self.assertEqual(sorted((r["data"]["seq"], r["data"]["group"]["gid"]) for r in replies),
                         list(enumerate(gids, 100)))
        self.assertEqual((await alice.expect(114))["data"]["seq"], 7)

    async def test_refusals_change_nothing_and_keep_the_connection(self):
        jim, rest = await _app(self)
        other = await second_app(jim)
        await other.register("alice", "zed01")
        gid = await rest.group("alice", ["bobby"], name="team")
        # each app numbers its own groups: the other app's second has a gid this app has not
        await other.group("zed01", ["alice"], name="first")
        theirs = await other.group("zed01", ["alice"], name="theirs")
        self.assertEqual(theirs, gid + 1)
        bobby = await self.tcp(jim, "bobby")
        dave = await self.ws(jim, "dave1")
        before = await rest.snapshot(["alice", "bobby", "dave1"])

        async def their_group():
            return (self.assertJson(await other.get(f"/v1/groups/{theirs}")),
                    self.assertJson(await other.get(f"/v1/groups/{theirs}/members")))

        theirs_before = await their_group()
        await self.refusal(dave, 1, 899016, op="info", gid=gid)
        await self.refusal(dave, 2, 899016, op="add", gid=gid, usernames=["dave1"])
        await self.refusal(bobby, 3, 899016, op="remove", gid=gid, usernames=["alice"])
        await self.refusal(bobby, 4, 899016, op="update", gid=gid, name="mine")
        await self.refusal(bobby, 5, 899003, op="info", gid="twelve")
        await self.refusal(bobby, 6, 899003, op="info", gid=-3)
        await self.refusal(bobby, 7, 899006, op="info", gid=gid + 1000)
        await self.refusal(bobby, 8, 899002, op="add", gid=gid, usernames=["carol", "ghost1"])
        await self.refusal(bobby, 9, 899002, op="create", name="x", usernames=["zed01"])
        await self.refusal(bobby, 10, 899011, op="add", gid=gid, usernames=["alice"])
        await self.refusal(dave, 11, 899014, op="exit", gid=gid)
        await self.refusal(bobby, 12, 899003, op="create", name="")
        await self.refusal(bobby, 13, 899003, op="shout")
        for op in ("info", "exit"):
            await self.refusal(bobby, 14, 899006, op=op, gid=theirs)
        await self.refusal(bobby, 15, 899006, op="add", gid=theirs, usernames=["bobby"])
        await self.refusal(bobby, 16, 899006, op="update", gid=theirs, name="taken")
        self.assertEqual(await rest.snapshot(["alice", "bobby", "dave1"]), before)
        self.assertEqual(await their_group(), theirs_before)
        for client in (bobby, dave):
            self.assertFalse(client.inbox.closed.called)
        self.assertEqual((await self.ok(bobby, 17, op="list"))["groups"][0]["gid"], gid)


class SdkProfileTests(TestCase, Checks, Clients):
    timeout = 60

    async def test_a_users_profile_is_the_rest_user_object(self):
        jim, rest = await _app(self)
        self.assertEmpty(await rest.put("/v1/users/bobby", {"nickname": "Bob", "gender": 1,
                                                            "extras": {"k": 1}}))
        alice = await self.tcp(jim, "alice")
        for name in ("bobby", "alice"):
            reply = await alice.request(113, {"cmd": 113, "username": name, "seq": 4}, 114)
            self.assertEqual((reply["code"], reply["command"]), (10000, 114))
            self.assertEqual(reply["data"], {
                "seq": 4, "user": self.assertJson(await rest.get(f"/v1/users/{name}"))})

    async def test_unknown_and_other_apps_users(self):
        jim, rest = await _app(self)
        other = await second_app(jim)
        await other.register("zed01")
        alice = await self.ws(jim, "alice")
        for name in ("ghost1", "zed01", f"{other.key}:zed01"):
            reply = await alice.request(113, {"cmd": 113, "username": name, "seq": 1}, 114)
            self.assertEqual((reply["code"], reply["data"]), (10020, {"code": 899002,
                                                                      "seq": 1}), reply)
        reply = await alice.request(113, {"cmd": 113, "username": 5}, 114)
        self.assertEqual((reply["code"], reply["data"]), (10020, {"code": 899003}))
        self.assertFalse(alice.inbox.closed.called)

    async def test_before_the_login(self):
        jim, rest = await _app(self)
        client = await ws_client(jim.port, testcase=self)
        for cmd in (111, 113):
            reply = await client.request(cmd, {"cmd": cmd, "op": "list", "username": "alice"},
                                         cmd + 1)
            self.assertEqual((reply["code"], reply["detail"]), (10020, "log in first (cmd 5)"))
