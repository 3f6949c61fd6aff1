"""A real `twistd jim` process, a user on three devices (a laptop and a phone over WebSocket
that acknowledge, a J-IM TCP client that does not), a sender in full flow, and a kill -9 in the
middle: after the restart every device holds every acknowledged message exactly once (after
dropping repeats by server id), and what a device never acknowledged comes again."""
from twisted.trial.unittest import TestCase

from tests.support.jimclient import tcp_client, ws_client
from tests.support.server import JimServer

LAPTOP = {"platform": "j", "deviceId": "laptop", "acks": True}
PHONE = {"platform": "a", "deviceId": "phone", "acks": True}
CHATS = 200


class Device:
    """A device of bob's: the server ids it holds, over every connection it had."""

    def __init__(self, name, fields, tcp=False):
        self.name = name
        self.fields = fields
        self.tcp = tcp
        self.held = []  # every id received, repeats included, in order
        self.client = None

    async def connect(self, port, testcase):
        connect = tcp_client if self.tcp else ws_client
        self.client = await connect(port, testcase=testcase)
        await self.client.login("bob", "bobpw", **self.fields)

    def take_pushes(self):
        frames = self.client.inbox.frames
        pushes = [obj for cmd, obj in frames if cmd == 11]
        frames[:] = [(cmd, obj) for cmd, obj in frames if cmd != 11]
        self.held += [int(p["data"]["id"]) for p in pushes]

    async def ack_all(self):
        self.take_pushes()
        if self.held:
            reply = await self.client.request(103, {"cmd": 103, "upto": max(self.held)}, 104)
            assert reply["code"] == 10000, reply

    async def resync(self):
        """Sync (a device that acks) or fetch offline messages (J-IM) to the end."""
        if self.fields.get("acks"):
            after = 0
            while True:
                request = {"cmd": 101, "count": 50}
                if after:
                    request["after"] = after
                data = (await self.client.request(101, request, 102))["data"]
                ids = [int(m["id"]) for m in data["messages"]]
                self.held += ids
                if not data["more"]:
                    return
                after = ids[-1]
        while True:
            reply = await self.client.request(19, {"cmd": 19, "type": 0}, 20)
            listed = [int(m["id"]) for ms in reply["data"]["friends"].values() for m in ms]
            self.held += listed
            if not reply.get("more"):
                return


class ResyncTests(TestCase):
    timeout = 180

    async def test_every_device_holds_every_message_after_a_kill_9(self):
        # more chats than the inbox keeps of a conversation by default (100)
        server = await JimServer.start(self, ["--inbox-per-conversation", str(CHATS)])
        alice = await tcp_client(server.port, testcase=self)
        await alice.login("alice", "alicepw")
        devices = [Device("laptop", LAPTOP), Device("phone", PHONE),
                   Device("tcp", {}, tcp=True)]
        for device in devices:
            await device.connect(server.port, self)
        # the phone goes away before the flow: it gets everything at its resync
        await devices[1].client.disconnect()

        acked = []
        for i in range(CHATS):
            alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob", "content": f"m{i}",
                            "id": f"c{i}"})
        for _ in range(CHATS // 2):  # half are answered, the rest are in flight at the kill
            ack = await alice.expect(12)
            self.assertIn(ack["code"], (10000, 10001), ack)
            acked.append(int(ack["data"]["id"]))
        await devices[0].ack_all()  # the laptop acknowledges what it had so far
        acked_by_laptop = max(devices[0].held, default=0)
        await server.kill()
        answered = [obj for cmd, obj in alice.inbox.frames if cmd == 12]
        acked += [int(obj["data"]["id"]) for obj in answered
                  if obj.get("code") in (10000, 10001)]
        for device in devices:
            if device.client is not None and device is not devices[1]:
                device.take_pushes()

        await server.restart()
        for device in devices:
            await device.connect(server.port, self)
            await device.resync()
            if device.fields.get("acks"):
                await device.ack_all()
        history = await self.history(devices[2].client)

        stored = set(history)
        self.assertTrue(set(acked) <= stored, "every acknowledged chat survived the kill")
        for device in devices:
            held = set(device.held)
            self.assertTrue(set(acked) <= held, f"{device.name} misses"
                            f" {sorted(set(acked) - held)[:5]}")
            self.assertTrue(held <= stored, f"{device.name} holds ids never stored")
        laptop = devices[0]
        again = [i for i in laptop.held if laptop.held.count(i) > 1]
        self.assertTrue(all(i > acked_by_laptop for i in again),
                        "what the laptop acknowledged never came again")
        # the next resync of each device that acks lists nothing: all acknowledged
        for device in devices[:2]:
            data = (await device.client.request(101, {"cmd": 101}, 102))["data"]
            self.assertEqual(data["messages"], [], device.name)

    async def history(self, client):
        """Every id of alice and bob's conversation (one page: it holds fewer than 1000)."""
        request = {"cmd": 19, "type": 1, "fromUserId": "alice", "count": 1000}
        reply = await client.request(19, request, 20)
        self.assertIsNone(reply.get("more"))
        return [int(m["id"]) for m in reply["data"]["friends"].get("alice", [])]
