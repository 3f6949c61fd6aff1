"""The contract of the message area (IMessageStore): the log, retraction and history, for
every store (SQLite twice: the second time with its conversation index brought up
to date every three messages, so that histories mix indexed messages with the tail).

A store may never reserve ids (C{reserves_ids} False: Redis, whose ids are given by the commit
so that they increase in commit order across nodes): the cases about reserved ids are then
skipped, and the other appends take the core's way, C{add_message_then}."""
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.trial import unittest

from jim import errors
from jim.model import (
    CUSTOM, FROM_ADMIN, GROUP, IMAGE, MAX_INT64, SINGLE, TEXT, Message, Resent,
)
from tests.store_contract.base import (
    ContractCase, OnMemory, OnRedis, OnSqlite, OnSqliteIndexTail,
)
from tests.support.fakes import with_reserved_id

#: a body with nested JSON of every kind, and text that is not ASCII
BODY = {
    "text": "Grüße 世界 😀",
    "nested": {"list": [1, -2, 2.5, None, True, False, "é"], "deep": {"x": {"y": [], "z": {}}}},
    "big": 2**63 - 1,
    "": "empty key",
}
#: every field of a Message set to something other than its default
EVERY_FIELD = dict(extras='{"k":[1,{"z":null}],"u":"ü"}', client_id="c-1", created=1234,
                   from_type=FROM_ADMIN, target_app="other-app", no_offline=True,
                   no_notification=True)


def chat(app, sender, target, text="hi", created=0, client_id=None, extras=None):
    return Message(0, app, sender, SINGLE, target, TEXT, {"text": text}, extras, client_id, created)


def group_chat(app, sender, gid, text="hi", created=0):
    return Message(0, app, sender, GROUP, str(gid), TEXT, {"text": text}, None, None, created)


def exactly(value):
    """C{value} with the type of every part spelled out: C{True == 1} and C{1.0 == 1} in Python,
    and a store must give back neither for the other."""
    if isinstance(value, dict):
        return {key: exactly(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [exactly(item) for item in value])
    return (type(value).__name__, value)


def reserving(case):
    """Mark a case about reserved ids: skipped for a store that reserves none."""
    case.reserving = True
    return case


async def called_back(method, first, *args):
    """The calls of C{then} by C{method(first, then, *args)} (a store's callback twin of a
    write), each C{(result, its args)}, once the first came."""
    calls = []
    done = defer.Deferred()

    def then(result, *rest):
        calls.append((result, rest))
        if not done.called:
            done.callback(None)

    method(first, then, *args)
    await done
    return calls


def texts(messages):
    return [message.body["text"] for message in messages]


class MessagesContract(ContractCase):
    #: whether C{reserve_id} gives ids (once a message was committed)
    reserves_ids = True

    def setUp(self):
        if not self.reserves_ids and getattr(getattr(self, self._testMethodName), "reserving",
                                             False):
            # (before the store is opened: nothing to stop while it is still connecting)
            raise unittest.SkipTest("this store reserves no ids: the core uses add_message_then")
        opened = super().setUp()
        opened.addCallback(lambda _: setattr(self, "messages", self.store.messages))
        return opened

    def send_then(self, message, then, *args):
        """Append C{message} the core's way: with an id the store reserves and
        C{append_message_then}, or with C{add_message_then} when it reserves none. The message
        as it was handed over (id 0 in the second case)."""
        prepared = with_reserved_id(self.messages, message)
        if prepared is None:
            self.assertFalse(self.reserves_ids)
            self.messages.add_message_then(message, then, *args)
            return message
        self.messages.append_message_then(prepared, then, *args)
        return prepared

    # appending

    async def test_add_message_assigns_increasing_ids(self):
        sent = chat("a", "ann", "bob", "one", 10, client_id="c1", extras='{"k":1}')
        first = await self.messages.add_message(sent)
        self.assertGreater(first.id, 0)
        self.assertEqual(first, sent._replace(id=first.id))
        second = await self.messages.add_message(chat("a", "bob", "ann", created=20)._replace(id=7))
        self.assertGreater(second.id, first.id)  # the id given is ignored
        third = await self.messages.add_message(chat("a", "bob", "ann", created=5)._replace(id=7))
        self.assertGreater(third.id, second.id)
        self.assertEqual(await self.messages.private_history("a", "ann", "bob"),
                         [third, first, second])

    async def test_every_field_round_trips(self):
        private = Message(0, "a", "ann", SINGLE, "bob", CUSTOM, BODY, **EVERY_FIELD)
        in_group = Message(0, "a", "ann", GROUP, "7", IMAGE, {"media_id": "m1", "size": 3.25},
                           **EVERY_FIELD)
        numeric = private._replace(client_id=77, msg_type=TEXT, body={"text": ""})
        for sent in (private, in_group, numeric):
            stored = await self.messages.add_message(sent)
            self.assertEqual(stored, sent._replace(id=stored.id))
            got = await self.messages.get_message("a", stored.id)
            self.assertEqual(got, stored)
            self.assertEqual(exactly(got), exactly(sent._replace(id=stored.id)))
            found = await self.messages.message_by_client_id(
                "a", "ann", sent.client_id, sent.target_type, sent.target)
            self.assertEqual(found, stored)
            if sent.target_type == GROUP:
                history = await self.messages.group_history("a", 7)
            else:
                history = (await self.messages.private_history("a", "bob", "ann"))[-1:]
            self.assertEqual(history, [stored])
            self.assertEqual(exactly(history[0]), exactly(sent._replace(id=stored.id)))
        self.assertEqual((await self.messages.get_message("a", stored.id)).client_id, 77)

    async def test_add_message_then_reports_by_a_call(self):
        calls = []
        done = defer.Deferred()

        def then(result, *args):
            calls.append((result, args))
            done.callback(None)

        self.messages.add_message_then(chat("a", "ann", "bob", "by call"), then, 1, "x")
        await done
        [(stored, args)] = calls
        self.assertEqual(args, (1, "x"))
        self.assertGreater(stored.id, 0)
        self.assertEqual(stored, chat("a", "ann", "bob", "by call")._replace(id=stored.id))
        self.assertEqual(await self.messages.private_history("a", "ann", "bob"), [stored])

    async def test_add_message_then_contains_a_caller_that_raises(self):
        def broken(result):
            raise RuntimeError("a bug in a caller")

        self.messages.add_message_then(chat("a", "ann", "bob", "one"), broken)
        second = await self.messages.add_message(chat("a", "ann", "bob", "two"))
        self.assertEqual(texts(await self.messages.private_history("a", "ann", "bob")),
                         ["one", "two"])
        self.assertEqual(texts([second]), ["two"])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    async def test_reserve_id_once_a_message_is_committed(self):
        await self.messages.add_message(chat("a", "ann", "bob", "before"))
        self.assertEqual(self.messages.reserve_id() is not None, self.reserves_ids)

    async def test_writes_of_one_turn_are_answered_in_order(self):
        """Appends made together (as a busy reactor turn makes them) are answered in the order
        they were made, with increasing ids: the core's deliveries leave in that order."""
        await self.messages.add_message(chat("a", "ann", "bob", "first"))
        answered = []
        for i in range(20):
            self.send_then(chat("a", "ann", "bob", str(i)), answered.append)
        last = await self.messages.add_message(chat("a", "ann", "bob", "last"))
        self.assertEqual(texts(answered), [str(i) for i in range(20)])
        ids = [m.id for m in answered] + [last.id]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual(texts(await self.messages.private_history("a", "ann", "bob")),
                         ["first", *map(str, range(20)), "last"])

    @reserving
    async def test_prepare_then_append(self):
        before = await self.messages.add_message(chat("a", "ann", "bob", "before"))
        # (a store may refuse to prepare until a message of its own was committed)
        sent = chat("a", "ann", "bob", "prepared", 5, client_id="p1")
        prepared = with_reserved_id(self.messages, sent)
        self.assertIsNotNone(prepared)  # every store that reserves can, once one is committed
        self.assertGreater(prepared.id, before.id)
        self.assertEqual(prepared, sent._replace(id=prepared.id))
        calls = await called_back(self.messages.append_message_then, prepared, "tag")
        self.assertEqual(calls, [(prepared, ("tag",))])  # stored with the id it was given
        self.assertEqual(await self.messages.get_message("a", prepared.id), prepared)
        self.assertEqual(await self.messages.message_by_client_id("a", "ann", "p1", SINGLE, "bob"),
                         prepared)
        self.assertEqual(await self.messages.private_history("a", "ann", "bob"), [before, prepared])

    @reserving
    async def test_prepared_ids_follow_the_order_of_preparation(self):
        await self.messages.add_message(chat("a", "ann", "bob", "first"))
        prepared = [with_reserved_id(self.messages, chat("a", "ann", "bob", str(i)))
                    for i in range(3)]
        self.assertEqual([p.id for p in prepared], [prepared[0].id + i for i in range(3)])
        answered = []
        for message in prepared:
            self.messages.append_message_then(message, answered.append)
        later = await self.messages.add_message(chat("a", "ann", "bob", "later"))
        self.assertGreater(later.id, prepared[-1].id)
        self.assertEqual(answered, prepared)  # answered in order, before the later one
        history = await self.messages.private_history("a", "ann", "bob")
        self.assertEqual(texts(history), ["first", "0", "1", "2", "later"])

    async def test_a_run_is_appended_in_order_and_answered_once(self):
        before = await self.messages.add_message(chat("a", "ann", "bob", "before"))
        # ids as the core builds a run with them: reserved, or (a store that gives ids at its
        # commit) above every id of the app
        run = [with_reserved_id(self.messages, chat("a", "ann", "bob", str(i)))
               or chat("a", "ann", "bob", str(i))._replace(id=before.id + 1 + i)
               for i in range(3)]
        calls = await called_back(self.messages.append_run_then, run, "tag")
        self.assertEqual(calls, [(run, ("tag",))])
        self.assertEqual([await self.messages.get_message("a", m.id) for m in run], run)
        later = await self.messages.add_message(chat("a", "ann", "bob", "later"))
        self.assertGreater(later.id, run[-1].id)
        self.assertEqual(texts(await self.messages.private_history("a", "ann", "bob")),
                         ["before", "0", "1", "2", "later"])

    async def test_one_batch_of_several_conversations_in_turns(self):
        """(The Redis store's script names the keys of a conversation once for consecutive
        messages of it: each must still reach its own.)"""
        targets = ["bob", "bob", "cid", "cid", "bob", "ann", "cid"]
        answers = []
        done = defer.Deferred()

        def then(stored):
            answers.append(stored)
            if len(answers) == len(targets):
                done.callback(None)

        for i, target in enumerate(targets):
            self.messages.add_message_then(chat("a", "ann", target, str(i)), then)
        await done
        ids = [m.id for m in answers]
        self.assertEqual(ids, sorted(ids))
        for peer in ("bob", "cid", "ann"):
            self.assertEqual(texts(await self.messages.private_history("a", "ann", peer)),
                             [str(i) for i, t in enumerate(targets) if t == peer])

    async def test_a_run_without_ids_takes_them_in_order(self):
        before = await self.messages.add_message(chat("a", "ann", "bob", "before"))
        run = [chat("a", "ann", "bob", str(i)) for i in range(3)]
        [(stored, args)] = await called_back(self.messages.add_run_then, run, "tag")
        self.assertEqual(args, ("tag",))
        self.assertEqual([m._replace(id=0) for m in stored], run)
        ids = [m.id for m in stored]
        self.assertEqual(ids, sorted(ids))
        self.assertGreater(ids[0], before.id)
        self.assertEqual(texts(await self.messages.private_history("a", "ann", "bob")),
                         ["before", "0", "1", "2"])

    @reserving
    async def test_reserved_ids_are_final_and_never_given_again(self):
        first = await self.messages.add_message(chat("a", "ann", "bob", "first"))
        reserved = [self.messages.reserve_id() for _ in range(3)]
        self.assertEqual(reserved, [reserved[0] + i for i in range(3)])
        self.assertGreater(reserved[0], first.id)
        # built with its reserved id, a message is stored under it (the hot path's way)
        built = [chat("a", "ann", "bob", str(i))._replace(id=i) for i in reserved]
        answered = []
        for message in built:
            self.messages.append_message_then(message, answered.append)
        later = await self.messages.add_message(chat("a", "ann", "bob", "later"))
        self.assertEqual(answered, built)
        self.assertGreater(later.id, reserved[-1])
        self.assertEqual(await self.messages.get_message("a", reserved[1]), built[1])
        # a reserved id that nobody used is not given to another message either
        unused = self.messages.reserve_id()
        after = await self.messages.add_message(chat("a", "ann", "bob", "after"))
        self.assertGreater(after.id, unused)
        self.assertIsNone(await self.messages.get_message("a", unused))

    async def test_messages_appended_together_keep_every_field(self):
        """A batch of plain messages, and batches that mix them with messages whose fields
        after ``created`` are not their defaults (in a conversation the store knows, and in
        one it meets for the first time): each message comes back exactly as it was sent."""
        await self.messages.add_message(chat("a", "ann", "bob", "first"))
        special = [{"from_type": FROM_ADMIN}, {"target_app": "b"}, {"no_offline": True},
                   {"no_notification": True}]
        batches = [("bob", [{}] * 3), ("bob", [{}, *special, {}]), ("dan", [{}, *special])]
        for target, fields in batches:
            answered = []
            built = [self.send_then(chat("a", "ann", target, str(i))._replace(**changes),
                                    answered.append)
                     for i, changes in enumerate(fields)]
            await self.messages.add_message(chat("a", "ann", "cid", "after"))
            # with the id it was built with, or the one it was given
            self.assertEqual(len(answered), len(built))
            self.assertEqual([exactly(m) for m in answered],
                             [exactly(m._replace(id=m.id or a.id))
                              for m, a in zip(built, answered)])
            for message in answered:
                got = await self.messages.get_message("a", message.id)
                self.assertEqual(exactly(got), exactly(message))

    async def test_append_contains_a_caller_that_raises(self):
        await self.messages.add_message(chat("a", "ann", "bob", "first"))

        def broken(result):
            raise RuntimeError("a bug in a caller")

        self.send_then(chat("a", "ann", "bob", "one"), broken)
        await self.messages.add_message(chat("a", "ann", "bob", "two"))
        self.assertEqual(texts(await self.messages.private_history("a", "ann", "bob")),
                         ["first", "one", "two"])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    # lookups

    async def test_get_message(self):
        first = await self.messages.add_message(chat("a", "ann", "bob", "1"))
        second = await self.messages.add_message(group_chat("a", "ann", 1, "2"))
        self.assertEqual(await self.messages.get_message("a", first.id), first)
        self.assertEqual(await self.messages.get_message("a", second.id), second)
        self.assertIsNone(await self.messages.get_message("b", first.id))  # another app's
        self.assertIsNone(await self.messages.get_message("a", second.id + 1000))
        self.assertIsNone(await self.messages.get_message("a", 0))

    async def test_message_by_client_id(self):
        first = await self.messages.add_message(chat("a", "ann", "bob", client_id="x1"))
        await self.messages.add_message(chat("a", "ann", "bob", client_id="x1"))
        to_cid = await self.messages.add_message(chat("a", "ann", "cid", client_id="x1"))
        numeric = await self.messages.add_message(chat("a", "ann", "bob", client_id=7))
        in_group = await self.messages.add_message(
            group_chat("a", "ann", 1)._replace(client_id="x1"))
        find = self.messages.message_by_client_id
        self.assertEqual(await find("a", "ann", "x1", SINGLE, "bob"), first)
        self.assertEqual(await find("a", "ann", "x1", SINGLE, "cid"), to_cid)
        self.assertEqual(await find("a", "ann", "x1", GROUP, "1"), in_group)
        self.assertIsNone(await find("a", "ann", "x1", GROUP, "bob"))
        self.assertEqual(await find("a", "ann", 7, SINGLE, "bob"), numeric)
        self.assertIsNone(await find("a", "ann", "7", SINGLE, "bob"))
        self.assertIsNone(await find("a", "bob", "x1", SINGLE, "ann"))
        self.assertIsNone(await find("b", "ann", "x1", SINGLE, "bob"))

    async def test_a_client_id_given_is_never_said_to_be_missing(self):
        """may_hold_client_id may say "maybe" for anything, but "no" never for an id it was
        given, from the append on (the core then skips the read of a resend)."""
        sent = [chat("a", "ann", "bob", client_id="m1"), chat("a", "ann", "cid", client_id=8),
                group_chat("a", "bob", 1)._replace(client_id="m1")]
        for message in sent:
            self.messages.add_message_then(message, lambda *_: None)
            self.assertTrue(self.messages.may_hold_client_id(
                message.app, message.sender, message.client_id), "at once")
        await self.messages.add_message(chat("a", "ann", "bob", "last"))  # the others are in
        for message in sent:
            self.assertTrue(self.messages.may_hold_client_id(
                message.app, message.sender, message.client_id))

    def once(self, message):
        """add_message_once_then, as a Deferred."""
        d = defer.Deferred()
        self.messages.add_message_once_then(
            message, lambda outcome: d.errback(outcome) if isinstance(outcome, Failure)
            else d.callback(outcome))
        return d

    async def test_an_append_once_stores_a_client_id_once(self):
        first = await self.once(chat("a", "ann", "bob", "one", client_id="o1"))
        self.assertIsInstance(first, Message)
        self.assertEqual(await self.once(chat("a", "ann", "bob", "two", client_id="o1")),
                         Resent(first))
        # another target, another sender, another app, another type of id: other messages
        others = [chat("a", "ann", "cid", "three", client_id="o1"),
                  chat("a", "bob", "ann", "four", client_id="o1"),
                  chat("b", "ann", "bob", "five", client_id="o1"),
                  group_chat("a", "ann", 1, "six")._replace(client_id="o1"),
                  chat("a", "ann", "bob", "seven", client_id=1)]
        for message in others:
            stored = await self.once(message)
            self.assertIsInstance(stored, Message, message)
            self.assertEqual(stored.body, message.body)
        history = await self.messages.private_history("a", "ann", "bob")
        self.assertEqual(texts(history), ["one", "four", "seven"])  # both directions

    async def test_two_appends_once_in_one_turn_store_one(self):
        both = [self.once(chat("a", "ann", "bob", text, client_id="t1"))
                for text in ("first", "second")]
        first, second = await defer.gatherResults(both)
        self.assertIsInstance(first, Message)
        self.assertEqual(second, Resent(first))
        self.assertEqual(texts(await self.messages.private_history("a", "ann", "bob")),
                         ["first"])

    # retraction

    async def test_retract(self):
        kept = await self.messages.add_message(chat("a", "ann", "bob", "kept", 1))
        taken_back = await self.messages.add_message(chat("a", "ann", "bob", "taken back", 2))
        in_group = await self.messages.add_message(group_chat("a", "ann", 1, "in group", 3))
        after = await self.messages.add_message(chat("a", "bob", "ann", "after", 4))
        retracted = await self.messages.retract_message("a", taken_back.id)
        self.assertEqual(retracted, taken_back._replace(retracted=True))
        self.assertEqual(await self.messages.retract_message("a", in_group.id),
                         in_group._replace(retracted=True))
        # still there to be looked up, marked...
        self.assertEqual(await self.messages.get_message("a", taken_back.id), retracted)
        self.assertIs((await self.messages.get_message("a", in_group.id)).retracted, True)
        # ...but gone from history
        self.assertEqual(await self.messages.private_history("a", "bob", "ann"), [kept, after])
        self.assertEqual(await self.messages.group_history("a", 1), [])

    async def test_retract_refusals(self):
        message = await self.messages.add_message(chat("a", "ann", "bob"))
        await self.refused(self.messages.retract_message("a", message.id + 99),
                           errors.NO_SUCH_MESSAGE)
        await self.refused(self.messages.retract_message("b", message.id), errors.NO_SUCH_MESSAGE)
        self.assertIs((await self.messages.get_message("a", message.id)).retracted, False)
        await self.messages.retract_message("a", message.id)
        await self.refused(self.messages.retract_message("a", message.id),
                           errors.ALREADY_RETRACTED)
        self.assertIs((await self.messages.get_message("a", message.id)).retracted, True)

    async def test_retracted_messages_take_no_place_in_history_pages(self):
        stored = [await self.messages.add_message(group_chat("a", "ann", 5, str(i), i))
                  for i in range(6)]
        for gone in (stored[1], stored[4]):
            await self.messages.retract_message("a", gone.id)
        left = [stored[i] for i in (0, 2, 3, 5)]
        history = self.messages.group_history
        self.assertEqual(await history("a", 5), left)
        self.assertEqual(await history("a", 5, count=2), left[2:])
        self.assertEqual(await history("a", 5, offset=1, count=2), left[1:3])
        self.assertEqual(await history("a", 5, begin=1, end=4), left[1:3])
        more = await self.messages.add_message(group_chat("a", "ann", 5, "6", 6))
        self.assertEqual(await history("a", 5, count=3), left[2:] + [more])
        # retracted before it was indexed (with SQLite's index job every three messages, the
        # next two bring the index up to date past it)
        await self.messages.retract_message("a", more.id)
        newer = [await self.messages.add_message(group_chat("a", "ann", 5, str(i), i))
                 for i in (7, 8)]
        self.assertEqual(await history("a", 5), left + newer)
        self.assertEqual(await history("a", 5, count=3), left[3:] + newer)

    # history

    async def test_private_history_both_directions_only(self):
        wanted = [
            await self.messages.add_message(chat("a", "ann", "bob", "1", 1)),
            await self.messages.add_message(chat("a", "bob", "ann", "2", 2)),
        ]
        await self.messages.add_message(chat("a", "ann", "cid", "3", 3))
        await self.messages.add_message(chat("a", "bob", "bob", "4", 4))
        await self.messages.add_message(group_chat("a", "ann", "bob", "5", 5))
        await self.messages.add_message(chat("b", "ann", "bob", "6", 6))
        self.assertEqual(await self.messages.private_history("a", "ann", "bob"), wanted)
        self.assertEqual(await self.messages.private_history("a", "bob", "ann"), wanted)

    async def test_group_history_only_that_group(self):
        await self.messages.add_message(group_chat("a", "ann", 1, "1", 1))
        await self.messages.add_message(chat("a", "ann", "2", "2", 2))
        wanted = await self.messages.add_message(group_chat("a", "ann", 2, "3", 3))
        await self.messages.add_message(group_chat("b", "ann", 2, "4", 4))
        self.assertEqual(await self.messages.group_history("a", 2), [wanted])
        self.assertEqual(await self.messages.group_history("a", 3), [])

    async def test_group_history_of_another_apps_group(self):
        # a cross-app group's copies (jim.core.cross_groups): keyed by <appkey>:<gid>
        await self.messages.add_message(group_chat("a", "ann", 2, "ours", 1))
        wanted = await self.messages.add_message(group_chat("a", "B:bob", "B:2", "theirs", 2))
        self.assertEqual(await self.messages.group_history("a", "B:2"), [wanted])
        self.assertEqual(texts(await self.messages.group_history("a", 2)), ["ours"])
        found = await self.messages.message_by_client_id("a", "B:bob", "c1", GROUP, "B:2")
        self.assertIsNone(found)

    async def test_history_paging(self):
        stored = []
        for created in (10, 20, 20, 30, 40, 50):
            stored.append(await self.messages.add_message(group_chat("a", "ann", 9, "m", created)))
        history = self.messages.group_history
        self.assertEqual(await history("a", 9, count=2), stored[4:])
        self.assertEqual(await history("a", 9, offset=0, count=2), stored[:2])
        self.assertEqual(await history("a", 9, offset=5, count=2), stored[5:])
        self.assertEqual(await history("a", 9, offset=9, count=2), [])
        self.assertEqual(await history("a", 9, begin=20, end=40), stored[1:5])
        self.assertEqual(await history("a", 9, begin=20, end=40, count=2), stored[3:5])
        self.assertEqual(await history("a", 9, begin=20, offset=1, count=2), stored[2:4])
        self.assertEqual(await history("a", 9, count=0), [])
        await self.refused(history("a", 9, count=-1), errors.BAD_REQUEST)
        await self.refused(history("a", 9, offset=-1), errors.BAD_REQUEST)
        await self.refused(self.messages.private_history("a", "ann", "bob", count=-1),
                           errors.BAD_REQUEST)
        # numbers wider than 64 bits: SQLite cannot bind them, so no store takes them
        self.assertEqual(await history("a", 9, offset=MAX_INT64, count=MAX_INT64), [])
        self.assertEqual(await history("a", 9, begin=-(2**63), end=MAX_INT64), stored)
        for wide in ({"count": 2**63}, {"offset": 2**63}, {"begin": 2**63}, {"end": -(2**63) - 1}):
            await self.refused(history("a", 9, **wide), errors.BAD_REQUEST)

    async def test_history_orders_by_created_then_id(self):
        late = await self.messages.add_message(chat("a", "ann", "bob", "late", 200))
        early = await self.messages.add_message(chat("a", "bob", "ann", "early", 100))
        tie = await self.messages.add_message(chat("a", "ann", "bob", "tie", 200))
        self.assertEqual(await self.messages.private_history("a", "ann", "bob"), [early, late, tie])
        self.assertEqual(await self.messages.private_history("a", "ann", "bob", count=1), [tie])

    async def test_results_are_copies(self):
        message = await self.messages.add_message(chat("a", "ann", "bob"))
        (await self.messages.private_history("a", "ann", "bob")).clear()
        (await self.messages.group_history("a", 1)).append(message)
        self.assertEqual(await self.messages.private_history("a", "ann", "bob"), [message])
        self.assertEqual(await self.messages.group_history("a", 1), [])

    # properties

    async def test_history_matches_model(self):
        # (ann sends?, created, retracted afterwards?)
        message = st.tuples(st.booleans(), st.integers(0, 5), st.booleans())
        query = st.tuples(
            st.one_of(st.none(), st.integers(0, 5)),
            st.one_of(st.none(), st.integers(0, 5)),
            st.one_of(st.none(), st.integers(0, 12)),
            st.integers(0, 12),
        )

        @settings(max_examples=self.property_examples)
        @given(st.lists(message, max_size=12), st.lists(query, min_size=1, max_size=4))
        def check(messages, queries):
            app = self.fresh_app()
            sent = [chat(app, *(("ann", "bob") if by_ann else ("bob", "ann")), "m", created)
                    for by_ann, created, _ in messages]
            # Noise that must never show up: another conversation, another app.
            noise = [chat(app, "ann", "cid", "x", 1), chat(app + "-other", "ann", "bob", "x", 1)]
            calls = [(self.messages.add_message, m) for m in sent + noise]
            stored = self.blocking(self.in_one_turn, calls)[: len(sent)]  # one SQLite commit
            for kept, (_, _, retract) in zip(stored, messages):
                if retract:
                    self.blocking(self.messages.retract_message, app, kept.id)
            ordered = sorted((m for m, (_, _, retract) in zip(stored, messages) if not retract),
                             key=lambda m: (m.created, m.id))
            for begin, end, offset, count in queries:
                in_range = [m for m in ordered if (begin is None or m.created >= begin)
                            and (end is None or m.created <= end)]
                if offset is None:
                    wanted = in_range[max(0, len(in_range) - count):] if count else []
                else:
                    wanted = in_range[offset : offset + count]
                got = self.blocking(self.messages.private_history, app, "bob", "ann",
                                    begin=begin, end=end, offset=offset, count=count)
                self.assertEqual(got, wanted)

        await self.run_property(check)

    async def test_bodies_round_trip(self):
        text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
        scalars = (st.none() | st.booleans() | st.integers(-(2**63), MAX_INT64)
                   | st.floats(allow_nan=False, allow_infinity=False) | text)
        values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                              | st.dictionaries(text, inner, max_size=3), max_leaves=10)
        bodies = st.dictionaries(text, values, max_size=4)

        @settings(max_examples=self.property_examples)
        @given(st.lists(bodies, min_size=1, max_size=3))
        def check(sent):
            app = self.fresh_app()
            calls = [(self.messages.add_message,
                      Message(0, app, "ann", SINGLE, "bob", CUSTOM, body))
                     for body in sent]
            stored = self.blocking(self.in_one_turn, calls)
            self.assertEqual([exactly(m.body) for m in stored], [exactly(b) for b in sent])
            history = self.blocking(self.messages.private_history, app, "bob", "ann")
            self.assertEqual([exactly(m.body) for m in history], [exactly(b) for b in sent])
            for message, body in zip(stored, sent):
                got = self.blocking(self.messages.get_message, app, message.id)
                self.assertEqual(exactly(got.body), exactly(body))

        await self.run_property(check)


class MemoryMessagesTests(MessagesContract, OnMemory, unittest.TestCase):
    pass


class SqliteMessagesTests(MessagesContract, OnSqlite, unittest.TestCase):
    pass


class SqliteIndexTailMessagesTests(MessagesContract, OnSqliteIndexTail, unittest.TestCase):
    pass


class RedisMessagesTests(MessagesContract, OnRedis, unittest.TestCase):
    reserves_ids = False
