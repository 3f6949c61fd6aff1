"""Devices over J-IM's login (cmd 5): its ``platform`` and ``deviceId``, the replacement of a
device logged in again (told with a cmd 100 event carrying JMessage's 872008, then closed),
and multi-device sync: what a user does on one connection reaches its others."""
from twisted.trial.unittest import SynchronousTestCase

from tests.support.fakes import codes, make_core, send


class DeviceLoginTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob"))

    def login(self, terminal="tcp", **fields):
        session, client = self.fx.connect(terminal)
        send(session, 5, {"cmd": 5, "userId": "alice", "password": "secret", **fields})
        return session, client

    def devices(self):
        return [key for _, key in self.fx.core.presence.connections(self.fx.app_key, "alice")]

    def test_named_device(self):
        session, client = self.login(platform="a", deviceId="phone-1")
        self.assertEqual(codes(client)[0], (6, 10007))
        self.assertEqual(session.device, "a:phone-1")
        self.assertEqual(self.devices(), ["a:phone-1"])

    def test_defaults(self):
        tcp, _ = self.login()
        ws, _ = self.login("ws")
        self.assertEqual([tcp.device, ws.device], [f"w:~{tcp.id}", f"j:~{ws.id}"])
        only_platform, _ = self.login(platform="i")
        only_id, _ = self.login("ws", deviceId="tab")
        self.assertEqual([only_platform.device, only_id.device], ["i:", "j:tab"])

    def test_a_bad_platform_is_refused(self):
        for fields in [{"platform": "x"}, {"platform": "android"}, {"platform": 1},
                       {"deviceId": "é" * 65}, {"deviceId": "a\nb"}, {"platform": []}]:
            session, client = self.login(**fields)
            [(command, body)] = client.take()
            self.assertEqual((command, body["code"]), (6, 10008), fields)
            self.assertEqual(len(client.closes), 1, fields)
            self.assertIsNone(session.username)
        [(_, body)] = [self.login(platform="x")[1].sent[0]]
        self.assertIn("platform must be one of a, i, j, w", body["detail"])
        self.assertEqual(self.devices(), [])

    def test_j_im_connections_coexist(self):
        first, one = self.login()
        second, two = self.login()
        self.assertEqual((one.closes, two.closes), ([], []))
        self.assertEqual(len(self.devices()), 2)

    def test_the_same_device_again_replaces_the_first(self):
        first, old = self.login(platform="a", deviceId="phone")
        other, pad = self.login(platform="i", deviceId="pad")
        old.take(), pad.take()
        second, new = self.login(platform="a", deviceId="phone")
        [(command, body)] = old.take()
        self.assertEqual(command, 100)
        data = body["data"]
        self.assertEqual((data["event_type"], data["kind"], data["return_code"],
                          data["description"]),
                         (1, "logged_in_elsewhere", 872008, "logged in elsewhere"))
        self.assertEqual(old.closes, ["logged in elsewhere"])
        self.assertTrue(first.closed)
        self.assertEqual(codes(new)[0], (6, 10007))
        self.assertEqual((new.closes, pad.closes, pad.take()), ([], [], []))
        self.assertEqual(sorted(self.devices()), ["a:phone", "i:pad"])

    def test_one_device_a_user(self):
        self.fx.hub.single_device = True
        _, tcp = self.login()
        _, ws = self.login("ws")
        self.assertEqual(tcp.closes, ["logged in elsewhere"])
        self.assertEqual(ws.closes, [])
        self.assertEqual(len(self.devices()), 1)


class MultiDeviceSyncTests(SynchronousTestCase):
    """A user's own sends and the events of its own doings reach its other connections."""

    def setUp(self):
        self.fx = make_core(users=("alice", "bob"))
        self.fx.add_group("team", "alice", "bob")
        self.phone, self.phone_client = self.fx.login("alice")
        self.web, self.web_client = self.fx.login("alice", terminal="ws")
        self.bob, self.bob_client = self.fx.login("bob")
        for client in (self.phone_client, self.web_client, self.bob_client):
            client.take()

    def pushes(self, client):
        return [body["data"]["content"] for command, body in client.take() if command == 11]

    def test_private_chat(self):
        send(self.phone, 11, {"cmd": 11, "chatType": 2, "to": "bob", "msgType": 0,
                              "content": "hi"})
        self.assertEqual(self.pushes(self.web_client), ["hi"])
        self.assertEqual(self.pushes(self.bob_client), ["hi"])
        self.assertEqual(self.pushes(self.phone_client), [])  # its ack (cmd 12) only

    def test_group_chat(self):
        send(self.phone, 11, {"cmd": 11, "chatType": 1, "groupId": "team", "msgType": 0,
                              "content": "all"})
        self.assertEqual(self.pushes(self.web_client), ["all"])
        self.assertEqual(self.pushes(self.bob_client), ["all"])
        # J-IM pushes a group chat to every member's connection, the sending one too
        self.assertEqual(self.pushes(self.phone_client), ["all"])

    def test_events_of_ones_own_doing(self):
        """Alice joins (creates) a group on her phone: the event reaches her web connection
        too."""
        send(self.phone, 7, {"cmd": 7, "groupId": "newgroup"})
        web = [(command, body) for command, body in self.web_client.take()]
        self.assertIn(100, [command for command, _ in web])
        [event] = [body["data"] for command, body in web if command == 100]
        self.assertEqual((event["kind"], event["groupId"]), ("members_added", "newgroup"))
