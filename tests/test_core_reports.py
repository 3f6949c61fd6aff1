"""The Reports service on a memory store and a Clock: windows checked and cut at the horizon,
cursors that continue a page, are the app's own and expire, active users noted once an hour in
batches, and the sweep."""
import attr
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.config import Limits
from jim.model import SINGLE, TEXT, Message
from tests.support.fakes import APP_KEY, ServiceCalls, make_core

DAY = 86_400_000
NOW = 1_800_000_000_000


class ReportsTests(SynchronousTestCase, ServiceCalls):
    def setUp(self):
        self.fixture = make_core(limits=attr.evolve(Limits(), report_days=10))
        self.fixture.clock.advance(NOW / 1000)
        self.reports = self.fixture.core.reports
        self.store = self.fixture.memory

    def add(self, created, text="hi"):
        return self.ok(self.store.messages.add_message(Message(
            0, APP_KEY, "ann", SINGLE, "bob", TEXT, {"text": text}, None, None, created)))

    def test_pages_follow_their_cursor_to_the_end(self):
        stored = [self.add(NOW - 1000 + n) for n in range(5)]
        page = self.ok(self.reports.messages(APP_KEY, None, NOW - DAY, NOW, 2))
        seen = list(page.messages)
        while page.cursor is not None:
            self.assertEqual(page.total, 5)
            page = self.ok(self.reports.next_page(APP_KEY, page.cursor, None))
            seen.extend(page.messages)
        self.assertEqual(seen, stored)

    def test_a_full_last_page_has_no_cursor(self):
        """Pages of 2 and of 6 over 6 messages: the page that ends them ends the paging, with
        no cursor to an empty page; a page of 7 is the only one."""
        stored = [self.add(NOW - 1000 + n) for n in range(6)]
        for count, pages in ((2, [stored[:2], stored[2:4], stored[4:]]), (6, [stored]),
                             (7, [stored])):
            page = self.ok(self.reports.messages(APP_KEY, None, NOW - DAY, NOW, count))
            seen = [page.messages]
            while page.cursor is not None:
                page = self.ok(self.reports.next_page(APP_KEY, page.cursor, None))
                seen.append(page.messages)
            self.assertEqual(seen, pages, count)

    def test_windows_are_checked(self):
        for begin, end, count in ((NOW, NOW - 1, 10), (NOW - 7 * DAY - 1000, NOW, 10),
                                  (NOW - 1, NOW, 0), (NOW - 1, NOW, 1001)):
            self.refused(self.reports.messages(APP_KEY, None, begin, end, count),
                         errors.BAD_REQUEST)
        self.ok(self.reports.messages(APP_KEY, None, NOW - 7 * DAY - 999, NOW, 1000))

    def test_what_is_older_than_the_horizon_is_not_read(self):
        self.add(NOW - 11 * DAY)
        kept = self.add(NOW - 9 * DAY)
        page = self.ok(self.reports.messages(APP_KEY, None, NOW - 12 * DAY, NOW - 5 * DAY, 10))
        self.assertEqual((page.total, page.messages), (1, [kept]))

    def test_a_cursor_is_of_one_app_unchanged_and_young(self):
        for n in range(3):
            self.add(NOW - 100 + n)
        cursor = self.ok(self.reports.messages(APP_KEY, None, NOW - DAY, NOW, 1)).cursor
        self.refused(self.reports.next_page("another", cursor, None), errors.NO_SUCH_APP)
        for bad in (cursor[:-1], cursor + "A", "", "%%%", cursor[::-1]):
            self.refused(self.reports.next_page(APP_KEY, bad, None), errors.BAD_REQUEST)
        # another question's route: refused (a user's cursor pages that user only)
        self.refused(self.reports.next_page(APP_KEY, cursor, ("user", "ann")),
                     errors.BAD_REQUEST)
        self.ok(self.reports.next_page(APP_KEY, cursor, None))
        self.fixture.clock.advance(121)
        self.refused(self.reports.next_page(APP_KEY, cursor, None), errors.BAD_REQUEST)

    def test_active_users_are_noted_once_an_hour_in_a_batch(self):
        calls = []
        real = self.store.reports.note_active
        self.store.reports.note_active = lambda *args: calls.append(args) or real(*args)
        for name in ("ann", "bob", "ann"):
            self.reports.logged_in(APP_KEY, name)
        self.ok(self.reports.flush())
        self.reports.logged_in(APP_KEY, "ann")  # this hour already
        self.ok(self.reports.flush())
        self.assertEqual(calls, [(APP_KEY, ["ann", "bob"], NOW)])
        self.fixture.clock.advance(3600)
        self.reports.logged_in(APP_KEY, "ann")
        self.ok(self.reports.flush())
        self.assertEqual(len(calls), 2)
        self.assertEqual(self.ok(self.store.reports.distinct_count(
            APP_KEY, "active", NOW - NOW % 3_600_000, NOW + 2 * 3_600_000)), 2)

    def test_the_sweep_forgets_past_the_horizon_and_only_with_one(self):
        self.add(NOW - 11 * DAY)
        self.add(NOW - 1)
        self.assertEqual(self.ok(self.reports.sweep()), 1)
        counts = self.ok(self.store.reports.message_counts(APP_KEY, NOW - 12 * DAY, NOW + 1))
        self.assertEqual(sum(counts.values()), 1)
        self.reports.limits = attr.evolve(self.reports.limits, report_days=0)
        self.assertEqual(self.ok(self.reports.sweep()), 0)
