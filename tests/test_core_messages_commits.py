"""The Messages service while the store is committing: online recipients get a message as soon
as it has its id, its sender hears only after the commit, deliveries leave in id order even
when the store cannot promise an id before the commit, and recipients who come or go
meanwhile get the message exactly once (pushed, or kept offline)."""
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.errors import JimError
from jim.store.memory import MemoryStore
from jim.store.memory_inbox import MemoryInbox
from jim.store.memory_messages import MemoryMessages

from tests.support.fakes import (
    APP_KEY, HoldingStore, codes, make_core, send, with_reserved_id,
)


class HeldCommits(MemoryMessages):
    """The message area of a store that commits when told to (L{commit}), as SqliteStore's
    writer does in its own time. A write takes its id when it is made, and writes are
    committed, and answered, in the order they were made.

    @ivar holding: writes wait for L{commit}; else they are committed at once.
    @ivar promise: whether C{reserve_id} gives ids (a store that cannot promise one
        answers None, and the message is written with C{add_message_then} instead).
    @ivar failing: commits fail, as on a full disk.
    """

    def __init__(self):
        super().__init__()
        self.holding = False
        self.promise = True
        self.failing = False
        self._uncommitted = []  # (write, args)

    def reserve_id(self):
        return super().reserve_id() if self.promise else None

    def add_message_then(self, message, then, *args):
        self.append_message_then(with_reserved_id(super(), message), then, *args)

    def append_message_then(self, stored, then, *args):
        self._write(self._commit_message, (stored, then, args))

    def _write(self, write, args):
        self._uncommitted.append((write, args))
        if not self.holding:
            self.commit()

    def _commit_message(self, stored, then, args):
        if self.failing:
            then(Failure(JimError(errors.SERVER_ERROR, "the disk is full")), *args)
        else:
            super().append_message_then(stored, then, *args)

    def commit(self, count=None):
        """Commit the first C{count} writes, oldest first; without a count, every write,
        including those made meanwhile."""
        while self._uncommitted and count != 0:
            write, args = self._uncommitted.pop(0)
            write(*args)
            if count is not None:
                count -= 1


def private(to, content, client_id=None):
    body = {"chatType": 2, "to": to, "content": content}
    if client_id is not None:
        body["id"] = client_id
    return body


def group(group_id, content):
    return {"chatType": 1, "groupId": group_id, "content": content}


def pushed(client):
    """The contents of the chats pushed to C{client} since the last take (other frames are
    dropped)."""
    return [body["data"]["content"] for command, body in client.take() if command == 11]


class CommitFixture:
    """alice and bob online, carol not; message commits wait for C{self.messages.commit()},
    other store calls named in C{self.store.held} for C{self.store.release()}."""

    def setUp(self):
        memory = MemoryStore()
        self.messages = memory.messages = HeldCommits()
        memory.inbox = MemoryInbox(memory.messages)
        self.store = HoldingStore(memory)
        self.fx = make_core(store=self.store, users=("alice", "bob", "carol"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")

    def private_offline(self, username):
        """Log C{username} in and fetch their offline private messages: {peer: contents}."""
        session, client = self.fx.login(username)
        send(session, 19, {"type": 0})
        [(_, body)] = client.take()
        return {peer: [m["content"] for m in messages]
                for peer, messages in body["data"]["friends"].items()}

    def group_offline(self, username, group_id):
        """Log C{username} in and fetch their offline messages of a group: the contents."""
        session, client = self.fx.login(username)
        client.take()
        send(session, 19, {"type": 0, "groupId": group_id})
        [(_, body)] = client.take()
        return [m["content"] for m in body["data"]["groups"].get(group_id, [])]

    def history(self):
        return self.successResultOf(self.messages.private_history(APP_KEY, "alice", "bob"))


class DeliveredBeforeTheCommitTests(CommitFixture, SynchronousTestCase):
    def setUp(self):
        super().setUp()
        self.messages.holding = True

    def test_a_private_message(self):
        send(self.alice, 11, private("bob", "now"))
        [(command, push)] = self.bob_client.take()
        self.assertEqual((command, push["data"]["content"]), (11, "now"))
        self.assertEqual(self.alice_client.sent, [])  # not acknowledged before the commit
        self.assertEqual(self.history(), [])
        self.messages.commit()
        [(command, ack)] = self.alice_client.take()
        self.assertEqual((command, ack["code"]), (12, 10000))
        self.assertEqual(ack["data"]["id"], push["data"]["id"])  # the id bob saw is final
        self.assertEqual([str(m.id) for m in self.history()], [push["data"]["id"]])
        self.assertEqual(self.fx.metrics.messages_in, 1)

    def test_a_resend_during_the_commit(self):
        send(self.alice, 11, private("bob", "once", "c1"))
        send(self.alice, 11, private("bob", "once", "c1"))
        self.assertEqual(self.alice_client.sent, [])
        self.messages.commit()
        first, second = self.alice_client.take()
        self.assertEqual(first, second)
        self.assertEqual(first[1]["code"], 10000)
        self.assertEqual(pushed(self.bob_client), ["once"])
        self.assertEqual(len(self.history()), 1)

    def test_a_recipient_leaving_during_the_commit_had_it_already(self):
        send(self.alice, 11, private("bob", "bye"))
        self.bob.connection_lost()
        self.messages.commit()
        self.assertEqual(codes(self.alice_client), [(12, 10000)])
        self.assertEqual(self.private_offline("bob"), {})  # pushed, so not offline as well

    def test_a_group_message(self):
        self.fx.add_group("g", "alice", "bob", "carol")  # carol is offline
        send(self.alice, 11, group("g", "all"))
        self.assertEqual(pushed(self.bob_client), ["all"])
        self.assertEqual(codes(self.alice_client), [(11, None)])  # her own copy; no ack yet
        self.messages.commit()
        self.assertEqual(codes(self.alice_client), [(12, 10000)])
        self.assertEqual(self.group_offline("carol", "g"), ["all"])

    def test_a_failed_commit_fails_the_sender_only(self):
        self.fx.add_group("g", "alice", "bob")
        send(self.alice, 11, group("g", "lost"))
        self.messages.failing = True
        self.messages.commit()
        self.assertEqual(codes(self.alice_client), [(11, None), (12, 10002)])
        self.assertEqual(codes(self.bob_client), [(11, None)])
        self.assertEqual(self.fx.metrics.messages_in, 0)


class DeliveredAfterTheCommitTests(CommitFixture, SynchronousTestCase):
    """When the store cannot promise an id before the commit, the message is delivered after
    it, and the messages behind it wait for it."""

    def setUp(self):
        super().setUp()
        self.messages.holding = True

    def log_in_during_the_lookup(self, username):
        """Log in while a message to C{username} waits for the store's lookup of them (held):
        the login shares that lookup, and is answered after the send that asked first."""
        session, client = self.fx.connect()
        send(session, 5, {"userId": username, "password": "secret"})
        self.assertEqual(client.sent, [])
        return session, client

    def test_a_private_recipient_who_leaves_gets_it_offline(self):
        self.messages.promise = False
        send(self.alice, 11, private("bob", "bye"))
        self.assertEqual(self.bob_client.sent, [])
        self.bob.connection_lost()
        self.messages.commit()
        self.assertEqual(codes(self.alice_client), [(12, 10001)])
        self.assertEqual(self.private_offline("bob"), {"alice": ["bye"]})

    def test_a_group_member_who_leaves_gets_it_offline(self):
        self.messages.promise = False
        self.fx.add_group("g", "alice", "bob")
        send(self.alice, 11, group("g", "bye"))
        self.assertEqual(self.bob_client.sent, [])
        self.bob.connection_lost()
        self.messages.commit()
        self.assertEqual(codes(self.alice_client), [(11, None), (12, 10000)])
        self.assertEqual(self.group_offline("bob", "g"), ["bye"])

    def test_later_messages_do_not_overtake_one_waiting_for_its_commit(self):
        self.fx.add_group("g", "alice", "bob")
        self.messages.promise = False
        send(self.alice, 11, private("bob", "first"))
        self.messages.promise = True  # the store could promise again, but "first" is not out
        send(self.alice, 11, private("bob", "second"))
        send(self.alice, 11, group("g", "third"))
        self.assertEqual(self.bob_client.sent, [])
        self.messages.commit()
        self.assertEqual(pushed(self.bob_client), ["first", "second", "third"])
        send(self.alice, 11, private("bob", "fourth"))  # nothing waits: delivered at once again
        self.assertEqual(pushed(self.bob_client), ["fourth"])

    def test_deliveries_go_out_as_soon_as_the_message_ahead_is_out(self):
        """Messages behind one that waits for its commit wait for it, not for their own
        commits, and once it is out the next one goes at once, while traffic never stops."""
        self.messages.promise = False
        send(self.alice, 11, private("bob", "first"))
        self.messages.promise = True
        send(self.alice, 11, private("bob", "second"))
        self.messages.commit(count=1)  # the commit of "first" only
        self.assertEqual(pushed(self.bob_client), ["first", "second"])
        self.assertEqual(codes(self.alice_client), [(12, 10000)])  # "second": not committed
        send(self.alice, 11, private("bob", "third"))
        self.assertEqual(pushed(self.bob_client), ["third"])
        self.messages.commit()
        self.assertEqual(codes(self.alice_client), [(12, 10000), (12, 10000)])

    def test_a_receiver_who_leaves_while_a_message_waits_behind_another_gets_it_offline(self):
        self.messages.promise = False
        send(self.alice, 11, private("bob", "first"))
        self.messages.promise = True
        send(self.alice, 11, private("bob", "second"))
        self.bob.connection_lost()
        self.messages.commit()
        self.assertEqual(codes(self.alice_client), [(12, 10001), (12, 10001)])
        self.assertEqual(self.private_offline("bob"), {"alice": ["first", "second"]})
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_a_failed_commit_does_not_hold_back_the_messages_behind_it(self):
        self.messages.promise = False
        send(self.alice, 11, private("bob", "lost"))
        self.messages.promise = True
        send(self.alice, 11, private("bob", "kept"))
        self.messages.failing = True
        self.messages.commit(count=1)
        self.messages.failing = False
        self.assertEqual(pushed(self.bob_client), ["kept"])
        self.messages.commit()
        self.assertEqual(codes(self.alice_client), [(12, 10002), (12, 10000)])

    def test_a_message_that_looked_its_recipient_up_keeps_its_place(self):
        """A message to someone who was offline is looked up first; one sent after it, once
        they are online, takes a later id. The shared lookup answers the send that asked
        first, so "first" finds carol still offline and is kept for her."""
        self.store.held.add("get_user")
        send(self.alice, 11, private("carol", "first"))  # carol: offline, looked up
        carol, carol_client = self.log_in_during_the_lookup("carol")
        self.store.release("get_user")
        self.assertEqual(codes(carol_client), [(6, 10007)])
        send(self.alice, 11, private("carol", "second"))
        [(_, push)] = carol_client.take()
        self.assertEqual(push["data"]["content"], "second")
        self.messages.commit()
        acks = [body["data"]["id"] for _, body in self.alice_client.take()]
        self.assertEqual(len(acks), 2)
        self.assertLess(int(acks[0]), int(acks[1]))
        self.assertEqual(push["data"]["id"], acks[1])
        self.assertEqual(self.private_offline("carol"), {"alice": ["first"]})

    def test_a_late_message_that_looked_its_recipient_up_reaches_them_online(self):
        """Its id is given before carol's login, but it is published after its commit: to
        carol, online by then, first; her connection counts it as pushed, so her next offline
        fetch does not list it again."""
        self.store.held.add("get_user")
        send(self.alice, 11, private("carol", "first"))
        carol, carol_client = self.log_in_during_the_lookup("carol")
        self.messages.promise = False  # "first" must wait for its commit
        self.store.release("get_user")
        self.messages.promise = True
        self.assertEqual(codes(carol_client), [(6, 10007)])
        send(self.alice, 11, private("carol", "second"))
        self.assertEqual(carol_client.take(), [])  # behind "first", which waits for its commit
        self.messages.commit()
        pushed = [body["data"] for command, body in carol_client.take() if command == 11]
        self.assertEqual([m["content"] for m in pushed], ["first", "second"])
        acks = [int(body["data"]["id"]) for _, body in self.alice_client.take()]
        self.assertEqual(sorted(acks), acks)
        self.assertEqual([int(m["id"]) for m in pushed], acks)
        self.assertEqual(self.private_offline("carol"), {})


class ComingOnlineDuringTheCommitTests(CommitFixture, SynchronousTestCase):
    """A message kept offline for someone who logs in before its commit reaches them once: by
    their fetch, which the store answers after the commit."""

    def setUp(self):
        super().setUp()
        self.messages.holding = True
        self.store.held.add("read")

    def the_writers_order(self):
        self.messages.commit()
        self.store.release()

    def test_a_private_message(self):
        send(self.alice, 11, private("carol", "hi"))  # carol is offline: kept for her
        carol, carol_client = self.fx.login("carol")  # and she logs in during the commit
        send(carol, 19, {"type": 0})
        self.the_writers_order()
        self.assertEqual(codes(self.alice_client), [(12, 10001)])
        [(command, body)] = carol_client.take()  # the fetch has it; no push besides
        self.assertEqual(command, 20)
        self.assertEqual([m["content"] for m in body["data"]["friends"]["alice"]], ["hi"])
        self.store.held.clear()
        send(carol, 19, {"type": 0})
        [(_, again)] = carol_client.take()
        self.assertEqual(again["data"]["friends"], {})  # and never again

    def test_a_group_message(self):
        self.fx.add_group("g", "alice", "carol")
        send(self.alice, 11, group("g", "hi"))  # carol is offline
        carol, carol_client = self.fx.login("carol")  # she logs in during the commit
        send(carol, 19, {"type": 0, "groupId": "g"})
        self.the_writers_order()
        # alice: her own copy, carol's arrival (cmd 9), the acknowledgement
        self.assertEqual(codes(self.alice_client), [(11, None), (9, 10011), (12, 10000)])
        [(command, body)] = [c for c in carol_client.take() if c[0] != 9]  # no push besides
        self.assertEqual(command, 20)
        self.assertEqual([m["content"] for m in body["data"]["groups"]["g"]], ["hi"])


class BrokenConnectionTests(CommitFixture, SynchronousTestCase):
    def test_a_connection_that_fails_keeps_the_message_from_nobody_else(self):
        self.fx.add_group("g", "alice", "bob", "carol")
        carol, carol_client = self.fx.login("carol")
        self.alice_client.take()

        def broken(command, body):
            raise RuntimeError("a bug in a connection")

        self.bob_client.send = broken
        send(self.alice, 11, group("g", "to all"))
        send(carol, 11, private("alice", "still fine"))
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(codes(self.alice_client), [(11, None), (12, 10000), (11, None)])
        self.assertEqual(codes(carol_client), [(11, None), (12, 10000)])
