"""cmd 115 over real sockets: a user retracts its own message as the REST API's retraction
does (the same window, the same event to the same users); someone else's message, an unknown
one and one past the window are refused with 10020 and JMessage's code, and stay."""
from twisted.trial.unittest import TestCase

from tests.integration.test_rest_live import Clients
from tests.support.jimclient import tcp_client
from tests.support.rest import Checks, start_rest


class SocketRetractTests(TestCase, Checks, Clients):
    timeout = 60

    async def start(self, **limits):
        self.jim, self.rest = await start_rest(self, limits=limits or None)
        await self.rest.register("alice", "bobby")

    async def send(self, sender, text, to="bobby"):
        ack = await sender.request(11, {"cmd": 11, "chatType": 2, "to": to, "content": text},
                                   12)
        self.assertIn(ack["code"], (10000, 10001), ack)
        return ack["data"]["id"]

    async def retract(self, client, msg_id, seq=None):
        request = {"cmd": 115, "msgId": msg_id}
        if seq is not None:
            request["seq"] = seq
        return await client.request(115, request, 116)

    async def test_own_message_retracted_on_either_socket_and_told_as_rest_tells_it(self):
        await self.start()
        bobby = await self.both(self.jim, "bobby")
        alice = [await self.tcp(self.jim, "alice"), await self.ws(self.jim, "alice")]
        for sender, other in (alice, reversed(alice)):
            msg_id = await self.send(sender, "oops")
            for client in bobby + [other]:  # the sender's other connection has its copy
                self.assertEqual((await self.chat(client))["id"], msg_id)
            reply = await self.retract(sender, int(msg_id), seq=7)
            self.assertEqual((reply["code"], reply["command"], reply["data"]),
                             (10000, 116, {"msgId": msg_id, "seq": 7}), reply)
            for client in bobby + alice:
                event = await self.event(client, 55)
                self.assertEqual((event["msgid_list"], event["from_username"]),
                                 ([int(msg_id)], "alice"))
            again = await self.retract(sender, msg_id, seq=8)
            self.assertEqual((again["code"], again["data"]["code"], again["data"]["seq"]),
                             (10020, 855004, 8), again)
        history = await self.fetch(bobby[0], "bobby", kind=1, fromUserId="alice")
        self.assertEqual(history, {})

    async def test_someone_elses_or_an_unknown_message_is_refused_and_stays(self):
        await self.start()
        alice, bobby = await self.tcp(self.jim, "alice"), await self.ws(self.jim, "bobby")
        msg_id = await self.send(alice, "mine")
        await self.chat(bobby)
        for msg, code in ((msg_id, 855002), ("999999", 855003)):
            reply = await self.retract(bobby, msg, seq=1)
            self.assertEqual((reply["code"], reply["data"]["code"], reply["data"]["seq"]),
                             (10020, 855002 if msg == msg_id else 855003, 1), reply)
            self.assertEqual(reply["data"]["code"], code)
            self.assertIn("detail", reply)
        for bad in ("x", 0, None):
            reply = await self.retract(bobby, bad)
            self.assertEqual((reply["code"], reply["data"]), (10020, {"code": 899003}), reply)
        history = await self.fetch(bobby, "bobby", kind=1, fromUserId="alice")
        self.assertEqual(history, {"alice": ["mine"]})

    async def test_a_message_past_the_window_is_refused(self):
        await self.start(retract_window=-1.0)  # every message is past its window
        alice = await self.tcp(self.jim, "alice")
        msg_id = await self.send(alice, "too late")
        reply = await self.retract(alice, msg_id, seq=3)
        self.assertEqual((reply["code"], reply["data"]), (10020, {"code": 855001, "seq": 3}),
                         reply)
        history = await self.fetch(alice, "alice", kind=1, fromUserId="bobby")
        self.assertEqual(history, {"bobby": ["too late"]})

    async def test_before_the_login_it_is_refused(self):
        await self.start()
        client = await tcp_client(self.jim.port, testcase=self)
        reply = await self.retract(client, "1")
        self.assertEqual((reply["code"], reply["command"]), (10020, 116), reply)
