"""The Messages service's send path: who gets a message, what is stored, the policy step's
refusals, resends by client id and group members read once for everyone waiting for them
(tests/test_core_messages_commits.py: what happens while the store commits)."""
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.config import Limits
from jim.core.accounts import secret_hash
from jim.errors import JimError
from jim.model import GROUP, SINGLE, TEXT, App, Draft
from jim.store.memory import MemoryStore

from tests.support.fakes import APP_KEY, HoldingStore, codes, make_core, offline, send


def draft(target, content, target_type=SINGLE, **fields):
    return Draft(target_type, target, TEXT, {"text": content}, **fields)


def private(to, content, client_id=None):
    body = {"chatType": 2, "to": to, "content": content}
    if client_id is not None:
        body["id"] = client_id
    return body


def pushed(client):
    """The contents of the chats pushed to C{client} since the last take."""
    return [body["data"]["content"] for command, body in client.take() if command == 11]


def run(coroutine):
    return defer.ensureDeferred(coroutine)


class SendTests(SynchronousTestCase):
    """core.messages.send, as the REST API calls it: with or without a connection."""

    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol"))
        self.messages = self.fx.core.messages
        self.alice, self.alice_client = self.fx.login("alice")
        self.alice2, self.alice2_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")

    def send(self, target, content, sender="alice", connection_id=None, **fields):
        return self.messages.send(APP_KEY, sender, draft(target, content, **fields),
                                  connection_id)

    def test_without_a_connection_every_connection_of_the_sender_gets_a_copy(self):
        stored, delivered = self.successResultOf(self.send("bob", "api"))
        self.assertEqual((stored.sender, stored.target, delivered), ("alice", "bob", True))
        for client in (self.alice_client, self.alice2_client, self.bob_client):
            [(command, push)] = client.take()
            self.assertEqual((command, push["data"]["id"]), (11, str(stored.id)))
        self.assertEqual((self.fx.metrics.messages_in, self.fx.metrics.messages_out), (1, 3))

    def test_the_sending_connection_gets_no_copy(self):
        self.fx.clock.advance(3.25)
        stored, _ = self.successResultOf(self.send("bob", "c", connection_id=self.alice.id,
                                                   extras='{"k":1}'))
        self.assertEqual(
            (stored.msg_type, stored.body, stored.extras, stored.created, stored.target_type),
            (TEXT, {"text": "c"}, '{"k":1}', 3250, SINGLE))
        self.assertEqual(self.alice_client.sent, [])
        self.assertEqual(pushed(self.alice2_client), ["c"])

    def test_a_message_to_oneself_reaches_every_connection(self):
        stored, delivered = self.successResultOf(self.send("alice", "note to self",
                                                           connection_id=self.alice.id))
        self.assertTrue(delivered)
        self.assertEqual(pushed(self.alice_client), ["note to self"])
        self.assertEqual(pushed(self.alice2_client), ["note to self"])
        self.assertEqual(self.bob_client.sent, [])

    def test_a_receiver_who_is_offline_gets_it_later(self):
        stored, delivered = self.successResultOf(self.send("carol", "later"))
        self.assertFalse(delivered)
        kept = offline(self.fx, "carol")
        self.assertEqual(kept, [stored])

    def test_no_offline_is_not_kept(self):
        self.fx.add_group("g", "alice", "carol")
        group = self.successResultOf(self.fx.memory.groups.group_by_alias(APP_KEY, "g"))
        self.successResultOf(self.send("carol", "now or never", no_offline=True))
        self.successResultOf(self.send(str(group.gid), "now or never", target_type=GROUP,
                                       no_offline=True))
        kept = offline(self.fx, "carol")
        self.assertEqual(kept, [])

    def test_a_group_message_names_its_group_as_jim_does(self):
        """bob's login read the members of g, not its record: the push still says "g"."""
        self.fx.add_group("g", "alice", "bob")
        self.bob.connection_lost()
        _, bob_client = self.fx.login("bob")
        group = self.successResultOf(self.fx.memory.groups.group_by_alias(APP_KEY, "g"))
        self.successResultOf(self.send(str(group.gid), "hi", target_type=GROUP))
        [(command, push)] = bob_client.take()
        self.assertEqual((command, push["data"]["groupId"]), (11, "g"))

    def test_a_shielding_member_gets_neither_push_nor_offline_mark(self):
        group = self.fx.add_group("g", "alice", "bob", "carol")
        for member in ("bob", "carol"):
            self.successResultOf(run(self.fx.core.relations.set_shields(
                APP_KEY, member, add=[group.gid])))
        self.bob_client.take()
        self.successResultOf(self.send(str(group.gid), "hi", target_type=GROUP))
        self.assertEqual(self.bob_client.sent, [])
        kept = offline(self.fx, "carol")
        self.assertEqual(kept, [])

    def test_a_chat_room_that_does_not_exist_is_refused(self):
        failure = self.failureResultOf(self.send("10000000", "x",
                                                 target_type=model.CHATROOM), JimError)
        self.assertEqual(failure.value.code, errors.NO_SUCH_ROOM)


class PolicyTests(SynchronousTestCase):
    """Refusals of the policy step: nothing is stored or delivered, the refusal is counted."""

    def setUp(self):
        self.fx = make_core(limits=Limits(max_message=16), users=("alice", "bob", "carol"))
        self.fx.add_user("mallory", forbidden=True)
        self.fx.add_user("boss", admin=True)
        self.group = self.fx.add_group("g", "alice", "bob")
        self.bob, self.bob_client = self.fx.login("bob")

    def refusal(self, sender, target, content="hi", target_type=SINGLE, **fields):
        d = self.fx.core.messages.send(APP_KEY, sender,
                                       draft(target, content, target_type, **fields))
        return self.failureResultOf(d, JimError).value.code

    def assertNothingSent(self):
        """No refused message reached bob's connection, entered the history of a conversation
        the senders have with bob or of the group, or waits offline for anyone."""
        self.assertEqual(self.bob_client.sent, [])
        messages = self.fx.core.messages
        for sender in ("alice", "carol", "mallory", "boss"):
            history = messages.history(APP_KEY, sender, peer="bob")
            self.assertEqual(self.successResultOf(run(history)), [], sender)
        history = messages.history(APP_KEY, "bob", gid=self.group.gid)
        self.assertEqual(self.successResultOf(run(history)), [])
        for user in ("alice", "bob", "carol"):
            self.assertEqual(offline(self.fx, user), [], user)

    def test_the_sender(self):
        self.assertEqual(self.refusal("mallory", "bob"), errors.USER_FORBIDDEN)
        self.assertEqual(self.refusal("alice", "bob", from_type=model.FROM_ADMIN),
                         errors.NOT_ADMIN)
        self.assertEqual(self.refusal("alice", "bob", "x" * 17), errors.MESSAGE_TOO_LARGE)
        self.assertEqual(self.refusal("alice", "bob", "x" * 16, extras='{"a":1}'),
                         errors.MESSAGE_TOO_LARGE)
        self.assertNothingSent()
        self.assertEqual(self.fx.metrics.refusals, {errors.USER_FORBIDDEN: 1,
                                                    errors.NOT_ADMIN: 1,
                                                    errors.MESSAGE_TOO_LARGE: 2})

    def test_the_receiver(self):
        self.assertEqual(self.refusal("alice", "nobody"), errors.NO_SUCH_USER)
        self.successResultOf(run(self.fx.core.relations.add_blacklist(APP_KEY, "bob",
                                                                      ["alice"])))
        self.bob_client.take()  # the blacklist's own event
        self.assertEqual(self.refusal("alice", "bob"), errors.BLACKLISTED)
        self.assertNothingSent()
        # the app server's admins are never blacklisted
        self.successResultOf(self.fx.core.messages.send(APP_KEY, "boss", draft("bob", "hi")))
        self.assertEqual(pushed(self.bob_client), ["hi"])

    def test_a_friends_only_app(self):
        self.fx.memory.apps.add_app(App("friendsonly", secret_hash("s"), friend_mode=True))
        for name in ("alice", "bob"):
            self.fx.add_user(name, app="friendsonly")
        d = self.fx.core.messages.send("friendsonly", "alice", draft("bob", "hi"))
        self.assertEqual(self.failureResultOf(d, JimError).value.code, errors.NOT_FRIENDS)
        self.successResultOf(run(self.fx.core.relations.add_friends("friendsonly", "alice",
                                                                    ["bob"])))
        self.successResultOf(self.fx.core.messages.send("friendsonly", "alice",
                                                        draft("bob", "hi")))

    def test_the_group(self):
        gid = str(self.group.gid)
        self.assertEqual(self.refusal("carol", gid, target_type=GROUP), errors.NOT_MEMBER)
        self.assertEqual(self.refusal("alice", "123", target_type=GROUP), errors.NO_SUCH_GROUP)
        self.successResultOf(run(self.fx.core.groups.silence(APP_KEY, self.group.gid,
                                                             ["alice"], True)))
        self.bob_client.take()  # the silence's own event
        self.assertEqual(self.refusal("alice", gid, target_type=GROUP), errors.SILENCED)
        self.assertNothingSent()
        # the app server may speak in any group through an admin; the admin chatting may not
        self.assertEqual(self.refusal("boss", gid, target_type=GROUP), errors.NOT_MEMBER)
        self.successResultOf(self.fx.core.messages.send(
            APP_KEY, "boss", draft(gid, "hi", GROUP, from_type=model.FROM_ADMIN)))
        self.assertEqual(pushed(self.bob_client), ["hi"])

    def test_a_jim_sender_hears_jims_refusal(self):
        send(self.bob, 11, {"chatType": 2, "to": "nobody", "content": "hi", "id": "c1"})
        [(command, reply)] = self.bob_client.take()
        self.assertEqual((command, reply["code"], reply["command"], reply["data"]),
                         (12, 10002, 12, {"clientId": "c1"}))
        self.assertIn("nobody", reply["detail"])
        self.assertEqual(self.fx.metrics.refusals, {errors.NO_SUCH_USER: 1})


class ClientIdTests(SynchronousTestCase):
    """A resend (the same client id to the same target) is acknowledged again, never delivered
    or stored twice."""

    def setUp(self):
        self.store = HoldingStore(MemoryStore())
        self.fx = make_core(store=self.store, users=("alice", "bob", "carol"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")

    def history(self, peer="bob"):
        return self.successResultOf(
            self.fx.memory.messages.private_history(APP_KEY, "alice", peer))

    def assert_sent_once_while(self, held, client_id):
        """Two copies of one chat sent while the store holds C{held}: one message, both
        acknowledged with it."""
        self.store.held.add(held)
        send(self.alice, 11, private("bob", "once", client_id))
        send(self.alice, 11, private("bob", "once", client_id))
        self.assertEqual(self.alice_client.take(), [], "neither is answered before the store")
        self.store.release()
        first, second = self.alice_client.take()
        self.assertEqual(first, second)
        self.assertEqual(first[1]["code"], 10000)
        self.assertEqual(pushed(self.bob_client), ["once"])
        self.assertEqual(len(self.history()), 1)

    def test_a_resend_while_the_first_is_looked_up(self):
        """Both copies arrive before the store said whether the id was seen before (alice
        sent it to carol: it may be a resend, so it is looked up)."""
        send(self.alice, 11, private("carol", "to carol", "c1"))
        self.alice_client.take()
        self.assert_sent_once_while("message_by_client_id", "c1")

    def test_a_client_id_the_store_never_held_costs_no_read(self):
        self.store.held.add("message_by_client_id")
        send(self.alice, 11, private("bob", "new", "c8"))
        self.assertEqual(codes(self.alice_client), [(12, 10000)], "answered: nothing read")
        self.assertEqual(self.store.pending, [])
        self.assertEqual(pushed(self.bob_client), ["new"])

    def test_a_resend_while_the_first_is_being_stored(self):
        """A new id: not looked up, and the resend waits for the first's commit."""
        self.assert_sent_once_while("add_message", "c9")

    def test_a_send_that_reads_is_not_overtaken_by_one_that_does_not(self):
        _, carol_client = self.fx.login("carol")
        send(self.alice, 11, private("carol", "to carol", "k"))
        self.store.held.add("message_by_client_id")
        # "k" to bob may be a resend (alice sent "k" before): it reads; "k2" is new: no read
        send(self.alice, 11, private("bob", "first", "k"))
        send(self.alice, 11, private("bob", "second", "k2"))
        send(self.alice, 11, private("carol", "not held up", "k3"))  # another target
        self.assertEqual(pushed(carol_client), ["to carol", "not held up"])
        self.assertEqual(pushed(self.bob_client), [], "the second waits for the first")
        self.store.release()
        self.assertEqual(pushed(self.bob_client), ["first", "second"])
        ids = {body["data"]["clientId"]: int(body["data"]["id"])
               for _, body in self.alice_client.take()}
        self.assertLess(ids["k"], ids["k2"])
        self.assertEqual([m.body["text"] for m in self.history()], ["first", "second"])

    def test_a_resend_after_the_first_was_stored(self):
        send(self.alice, 11, private("bob", "once", "c2"))
        send(self.alice, 11, private("bob", "once", "c2"))
        first, second = self.alice_client.take()
        self.assertEqual(first, second)
        self.assertEqual(pushed(self.bob_client), ["once"])
        # another sender may use the same client id
        send(self.bob, 11, private("alice", "mine", "c2"))
        [(_, ack)] = self.bob_client.take()
        self.assertNotEqual(ack["data"]["id"], first[1]["data"]["id"])

    def test_a_refused_message_is_not_remembered(self):
        send(self.alice, 11, private("nobody", "x", "c3"))
        send(self.alice, 11, private("bob", "x", "c3"))
        self.assertEqual(codes(self.alice_client), [(12, 10002), (12, 10000)])
        self.assertEqual(pushed(self.bob_client), ["x"])

    def test_concurrent_resends_of_a_refused_message(self):
        self.store.held.add("get_user")
        send(self.alice, 11, private("nobody", "x", "c4"))
        send(self.alice, 11, private("nobody", "x", "c4"))
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(12, 10002), (12, 10002)])
        self.store.held.clear()
        self.fx.add_user("nobody")  # the refusal is not remembered: the id is free again
        send(self.alice, 11, private("nobody", "x", "c4"))
        self.assertEqual(codes(self.alice_client), [(12, 10001)])

    def test_a_resend_of_a_message_kept_offline_is_not_kept_twice(self):
        send(self.alice, 11, private("carol", "later", "c5"))
        send(self.alice, 11, private("carol", "later", "c5"))
        first, second = self.alice_client.take()
        self.assertEqual(first[1]["data"]["id"], second[1]["data"]["id"])
        kept = offline(self.fx, "carol")
        self.assertEqual([m.body for m in kept], [{"text": "later"}])

    def test_the_same_id_to_another_target_is_another_message(self):
        _, carol_client = self.fx.login("carol")
        send(self.alice, 11, private("bob", "hi bob", "1"))
        send(self.alice, 11, private("carol", "hi carol", "1"))
        acks = [body["data"]["id"] for _, body in self.alice_client.take()]
        self.assertEqual(len(set(acks)), 2)
        self.assertEqual(pushed(carol_client), ["hi carol"])
        # while the same id to the same target is still a resend
        send(self.alice, 11, private("bob", "hi bob", "1"))
        self.assertEqual([b["data"]["id"] for _, b in self.alice_client.take()], [acks[0]])
        self.assertEqual(pushed(self.bob_client), ["hi bob"])  # the first push only
        # and so is the same id to the second target: not found behind the first one
        send(self.alice, 11, private("carol", "hi carol", "1"))
        self.assertEqual([b["data"]["id"] for _, b in self.alice_client.take()], [acks[1]])
        self.assertEqual(carol_client.take(), [])


class LostAnswerMessages:
    """A message area that cannot promise ids (as the Redis store) and whose store answers
    are lost on demand: the write is kept, the sender is told it failed."""

    def __init__(self, messages):
        self._messages = messages
        self.lose_answers = 0

    def __getattr__(self, name):
        return getattr(self._messages, name)

    def reserve_id(self):
        return None

    def add_message_then(self, message, then, *args):
        if not self.lose_answers:
            return self._messages.add_message_then(message, then, *args)
        self.lose_answers -= 1
        self._messages.add_message(message)
        then(Failure(JimError(errors.SERVER_ERROR, "Redis did not answer within 5 s")), *args)


class LostAnswerTests(SynchronousTestCase):
    """A store that kept a message but whose answer was lost (Redis failing over): the sender
    was refused, and its resend delivers the message as its first send would have."""

    def setUp(self):
        store = MemoryStore()
        self.messages = store.messages = LostAnswerMessages(store.messages)
        self.fx = make_core(store=store, users=("alice", "bob", "carol"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")

    def test_the_resend_of_a_private_message_delivers_it(self):
        self.messages.lose_answers = 1
        send(self.alice, 11, private("bob", "kept after all", "c1"))
        self.assertEqual(codes(self.alice_client), [(12, 10002)])
        self.assertEqual(pushed(self.bob_client), [], "never published")
        send(self.alice, 11, private("bob", "kept after all", "c1"))
        self.assertEqual(codes(self.alice_client), [(12, 10000)])
        self.assertEqual(pushed(self.bob_client), ["kept after all"])
        send(self.alice, 11, private("bob", "kept after all", "c1"))  # a third time: a resend
        self.assertEqual(codes(self.alice_client), [(12, 10000)])
        self.assertEqual(pushed(self.bob_client), [], "once")

    def test_an_offline_receiver_finds_it_in_its_inbox_after_the_resend(self):
        self.messages.lose_answers = 1
        send(self.alice, 11, private("carol", "for later", "c2"))
        send(self.alice, 11, private("carol", "for later", "c2"))
        self.assertEqual([code for _, code in codes(self.alice_client)], [10002, 10000])
        kept = offline(self.fx, "carol")
        self.assertEqual([m.body for m in kept], [{"text": "for later"}])

    def test_a_resend_after_a_plain_refusal_delivers_nothing_again(self):
        send(self.alice, 11, private("bob", "hi", "c3"))
        self.assertEqual(pushed(self.bob_client), ["hi"])
        send(self.alice, 11, private("bob", "hi", "c3"))
        self.assertEqual(pushed(self.bob_client), [])


class AppendOnceMessages(LostAnswerMessages):
    """L{LostAnswerMessages} that checks client ids where it appends (as the Redis store): the
    core never reads it first. Its reads of client ids are counted."""

    appends_once = True
    lookups = 0

    def message_by_client_id(self, *key):
        self.lookups += 1
        return self._messages.message_by_client_id(*key)


class AppendOnceTests(SynchronousTestCase):
    def setUp(self):
        store = MemoryStore()
        self.messages = store.messages = AppendOnceMessages(store.messages)
        self.fx = make_core(store=store, users=("alice", "bob"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")

    def test_a_resend_is_found_by_the_append_not_by_a_read(self):
        send(self.alice, 11, private("bob", "once", "c1"))
        send(self.alice, 11, private("bob", "once", "c1"))
        first, second = self.alice_client.take()
        self.assertEqual(first, second)
        self.assertEqual(first[1]["code"], 10000)
        self.assertEqual(pushed(self.bob_client), ["once"], "delivered once")
        self.assertEqual(self.messages.lookups, 0)
        history = self.successResultOf(
            self.fx.memory.messages.private_history(APP_KEY, "alice", "bob"))
        self.assertEqual(len(history), 1)

    def test_a_resend_the_policy_now_refuses_is_answered_with_the_first(self):
        send(self.alice, 11, private("bob", "once", "c2"))
        [(_, first)] = self.alice_client.take()
        self.successResultOf(run(self.fx.core.relations.add_blacklist(APP_KEY, "bob", ["alice"])))
        send(self.alice, 11, private("bob", "once", "c2"))
        [(_, again)] = self.alice_client.take()
        self.assertEqual(again, first, "acknowledged as it was the first time")
        send(self.alice, 11, private("bob", "new", "c3"))  # a new one is refused
        self.assertEqual(codes(self.alice_client), [(12, 10002)])


class QueueTests(SynchronousTestCase):
    """The sends of a sender to one target while one of them reads the store (its client id
    may be a resend)."""

    def setUp(self):
        self.store = HoldingStore(MemoryStore())
        self.fx = make_core(store=self.store, users=("alice", "bob", "carol"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")
        send(self.alice, 11, private("carol", "to carol", "k"))  # "k" to bob: may be a resend
        self.alice_client.take()
        self.store.held.add("message_by_client_id")

    def test_a_send_without_a_client_id_waits_too(self):
        send(self.alice, 11, private("bob", "first", "k"))
        send(self.alice, 11, private("bob", "plain"))
        self.assertEqual(pushed(self.bob_client), [])
        self.store.release()
        self.assertEqual(pushed(self.bob_client), ["first", "plain"])

    def test_a_send_that_breaks_keeps_nothing_waiting(self):
        policy = self.fx.core.messages.policy
        original = policy.private

        def breaking(app, sender, receiver, relations, draft):  # a bug in the policy step
            if draft.body["text"] == "breaks":
                raise RuntimeError("a bug")
            return original(app, sender, receiver, relations, draft)

        send(self.alice, 11, private("bob", "first", "k"))
        send(self.alice, 11, private("bob", "breaks", "k2"))
        policy.private = breaking
        self.store.release()
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(sorted(codes(self.alice_client)), [(12, 10000), (12, 10002)],
                         "the first stored, the one that broke refused")
        policy.private = original
        self.store.held.clear()
        send(self.alice, 11, private("bob", "later", "k3"))
        send(self.alice, 11, private("bob", "breaks", "k2"))  # its id is free again
        self.assertEqual(pushed(self.bob_client), ["first", "later", "breaks"])


class LookupOrderTests(SynchronousTestCase):
    def test_messages_waiting_for_their_receiver_keep_the_order_they_were_sent_in(self):
        store = HoldingStore(MemoryStore())
        fx = make_core(store=store, users=("alice", "carol"))
        alice, alice_client = fx.login("alice")
        store.held.update(("get_user", "relations_of"))
        for content in ("one", "two", "three"):
            send(alice, 11, private("carol", content, client_id=content))
        while store.pending:
            store.release()
        ids = {body["data"]["clientId"]: int(body["data"]["id"])
               for _, body in alice_client.take()}
        self.assertLess(ids["one"], ids["two"])
        self.assertLess(ids["two"], ids["three"])
        kept = offline(fx, "carol")
        self.assertEqual([m.body["text"] for m in kept], ["one", "two", "three"])


class GroupMembersTests(SynchronousTestCase):
    """Messages to a group whose members are not in memory wait for one read of them."""

    def setUp(self):
        self.store = HoldingStore(MemoryStore(), "members")
        self.fx = make_core(store=self.store, users=("alice", "bob"))
        self.bob, self.bob_client = self.fx.login("bob")  # before g exists: nothing read
        self.gid = self.fx.add_group("g", "alice", "bob").gid

    def send(self, content):
        return self.fx.core.messages.send(APP_KEY, "alice", draft(str(self.gid), content,
                                                                  GROUP))

    def test_read_once(self):
        first, second = self.send("one"), self.send("two")
        self.assertEqual([name for _, name, _, _, _ in self.store.pending], ["members"])
        self.store.release()
        self.successResultOf(first)
        self.successResultOf(second)
        self.assertEqual(pushed(self.bob_client), ["one", "two"])
        self.successResultOf(self.send("three"))  # in memory now
        self.assertEqual(self.store.pending, [])

    def test_a_failed_read_fails_every_waiter_and_is_not_kept(self):
        first, second = self.send("one"), self.send("two")
        _, d = self.store.take_only()
        d.errback(JimError(errors.SERVER_ERROR, "the store could not answer"))
        self.failureResultOf(first, JimError)
        self.failureResultOf(second, JimError)
        third = self.send("three")  # read again
        self.store.release()
        self.successResultOf(third)
        self.assertEqual(pushed(self.bob_client), ["three"])
