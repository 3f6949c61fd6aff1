"""The report data of messages stored by a Redis jim older than its reports
(L{jim.store.redis_report_backfill}): given once, as the append script would have given it,
never twice, and never to a retracted message or one past the last sweep."""
from twisted.internet import defer, reactor
from twisted.trial import unittest

from jim.errors import SERVER_ERROR, JimError
from jim.metrics import Metrics
from jim.model import CHATROOM, GROUP, IMAGE, SINGLE
from jim.store import redis_report_backfill
from jim.store.redis import RedisStore
from jim.store.redis_keys import key
from jim.store.redis_report_backfill import BACKFILL, BACKFILLED, app_of, script_arguments
from jim.store.redis_reports import SWEPT_MARK
from tests.test_store_redis_reports import HOUR, T0, message, started_store

APPS = ("a", "b{x}%")


class BackfillTests(unittest.TestCase):
    def setUp(self):
        return defer.ensureDeferred(self._open())

    async def _open(self):
        self.store = await started_store(self)  # the start's own backfill over, on nothing
        self.client = self.store.client

    async def write(self, app):
        add = self.store.messages.add_message
        return [await add(message(app, "ann", SINGLE, "bob", T0 + 1)),
                await add(message(app, "bob", SINGLE, "ann", T0 + 2, IMAGE)),
                await add(message(app, "ann", GROUP, 7, T0 + 3)),
                await add(message(app, "cat", GROUP, 8, T0 + HOUR)),
                await add(message(app, "dan", CHATROOM, 9, T0 + HOUR + 5))]

    async def figures(self, app):
        """Everything the reports answer of C{app}'s two hours."""
        reports, end = self.store.reports, T0 + 2 * HOUR
        found = {"counts": await reports.message_counts(app, T0, end),
                 "all": [m.id for m in await reports.report_messages(app, None, T0, end,
                                                                      None, 100)]}
        for what in ("sender", "group"):
            found[what] = await reports.distinct_count(app, what, T0, end)
        for user in ("ann", "bob", "cat", "dan"):
            found[user] = [m.id for m in await reports.report_messages(
                app, ("user", user), T0, end, None, 100)]
        return found

    async def as_an_older_jim_left_it(self):
        """Every report key gone, and the mark: what a jim before the reports wrote."""
        cursor = "0"
        while True:
            cursor, names = await self.client.call("SCAN", cursor, "MATCH", "jim:*reports*",
                                                   "COUNT", 1000)
            if names:
                await self.client.call("DEL", *names)
            if str(cursor) == "0":
                return

    async def test_messages_of_an_older_jim_get_what_the_append_script_gives(self):
        written = {app: await self.write(app) for app in APPS}
        expected = {app: await self.figures(app) for app in APPS}
        self.assertEqual(len(expected["a"]["all"]), 5)
        await self.as_an_older_jim_left_it()
        self.assertEqual((await self.figures("a"))["counts"], {}, "nothing left to report")

        self.assertEqual(await redis_report_backfill.run(self.client, SWEPT_MARK),
                         sum(map(len, written.values())))
        for app in APPS:
            self.assertEqual(await self.figures(app), expected[app], app)
        self.assertIsNone(await redis_report_backfill.run(self.client, SWEPT_MARK),
                          "done once: the mark says so")

    async def test_run_again_it_counts_nothing_twice(self):
        await self.write("a")
        expected = await self.figures("a")
        await self.client.call("DEL", BACKFILLED)
        self.assertEqual(await redis_report_backfill.run(self.client, SWEPT_MARK), 0,
                         "every message has its share already")
        await self.as_an_older_jim_left_it()
        runs = [redis_report_backfill.run(self.client, SWEPT_MARK) for _ in range(2)]
        added = await defer.gatherResults([defer.ensureDeferred(run) for run in runs])
        self.assertEqual(sum(added), 5, "two walks at once: each message once")
        self.assertEqual(await self.figures("a"), expected)

    async def test_retracted_messages_and_those_before_the_sweep_are_left_out(self):
        early = await self.store.messages.add_message(message("a", "ann", SINGLE, "bob", T0 - 1))
        kept, retracted = await self.write("a"), await self.write("a")
        for stored in retracted:
            await self.store.messages.retract_message("a", stored.id)
        await self.as_an_older_jim_left_it()
        await self.store.reports.forget_reports(T0)  # a sweep: what was before T0 is past

        self.assertEqual(await redis_report_backfill.run(self.client, SWEPT_MARK), len(kept))
        found = await self.figures("a")
        self.assertEqual(sorted(found["all"]), sorted(m.id for m in kept))
        self.assertNotIn(early.id, found["all"])
        self.assertEqual(sum((await self.store.reports.message_counts(
            "a", T0 - HOUR, T0 + 2 * HOUR)).values()), len(kept))

    async def test_a_message_retracted_after_the_walk_read_it_gets_nothing(self):
        first = (await self.write("a"))[0]
        await self.as_an_older_jim_left_it()
        await self.store.messages.retract_message("a", first.id)
        # the walk read it before the retraction: the script finds it retracted
        keys, args = script_arguments("a", key("a", "messages"), [first])
        self.assertEqual(await self.client.run(BACKFILL, keys, args), 0)
        self.assertEqual(await self.store.reports.message_counts("a", T0, T0 + HOUR), {})

    async def test_a_start_backfills_in_the_background_once(self):
        await self.write("a")
        expected = await self.figures("a")
        await self.as_an_older_jim_left_it()
        # the same Redis, as a second node or a restart would start on it
        again = RedisStore(self.store.address, reactor, metrics=Metrics())
        await again.start()
        self.addCleanup(again.stop)
        await again.backfilled()
        self.assertEqual(await self.figures("a"), expected)
        self.assertEqual(await self.client.call("GET", BACKFILLED), "1")

    async def test_a_walk_that_fails_is_logged_and_left_for_the_next_start(self):
        await self.client.call("DEL", BACKFILLED)

        async def refused(client, swept_mark):
            raise JimError(SERVER_ERROR, "the store refused HSCAN: NOPERM")

        self.patch(redis_report_backfill, "run", refused)
        again = RedisStore(self.store.address, reactor, metrics=Metrics())
        await again.start()
        self.addCleanup(again.stop)
        await again.backfilled()
        (logged,) = self.flushLoggedErrors(JimError)
        self.assertIn("NOPERM", logged.value.detail)
        self.assertIsNone(await self.client.call("GET", BACKFILLED))

    def test_only_message_hashes_name_an_app(self):
        self.assertEqual(app_of("jim:{a}:messages"), "a")
        self.assertEqual(app_of("jim:{b%7Bx%7D%25}:messages"), "b{x}%")
        for name in ("jim:{a}:history:p:x:messages", "jim:{a}:message-ids", "jim:messages",
                     "jim:{a:messages", "other:{a}:messages"):
            self.assertIsNone(app_of(name), name)

