"""Each device's inbox through the J-IM commands: offline fetches (cmd 19) that never take a
message from another device, J-IM's meaning for devices that do not acknowledge, and sync
(cmd 101) and ack (cmd 103) for those that do; retention and the sweep of forgotten devices."""
from twisted.internet import defer
from twisted.logger import Logger, LogLevel, formatEvent
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.config import Limits
from jim.core import inbox as inbox_module
from jim.cursors import Cursor
from jim.errors import JimError
from tests.support.fakes import APP_KEY, make_core, send

DAY = 86_400


def private(to, content):
    return {"chatType": 2, "to": to, "content": content}


def group(group_id, content):
    return {"chatType": 1, "groupId": group_id, "content": content}


class Fixture:
    users = ("alice", "bob", "carol")
    limits = Limits()

    def setUp(self):
        self.fx = make_core(users=self.users, limits=self.limits)
        self.alice, self.alice_client = self.fx.login("alice")

    def login(self, username, terminal="tcp", **fields):
        """A connection of C{username} logged in with C{fields} (platform, deviceId, acks)."""
        session, client = self.fx.connect(terminal)
        send(session, 5, {"userId": username, "password": "secret", **fields})
        [(command, reply)] = [c for c in client.take() if c[0] == 6]
        self.assertEqual(reply["code"], 10007, reply)
        client.take()
        return session, client

    def offline(self, session, client, **request):
        """cmd 19 type 0: the contents listed, by peer or group, oldest first."""
        send(session, 19, {"type": 0, **request})
        [(command, body)] = [c for c in client.take() if c[0] == 20]
        data = body["data"]
        return {key: [m["content"] for m in ms]
                for kind in ("friends", "groups") for key, ms in data[kind].items()}

    def sync(self, session, client, **request):
        send(session, 101, request)
        [(command, body)] = [c for c in client.take() if c[0] == 102]
        self.assertEqual(body["code"], 10000, body)
        return body["data"]

    def ack(self, session, client, upto):
        send(session, 103, {"upto": upto})
        [(command, body)] = [c for c in client.take() if c[0] == 104]
        self.assertEqual(body["code"], 10000, body)
        return body["data"]["cursor"]

    def say(self, *chats):
        """alice sends each chat; their server ids."""
        ids = []
        for chat in chats:
            send(self.alice, 11, chat)
            [(_, ack)] = [c for c in self.alice_client.take() if c[0] == 12]
            self.assertIn(ack["code"], (10000, 10001), ack)
            ids.append(int(ack["data"]["id"]))
        return ids


class DevicesTests(Fixture, SynchronousTestCase):
    def test_each_device_gets_every_offline_message(self):
        self.say(private("bob", "one"), private("bob", "two"))
        phone, phone_client = self.login("bob", platform="a", deviceId="phone")
        self.assertEqual(self.offline(phone, phone_client), {"alice": ["one", "two"]})
        self.assertEqual(self.offline(phone, phone_client), {}, "fetched: not again")
        laptop, laptop_client = self.login("bob", platform="w", deviceId="laptop")
        # a new device starts where the furthest one is: the phone consumed them
        self.assertEqual(self.offline(laptop, laptop_client), {})
        laptop.connection_lost()
        phone.connection_lost()
        self.say(private("bob", "three"))
        phone, phone_client = self.login("bob", platform="a", deviceId="phone")
        self.assertEqual(self.offline(phone, phone_client), {"alice": ["three"]})
        laptop, laptop_client = self.login("bob", platform="w", deviceId="laptop")
        self.assertEqual(self.offline(laptop, laptop_client), {"alice": ["three"]},
                         "the phone's fetch took nothing from the laptop")

    def test_a_users_own_sends_reach_their_other_devices(self):
        tablet, tablet_client = self.login("alice", platform="i", deviceId="tablet")
        tablet.connection_lost()
        self.say(private("bob", "from my phone"))  # alice's first connection sends it
        tablet, tablet_client = self.login("alice", platform="i", deviceId="tablet")
        self.assertEqual(self.offline(tablet, tablet_client), {"bob": ["from my phone"]})
        # the sending connection's device does not get its own message back
        self.assertEqual(self.offline(self.alice, self.alice_client), {})

    def test_jim_connections_of_each_transport_share_one_device(self):
        self.say(private("bob", "hi"))
        tcp, tcp_client = self.login("bob")
        ws, ws_client = self.login("bob", terminal="ws")
        self.assertEqual(self.offline(tcp, tcp_client), {"alice": ["hi"]})
        self.assertEqual(self.offline(ws, ws_client), {"alice": ["hi"]})
        tcp2, tcp2_client = self.login("bob")
        self.assertEqual(self.offline(tcp2, tcp2_client), {}, "the TCP device fetched it")


class PastDevicesTests(Fixture, SynchronousTestCase):
    def past(self, username):
        connections = self.fx.core.presence.connections(APP_KEY, username)
        d = defer.ensureDeferred(self.fx.core.inbox.past_devices(
            APP_KEY, username, [key for _, key in connections]))
        return self.successResultOf(d)

    def test_devices_with_a_cursor_and_no_connection_newest_first(self):
        self.assertEqual(self.past("bob"), [], "never logged in")
        phone, _ = self.login("bob", platform="a", deviceId="phone")
        pc, _ = self.login("bob")
        self.assertEqual(self.past("bob"), [], "both connected")
        phone.connection_lost()
        self.fx.clock.advance(60)
        pc.connection_lost()
        self.assertEqual(self.past("bob"), ["w:~", "a:phone"], "the pc was seen last")
        again, _ = self.login("bob")  # another unnamed J-IM TCP client: the same cursor
        self.assertEqual(self.past("bob"), ["a:phone"])
        self.assertEqual(self.past("carol"), [])


class JimMeaningTests(Fixture, SynchronousTestCase):
    """Devices that do not acknowledge keep J-IM's meaning of offline messages."""

    def test_what_was_pushed_is_no_offline_message(self):
        bob, bob_client = self.login("bob")
        self.say(private("bob", "live"))
        self.assertEqual(self.offline(bob, bob_client), {})
        bob.connection_lost()
        self.say(private("bob", "while away"))
        bob, bob_client = self.login("bob")
        self.assertEqual(self.offline(bob, bob_client), {"alice": ["while away"]})

    def test_the_backlog_stays_until_fetched_though_later_ones_were_pushed(self):
        self.say(private("bob", "before"))
        bob, bob_client = self.login("bob")
        self.say(private("bob", "during"))  # pushed: the backlog is still there
        bob.connection_lost()
        bob, bob_client = self.login("bob")
        self.assertEqual(self.offline(bob, bob_client), {"alice": ["before"]})

    def test_a_fetch_of_one_conversation_consumes_that_one_only(self):
        gid = self.fx.add_group("g", "alice", "bob").gid
        self.say(private("bob", "private"), group("g", "in g"))
        self.fx.login("carol")
        bob, bob_client = self.login("bob")
        self.assertEqual(self.offline(bob, bob_client, groupId="g"), {"g": ["in g"]})
        self.assertEqual(self.offline(bob, bob_client, groupId="g"), {})
        self.assertEqual(self.offline(bob, bob_client), {"alice": ["private"]})
        self.assertTrue(gid)

    def test_a_bounded_reply_consumes_what_it_lists_only(self):
        fx = make_core(users=self.users, limits=Limits(max_reply=600, max_message=64))
        alice, _ = fx.login("alice")
        for n in range(6):
            send(alice, 11, private("bob", f"message number {n} " + "x" * 40))
        session, client = fx.connect()
        send(session, 5, {"userId": "bob", "password": "secret"})
        client.take()
        seen = []
        for _ in range(6):
            send(session, 19, {"type": 0})
            [(_, body)] = client.take()
            listed = body["data"]["friends"].get("alice", [])
            if not listed:
                break
            seen += [m["content"][:16] for m in listed]
        self.assertEqual(seen, [f"message number {n}"[:16] for n in range(6)])


class GroupMembershipTests(Fixture, SynchronousTestCase):
    def test_a_group_joined_brings_no_earlier_messages_as_offline(self):
        self.fx.add_group("g", "alice", "bob")
        carol, carol_client = self.login("carol")
        carol.connection_lost()
        self.say(group("g", "before carol"))
        self.fx.clock.advance(1)
        carol, carol_client = self.login("carol")
        send(carol, 7, {"cmd": 7, "groupId": "g"})
        carol_client.take()
        carol.connection_lost()
        self.fx.clock.advance(1)
        self.say(group("g", "after carol"))
        carol, carol_client = self.login("carol")
        self.assertEqual(self.offline(carol, carol_client), {"g": ["after carol"]})

    def test_a_fetch_cut_by_the_count_says_more(self):
        fx = make_core(users=self.users, limits=Limits(offline_max=2))
        alice, _ = fx.login("alice")
        for n in range(3):
            send(alice, 11, private("bob", str(n)))
        bob, bob_client = fx.login("bob")
        send(bob, 19, {"type": 0})
        [(_, first)] = bob_client.take()
        send(bob, 19, {"type": 0})
        [(_, second)] = bob_client.take()
        self.assertEqual(([m["content"] for m in first["data"]["friends"]["alice"]],
                          first.get("more")), (["0", "1"], True))
        self.assertEqual(([m["content"] for m in second["data"]["friends"]["alice"]],
                          second.get("more")), (["2"], None))


class AckTests(Fixture, SynchronousTestCase):
    """Devices that acknowledge: only acks move their cursors."""

    def test_what_is_not_acknowledged_comes_again_with_the_same_ids(self):
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        first, second = self.say(private("bob", "one"), private("bob", "two"))
        pushes = [int(b["data"]["id"]) for c, b in phone_client.take() if c == 11]
        self.assertEqual(pushes, [first, second])
        self.assertEqual(self.ack(phone, phone_client, first), first)
        phone.connection_lost()  # "two" was pushed, never acknowledged (a half-open socket)
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        data = self.sync(phone, phone_client)
        self.assertEqual([int(m["id"]) for m in data["messages"]], [second])
        self.assertEqual((data["cursor"], data["more"]), (first, False))
        self.assertEqual(self.ack(phone, phone_client, second), second)
        self.assertEqual(self.sync(phone, phone_client)["messages"], [])

    def test_a_fetch_does_not_consume_for_a_device_that_acknowledges(self):
        self.say(private("bob", "kept"))
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        self.assertEqual(self.offline(phone, phone_client), {"alice": ["kept"]})
        self.assertEqual(self.offline(phone, phone_client), {"alice": ["kept"]})

    def test_an_ack_never_passes_what_the_connection_was_sent(self):
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        [sent] = self.say(private("bob", "one"))
        self.assertEqual(self.ack(phone, phone_client, sent + 1000), sent)
        phone.connection_lost()
        self.say(private("bob", "two"))
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        self.assertEqual([m["content"] for m in self.sync(phone, phone_client)["messages"]],
                         ["two"])

    def test_an_ack_before_the_sync_cannot_skip_the_backlog(self):
        [waiting] = self.say(private("bob", "waiting"))
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        self.assertEqual(self.ack(phone, phone_client, waiting), 0, "never sent: not acked")
        self.assertEqual([m["content"] for m in self.sync(phone, phone_client)["messages"]],
                         ["waiting"])
        self.assertEqual(self.ack(phone, phone_client, waiting), waiting)

    def test_on_a_cluster_an_ack_cannot_pass_a_push_that_never_came(self):
        """Deliveries from two nodes may come out of id order, and a node that dies between
        a commit and its publish never sends its push: the ack finds it and sends it."""
        self.fx.core.inbox.shared = True  # as on a cluster
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        bus, publish = self.fx.core.bus, self.fx.core.bus.publish
        self.patch(bus, "publish", lambda value: None)  # the push of "lost" never leaves
        [lost] = self.say(private("bob", "lost"))
        self.patch(bus, "publish", publish)
        [later] = self.say(private("bob", "later"))
        self.assertEqual([b["data"]["content"] for c, b in phone_client.take() if c == 11],
                         ["later"])

        send(phone, 103, {"upto": later})
        frames = phone_client.take()
        self.assertEqual([(c, b["data"].get("content"), b["data"].get("id"))
                          for c, b in frames if c in (11, 104)],
                         [(11, "lost", str(lost)), (104, None, None)],
                         "the missed push first, then the reply")
        self.assertEqual(frames[-1][1]["data"]["cursor"], lost - 1, "held below it")
        self.assertEqual(self.ack(phone, phone_client, later), later, "now it was sent")

    def test_on_a_cluster_an_ack_moves_no_further_than_what_it_checked(self):
        self.patch(inbox_module, "ACK_CHECK", 2)
        self.fx.core.inbox.shared = True
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        first, second, third = self.say(*[private("bob", str(n)) for n in range(3)])
        self.assertEqual(len([c for c, _ in phone_client.take() if c == 11]), 3)
        self.assertEqual(self.ack(phone, phone_client, third), second, "two items checked")
        self.assertEqual(self.ack(phone, phone_client, third), third, "the rest, next time")

    def test_on_a_cluster_what_was_listed_or_pushed_needs_no_second_send(self):
        self.fx.core.inbox.shared = True
        first, second = self.say(private("bob", "one"), private("bob", "two"))
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        self.assertEqual(len(self.sync(phone, phone_client)["messages"]), 2)
        [third] = self.say(private("bob", "three"))
        self.assertEqual([c for c, _ in phone_client.take()], [11], "three, pushed")
        send(phone, 103, {"upto": third})
        [(command, reply)] = phone_client.take()
        self.assertEqual((command, reply["data"]["cursor"]), (104, third), "nothing again")

    def test_sync_pages_by_count_and_after(self):
        ids = self.say(*[private("bob", str(n)) for n in range(5)])
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        data = self.sync(phone, phone_client, count=2)
        self.assertEqual(([m["content"] for m in data["messages"]], data["more"]),
                         (["0", "1"], True))
        data = self.sync(phone, phone_client, after=ids[1], count=3)
        self.assertEqual(([m["content"] for m in data["messages"]], data["more"]),
                         (["2", "3", "4"], False))

    def test_bad_sync_and_ack_requests_are_refused(self):
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        for cmd, body in ((101, {"count": 0}), (101, {"after": -1}), (101, {"count": "x"}),
                          (103, {}), (103, {"upto": -5}), (103, {"upto": [1]})):
            send(phone, cmd, body)
            [(command, reply)] = phone_client.take()
            self.assertEqual(command, cmd + 1)
            self.assertNotEqual(reply["code"], 10000, (cmd, body, reply))
        self.assertFalse(phone.closed)

    def test_acks_flag_must_be_a_boolean(self):
        session, client = self.fx.connect()
        send(session, 5, {"userId": "bob", "password": "secret", "acks": "yes"})
        [(command, reply)] = client.take()
        self.assertEqual((command, reply["code"]), (6, 10008))


class EventTests(Fixture, SynchronousTestCase):
    """Events are in the inbox beside messages: a device that syncs gets those it missed."""

    users = Fixture.users + ("u0", "u1", "u2")

    def done(self, coroutine):
        return self.successResultOf(defer.ensureDeferred(coroutine))

    def blacklist(self, owner, *usernames):
        self.done(self.fx.core.relations.add_blacklist(APP_KEY, owner, list(usernames)))

    def listed(self, data):
        """The ids a sync listed, messages and events together, in id order."""
        return sorted([int(m["id"]) for m in data["messages"]]
                      + [e["event_id"] for e in data["events"]])

    def test_events_below_a_page_of_messages_left_out_are_listed(self):
        """A page of group messages from before the user joined is read and left out: the
        events below it are still listed (and so not acknowledged unseen)."""
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        phone.connection_lost()
        self.blacklist("bob", "carol")
        group = self.done(self.fx.core.groups.create(APP_KEY, "alice", "team", ["carol"]))
        self.say(*[{"chatType": 1, "groupId": str(group.gid), "content": str(n)}
                   for n in range(30)])
        self.fx.clock.advance(1)
        self.done(self.fx.core.groups.add_members(APP_KEY, group.gid, ["bob"]))
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        data = self.sync(phone, phone_client, count=5)
        self.assertEqual([e["kind"] for e in data["events"]],
                         ["blacklist_changed", "members_added"])
        self.assertEqual(data["messages"], [], "from before bob joined")

    def test_a_device_that_was_away_gets_its_events_among_its_messages(self):
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        phone.connection_lost()
        [before] = self.say(private("bob", "before"))
        group = self.done(self.fx.core.groups.create(APP_KEY, "alice", "team", ["bob"]))
        [after] = self.say(private("bob", "after"))
        self.blacklist("bob", "carol")
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        data = self.sync(phone, phone_client)
        created, blacklisted = data["events"]
        self.assertEqual((created["kind"], created["gid"], created["group_name"]),
                         ("group_created", group.gid, "team"))
        self.assertEqual((blacklisted["kind"], blacklisted["extra"],
                          blacklisted["to_usernames"][0]["username"]),
                         ("blacklist_changed", 1, "carol"))
        self.assertLess(before, created["event_id"])
        self.assertLess(created["event_id"], after)
        self.assertLess(after, blacklisted["event_id"])
        self.assertEqual(data["upto"], blacklisted["event_id"])
        self.assertEqual(self.ack(phone, phone_client, data["upto"]), data["upto"])
        self.assertEqual(self.sync(phone, phone_client)["events"], [])

    def test_a_pushed_event_that_was_not_acknowledged_comes_again_with_its_id(self):
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        self.blacklist("bob", "carol")
        [pushed] = [b["data"] for c, b in phone_client.take() if c == 100]
        self.assertEqual(pushed["kind"], "blacklist_changed")
        phone.connection_lost()
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        [again] = self.sync(phone, phone_client)["events"]
        self.assertEqual(again, pushed)
        # an ack covers what the connection was sent: its events too
        self.assertEqual(self.ack(phone, phone_client, pushed["event_id"]), pushed["event_id"])

    def test_a_jim_device_is_not_listed_the_events_it_was_pushed(self):
        bob, bob_client = self.login("bob")
        self.blacklist("bob", "carol")
        self.assertEqual([b["data"]["kind"] for c, b in bob_client.take() if c == 100],
                         ["blacklist_changed"])
        self.assertEqual(self.sync(bob, bob_client)["events"], [], "pushed to it, live")
        bob.connection_lost()
        self.blacklist("bob", "alice")
        bob, bob_client = self.login("bob")
        [missed] = self.sync(bob, bob_client)["events"]
        self.assertEqual(missed["to_usernames"][0]["username"], "alice")
        # J-IM's offline fetch lists messages only
        self.assertEqual(self.offline(bob, bob_client), {})

    def test_presence_is_not_kept(self):
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        self.done(self.fx.core.groups.create(APP_KEY, "alice", "team", ["bob", "carol"]))
        phone.connection_lost()
        carol, _ = self.login("carol")  # online, then offline: events for bob's groups
        carol.connection_lost()
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        self.assertEqual([e["kind"] for e in self.sync(phone, phone_client)["events"]],
                         ["group_created"])

    def test_sync_pages_across_messages_and_events(self):
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        phone.connection_lost()
        ids = []
        for n in range(3):
            ids += self.say(private("bob", str(n)))
            self.blacklist("bob", f"u{n}")
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        listed, after = [], None
        while True:
            data = self.sync(phone, phone_client, count=2,
                             **({} if after is None else {"after": after}))
            self.assertLessEqual(len(data["messages"]) + len(data["events"]), 2)
            listed += self.listed(data)
            after = data["upto"]
            if not data["more"]:
                break
        self.assertEqual(len(listed), 6)
        self.assertEqual(listed, sorted(listed))
        self.assertEqual(listed[0::2], ids)


class StoreFailureTests(Fixture, SynchronousTestCase):
    def test_a_cursor_that_cannot_be_kept_at_logout_is_a_warning_and_nothing_more(self):
        bob, _ = self.login("bob")
        self.say(private("bob", "live"))
        inbox = self.fx.memory.inbox
        inbox.move_cursor = lambda *args: defer.fail(
            JimError(errors.SERVER_ERROR, "the store is away"))
        logged = []
        self.fx.core.inbox.log = Logger(observer=logged.append)
        bob.connection_lost()
        [warning] = [e for e in logged if e["log_level"] == LogLevel.warn]
        self.assertIn("the store is away", formatEvent(warning))
        self.assertEqual(self.flushLoggedErrors(), [])
        del inbox.move_cursor  # back: bob's next fetch lists "live" again, never loses it
        bob, bob_client = self.login("bob")
        self.assertEqual(self.offline(bob, bob_client), {"alice": ["live"]})


class RetentionTests(Fixture, SynchronousTestCase):
    users = Fixture.users + ("u0", "u1", "u2")
    limits = Limits(inbox_per_conversation=2, inbox_days=1)

    def test_each_conversation_keeps_its_latest(self):
        self.say(*[private("bob", str(n)) for n in range(4)])
        bob, bob_client = self.login("bob")
        self.assertEqual(self.offline(bob, bob_client), {"alice": ["2", "3"]})

    def test_a_push_lost_while_connected_is_owed_past_the_window(self):
        """On a cluster a push can be lost between nodes (Redis out); more chats of the same
        conversation than the window keeps then follow. The ack finds the lost one all the
        same and sends it: it came while the connection was live, so the retention (for
        devices that were away) does not hide it."""
        self.fx.core.inbox.shared = True
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        bus, publish = self.fx.core.bus, self.fx.core.bus.publish
        self.patch(bus, "publish", lambda value: None)
        [lost] = self.say(private("bob", "lost"))
        self.patch(bus, "publish", publish)
        later = self.say(*[private("bob", str(n)) for n in range(5)])  # window: 2
        self.assertEqual(len([c for c, _ in phone_client.take() if c == 11]), 5)
        send(phone, 103, {"upto": later[-1]})
        frames = phone_client.take()
        self.assertEqual([(c, b["data"].get("content")) for c, b in frames],
                         [(11, "lost"), (104, None)])
        self.assertEqual(frames[-1][1]["data"]["cursor"], lost - 1, "held below it")
        self.assertEqual(self.ack(phone, phone_client, later[-1]), later[-1])

    def test_an_event_lost_while_connected_is_owed_past_the_window(self):
        """The same of an event: its push lost, more of the user's events than the window
        keeps after it; the ack finds it and sends it."""
        self.fx.core.inbox.shared = True
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        bus, publish = self.fx.core.bus, self.fx.core.bus.publish
        relations = self.fx.core.relations
        self.patch(bus, "publish", lambda value: None)
        self.successResultOf(defer.ensureDeferred(relations.add_blacklist(APP_KEY, "bob", ["carol"])))
        self.patch(bus, "publish", publish)
        for name in ("u0", "u1", "u2"):  # window: 2
            self.successResultOf(defer.ensureDeferred(relations.add_blacklist(APP_KEY, "bob", [name])))
        [last] = self.say(private("bob", "last"))
        phone_client.take()
        send(phone, 103, {"upto": last})
        frames = phone_client.take()
        self.assertEqual([(c, b["data"].get("kind")) for c, b in frames],
                         [(100, "blacklist_changed"), (104, None)])
        self.assertEqual(frames[0][1]["data"]["to_usernames"][0]["username"], "carol")

    def test_what_is_owed_past_the_window_is_bounded_too(self):
        """Past OWED_PER_CONVERSATION of the same conversation since, even a push lost while
        connected is left to history: a bound on what one read costs."""
        self.patch(inbox_module, "OWED_PER_CONVERSATION", 3)
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        bus, publish = self.fx.core.bus, self.fx.core.bus.publish
        self.patch(bus, "publish", lambda value: None)
        self.say(private("bob", "lost"), private("bob", "lost too"))
        self.patch(bus, "publish", publish)
        self.say(*[private("bob", str(n)) for n in range(2)])
        self.assertEqual([m["content"] for m in self.sync(phone, phone_client)["messages"]],
                         ["lost too", "0", "1"], "the latest 3 of the conversation")

    def test_a_sync_lists_what_came_since_the_login_past_the_window(self):
        """What came before the login keeps to the window; what came since, all of it."""
        self.say(*[private("bob", f"old{n}") for n in range(3)])
        phone, phone_client = self.login("bob", platform="a", deviceId="p", acks=True)
        bus, publish = self.fx.core.bus, self.fx.core.bus.publish
        self.patch(bus, "publish", lambda value: None)  # nothing pushed: all of it owed
        self.say(*[private("bob", f"new{n}") for n in range(3)])
        self.patch(bus, "publish", publish)
        self.assertEqual([m["content"] for m in self.sync(phone, phone_client)["messages"]],
                         ["new0", "new1", "new2"], "old ones: out of the window of 2")
        phone_client.take()
        send(phone, 19, {"type": 0})  # J-IM's offline fetch lists the same
        [(_, body)] = [c for c in phone_client.take() if c[0] == 20]
        self.assertEqual([m["content"] for m in body["data"]["friends"]["alice"]],
                         ["new0", "new1", "new2"])

    def test_older_than_the_days_kept_is_gone(self):
        self.say(private("bob", "old"))
        self.fx.clock.advance(DAY + 1)
        self.say(private("bob", "new"))
        bob, bob_client = self.login("bob")
        self.assertEqual(self.offline(bob, bob_client), {"alice": ["new"]})

    def test_events_are_kept_for_the_days_and_the_count_of_a_conversation(self):
        relations = self.fx.core.relations
        for name in ("u0", "u1", "u2"):
            self.successResultOf(defer.ensureDeferred(
                relations.add_blacklist(APP_KEY, "bob", [name])))
        bob, bob_client = self.login("bob")
        self.assertEqual([e["to_usernames"][0]["username"]
                          for e in self.sync(bob, bob_client)["events"]], ["u1", "u2"])
        bob.connection_lost()
        self.fx.clock.advance(DAY + 1)
        self.assertEqual(self.successResultOf(self.fx.memory.events.forget_events(0)), 0)
        self.successResultOf(defer.ensureDeferred(self.fx.core.inbox.sweep()))
        self.assertEqual(self.successResultOf(self.fx.memory.events.read_events(
            APP_KEY, "bob", Cursor(), per_user=None)), [], "the sweep forgot them")

    def test_the_sweep_forgets_devices_unseen_for_longer(self):
        phone, _ = self.login("bob", platform="a", deviceId="p")
        phone.connection_lost()
        self.fx.clock.advance(DAY / 2)
        laptop, _ = self.login("bob", platform="w", deviceId="l")
        laptop.connection_lost()
        self.fx.clock.advance(DAY / 2 + 1)
        inbox = self.fx.core.inbox
        self.assertEqual(self.successResultOf(defer.ensureDeferred(inbox.sweep())), 1)
        cursors = self.successResultOf(self.fx.memory.inbox.cursors(APP_KEY, "bob"))
        self.assertEqual(set(cursors), {"w:l"})
        self.assertIsInstance(cursors["w:l"], Cursor)
