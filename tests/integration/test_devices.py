"""Devices over real sockets: a login names its device (cmd 5, or the WebSocket URL), the same
device logging in again replaces the first connection (told JMessage's 872008 in a cmd 100
event, then closed), on one node and across a Redis cluster; ``--single-device`` lets a user
have one device; userstat lists devices; a user's sends reach its other devices."""
from twisted.internet import reactor, task
from twisted.trial.unittest import TestCase

from tests.integration.test_cluster import ClusterCase
from tests.integration.test_rest_live import Clients
from tests.support.jimclient import tcp_client, ws_client
from tests.support.rest import Checks, start_rest


def device(platform, device_id=None):
    fields = {"platform": platform}
    if device_id is not None:
        fields["deviceId"] = device_id
    return fields


class DeviceClients(Clients):
    async def on(self, jim, name, **fields):
        client = await tcp_client(jim.port, testcase=self)
        await client.login(name, "secret", **fields)
        return client

    async def replaced(self, client):
        """The client was told it logged in elsewhere, and closed."""
        event = await self.event(client, 1)
        self.assertEqual((event["kind"], event["return_code"], event["description"]),
                         ("logged_in_elsewhere", 872008, "logged in elsewhere"))
        await client.wait_closed()

    async def states(self, rest, name):
        [state] = self.assertJson(await rest.post("/v1/users/userstat", [name]))
        return state["devices"]

    async def devices(self, rest, name):
        """The platforms of the devices userstat lists as online, sorted."""
        states = await self.states(rest, name)
        for state in states:
            self.assertEqual(state["login"], state["online"])
        return sorted(d["platform"] for d in states if d["online"])

    async def past(self, rest, name):
        """The platforms of the devices userstat lists as logged out, in its order."""
        return [d["platform"] for d in await self.states(rest, name) if not d["login"]]


class OneNodeTests(TestCase, Checks, DeviceClients):
    timeout = 60

    async def test_the_same_device_replaces_the_first(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", "bobby")
        phone = await self.on(jim, "alice", **device("a", "phone-1"))
        pad = await self.on(jim, "alice", **device("i", "pad"))
        again = await ws_client(jim.port, "username=alice&password=secret&platform=a"
                                          "&deviceId=phone-1", testcase=self)
        self.assertEqual((await again.expect(6))["code"], 10007)
        await self.replaced(phone)
        self.assertEqual(await self.devices(rest, "alice"), ["a", "i"])
        # the survivors are alive: a chat reaches both
        bobby = await self.tcp(jim, "bobby")
        bobby.send(11, {"cmd": 11, "chatType": 2, "to": "alice", "content": "hi"})
        for client in (pad, again):
            self.assertEqual((await self.chat(client))["content"], "hi")

    async def test_j_im_clients_that_name_no_device_coexist(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        connections = await self.both(jim, "alice") + [await self.tcp(jim, "alice")]
        self.assertEqual(await self.devices(rest, "alice"), ["j", "w", "w"])
        self.assertEqual(self.assertJson(await rest.get("/v1/users/alice/userstat")),
                         {"login": True, "online": True})
        for client in connections:
            self.assertFalse(client.inbox.closed.called)

    async def test_a_bad_platform_is_refused(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        client = await tcp_client(jim.port, testcase=self)
        reply = await client.request(5, {"cmd": 5, "userId": "alice", "password": "secret",
                                         "platform": "android"}, 6)
        self.assertEqual(reply["code"], 10008)
        self.assertIn("platform must be one of a, i, j, w", reply["detail"])
        await client.wait_closed()
        ws = await ws_client(jim.port, "username=alice&password=secret&platform=z",
                             testcase=self)
        self.assertEqual((await ws.expect(6))["code"], 10008)

    async def test_single_device(self):
        jim, rest = await start_rest(self, single_device=True)
        await rest.register("alice")
        web = await self.ws(jim, "alice")
        phone = await self.on(jim, "alice", **device("a"))
        await self.replaced(web)
        self.assertEqual(await self.devices(rest, "alice"), ["a"])
        self.assertEqual(await self.past(rest, "alice"), ["j"], "the web, logged out")
        self.assertFalse(phone.inbox.closed.called)

    async def test_devices_that_logged_out_are_listed_as_such(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", "bobby")
        self.assertEqual(await self.states(rest, "alice"), [], "never logged in: none")
        pad = await self.on(jim, "alice", **device("i", "pad"))
        pc = await self.tcp(jim, "alice")  # a J-IM client naming no device
        phone = await self.on(jim, "alice", **device("a", "phone"))
        self.assertEqual(await self.devices(rest, "alice"), ["a", "i", "w"])
        self.assertEqual(await self.past(rest, "alice"), [])
        for client in (pad, pc):
            client.close()
            await client.wait_closed()
        for _ in range(250):  # each logout leaves its cursor, seen at the close
            if len(await self.past(rest, "alice")) == 2:
                break
            await task.deferLater(reactor, 0.02, lambda: None)
        states = await self.states(rest, "alice")
        self.assertEqual(states[0], {"login": True, "online": True, "platform": "a"})
        self.assertEqual(sorted(d["platform"] for d in states[1:]), ["i", "w"])
        self.assertEqual([d["login"] for d in states[1:]], [False, False])
        self.assertEqual([d["online"] for d in states[1:]], [False, False])
        # another user's devices are not hers, nor hers his
        self.assertEqual(self.assertJson(await rest.post("/v1/users/userstat",
                                                         ["bobby", "alice"]))[0],
                         {"username": "bobby", "devices": []})
        self.assertFalse(phone.inbox.closed.called)

    async def test_own_group_chat_reaches_the_other_devices(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", "bobby")
        await rest.admin("admin1")
        gid = await rest.group("alice", ["bobby"])
        phone = await self.on(jim, "alice", **device("a", "phone"))
        web = await self.ws(jim, "alice")
        phone.send(11, {"cmd": 11, "chatType": 1, "groupId": str(gid), "content": "mine"})
        self.assertEqual((await phone.expect(12))["code"], 10000)
        chat = await self.chat(web)
        self.assertEqual((chat["from"], chat["content"]), ("alice", "mine"))


class ClusterDeviceTests(ClusterCase, DeviceClients):
    async def test_a_device_logging_in_on_another_node_replaces_the_first(self):
        (a, b), rests = await self.cluster(2)
        await rests[0].register("alice")
        first = await self.on(a, "alice", **device("i", "phone"))
        other = await self.on(a, "alice", **device("w", "pc"))
        await self.seen_online(rests, "alice")
        second = await self.on(b, "alice", **device("i", "phone"))
        await self.replaced(first)
        self.assertFalse(other.inbox.closed.called)
        for rest in rests:  # cluster-wide: both nodes list the phone once, and the pc
            for _ in range(250):
                if await self.devices(rest, "alice") == ["i", "w"]:
                    break
                await task.deferLater(reactor, 0.02, lambda: None)
            else:
                self.fail(await self.devices(rest, "alice"))
        self.assertFalse(second.inbox.closed.called)
