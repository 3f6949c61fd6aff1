"""Chat rooms over real sockets (reference 2.6): the REST calls and their refusals (each
changing nothing), messages to a room from REST, J-IM TCP and WebSocket reaching the members
online at that moment once each and never kept as offline messages, entering and leaving with
cmd 105 and 107, silences; on a cluster, a room's members on two nodes."""
from twisted.trial.unittest import TestCase

from tests.integration.test_cluster import ClusterCase, quiet
from tests.integration.test_rest_live import Clients
from tests.support.rest import Checks, start_rest


async def _app(testcase):
    jim, rest = await start_rest(testcase)
    await rest.register("alice", "bobby", "carol", "dave1")
    await rest.admin("admin1")
    return jim, rest


async def _room(rest, owner="alice", members=("bobby",), name="Lobby"):
    response = await rest.post("/v1/chatroom/", {"owner_username": owner, "name": name,
                                                 "members_username": list(members)})
    assert response.status == 201, response
    return response.json()["chatroom_id"]


class RoomCallTests(TestCase, Checks):
    timeout = 60

    async def test_create_read_change_delete(self):
        jim, rest = await _app(self)
        first = await _room(rest, members=["bobby", "carol"], name="Lobby")
        second = await _room(rest, owner="bobby", members=[], name="Quiet")
        self.assertEqual(second, first + 1)
        self.assertGreaterEqual(first, 10_000_000)
        listed = self.assertJson(await rest.get("/v1/chatroom?start=0&count=10"))
        self.assertEqual((listed["total"], listed["count"]), (2, 2))
        lobby = listed["rooms"][0]
        self.assertEqual({k: lobby[k] for k in ("id", "owner_username", "name", "appkey",
                                                "total_member_count", "max_member_count")},
                         {"id": first, "owner_username": "alice", "name": "Lobby",
                          "appkey": rest.key, "total_member_count": 3,
                          "max_member_count": 10_000})
        batch = self.assertJson(await rest.post("/v1/chatroom/batch", [second, 99, first]))
        self.assertEqual([r["id"] for r in batch], [second, first])
        self.assertEmpty(await rest.put(f"/v1/chatroom/{first}",
                                        {"name": "Main", "owner_username": "carol"}))
        [room] = self.assertJson(await rest.post("/v1/chatroom/batch", [first]))
        self.assertEqual((room["name"], room["owner_username"]), ("Main", "carol"))
        members = self.assertJson(await rest.get(f"/v1/chatroom/{first}/members?start=0&count=10"))
        self.assertEqual([u["username"] for u in members["users"]], ["alice", "bobby", "carol"])
        self.assertEqual({u["flag"] for u in members["users"]}, {0})
        self.assertEmpty(await rest.put(f"/v1/chatroom/{first}/members", ["dave1"]))
        self.assertEmpty(await rest.delete(f"/v1/chatroom/{first}/members", ["bobby"]))
        self.assertEmpty(await rest.put(f"/v1/chatroom/{first}/forbidden/dave1?status=true"))
        members = self.assertJson(await rest.get(f"/v1/chatroom/{first}/members?start=0&count=10"))
        self.assertEqual([(u["username"], u["flag"]) for u in members["users"]],
                         [("alice", 0), ("carol", 0), ("dave1", 1)])
        mine = self.assertJson(await rest.get("/v1/users/dave1/chatroom"))
        self.assertEqual([r["id"] for r in mine], [first])
        self.assertEmpty(await rest.delete(f"/v1/chatroom/{first}"))
        self.assertEqual(self.assertJson(await rest.get("/v1/users/dave1/chatroom")), [])
        self.assertEqual(self.assertJson(await rest.get("/v1/chatroom?start=0&count=10"))["total"],
                         1)

    async def test_refusals_change_nothing(self):
        jim, rest = await _app(self)
        room = await _room(rest)

        async def state():
            return (self.assertJson(await rest.get("/v1/chatroom?start=0&count=10")),
                    self.assertJson(await rest.get(f"/v1/chatroom/{room}/members?start=0&count=10")))

        before = await state()
        cases = [
            (rest.post("/v1/chatroom", {"owner_username": "ghost1", "name": "x"}), 403, 899002),
            (rest.post("/v1/chatroom", {"owner_username": "alice", "name": ""}), 400, 899003),
            (rest.post("/v1/chatroom", {"owner_username": "alice"}), 400, 899003),
            (rest.post("/v1/chatroom", {"owner_username": "alice", "name": "x",
                                        "members_username": ["ghost1"]}), 403, 899002),
            (rest.put(f"/v1/chatroom/{room + 5}", {"name": "y"}), 403, 853001),
            (rest.put(f"/v1/chatroom/{room}", {"owner_username": "carol"}), 403, 853002),
            (rest.put(f"/v1/chatroom/{room}", {}), 400, 899003),
            (rest.put(f"/v1/chatroom/{room}", {"flag": 1}), 400, 899003),
            (rest.delete(f"/v1/chatroom/{room + 5}"), 403, 850001),
            (rest.put(f"/v1/chatroom/{room}/members", ["carol", "bobby"]), 403, 851003),
            (rest.put(f"/v1/chatroom/{room}/members", ["ghost1"]), 403, 851002),
            (rest.put(f"/v1/chatroom/{room + 5}/members", ["carol"]), 403, 851004),
            (rest.put(f"/v1/chatroom/{room}/members", []), 400, 899003),
            (rest.put(f"/v1/chatroom/{room}/members", [f"u{i}" for i in range(3001)]), 403,
             899013),
            (rest.delete(f"/v1/chatroom/{room}/members", ["carol"]), 403, 852002),
            (rest.delete(f"/v1/chatroom/{room}/members", ["alice"]), 403, 852003),
            (rest.delete(f"/v1/chatroom/{room + 5}/members", ["bobby"]), 403, 852001),
            (rest.put(f"/v1/chatroom/{room}/forbidden/carol?status=1"), 403, 899082),
            (rest.put(f"/v1/chatroom/{room + 5}/forbidden/bobby?status=1"), 403, 899081),
            (rest.put(f"/v1/chatroom/{room}/forbidden/bobby?status=maybe"), 400, 899003),
            (rest.get(f"/v1/chatroom/{room + 5}/members?start=0&count=10"), 403, 899081),
            (rest.get("/v1/chatroom/abc/members?start=0&count=10"), 400, 899003),
            (rest.post("/v1/chatroom/batch", []), 400, 899003),
            (rest.post("/v1/chatroom/batch", ["x"]), 400, 899003),
            (rest.get("/v1/users/ghost1/chatroom"), 403, 899002),
        ]
        for call, status, code in cases:
            self.assertError(await call, status, code)
        self.assertEqual(await state(), before)


class RoomChatTests(TestCase, Checks, Clients):
    timeout = 60

    async def test_a_room_message_reaches_the_members_online_once_and_is_never_offline(self):
        jim, rest = await _app(self)
        room = await _room(rest, members=["bobby", "carol"])
        alice = await self.tcp(jim, "alice")
        bobby_tcp, bobby_ws = await self.both(jim, "bobby")
        dave = await self.tcp(jim, "dave1")  # online, not a member
        # carol is a member but offline
        alice.send(11, {"cmd": 11, "chatType": 3, "roomId": room, "content": "hi room"})
        self.assertEqual((await alice.expect(12))["code"], 10000)
        for client in (alice, bobby_tcp, bobby_ws):
            chat = await self.chat(client)
            self.assertEqual((chat["chatType"], chat["roomId"], chat["content"], chat["from"]),
                             (3, room, "hi room", "alice"))
        sent = (await rest.send("admin1", str(room), "from the app", "chatroom"))["msg_id"]
        for client in (alice, bobby_tcp, bobby_ws):
            self.assertEqual(int((await self.chat(client))["id"]), sent)
        await quiet()
        for client in (alice, bobby_tcp, bobby_ws, dave):
            self.assertEqual([o for c, o in client.inbox.frames if c == 11], [], "once each")
        carol = await self.tcp(jim, "carol")
        self.assertEqual(await self.fetch(carol, "carol"), {}, "no offline room messages")
        data = (await carol.request(101, {"cmd": 101}, 102))["data"]
        self.assertEqual(data["messages"], [])
        # not a member: refused
        dave.send(11, {"cmd": 11, "chatType": 3, "roomId": room, "content": "let me in"})
        refusal = await dave.expect(12)
        self.assertEqual(refusal["code"], 10002)
        self.assertIn("not in chat room", refusal["detail"])

    async def test_enter_leave_and_silence_from_a_client(self):
        jim, rest = await _app(self)
        room = await _room(rest, members=[])
        alice = await self.tcp(jim, "alice")
        bobby = await self.ws(jim, "bobby")
        reply = await bobby.request(105, {"cmd": 105, "roomId": room}, 106)
        self.assertEqual((reply["code"], reply["data"]), (10000, {"roomId": room}))
        again = await bobby.request(105, {"cmd": 105, "roomId": str(room)}, 106)
        self.assertEqual(again["code"], 10000, "entering twice changes nothing")
        bobby.send(11, {"cmd": 11, "chatType": 3, "roomId": room, "content": "I am in"})
        self.assertEqual((await bobby.expect(12))["code"], 10000)
        self.assertEqual((await self.chat(alice))["content"], "I am in")
        self.assertEqual((await self.chat(bobby))["content"], "I am in")
        self.assertEmpty(await rest.put(f"/v1/chatroom/{room}/forbidden/bobby?status=1"))
        bobby.send(11, {"cmd": 11, "chatType": 3, "roomId": room, "content": "shh"})
        refusal = await bobby.expect(12)
        self.assertEqual(refusal["code"], 10002)
        self.assertIn("silenced", refusal["detail"])
        left = await bobby.request(107, {"cmd": 107, "roomId": room}, 108)
        self.assertEqual(left["code"], 10000)
        members = self.assertJson(await rest.get(f"/v1/chatroom/{room}/members?start=0&count=9"))
        self.assertEqual([u["username"] for u in members["users"]], ["alice"])
        for request, reply in (({"cmd": 107, "roomId": room}, 108),  # alice owns it
                               ({"cmd": 105, "roomId": room + 9}, 106),
                               ({"cmd": 105, "roomId": "x"}, 106)):
            answer = await alice.request(request["cmd"], request, reply)
            self.assertEqual(answer["code"], 10020, answer)
        self.assertFalse(alice.inbox.closed.called)


class ClusterRoomTests(ClusterCase):
    async def test_members_on_two_nodes_each_get_a_room_message_once(self):
        (a, b), rests = await self.cluster(2)
        await rests[0].register("alice", "bobby", "carol")
        room = await _room(rests[0], members=["bobby"])
        alice = await self.tcp(a, "alice")
        bobby = await self.ws(b, "bobby")
        carol = await self.tcp(b, "carol")
        await self.seen_online(rests, "bobby")
        entered = await carol.request(105, {"cmd": 105, "roomId": room}, 106)
        self.assertEqual(entered["code"], 10000)
        alice.send(11, {"cmd": 11, "chatType": 3, "roomId": room, "content": "across"})
        self.assertEqual((await alice.expect(12))["code"], 10000)
        for client in (alice, bobby, carol):
            self.assertEqual((await self.chat(client))["content"], "across")
        await self.nothing_more(alice, bobby, carol)
