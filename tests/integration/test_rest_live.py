"""The REST API and J-IM's sockets on one server: what an app server does over REST reaches
J-IM clients on TCP and WebSocket at once (messages, events, kicks), or at their next login."""
from twisted.trial.unittest import TestCase

from tests.support.jimclient import tcp_client, ws_client
from tests.support.rest import Checks, start_rest


async def _app(testcase, *users):
    jim, rest = await start_rest(testcase)
    await rest.register(*users)
    await rest.admin("admin1")
    return jim, rest


class Clients:
    """Logging J-IM clients in, and reading what they get."""

    async def tcp(self, jim, name, password="secret"):
        client = await tcp_client(jim.port, testcase=self)
        await client.login(name, password)
        return client

    async def ws(self, jim, name, password="secret"):
        client = await ws_client(jim.port, testcase=self)
        await client.login(name, password)
        return client

    async def both(self, jim, name):
        """The user on a TCP and a WebSocket connection."""
        return [await self.tcp(jim, name), await self.ws(jim, name)]

    async def event(self, client, event_type):
        """The next event (cmd 100) of the client, which must be of C{event_type}."""
        event = (await client.expect(100))["data"]
        self.assertEqual(event["event_type"], event_type, event)
        return event

    async def chat(self, client):
        return (await client.expect(11))["data"]

    async def fetch(self, client, name, kind=0, **query):
        """J-IM's cmd 19: offline messages (type 0) or history (type 1): {peer: [contents]}."""
        reply = await client.request(19, {"cmd": 19, "type": kind, "userId": name, **query}, 20)
        found = {}
        for part in ("friends", "groups"):
            for peer, messages in reply["data"][part].items():
                found[peer] = [m["content"] for m in messages]
        return found

    async def login_code(self, jim, **login):
        client = await tcp_client(jim.port, testcase=self)
        return (await client.request(5, {"cmd": 5, **login}, 6))["code"]


class DeliveryTests(TestCase, Checks, Clients):
    timeout = 60

    async def test_a_rest_send_reaches_every_connection_of_the_target_at_once(self):
        jim, rest = await _app(self, "bobby")
        connections = await self.both(jim, "bobby")
        sent = await rest.send("admin1", "bobby", "hi bobby")
        for client in connections:
            chat = await self.chat(client)
            self.assertEqual((chat["from"], chat["to"], chat["content"], chat["id"]),
                             ("admin1", "bobby", "hi bobby", str(sent["msg_id"])))
            self.assertEqual(chat["createTime"], sent["msg_ctime"])

    async def test_offline_targets_get_it_at_their_next_login_on_either_socket(self):
        jim, rest = await _app(self, "bobby", "carol")
        for name in ("bobby", "carol"):
            await rest.send("admin1", name, f"for {name} 1")
            await rest.send("admin1", name, f"for {name} 2")
        bobby = await self.tcp(jim, "bobby")
        self.assertEqual(await self.fetch(bobby, "bobby"),
                         {"admin1": ["for bobby 1", "for bobby 2"]})
        carol = await self.ws(jim, "carol")
        self.assertEqual(await self.fetch(carol, "carol"),
                         {"admin1": ["for carol 1", "for carol 2"]})
        self.assertEqual(await self.fetch(carol, "carol"), {})  # each fetched once

    async def test_a_rest_group_send_reaches_every_member_on_both_socket_kinds(self):
        jim, rest = await _app(self, "alice", "bobby", "carol")
        gid = await rest.group("alice", ["bobby", "carol"])
        alice, bobby = await self.tcp(jim, "alice"), await self.ws(jim, "bobby")
        await rest.send("admin1", gid, "to the group", target_type="group")
        for client in (alice, bobby):
            chat = await self.chat(client)
            self.assertEqual((chat["from"], chat["groupId"], chat["content"]),
                             ("admin1", str(gid), "to the group"))
        carol = await self.tcp(jim, "carol")
        self.assertEqual(await self.fetch(carol, "carol"), {str(gid): ["to the group"]})

    async def test_a_removed_member_gets_no_further_group_messages(self):
        jim, rest = await _app(self, "alice", "bobby")
        gid = await rest.group("alice", ["bobby"])
        alice = await self.tcp(jim, "alice")
        bobby = await self.both(jim, "bobby")
        await rest.send("admin1", gid, "before", target_type="group")
        for client in [alice] + bobby:
            self.assertEqual((await self.chat(client))["content"], "before")
        self.assertEmpty(await rest.post(f"/v1/groups/{gid}/members", {"remove": ["bobby"]}))
        await rest.send("admin1", gid, "after", target_type="group")
        self.assertEqual((await self.chat(alice))["content"], "after")
        # a private message sent after it is the next chat bobby's connections get
        await rest.send("admin1", "bobby", "fence")
        for client in bobby:
            self.assertEqual((await self.chat(client))["content"], "fence")
            event = await self.event(client, 11)
            self.assertEqual([u["username"] for u in event["to_usernames"]], ["bobby"])


class GroupEventTests(TestCase, Checks, Clients):
    timeout = 60

    async def test_a_groups_life_is_told_to_its_members_on_both_socket_kinds(self):
        jim, rest = await _app(self, "alice", "bobby", "carol")
        clients = [await self.tcp(jim, "alice"), await self.ws(jim, "bobby")]
        gid = await rest.group("alice", ["bobby"], name="team")
        for client in clients:
            event = await self.event(client, 8)
            self.assertEqual((event["gid"], event["group_name"]), (gid, "team"))
            self.assertEqual(sorted(u["username"] for u in event["to_usernames"]),
                             ["alice", "bobby"])

        self.assertEmpty(await rest.post(f"/v1/groups/{gid}/members", {"add": ["carol"]}))
        for client in clients:
            joined = await client.expect(9)  # J-IM's own join notice
            self.assertEqual((joined["group"], joined["user"]["userId"]), (str(gid), "carol"))
            event = await self.event(client, 10)
            self.assertEqual([u["username"] for u in event["to_usernames"]], ["carol"])

        self.assertEmpty(await rest.put(f"/v1/groups/{gid}", {"name": "renamed"}))
        for client in clients:
            self.assertEqual((await self.event(client, 12))["group_name"], "renamed")

        self.assertEmpty(await rest.put(f"/v1/groups/messages/{gid}/silence?status=True",
                                        ["carol"]))
        for client in clients:
            event = await self.event(client, 65)
            self.assertEqual((event["extra"], event["to_usernames"][0]["username"]),
                             (1, "carol"))

        self.assertEmpty(await rest.put(f"/v1/groups/owner/{gid}", {"username": "bobby"}))
        for client in clients:
            self.assertEqual((await self.event(client, 82))["new_owner"], "bobby")

        self.assertEmpty(await rest.post(f"/v1/groups/{gid}/members", {"remove": ["carol"]}))
        for client in clients:
            left = await client.expect(10)  # J-IM's own exit notice
            self.assertEqual(left["data"]["user"]["userId"], "carol")
            self.assertEqual((await self.event(client, 11))["gid"], gid)

        self.assertEmpty(await rest.delete(f"/v1/groups/{gid}"))
        for client in clients:
            event = await self.event(client, 9)
            self.assertEqual((event["gid"], event["extra"]), (gid, 69))


class UserEventTests(TestCase, Checks, Clients):
    timeout = 60

    async def test_friends_blacklist_and_profile_events(self):
        jim, rest = await _app(self, "alice", "bobby", "carol")
        alice = await self.both(jim, "alice")
        bobby = await self.ws(jim, "bobby")
        self.assertEmpty(await rest.post("/v1/users/alice/friends", ["bobby"]), 201)
        for client in alice:
            event = await self.event(client, 5)
            self.assertEqual(event["to_usernames"][0]["username"], "bobby")
        self.assertEqual((await self.event(bobby, 5))["to_usernames"][0]["username"], "alice")

        self.assertEmpty(await rest.put("/v1/users/alice/blacklist", ["carol"]))
        for client in alice:
            event = await self.event(client, 38)
            self.assertEqual((event["extra"], event["to_usernames"][0]["username"]), (1, "carol"))

        self.assertEmpty(await rest.put("/v1/users/alice", {"nickname": "Al"}))
        for client in alice + [bobby]:  # her friend is told too
            event = await self.event(client, 40)
            self.assertEqual(event["to_usernames"][0]["nickname"], "Al")

    async def test_a_retraction_is_told_and_leaves_history_and_offline_lists(self):
        jim, rest = await _app(self, "bobby", "carol")
        bobby = await self.both(jim, "bobby")
        sent = await rest.send("admin1", "bobby", "oops")
        offline = await rest.send("admin1", "carol", "oops too")
        for client in bobby:
            await self.chat(client)
        history = await self.fetch(bobby[0], "bobby", kind=1, fromUserId="admin1")
        self.assertEqual(history, {"admin1": ["oops"]})
        for message in (sent, offline):
            self.assertEmpty(await rest.post(f"/v1/messages/admin1/{message['msg_id']}/retract"))
        for client in bobby:
            event = await self.event(client, 55)
            self.assertEqual((event["msgid_list"], event["type"]), ([sent["msg_id"]], 0))
        self.assertEqual(await self.fetch(bobby[1], "bobby", kind=1, fromUserId="admin1"), {})
        carol = await self.tcp(jim, "carol")
        self.assertEqual(await self.fetch(carol, "carol"), {})
        self.assertEqual(await self.fetch(carol, "carol", kind=1, fromUserId="admin1"), {})

    async def test_a_group_retraction_is_told_to_members_on_both_socket_kinds(self):
        jim, rest = await _app(self, "alice", "bobby")
        gid = await rest.group("alice", ["bobby"])
        clients = [await self.tcp(jim, "alice"), await self.ws(jim, "bobby")]
        sent = await rest.send("admin1", gid, "oops", target_type="group")
        for client in clients:
            await self.chat(client)
        self.assertEqual(await self.fetch(clients[0], "alice", kind=1, groupId=str(gid)),
                         {str(gid): ["oops"]})
        self.assertEmpty(await rest.post(f"/v1/messages/admin1/{sent['msg_id']}/retract"))
        for client in clients:
            event = await self.event(client, 55)
            self.assertEqual((event["msgid_list"], event["type"], event["from_gid"]),
                             ([sent["msg_id"]], 1, gid))
        self.assertEqual(await self.fetch(clients[1], "bobby", kind=1, groupId=str(gid)), {})


class KickTests(TestCase, Checks, Clients):
    timeout = 60

    async def test_a_forbidden_user_is_disconnected_and_cannot_log_in(self):
        jim, rest = await _app(self, "bobby")
        bobby = await self.both(jim, "bobby")
        self.assertEmpty(await rest.put("/v1/users/bobby/forbidden?disable=True"))
        for client in bobby:
            self.assertEqual((await self.event(client, 1))["to_usernames"][0]["username"],
                             "bobby")
            await client.wait_closed()
        self.assertEqual(await self.login_code(jim, userId="bobby", password="secret"), 10008)
        ws = await ws_client(jim.port, testcase=self)
        reply = await ws.request(5, {"cmd": 5, "userId": "bobby", "password": "secret"}, 6)
        self.assertEqual(reply["code"], 10008)
        self.assertEmpty(await rest.put("/v1/users/bobby/forbidden?disable=False"))
        await self.tcp(jim, "bobby")

    async def test_a_new_password_disconnects_and_voids_reconnect_tokens(self):
        jim, rest = await _app(self, "bobby")
        tcp = await tcp_client(jim.port, testcase=self)
        token = (await tcp.login("bobby"))["token"]
        ws = await self.ws(jim, "bobby")
        # the token works before the change
        self.assertEqual(await self.login_code(jim, userId="bobby", token=token), 10007)
        self.assertEmpty(await rest.put("/v1/users/bobby/password", {"new_password": "fresh"}))
        for client in (tcp, ws):
            await self.event(client, 2)
            await client.wait_closed()
        self.assertEqual(await self.login_code(jim, userId="bobby", token=token), 10008)
        self.assertEqual(await self.login_code(jim, userId="bobby", password="secret"), 10008)
        self.assertEqual(await self.login_code(jim, userId="bobby", password="fresh"), 10007)
