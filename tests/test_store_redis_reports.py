"""What the report contract (tests/store_contract/test_reports.py) cannot see of RedisStore's
report area: the figures of many messages written by one append script, sweeps and reads
larger than one batch, a user's scope merged from their index and their private histories, and
report keys told apart from keys that only look like them."""
from twisted.internet import defer, reactor
from twisted.python.failure import Failure
from twisted.trial import unittest

from jim.metrics import Metrics
from jim.model import (
    CHATROOM, GROUP, IMAGE, MAX_INT64, SINGLE, TEXT, Group, Member, Message, User,
)
from jim.redis.address import parse as parse_redis
from jim.store import redis_reports
from jim.store.redis import RedisStore
from jim.store.redis_keys import key
from jim.store.redis_reports import _report_key
from tests.support.redis_server import empty_redis

HOUR = 3_600_000
T0 = 1_780_000_000_000 - 1_780_000_000_000 % HOUR


def message(app, sender, target_type, target, created, msg_type=TEXT, **fields):
    body = {"text": "hi"} if msg_type == TEXT else {"media_id": "m", "media_crc32": 1}
    return Message(0, app, sender, target_type, str(target), msg_type, body, None, None,
                   created, **fields)


async def started_store(testcase):
    """A RedisStore on an emptied Redis, stopped at the end of the test, once its start's
    report backfill is over (its commands are not the ones a test counts)."""
    store = RedisStore(parse_redis(empty_redis()), reactor, metrics=Metrics())
    await store.start()
    testcase.addCleanup(store.stop)
    await store.backfilled()
    return store


class RedisReportsTests(unittest.TestCase):
    def setUp(self):
        return defer.ensureDeferred(self._open())

    async def _open(self):
        self.store = await started_store(self)
        self.reports = self.store.reports

    def in_one_script(self, *messages):
        """Append every message in this reactor turn: one append script per app."""
        return defer.gatherResults([self.store.messages.add_message(m) for m in messages])

    async def test_one_script_of_many_messages_counts_each_once(self):
        stored = await self.in_one_script(
            message("a", "ann", SINGLE, "bob", T0 + 3),
            message("a", "ann", SINGLE, "bob", T0 + 1),
            message("a", "bob", SINGLE, "ann", T0 + 2, IMAGE),
            message("a", "ann", GROUP, 7, T0 + 4),
            message("a", "cat", GROUP, 7, T0 + 5),
            message("a", "cat", GROUP, 8, T0 + HOUR),
            message("a", "dan", CHATROOM, 9, T0 + HOUR, retracted=True),
            message("b", "ann", SINGLE, "bob", T0 + 1))
        self.assertEqual(await self.reports.message_counts("a", T0, T0 + 2 * HOUR), {
            (T0, SINGLE, TEXT): 2, (T0, SINGLE, IMAGE): 1, (T0, GROUP, TEXT): 2,
            (T0 + HOUR, GROUP, TEXT): 1, (T0 + HOUR, CHATROOM, TEXT): 1})
        count = self.reports.distinct_count
        self.assertEqual(await count("a", "sender", T0, T0 + HOUR), 3)
        self.assertEqual(await count("a", "sender", T0, T0 + 2 * HOUR), 4)
        self.assertEqual(await count("a", "group", T0, T0 + 2 * HOUR), 2)
        listed = await self.reports.report_messages("a", None, T0, T0 + 2 * HOUR, None, 10)
        # the one appended retracted is counted (it was sent) but listed nowhere
        self.assertEqual([m.id for m in listed], [stored[i].id for i in (1, 2, 0, 3, 4, 5)])
        for user, expected in (("ann", [1, 2, 0, 3]), ("bob", [1, 2, 0]), ("dan", [])):
            listed = await self.reports.report_messages("a", ("user", user), T0, T0 + 2 * HOUR,
                                                        None, 10)
            self.assertEqual([m.id for m in listed], [stored[i].id for i in expected])

    async def test_an_id_not_above_the_last_adds_no_figure(self):
        first = await self.store.messages.add_message(message("a", "ann", SINGLE, "bob", T0))
        refused = defer.Deferred()
        self.store.messages.append_message_then(
            message("a", "ann", SINGLE, "bob", T0)._replace(id=first.id),
            lambda result: refused.callback([result]))
        (result,) = await refused
        self.assertIsInstance(result, Failure)
        self.assertEqual(await self.reports.message_counts("a", T0, T0 + HOUR),
                         {(T0, SINGLE, TEXT): 1})
        self.assertEqual(await self.reports.count_report_messages("a", None, T0, T0), 1)

    async def test_a_sweep_in_several_batches(self):
        self.patch(redis_reports, "FORGET_ENTRIES", 2)
        self.patch(redis_reports, "FORGET_HOURS", 1)
        for n in range(5):
            await self.store.messages.add_message(
                message("a", "ann", SINGLE, "bob", T0 + n * HOUR))
            await self.store.messages.add_message(message("a", "ann", GROUP, 7, T0 + n * HOUR))
        await self.reports.note_active("a", ["ann", "bob"], T0)
        # the log's 6, ann's 3 (her group messages); 3 hours of two counts, a sender and a
        # group, one of 2 active
        self.assertEqual(await self.reports.forget_reports(T0 + 3 * HOUR), 9 + 12 + 2)
        for user, expected in (("bob", [3, 4]), ("ann", [3, 3, 4, 4])):
            listed = await self.reports.report_messages("a", ("user", user), T0, T0 + 9 * HOUR,
                                                        None, 10)
            self.assertEqual([m.created for m in listed], [T0 + n * HOUR for n in expected])
            self.assertEqual(await self.reports.count_report_messages(
                "a", ("user", user), T0, T0 + 9 * HOUR), len(expected))
        self.assertEqual(await self.reports.message_counts("a", T0, T0 + 9 * HOUR), {
            (T0 + 3 * HOUR, SINGLE, TEXT): 1, (T0 + 4 * HOUR, SINGLE, TEXT): 1,
            (T0 + 3 * HOUR, GROUP, TEXT): 1, (T0 + 4 * HOUR, GROUP, TEXT): 1})
        self.assertEqual(await self.reports.forget_reports(T0 + 3 * HOUR), 0)

    async def test_a_sweep_done_is_not_done_again(self):
        await self.store.messages.add_message(message("a", "ann", GROUP, 7, T0))
        self.assertEqual(await self.reports.forget_reports(T0 + HOUR), 1 + 1 + 3)
        # a message appended after it, of an older time, waits for a sweep of a later time
        await self.store.messages.add_message(message("a", "bob", GROUP, 7, T0 + 1))
        scans = []
        call = self.store.client.call
        self.patch(self.store.client, "call", lambda *args: scans.append(args[0]) or call(*args))
        self.assertEqual(await self.reports.forget_reports(T0 + HOUR), 0)
        self.assertEqual(await self.reports.forget_reports(T0), 0)
        self.assertNotIn("SCAN", scans)
        self.assertEqual(await self.reports.forget_reports(T0 + 2 * HOUR), 1 + 1 + 3)
        self.assertEqual(await self.reports.report_messages("a", None, T0, T0 + HOUR, None, 9),
                         [])

    async def test_an_app_key_with_braces_is_swept(self):
        app = "{x}%7B"
        await self.store.messages.add_message(message(app, "ann", GROUP, 7, T0))
        await self.store.messages.add_message(message("x", "ann", SINGLE, "bob", T0 + HOUR))
        # the log's and ann's entries; the hour's count, sender and group
        self.assertEqual(await self.reports.forget_reports(T0 + 1), 2 + 3)
        self.assertEqual(await self.reports.message_counts(app, T0, T0 + HOUR), {})
        self.assertEqual(await self.reports.count_report_messages("x", None, T0, T0 + HOUR), 1)

    def test_keys_that_only_look_like_report_keys(self):
        self.assertEqual(_report_key(key("{a}%", "reports", "user", "ann")),
                         ("{a}%", "user:ann"))
        self.assertEqual(_report_key(key("a", "reports", "hours")), ("a", "hours"))
        self.assertIsNone(_report_key(key("a", "history", "s:7:reports:zed")))
        self.assertIsNone(_report_key(key(None, "reports", "x")))
        self.assertIsNone(_report_key("jim:{a:reports:x"))

    async def test_distinct_names_over_many_unions(self):
        self.patch(redis_reports, "UNION_HOURS", 2)
        for n in range(7):
            await self.reports.note_active("a", ["ann", f"u{n % 3}"], T0 + n * HOUR)
        self.assertEqual(await self.reports.distinct_count("a", "active", T0, T0 + 7 * HOUR), 4)
        self.assertEqual(
            await self.reports.distinct_count("a", "active", T0 + HOUR, T0 + 3 * HOUR), 3)

    async def test_a_histogram_of_more_than_a_chunk(self):
        self.patch(redis_reports, "CHUNK", 2)
        for n in range(7):
            await self.store.users.add_user(User("a", f"u{n}", "h", ctime=T0 + n,
                                                 admin=n % 3 == 0))
        await self.store.users.delete_user("a", "u4")
        self.assertEqual(await self.reports.created_histogram("a", "user", [T0 + 2, T0 + 5]),
                         [2, 2, 2])
        for n in range(5):
            await self.store.groups.create_group(Group("a", 0, ctime=T0 + n), [Member("u0")])
        self.assertEqual(await self.reports.created_histogram("a", "group", [T0 + 1]), [1, 4])

    async def test_the_extreme_times(self):
        low, high = -MAX_INT64 - 1, MAX_INT64
        await self.store.messages.add_message(message("a", "ann", SINGLE, "bob", low))
        await self.store.messages.add_message(message("a", "ann", SINGLE, "bob", high))
        listed = await self.reports.report_messages("a", None, low, high, None, 10)
        self.assertEqual([m.created for m in listed], [low, high])
        self.assertEqual(await self.reports.message_counts("a", low, high),
                         {(high - high % HOUR, SINGLE, TEXT): 1})
        # created before it: the first (the log's); both hours (a count, a sender)
        self.assertEqual(await self.reports.forget_reports(high), 1 + 2 * 2)
        for scope in (None, ("user", "ann")):
            listed = await self.reports.report_messages("a", scope, low, high, None, 10)
            self.assertEqual([m.created for m in listed], [high])
            self.assertEqual(await self.reports.count_report_messages("a", scope, low, high), 1)

    async def test_private_messages_enter_no_users_index(self):
        await self.in_one_script(message("a", "ann", SINGLE, "bob", T0),
                                 message("a", "ann", GROUP, 7, T0 + 1),
                                 message("a", "bob", CHATROOM, 9, T0 + 2),
                                 message("a", "cat", SINGLE, "cat", T0 + 3))
        zcard = self.store.client.call
        for user, entries in (("ann", 1), ("bob", 1), ("cat", 0)):
            self.assertEqual(await zcard("ZCARD", key("a", "reports", "user", user)), entries)
        # what they read of the histories instead
        for user, expected in (("ann", [0, 1]), ("bob", [0, 2]), ("cat", [3])):
            listed = await self.reports.report_messages("a", ("user", user), T0, T0 + 9, None, 9)
            self.assertEqual([m.created - T0 for m in listed], expected)

    async def test_a_users_pages_over_many_conversations(self):
        """Pages smaller than what each conversation and the index hold: each range reads at
        most a page, narrowed as it goes, and the pages put end to end are the whole scope."""
        sent = []
        for n in range(40):
            peer = f"u{n % 7}"
            if n % 5 == 0:
                sent.append(message("a", "ann", GROUP, 7, T0 + n % 11))
            elif n % 2:
                sent.append(message("a", "ann", SINGLE, peer, T0 + n % 11))
            else:
                sent.append(message("a", peer, SINGLE, "ann", T0 + n % 11))
        sent.append(message("a", "u1", SINGLE, "u2", T0 + 3))  # not ann's
        stored = await self.in_one_script(*sent)
        expected = sorted(stored[:40], key=lambda m: (m.created, m.id))
        scope = ("user", "ann")
        for size in (1, 2, 3, 8, 50):
            listed, after = [], None
            while True:
                page = await self.reports.report_messages("a", scope, T0 + 2, T0 + 9, after,
                                                           size)
                listed += page
                if len(page) < size:
                    break
                after = (page[-1].created, page[-1].id)
            self.assertEqual([m.id for m in listed],
                             [m.id for m in expected if 2 <= m.created - T0 <= 9])
        self.assertEqual(await self.reports.count_report_messages("a", scope, T0 + 2, T0 + 9),
                         len([m for m in expected if 2 <= m.created - T0 <= 9]))

    async def test_a_users_private_messages_start_at_the_last_sweep(self):
        await self.store.messages.add_message(message("a", "ann", SINGLE, "bob", T0 + 1))
        await self.store.messages.add_message(message("a", "ann", GROUP, 7, T0 + HOUR))
        # the log's entry; the first hour's count and sender
        self.assertEqual(await self.reports.forget_reports(T0 + HOUR), 1 + 2)
        # appended after the sweep, older than it: the log has it until the next sweep, a
        # user's scope reads no private history before the sweep's time
        await self.store.messages.add_message(message("a", "bob", SINGLE, "ann", T0))
        await self.store.messages.add_message(message("a", "bob", SINGLE, "ann", T0 + HOUR))
        scope, end = ("user", "ann"), T0 + 2 * HOUR
        listed = await self.reports.report_messages("a", scope, T0, end, None, 9)
        self.assertEqual([(m.sender, m.created) for m in listed],
                         [("ann", T0 + HOUR), ("bob", T0 + HOUR)])
        self.assertEqual(await self.reports.count_report_messages("a", scope, T0, end), 2)
        self.assertEqual(await self.reports.count_report_messages("a", None, T0, end), 3)
        # the history keeps them all
        history = await self.store.messages.private_history("a", "ann", "bob", count=9)
        self.assertEqual(len(history), 3)
