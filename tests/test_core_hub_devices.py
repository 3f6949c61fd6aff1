"""The hub and devices: a login of a device the user is already on replaces it (the old
connection is told, JMessage's 872008, and closed), other devices stay unless a user may have
one only, and a kick that names a device closes that device's connections alone."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim import model
from jim.model import Kick

from tests.support.fakes import APP_KEY, make_core
from tests.test_core_hub import RecordingConnection


class ClosingConnection(RecordingConnection):
    """A connection that unbinds itself when kicked, as a session does."""

    hub = None
    user = None

    def kick(self, kick):
        super().kick(kick)
        self.hub.unbind(self, self.user)


class ReplacementTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob"))
        self.hub = self.fx.hub

    def login(self, connection_id, device, username="alice"):
        connection = ClosingConnection(connection_id, username, device=device)
        user = self.successResultOf(defer.ensureDeferred(
            self.fx.core.users.get(APP_KEY, username)))
        connection.hub, connection.user = self.hub, user
        self.successResultOf(self.hub.attach(connection))
        self.successResultOf(defer.ensureDeferred(self.hub.bind(connection, user)))
        return connection

    def online(self, username="alice"):
        return self.fx.core.presence.connections(APP_KEY, username)

    def test_the_same_device_replaces_the_first(self):
        first = self.login("n:1", "a:phone")
        second = self.login("n:2", "a:phone")
        [kick] = first.kicks
        self.assertEqual((kick.reason, kick.keep, kick.device),
                         ("logged in elsewhere", "n:2", "a:phone"))
        self.assertEqual(kick.event.kind, model.LOGGED_IN_ELSEWHERE)
        self.assertEqual(kick.event.description, "logged in elsewhere")
        self.assertEqual([u.username for u in kick.event.users], ["alice"])
        self.assertEqual(second.kicks, [])
        self.assertEqual(self.online(), [("n:2", "a:phone")])

    def test_other_devices_stay(self):
        phone = self.login("n:1", "a:phone")
        pad = self.login("n:2", "i:pad")
        web = self.login("n:3", "j:~n:3")
        web2 = self.login("n:4", "j:~n:4")  # J-IM connections that named nothing
        bob = self.login("n:5", "a:phone", "bob")  # another user's device of the same name
        for connection in (phone, pad, web, web2, bob):
            self.assertEqual(connection.kicks, [])
        self.assertEqual(len(self.online()), 4)

    def test_one_device_a_user(self):
        self.hub.single_device = True
        phone = self.login("n:1", "a:phone")
        web = self.login("n:2", "j:~n:2")
        self.assertEqual([k.reason for k in phone.kicks], ["logged in elsewhere"])
        self.assertIsNone(phone.kicks[0].device)  # every device but the new connection
        pad = self.login("n:3", "i:pad")
        self.assertEqual(len(web.kicks), 1)
        self.assertEqual(pad.kicks, [])
        self.assertEqual(self.online(), [("n:3", "i:pad")])

    def test_the_user_stays_online_throughout(self):
        """The new connection is noted before the old one goes: the user's groups hear no
        offline and online again."""
        self.fx.add_group("team", "alice", "bob")
        bob = self.login("n:9", "w:~n:9", "bob")
        self.login("n:1", "a:phone")
        bob.delivered.clear()
        self.login("n:2", "a:phone")
        self.assertEqual([d.item.kind for d, _ in bob.delivered], [])
        self.assertTrue(self.fx.core.presence.is_online(APP_KEY, "alice"))


class KickByDeviceTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice",))
        self.hub = self.fx.hub
        self.phone = RecordingConnection("n:1", "alice", device="a:phone")
        self.pad = RecordingConnection("n:2", "alice", device="i:pad")
        self.phone2 = RecordingConnection("n:3", "alice", device="a:phone")
        for connection in (self.phone, self.pad, self.phone2):
            self.successResultOf(self.hub.attach(connection))
        for connection in (self.phone, self.pad, self.phone2):
            connection.kicks.clear()

    def test_a_kick_of_a_device(self):
        """What another node's login of a device sends: this node closes that device's
        connections only, whether or not it knew of the new one."""
        self.fx.bus.publish(Kick(APP_KEY, "alice", "logged in elsewhere", None, "m:7", "a:phone"))
        self.assertEqual((len(self.phone.kicks), len(self.phone2.kicks), self.pad.kicks),
                         (1, 1, []))

    def test_a_kick_of_every_device(self):
        self.fx.bus.publish(Kick(APP_KEY, "alice", "forbidden"))
        self.assertEqual([len(c.kicks) for c in (self.phone, self.pad, self.phone2)], [1, 1, 1])
