"""The contract of the event area (IEventStore): each user's events, kept with ids of the
message sequence, read from a device's cursor, forgotten by age; for every store."""
import attr
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim import errors, model
from jim.cursors import EVENTS, Cursor, canonical
from jim.interfaces import IEventStore
from jim.model import SINGLE, TEXT, Event, Message, UserCard
from tests.store_contract.base import (
    ContractCase, OnMemory, OnRedis, OnSqlite, OnSqliteIndexTail,
)


def chat(app, sender, target, text, created=1000):
    return Message(0, app, sender, SINGLE, target, TEXT, {"text": text}, None, None, created)


def event(app="a", kind=model.MEMBERS_ADDED, created=1000, **fields):
    return Event(kind, app, id=123456789, created=created, **fields)


def kinds(events):
    return [(e.kind, e.description) for e in events]


class EventsContract(ContractCase):
    def setUp(self):
        opened = super().setUp()
        opened.addCallback(lambda _: setattr(self, "events", self.store.events))
        return opened

    async def keep(self, audience, **fields):
        return await self.events.add_event(event(**fields), audience)

    def test_provides_the_interface(self):
        self.assertTrue(verifyObject(IEventStore, self.events))

    async def test_an_event_comes_back_whole_with_its_id(self):
        sent = event(actor="ann", gid=10001, users=[UserCard("bob", "Bob", "a.png", "hi", True,
                                                             "ws"), UserCard("cid")],
                     group_name="g ü", new_owner="bob", message_ids=[3, 4], flag=False,
                     target_type=model.GROUP, target="10001", description="why\x00")
        kept = await self.events.add_event(sent, ["bob", "cid"])
        self.assertTrue(kept.kept)
        self.assertNotEqual(kept.id, sent.id)
        self.assertEqual(kept, attr.evolve(sent, id=kept.id, kept=True))
        self.assertEqual(await self.events.read_events("a", "bob", Cursor()), [kept])
        self.assertEqual(await self.events.read_events("a", "cid", Cursor()), [kept])
        self.assertEqual(await self.events.read_events("a", "ann", Cursor()), [])
        self.assertEqual(await self.events.read_events("b", "bob", Cursor()), [])

    async def test_ids_come_from_the_message_sequence(self):
        first = await self.store.messages.add_message(chat("a", "ann", "bob", "1"))
        kept = await self.keep(["ann"])
        second = await self.store.messages.add_message(chat("a", "ann", "bob", "2"))
        self.assertLess(first.id, kept.id)
        self.assertLess(kept.id, second.id)
        self.assertGreaterEqual(await self.store.inbox.last_message_id("a"), second.id)
        later = await self.keep(["ann"])
        self.assertGreater(later.id, second.id)
        self.assertGreaterEqual(await self.store.inbox.last_message_id("a"), later.id)

    async def test_events_added_in_one_turn_keep_their_order(self):
        kept = await self.in_one_turn([
            (self.events.add_event, event(description=str(n)), ["ann"]) for n in range(5)])
        self.assertEqual([e.id for e in kept], sorted(e.id for e in kept))
        self.assertEqual(kinds(await self.events.read_events("a", "ann", Cursor())),
                         kinds(kept))

    async def test_what_the_cursor_consumed_is_left_out(self):
        e = [await self.keep(["ann"], description=str(n)) for n in range(5)]
        read = self.events.read_events
        self.assertEqual(kinds(await read("a", "ann", Cursor(e[1].id))), kinds(e[2:]))
        self.assertEqual(kinds(await read("a", "ann", Cursor(0, ((EVENTS, e[2].id),)))),
                         kinds(e[3:]))
        self.assertEqual(kinds(await read("a", "ann", Cursor(0, spans=((e[0].id, e[2].id),)))),
                         kinds([e[0], e[3], e[4]]))
        cursor = canonical(e[0].id, (), ((e[1].id, e[2].id),))
        self.assertEqual(kinds(await read("a", "ann", cursor)), kinds([e[1], e[3], e[4]]))
        self.assertEqual(kinds(await read("a", "ann", Cursor(), after=e[3].id)), kinds(e[4:]))
        # another conversation's entry consumes none of them
        self.assertEqual(kinds(await read("a", "ann", Cursor(0, (("g:1", e[4].id),)))),
                         kinds(e))

    async def test_limits_and_the_latest_per_user(self):
        e = [await self.keep(["ann"], description=str(n)) for n in range(5)]
        read = self.events.read_events
        self.assertEqual(kinds(await read("a", "ann", Cursor(), limit=2)), kinds(e[:2]))
        self.assertEqual(kinds(await read("a", "ann", Cursor(), per_user=2)), kinds(e[3:]))
        self.assertEqual(kinds(await read("a", "ann", Cursor(), per_user=None, limit=None)),
                         kinds(e))
        self.assertEqual(await read("a", "ann", Cursor(), limit=0), [])
        self.assertEqual(await read("a", "ann", Cursor(), per_user=0), [])

    async def test_too_old_is_left_out_and_forgotten(self):
        old = await self.keep(["ann", "bob"], created=500, description="old")
        new = await self.keep(["ann"], app="a", created=1500, description="new")
        other = await self.keep(["ann"], app="b", created=400, description="other app")
        self.assertEqual(kinds(await self.events.read_events("a", "ann", Cursor(), since=501)),
                         kinds([new]))
        self.assertEqual(await self.events.forget_events(501), 2)
        self.assertEqual(kinds(await self.events.read_events("a", "ann", Cursor())),
                         kinds([new]))
        self.assertEqual(await self.events.read_events("a", "bob", Cursor()), [])
        self.assertEqual(await self.events.read_events("b", "ann", Cursor()), [])
        self.assertEqual(await self.events.forget_events(501), 0)
        # forgetting takes nothing from the sequence: the next ids are still higher
        later = await self.keep(["bob"])
        self.assertGreater(later.id, max(old.id, new.id))
        self.assertEqual(other.app, "b")

    async def test_usernames_of_any_text(self):
        name = "ü ser\x00:{x}\n"
        kept = await self.keep([name, "ü"])
        self.assertEqual(await self.events.read_events("a", name, Cursor()), [kept])
        self.assertEqual(await self.events.forget_events(2000), 1)
        self.assertEqual(await self.events.read_events("a", name, Cursor()), [])

    async def test_bad_events_and_limits_are_refused(self):
        await self.refused(self.events.add_event(event(), []), errors.BAD_REQUEST)
        await self.refused(self.events.add_event(event(), ["ann", "ann"]), errors.BAD_REQUEST)
        await self.refused(self.events.add_event(event(kind=model.USER_ONLINE), ["ann"]),
                           errors.BAD_REQUEST)
        for arguments in ({"limit": -1}, {"per_user": -1}, {"limit": 2**63}):
            await self.refused(self.events.read_events("a", "ann", Cursor(), **arguments),
                               errors.BAD_REQUEST)

    async def test_reads_match_the_model(self):
        """Random events and cursors: a read is what L{Cursor.consumed} and the rules say."""
        users = ("ann", "bob", "cid")
        plans = st.lists(st.tuples(st.sets(st.sampled_from(users), min_size=1),
                                   st.integers(0, 3)), max_size=10)

        @settings(max_examples=self.property_examples, deadline=None, derandomize=True)
        @given(plans, st.data())
        def check(plan, data):
            app = self.fresh_app()
            kept = [(self.blocking(self.events.add_event,
                                   event(app, created=1000 + age, description=str(n)),
                                   sorted(audience)), audience)
                    for n, (audience, age) in enumerate(plan)]
            ids = [e.id for e, _ in kept]
            some_ids = st.sampled_from(ids) if ids else st.just(0)
            floor = data.draw(st.just(0) | some_ids)
            spans = data.draw(st.lists(st.tuples(some_ids, some_ids), max_size=2))
            cursor = canonical(floor, (), spans)
            since = data.draw(st.integers(999, 1004))
            limit = data.draw(st.none() | st.integers(0, 4))
            per_user = data.draw(st.none() | st.integers(0, 4))
            for user in users:
                mine = [e for e, audience in kept if user in audience]
                if per_user is not None:
                    mine = mine[-per_user:] if per_user else []
                expected = [e for e in mine
                            if not cursor.consumed(e.id, EVENTS) and e.created >= since]
                if limit is not None:
                    expected = expected[:limit]
                got = self.blocking(self.events.read_events, app, user, cursor, since=since,
                                    limit=limit, per_user=per_user)
                self.assertEqual(got, expected)

        await self.run_property(check)


class MemoryEventsTests(EventsContract, OnMemory, unittest.TestCase):
    pass


class RedisEventsTests(EventsContract, OnRedis, unittest.TestCase):
    pass


class SqliteEventsTests(EventsContract, OnSqlite, unittest.TestCase):
    pass


class SqliteIndexTailEventsTests(EventsContract, OnSqliteIndexTail, unittest.TestCase):
    pass
