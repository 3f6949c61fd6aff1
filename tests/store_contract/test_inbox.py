"""The contract of the inbox area (IInboxStore): device cursors, and each user's inbox read from
the message log, for every store (SQLite twice: the second time with its conversation index
brought up to date every three messages, so that reads mix indexed messages with the tail)."""
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim import errors
from jim.cursors import Cursor, canonical, group_conversation, private_conversation
from jim.interfaces import IInboxStore
from jim.model import GROUP, SINGLE, TEXT, Message
from tests.store_contract.base import (
    ContractCase, OnMemory, OnRedis, OnSqlite, OnSqliteIndexTail,
)

ANN_BOB = private_conversation("ann", "bob")


def chat(app, sender, target, text, created=1000, **fields):
    return Message(0, app, sender, SINGLE, target, TEXT, {"text": text}, None, None, created,
                   **fields)


def group_chat(app, sender, gid, text, created=1000):
    return Message(0, app, sender, GROUP, str(gid), TEXT, {"text": text}, None, None, created)


def texts(messages):
    return [message.body["text"] for message in messages]


class InboxContract(ContractCase):
    def setUp(self):
        opened = super().setUp()
        opened.addCallback(lambda _: setattr(self, "inbox", self.store.inbox))
        return opened

    async def send(self, *messages):
        """Append each message; the stored ones, in order."""
        return [await self.store.messages.add_message(m) for m in messages]

    def test_provides_the_interface(self):
        self.assertTrue(verifyObject(IInboxStore, self.inbox))

    # last_message_id

    async def test_last_message_id_follows_the_appends(self):
        self.assertEqual(await self.inbox.last_message_id("a"), 0)
        first, second = await self.send(chat("a", "ann", "bob", "1"), chat("a", "bob", "ann", "2"))
        self.assertGreaterEqual(await self.inbox.last_message_id("a"), second.id)
        self.assertGreater(second.id, first.id)
        [third] = await self.send(chat("a", "ann", "bob", "3"))
        self.assertGreater(third.id, second.id)
        self.assertGreaterEqual(await self.inbox.last_message_id("a"), third.id)

    # cursors

    async def test_a_device_without_a_cursor_has_none(self):
        self.assertEqual(await self.inbox.cursors("a", "ann"), {})

    async def test_move_cursor_merges_and_keeps(self):
        moved = await self.inbox.move_cursor("a", "ann", "j:laptop", Cursor(5, seen=100))
        self.assertEqual(moved, Cursor(5, seen=100))
        moved = await self.inbox.move_cursor(
            "a", "ann", "j:laptop", Cursor(3, (("g:1", 9),), ((12, 15),), seen=50))
        self.assertEqual(moved, Cursor(5, (("g:1", 9),), ((12, 15),), seen=100))
        moved = await self.inbox.move_cursor(
            "a", "ann", "j:laptop", Cursor(0, (("g:1", 20), (ANN_BOB, 7)), ((9, 13),), seen=200))
        self.assertEqual(moved, Cursor(5, (("g:1", 20), (ANN_BOB, 7)), ((9, 15),), seen=200))
        await self.inbox.move_cursor("a", "ann", "a:phone", Cursor(2, seen=300))
        self.assertEqual(await self.inbox.cursors("a", "ann"),
                         {"j:laptop": moved, "a:phone": Cursor(2, seen=300)})

    async def test_cursors_are_per_app_and_user(self):
        await self.inbox.move_cursor("a", "ann", "j:", Cursor(5))
        await self.inbox.move_cursor("b", "ann", "j:", Cursor(7))
        await self.inbox.move_cursor("a", "bob", "j:", Cursor(9))
        self.assertEqual(await self.inbox.cursors("a", "ann"), {"j:": Cursor(5)})
        self.assertEqual(await self.inbox.cursors("b", "ann"), {"j:": Cursor(7)})
        self.assertEqual(await self.inbox.cursors("a", "bob"), {"j:": Cursor(9)})

    async def test_device_keys_and_conversation_keys_of_any_text(self):
        device = "w:~ é\x00:{x}\n"
        key = private_conversation("ä:\x00", "b b")
        await self.inbox.move_cursor("a", "ü ser\x00", device, Cursor(1, ((key, 4),)))
        self.assertEqual(await self.inbox.cursors("a", "ü ser\x00"),
                         {device: Cursor(1, ((key, 4),))})

    async def test_moves_in_one_turn_lose_nothing(self):
        moved = await self.in_one_turn([
            (self.inbox.move_cursor, "a", "ann", "j:", Cursor(0, spans=((10, 20),))),
            (self.inbox.move_cursor, "a", "ann", "j:", Cursor(0, spans=((30, 40),))),
            (self.inbox.move_cursor, "a", "ann", "j:", Cursor(3)),
        ])
        self.assertEqual(moved[-1], Cursor(3, spans=((10, 20), (30, 40))))
        self.assertEqual(await self.inbox.cursors("a", "ann"), {"j:": moved[-1]})

    async def test_forget_cursors_seen_before(self):
        await self.inbox.move_cursor("a", "ann", "j:old", Cursor(1, seen=100))
        await self.inbox.move_cursor("a", "ann", "j:new", Cursor(1, seen=300))
        await self.inbox.move_cursor("b", "bob", "j:old", Cursor(1, seen=199))
        await self.inbox.move_cursor("b", "cid", "j:", Cursor(1, seen=200))
        self.assertEqual(await self.inbox.forget_cursors(200), 2)
        self.assertEqual(await self.inbox.cursors("a", "ann"), {"j:new": Cursor(1, seen=300)})
        self.assertEqual(await self.inbox.cursors("b", "bob"), {})
        self.assertEqual(await self.inbox.cursors("b", "cid"), {"j:": Cursor(1, seen=200)})
        self.assertEqual(await self.inbox.forget_cursors(200), 0)

    # reading

    async def test_a_users_inbox_is_their_conversations_in_id_order(self):
        sent = await self.send(
            chat("a", "bob", "ann", "bob to ann"),
            group_chat("a", "cid", 1, "in 1"),
            chat("a", "ann", "cid", "ann to cid"),  # her own sends are in her inbox too
            chat("a", "bob", "cid", "not hers"),
            group_chat("a", "bob", 2, "in 2, not hers"),
            chat("b", "bob", "ann", "another app's"),
            chat("a", "ann", "ann", "to herself"),
        )
        read = await self.inbox.read("a", "ann", [1], Cursor())
        self.assertEqual(texts(read), ["bob to ann", "in 1", "ann to cid", "to herself"])
        self.assertEqual([m.id for m in read], sorted(m.id for m in read))
        self.assertEqual(read[0], sent[0])
        self.assertEqual(texts(await self.inbox.read("a", "ann", [1, 2], Cursor())),
                         ["bob to ann", "in 1", "ann to cid", "in 2, not hers", "to herself"])
        self.assertEqual(texts(await self.inbox.read("a", "nobody", [], Cursor())), [])

    async def test_another_apps_group_is_a_conversation_by_its_qualified_gid(self):
        # a cross-app group's copies (jim.core.cross_groups): the target is <appkey>:<gid>,
        # apart from the app's own group of the same gid
        await self.send(group_chat("a", "B:bob", "B:1", "theirs"),
                        group_chat("a", "cid", 1, "ours"),
                        group_chat("a", "B:bob", "C:1", "another app's"))
        self.assertEqual(texts(await self.inbox.read("a", "ann", ["B:1"], Cursor())), ["theirs"])
        self.assertEqual(texts(await self.inbox.read("a", "ann", [1, "B:1"], Cursor())),
                         ["theirs", "ours"])
        self.assertEqual(texts(await self.inbox.read("a", "ann", [], Cursor(), gid="B:1")),
                         ["theirs"])

    async def test_one_conversation(self):
        await self.send(
            chat("a", "bob", "ann", "b1"), chat("a", "ann", "bob", "a1"),
            chat("a", "cid", "ann", "c1"), group_chat("a", "cid", 1, "g1"),
            group_chat("a", "cid", 2, "g2"),
        )
        self.assertEqual(texts(await self.inbox.read("a", "ann", [1], Cursor(), peer="bob")),
                         ["b1", "a1"])
        self.assertEqual(texts(await self.inbox.read("a", "ann", [1], Cursor(), gid=2)), ["g2"])
        self.assertEqual(texts(await self.inbox.read("a", "ann", [], Cursor(), peer="dan")), [])

    async def test_what_the_cursor_consumed_is_left_out(self):
        b1, a1, g1, b2, g2, b3 = await self.send(
            chat("a", "bob", "ann", "b1"), chat("a", "ann", "bob", "a1"),
            group_chat("a", "cid", 1, "g1"), chat("a", "bob", "ann", "b2"),
            group_chat("a", "cid", 1, "g2"), chat("a", "bob", "ann", "b3"),
        )
        read = self.inbox.read
        self.assertEqual(texts(await read("a", "ann", [1], Cursor(a1.id))),
                         ["g1", "b2", "g2", "b3"])
        self.assertEqual(texts(await read("a", "ann", [1], Cursor(0, ((ANN_BOB, b2.id),)))),
                         ["g1", "g2", "b3"])
        self.assertEqual(texts(await read("a", "ann", [1], Cursor(0, spans=((a1.id, b2.id),)))),
                         ["b1", "a1", "g2", "b3"])
        cursor = canonical(b1.id, ((group_conversation(1), g2.id),), ((g2.id, b3.id),))
        self.assertEqual(texts(await read("a", "ann", [1], cursor)), ["a1", "b2"])
        self.assertEqual(texts(await read("a", "ann", [1], Cursor(), after=g1.id)),
                         ["b2", "g2", "b3"])

    async def test_left_out_retracted_no_offline_and_too_old(self):
        old, kept, gone, quiet = await self.send(
            chat("a", "bob", "ann", "old", created=500),
            chat("a", "bob", "ann", "kept", created=1000),
            chat("a", "bob", "ann", "retracted", created=1000),
            chat("a", "bob", "ann", "no offline", created=1000, no_offline=True),
        )
        await self.store.messages.retract_message("a", gone.id)
        self.assertEqual(texts(await self.inbox.read("a", "ann", [], Cursor(), since=501)),
                         ["kept"])
        self.assertEqual(texts(await self.inbox.read("a", "ann", [], Cursor(), since=500)),
                         ["old", "kept"])

    async def test_limit_takes_the_oldest(self):
        await self.send(*[chat("a", "bob", "ann", f"b{n}") for n in range(3)],
                        *[group_chat("a", "cid", 1, f"g{n}") for n in range(3)])
        self.assertEqual(texts(await self.inbox.read("a", "ann", [1], Cursor(), limit=4)),
                         ["b0", "b1", "b2", "g0"])
        self.assertEqual(await self.inbox.read("a", "ann", [1], Cursor(), limit=0), [])

    async def test_only_the_latest_of_each_conversation(self):
        sent = await self.send(*[chat("a", "bob", "ann", f"b{n}") for n in range(5)],
                               *[group_chat("a", "cid", 1, f"g{n}") for n in range(3)])
        await self.store.messages.retract_message("a", sent[4].id)  # still counted
        read = await self.inbox.read("a", "ann", [1], Cursor(), per_conversation=2)
        self.assertEqual(texts(read), ["b3", "g1", "g2"])
        self.assertEqual(await self.inbox.read("a", "ann", [1], Cursor(), per_conversation=0), [])

    async def test_no_window_reads_every_message_above_the_cursor(self):
        """C{per_conversation=None}: every message of a conversation the cursor has not
        consumed, however many (the Redis store reads its lists back a page of 100 at a
        time, from the end to the cursor)."""
        sent = await self.send(*[chat("a", "bob", "ann", f"b{n}") for n in range(250)],
                               group_chat("a", "cid", 1, "g0"))
        read = await self.inbox.read("a", "ann", [1], Cursor(sent[19].id), limit=None,
                                     per_conversation=None)
        self.assertEqual(texts(read), [f"b{n}" for n in range(20, 250)] + ["g0"])
        read = await self.inbox.read("a", "ann", [1], Cursor(sent[19].id), limit=None,
                                     per_conversation=150)  # a window of more than a page
        self.assertEqual(texts(read), [f"b{n}" for n in range(100, 250)] + ["g0"])
        read = await self.inbox.read("a", "ann", [], Cursor(sent[199].id), limit=None,
                                     per_conversation=150)  # the cursor inside the window
        self.assertEqual(texts(read), [f"b{n}" for n in range(200, 250)])
        for floor in (sent[149].id, sent[150].id, sent[249].id):  # at a page's edge, the top
            read = await self.inbox.read("a", "ann", [], Cursor(floor), limit=None,
                                         per_conversation=None)
            self.assertEqual([m.id for m in read], [m.id for m in sent[:250] if m.id > floor])

    async def test_bad_limits_are_refused(self):
        for arguments in ({"limit": -1}, {"per_conversation": -1}, {"limit": 2**63}):
            await self.refused(self.inbox.read("a", "ann", [], Cursor(), **arguments),
                               errors.BAD_REQUEST)

    async def test_reads_match_the_model(self):
        """Random logs and cursors: a read is what L{Cursor.consumed} and the rules say."""
        users = ("ann", "bob", "cid")
        sends = st.lists(st.tuples(st.sampled_from(users), st.sampled_from(users + ("g1", "g2")),
                                   st.booleans()), max_size=12)

        @settings(max_examples=self.property_examples, deadline=None, derandomize=True)
        @given(sends, st.data())
        def check(plan, data):
            app = self.fresh_app()
            stored = []
            for n, (sender, target, quiet) in enumerate(plan):
                if target.startswith("g"):
                    message = group_chat(app, sender, int(target[1:]), str(n))
                else:
                    message = chat(app, sender, target, str(n), no_offline=quiet)
                stored.append(self.blocking(self.store.messages.add_message, message))
            # positions drawn as indices (the store's ids depend on the examples before)
            ids = [0] + [m.id for m in stored]
            point = st.integers(0, len(plan)).map(ids.__getitem__)
            floor = data.draw(point)
            spans = data.draw(st.lists(st.tuples(point, point), max_size=3))
            keys = st.sampled_from([ANN_BOB, private_conversation("ann", "cid"),
                                    group_conversation(1)])
            conversations = data.draw(st.lists(st.tuples(keys, point), max_size=3))
            cursor = canonical(floor, conversations, spans)
            gids = data.draw(st.lists(st.sampled_from([1, 2]), unique=True))
            per = data.draw(st.one_of(st.none(), st.integers(0, 4)))
            limit = data.draw(st.integers(0, 6))
            conversation_of = {}
            for m in stored:
                key = (group_conversation(m.target) if m.target_type == GROUP
                       else private_conversation(m.sender, m.target))
                conversation_of.setdefault(key, []).append(m)
            latest = {m.id for ms in conversation_of.values()
                      for m in (ms if per is None else ms[len(ms) - per:] if per else ())}
            expected = [
                m for m in stored
                if m.id in latest and not m.no_offline
                and (m.target_type == GROUP and int(m.target) in gids
                     or m.target_type == SINGLE and "ann" in (m.sender, m.target))
                and not cursor.consumed(m.id, group_conversation(m.target)
                                        if m.target_type == GROUP
                                        else private_conversation(m.sender, m.target))
            ][:limit]
            got = self.blocking(self.inbox.read, app, "ann", gids, cursor, limit=limit,
                                per_conversation=per)
            self.assertEqual(got, expected)

        await self.run_property(check)


class MemoryInboxTests(InboxContract, OnMemory, unittest.TestCase):
    pass


class RedisInboxTests(InboxContract, OnRedis, unittest.TestCase):
    pass


class SqliteInboxTests(InboxContract, OnSqlite, unittest.TestCase):
    pass


class SqliteIndexTailInboxTests(InboxContract, OnSqliteIndexTail, unittest.TestCase):
    pass
