"""Events in the inbox over real sockets: what an app server changes while a device is away
reaches it at its next sync (cmd 102 ``data.events``), among its messages in id order; a
REST change is in the inbox once its call is answered, so a kill -9 right after loses nothing;
on a cluster, an event made on one node is synced and acknowledged on another."""
from twisted.trial.unittest import TestCase

from tests.integration.test_cluster import ClusterCase
from tests.integration.test_rest_live import Clients
from tests.support.jimclient import ws_client
from tests.support.rest import Checks, Rest, start_rest
from tests.support.server import JimServer

PHONE = {"platform": "a", "deviceId": "phone", "acks": True}


class EventClients(Clients):
    async def phone(self, port, name="bobby", password="secret"):
        client = await ws_client(port, testcase=self)
        await client.login(name, password, **PHONE)
        return client

    async def sync(self, client):
        """Sync to the end: (messages' ids, events' kinds and ids, the highest id listed)."""
        messages, events, request = [], [], {"cmd": 101}
        while True:
            data = (await client.request(101, request, 102))["data"]
            messages += [int(m["id"]) for m in data["messages"]]
            events += [(e["kind"], e["event_id"]) for e in data["events"]]
            if not data["more"]:
                return messages, events, data["upto"]
            request = {"cmd": 101, "after": data["upto"]}

    async def acked(self, client, upto):
        reply = await client.request(103, {"cmd": 103, "upto": upto}, 104)
        self.assertEqual(reply["data"]["cursor"], upto)


class OneNodeTests(TestCase, Checks, EventClients):
    async def test_what_changed_while_away_comes_at_the_next_sync(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", "bobby", "carol")
        await rest.admin("admin1")
        phone = await self.phone(jim.port)
        await phone.disconnect()
        gid = await rest.group("alice", ["bobby"])
        message = (await rest.send("admin1", "bobby", "while away"))["msg_id"]
        self.assertEmpty(await rest.put(f"/v1/groups/{gid}", {"name": "renamed"}))
        self.assertEqual((await rest.post(f"/v1/groups/{gid}/members",
                                          {"add": ["carol"]})).status, 204)
        phone = await self.phone(jim.port)
        messages, events, upto = await self.sync(phone)
        self.assertEqual(messages, [int(message)])
        self.assertEqual([kind for kind, _ in events],
                         ["group_created", "group_updated", "members_added"])
        ids = [event_id for _, event_id in events]
        self.assertEqual(sorted(ids + messages), ids[:1] + messages + ids[1:],
                         "events and messages in the order they happened")
        self.assertEqual(upto, ids[-1])
        await self.acked(phone, upto)
        self.assertEqual(await self.sync(phone), ([], [], upto))


class KillTests(TestCase):
    timeout = 120

    async def test_an_answered_rest_change_survives_a_kill_9(self):
        server = await JimServer.start(self)
        key, secret = server.app_key, server.master_secret
        rest = Rest(server, key, secret)
        await rest.register("alice", "bobby")
        phone = await ws_client(server.port, testcase=self)
        await phone.login("bobby", "secret", **PHONE)
        await phone.disconnect()
        gid = await rest.group("alice", ["bobby"])
        await server.kill()
        await server.restart()
        phone = await ws_client(server.port, testcase=self)
        await phone.login("bobby", "secret", **PHONE)
        data = (await phone.request(101, {"cmd": 101}, 102))["data"]
        # made over REST for its owner: the owner made it, as far as its members can tell
        self.assertEqual([(e["kind"], e["gid"], e["from_username"]) for e in data["events"]],
                         [("group_created", gid, "alice")])


class ClusterEventTests(ClusterCase, EventClients):
    async def test_an_event_made_on_one_node_is_synced_and_acked_on_another(self):
        (a, b), rests = await self.cluster(2)
        await rests[0].register("alice", "bobby", "carol")
        phone = await self.phone(b.port)
        await phone.disconnect()
        self.assertEqual((await rests[0].put("/v1/users/bobby/blacklist", ["carol"])).status,
                         204)
        phone = await self.phone(b.port)
        _, [(kind, event_id)], upto = await self.sync(phone)
        self.assertEqual((kind, upto), ("blacklist_changed", event_id))
        await self.acked(phone, upto)
        # live: pushed from node a to the phone on node b, with the id the inbox gave it
        self.assertEqual((await rests[0].delete("/v1/users/bobby/blacklist", ["carol"])).status,
                         204)
        pushed = await self.event(phone, 38)
        self.assertGreater(pushed["event_id"], upto)
        await self.acked(phone, pushed["event_id"])
        await phone.disconnect()
        phone = await self.phone(a.port)
        self.assertEqual(await self.sync(phone), ([], [], pushed["event_id"]))

    async def test_an_ack_on_a_cluster_cannot_pass_a_push_lost_between_nodes(self):
        """A node that commits a message and dies before its publish never sends its push;
        the receiver, on another node, acks a later message: its node finds the one it never
        sent, pushes it, and holds the cursor below it until it is acknowledged too."""
        (a, b), rests = await self.cluster(2)
        await rests[0].register("alice", "bobby")
        phone = await self.phone(b.port)
        alice = await self.tcp(a, "alice")
        await self.seen_online(rests, "bobby")
        publish, announcement = a.core.bus.publish, a.core.bus.announcement
        # node a publishes after its commits (as under load: nothing announced with them) and
        # "dies" after a commit
        self.patch(a.core.bus, "announcement", lambda delivery: None)
        self.patch(a.core.bus, "publish", lambda value: None)
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "lost", "id": "c1"})
        lost = int((await alice.expect(12))["data"]["id"])
        self.patch(a.core.bus, "publish", publish)
        self.patch(a.core.bus, "announcement", announcement)
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "later", "id": "c2"})
        later = int((await alice.expect(12))["data"]["id"])
        self.assertEqual((await self.chat(phone))["content"], "later")

        reply = await phone.request(103, {"cmd": 103, "upto": later}, 104)
        self.assertEqual(reply["data"]["cursor"], lost - 1, "held below what never came")
        pushed = [obj["data"] for cmd, obj in phone.inbox.frames if cmd == 11]
        self.assertEqual([(m["content"], int(m["id"])) for m in pushed], [("lost", lost)])
        await self.acked(phone, later)
