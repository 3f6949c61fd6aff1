"""The contract of the report area (IReportStore): the message log read by time, app-wide, per
user, per group and per chat room, in pages after a position; the per-hour figures; the users'
and groups' creation histogram; the sweep. For every store (SQLite twice: the second time with
its index brought up to date every three messages, so that reads mix indexed messages with the
tail not indexed yet)."""
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim.interfaces import IReportStore
from jim.model import (
    CHATROOM, GROUP, IMAGE, SINGLE, TEXT, VOICE, Group, Member, Message, User,
)
from tests.store_contract.base import (
    ContractCase, OnMemory, OnRedis, OnSqlite, OnSqliteIndexTail,
)

HOUR = 3_600_000
#: a time well after the epoch, on an hour
T0 = 1_780_000_000_000 - 1_780_000_000_000 % HOUR


def message(app, sender, target_type, target, created, msg_type=TEXT, text="hi"):
    body = {"text": text} if msg_type == TEXT else {"media_id": "m", "media_crc32": 1}
    return Message(0, app, sender, target_type, str(target), msg_type, body, None, None, created)


def bodies(messages):
    return [(m.sender, m.target_type, m.target, m.created) for m in messages]


class ReportsContract(ContractCase):
    def setUp(self):
        opened = super().setUp()
        opened.addCallback(lambda _: setattr(self, "reports", self.store.reports))
        return opened

    async def add(self, *messages):
        stored = []
        for one in messages:
            stored.append(await self.store.messages.add_message(one))
        return stored

    async def all_pages(self, app, scope, begin, end, size):
        """Every page of a window, each after the last of the one before."""
        listed, after = [], None
        while True:
            page = await self.reports.report_messages(app, scope, begin, end, after, size)
            self.assertLessEqual(len(page), size)
            listed.extend(page)
            if len(page) < size:
                return listed
            after = (page[-1].created, page[-1].id)

    def test_provides_the_interface(self):
        self.assertTrue(verifyObject(IReportStore, self.reports))

    async def test_an_apps_messages_in_a_window_in_time_order(self):
        app = self.fresh_app()
        other = self.fresh_app()
        # stored out of time order: the report is in created order, then id
        await self.add(message(app, "ann", SINGLE, "bob", T0 + 500),
                       message(app, "bob", SINGLE, "ann", T0 + 100),
                       message(other, "ann", SINGLE, "bob", T0 + 200),
                       message(app, "cat", GROUP, 10_000_001, T0 + 500),
                       message(app, "cat", CHATROOM, 10_000_002, T0 + 1000),
                       message(app, "dan", SINGLE, "ann", T0 + 1001))
        listed = await self.reports.report_messages(app, None, T0 + 100, T0 + 1000, None, 10)
        self.assertEqual(bodies(listed), [("bob", SINGLE, "ann", T0 + 100),
                                          ("ann", SINGLE, "bob", T0 + 500),
                                          ("cat", GROUP, "10000001", T0 + 500),
                                          ("cat", CHATROOM, "10000002", T0 + 1000)])
        self.assertEqual(listed[0].body, {"text": "hi"})
        self.assertEqual(await self.reports.count_report_messages(app, None, T0 + 100, T0 + 1000),
                         4)
        page = await self.reports.report_messages(app, None, T0, T0 + 2000,
                                                  (listed[1].created, listed[1].id), 2)
        self.assertEqual(bodies(page), bodies(listed[2:4]))
        self.assertEqual(await self.reports.report_messages(other, None, T0, T0 + 99, None, 10),
                         [])

    async def test_a_users_scope_is_what_they_sent_and_their_private_messages(self):
        app = self.fresh_app()
        await self.add(message(app, "ann", SINGLE, "bob", T0 + 1),
                       message(app, "bob", SINGLE, "ann", T0 + 2),
                       message(app, "bob", SINGLE, "cat", T0 + 3),
                       message(app, "ann", GROUP, 10_000_001, T0 + 4),
                       message(app, "cat", GROUP, 10_000_001, T0 + 5),
                       message(app, "ann", SINGLE, "ann", T0 + 6),
                       message(app, "ann", CHATROOM, 10_000_002, T0 + 7))
        scope = ("user", "ann")
        listed = await self.reports.report_messages(app, scope, T0, T0 + 10, None, 10)
        self.assertEqual([m.created - T0 for m in listed], [1, 2, 4, 6, 7])
        self.assertEqual(await self.reports.count_report_messages(app, scope, T0, T0 + 10), 5)
        self.assertEqual(await self.reports.count_report_messages(app, ("user", "dan"), T0,
                                                                  T0 + 10), 0)

    async def test_a_group_and_a_chat_room_scope(self):
        app = self.fresh_app()
        await self.add(message(app, "ann", GROUP, 10_000_001, T0 + 1),
                       message(app, "bob", GROUP, 10_000_002, T0 + 2),
                       message(app, "bob", CHATROOM, 10_000_001, T0 + 3),
                       message(app, "cat", GROUP, 10_000_001, T0 + 4))
        group = await self.reports.report_messages(app, (GROUP, "10000001"), T0, T0 + 9,
                                                   None, 10)
        self.assertEqual([m.created - T0 for m in group], [1, 4])
        room = await self.reports.report_messages(app, (CHATROOM, "10000001"), T0, T0 + 9,
                                                  None, 10)
        self.assertEqual([m.created - T0 for m in room], [3])
        self.assertEqual(await self.reports.count_report_messages(app, (GROUP, "10000001"),
                                                                  T0 + 2, T0 + 9), 1)

    async def test_retracted_messages_are_left_out_of_every_scope(self):
        app = self.fresh_app()
        kept, gone, group_gone = await self.add(message(app, "ann", SINGLE, "bob", T0 + 1),
                                                message(app, "ann", SINGLE, "bob", T0 + 2),
                                                message(app, "ann", GROUP, 10_000_001, T0 + 3))
        await self.store.messages.retract_message(app, gone.id)
        await self.store.messages.retract_message(app, group_gone.id)
        for scope in (None, ("user", "ann"), ("user", "bob")):
            listed = await self.reports.report_messages(app, scope, T0, T0 + 9, None, 10)
            self.assertEqual([m.id for m in listed], [kept.id])
            self.assertEqual(await self.reports.count_report_messages(app, scope, T0, T0 + 9), 1)
        self.assertEqual(await self.reports.report_messages(app, (GROUP, "10000001"), T0,
                                                            T0 + 9, None, 10), [])

    async def test_hourly_counts_by_target_and_type(self):
        app = self.fresh_app()
        sent = await self.add(message(app, "ann", SINGLE, "bob", T0 + 1),
                              message(app, "ann", SINGLE, "bob", T0 + 2, IMAGE),
                              message(app, "bob", GROUP, 10_000_001, T0 + HOUR - 1),
                              message(app, "bob", GROUP, 10_000_001, T0 + HOUR, VOICE),
                              message(app, "bob", CHATROOM, 10_000_001, T0 + HOUR + 5),
                              message(self.fresh_app(), "x", SINGLE, "y", T0 + 3),
                              message(app, "ann", SINGLE, "bob", T0 + 3 * HOUR))
        await self.store.messages.retract_message(app, sent[0].id)  # it was sent: counted
        self.assertEqual(await self.reports.message_counts(app, T0, T0 + 3 * HOUR), {
            (T0, SINGLE, TEXT): 1, (T0, SINGLE, IMAGE): 1, (T0, GROUP, TEXT): 1,
            (T0 + HOUR, GROUP, VOICE): 1, (T0 + HOUR, CHATROOM, TEXT): 1})
        self.assertEqual(await self.reports.message_counts(app, T0 + HOUR, T0 + 4 * HOUR), {
            (T0 + HOUR, GROUP, VOICE): 1, (T0 + HOUR, CHATROOM, TEXT): 1,
            (T0 + 3 * HOUR, SINGLE, TEXT): 1})

    async def test_distinct_senders_groups_and_active_users(self):
        app = self.fresh_app()
        await self.add(message(app, "ann", SINGLE, "bob", T0 + 1),
                       message(app, "ann", GROUP, 10_000_001, T0 + 2),
                       message(app, "bob", GROUP, 10_000_001, T0 + HOUR),
                       message(app, "cat", GROUP, 10_000_002, T0 + 2 * HOUR),
                       message(app, "dan", CHATROOM, 10_000_003, T0 + 2 * HOUR))
        await self.reports.note_active(app, ["ann", "eve"], T0 + 10)
        await self.reports.note_active(app, ["ann"], T0 + HOUR + 10)
        await self.reports.note_active(self.fresh_app(), ["zed"], T0 + 10)
        count = self.reports.distinct_count
        self.assertEqual(await count(app, "sender", T0, T0 + 2 * HOUR), 2)
        self.assertEqual(await count(app, "sender", T0, T0 + 3 * HOUR), 4)
        self.assertEqual(await count(app, "group", T0, T0 + 3 * HOUR), 2)
        self.assertEqual(await count(app, "group", T0 + HOUR, T0 + 2 * HOUR), 1)
        self.assertEqual(await count(app, "active", T0, T0 + 2 * HOUR), 2)
        self.assertEqual(await count(app, "active", T0 + HOUR, T0 + 2 * HOUR), 1)
        self.assertEqual(await count(app, "active", T0 + 2 * HOUR, T0 + 3 * HOUR), 0)

    async def test_a_creation_histogram_of_the_current_users_and_groups(self):
        app = self.fresh_app()
        for name, ctime in (("ann", T0 - 5), ("bob", T0), ("cat", T0 + 10), ("dan", T0 + 20),
                            ("eve", T0 + 30)):
            await self.store.users.add_user(User(app, name, "h", ctime=ctime, mtime=ctime))
        await self.store.users.delete_user(app, "cat")
        await self.store.users.add_user(User(self.fresh_app(), "zed", "h", ctime=T0))
        self.assertEqual(await self.reports.created_histogram(app, "user", [T0, T0 + 25]),
                         [1, 2, 1])
        self.assertEqual(await self.reports.created_histogram(app, "user", [T0 + 100]), [4, 0])
        for gid, ctime in ((10_000_001, T0 + 1), (10_000_002, T0 + 2)):
            await self.store.groups.create_group(Group(app, gid, ctime=ctime, mtime=ctime),
                                                 [Member("ann")])
        self.assertEqual(await self.reports.created_histogram(app, "group", [T0, T0 + 2]),
                         [0, 1, 1])

    async def test_the_sweep_forgets_what_is_older(self):
        app = self.fresh_app()
        await self.add(message(app, "ann", SINGLE, "bob", T0 + 1),
                       message(app, "ann", GROUP, 10_000_001, T0 + 2),
                       message(app, "bob", SINGLE, "ann", T0 + 2 * HOUR))
        await self.reports.note_active(app, ["ann"], T0 + 1)
        await self.reports.note_active(app, ["bob"], T0 + 2 * HOUR)
        self.assertGreater(await self.reports.forget_reports(T0 + HOUR), 0)
        for scope in (None, ("user", "ann")):
            listed = await self.reports.report_messages(app, scope, T0, T0 + 3 * HOUR, None, 10)
            self.assertEqual([m.created for m in listed], [T0 + 2 * HOUR])
        self.assertEqual(await self.reports.message_counts(app, T0, T0 + 3 * HOUR),
                         {(T0 + 2 * HOUR, SINGLE, TEXT): 1})
        for what in ("sender", "active"):
            self.assertEqual(await self.reports.distinct_count(app, what, T0, T0 + 3 * HOUR), 1)
        self.assertEqual(await self.reports.distinct_count(app, "group", T0, T0 + 3 * HOUR), 0)
        # the log keeps the messages: a group's scope reads its history
        self.assertEqual(len(await self.reports.report_messages(
            app, (GROUP, "10000001"), T0, T0 + HOUR, None, 10)), 1)
        self.assertEqual(await self.reports.forget_reports(T0 + HOUR), 0)

    async def test_an_app_forgotten_leaves_no_report(self):
        app = self.fresh_app()
        await self.add(message(app, "ann", SINGLE, "bob", T0 + 1))
        await self.reports.note_active(app, ["ann"], T0 + 1)
        await self.store.forget_app(app)
        self.assertEqual(await self.reports.report_messages(app, None, T0, T0 + 9, None, 10), [])
        self.assertEqual(await self.reports.message_counts(app, T0, T0 + HOUR), {})
        for what in ("sender", "active"):
            self.assertEqual(await self.reports.distinct_count(app, what, T0, T0 + HOUR), 0)

    def test_pages_of_any_window_are_the_log_filtered_and_sorted(self):
        """Hypothesis: whatever the messages, windows and page sizes, the pages of a scope put
        end to end are exactly the log's messages of that scope and window, in (created, id)
        order, and their count is right."""
        users = st.sampled_from(["ann", "bob", "cat"])
        sends = st.lists(st.tuples(users, st.sampled_from([SINGLE, GROUP, CHATROOM]), users,
                                   st.integers(0, 40)), max_size=25)
        scopes = st.sampled_from([None, ("user", "ann"), ("user", "bob"), (GROUP, "7"),
                                  (CHATROOM, "7")])

        @settings(max_examples=self.property_examples, deadline=None)
        @given(sends, scopes, st.integers(0, 40), st.integers(0, 40), st.integers(1, 6))
        def check(sends, scope, begin, span, size):
            app = self.fresh_app()
            stored = []
            for sender, kind, peer, at in sends:
                target = peer if kind == SINGLE else "7"
                stored.append(self.blocking(self.store.messages.add_message,
                                            message(app, sender, kind, target, T0 + at)))
            low, high = T0 + begin, T0 + begin + span

            def in_scope(m):
                if scope is None:
                    return True
                if scope[0] == "user":
                    return m.sender == scope[1] or (m.target_type == SINGLE
                                                    and m.target == scope[1])
                return (m.target_type, m.target) == scope

            expected = sorted((m for m in stored if low <= m.created <= high and in_scope(m)),
                              key=lambda m: (m.created, m.id))
            listed = self.blocking(lambda: defer.ensureDeferred(
                self.all_pages(app, scope, low, high, size)))
            self.assertEqual([m.id for m in listed], [m.id for m in expected])
            self.assertEqual(self.blocking(self.reports.count_report_messages, app, scope, low,
                                           high), len(expected))

        return self.run_property(check)


class MemoryReportsTests(ReportsContract, OnMemory, unittest.TestCase):
    pass


class SqliteReportsTests(ReportsContract, OnSqlite, unittest.TestCase):
    pass


class SqliteIndexTailReportsTests(ReportsContract, OnSqliteIndexTail, unittest.TestCase):
    pass


class RedisReportsTests(ReportsContract, OnRedis, unittest.TestCase):
    pass
