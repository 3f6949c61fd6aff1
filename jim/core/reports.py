# -*- test-case-name: tests.test_core_reports -*-
"""The Report API v2's service (docs/rest-api.md, "The Report API v2"): an app's messages by time window in pages
that a cursor continues, and its user, message and group statistics, over the store's report
area (L{jim.interfaces.IReportStore}).

A cursor is the next page's question, signed: the scope, the window, the position after the
last message given, the total and when it expires (120 s after it was given), as URL-safe
base64 JSON with an HMAC-SHA256 keyed by the app's secret hash. Any node of a cluster can take
it, nothing is kept for it, and another app's cursor, a changed one or an old one is refused.

Report data is kept C{limits.report_days} days (0: for ever): older windows are cut at that
horizon when read, and the sweep (hourly, every node: it is idempotent) frees the store's report
indexes and figures of what is older. Active users are noted when they log in, once an hour per
user and node, in batches off the login's path.
"""
import base64
import hashlib
import hmac

import attr
import orjson
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from jim import errors
from jim.errors import JimError
from jim.model import REPORT_HOUR_MS, report_hour

DAY_MS = 24 * REPORT_HOUR_MS
#: the widest window of one question (JMessage's 7 days) and the largest page
MAX_WINDOW_MS = 7 * DAY_MS
MAX_COUNT = 1000
#: how long a cursor may be used
CURSOR_SECONDS = 120
#: seconds between two sweeps, and between two flushes of the active users noted
SWEEP_SECONDS = 3600
ACTIVE_FLUSH_SECONDS = 5


@attr.s(frozen=True, slots=True)
class ReportPage:
    """A page of messages: C{cursor} continues it (None: this is the last page)."""

    total = attr.ib(type=int)
    messages = attr.ib(type=list)
    cursor = attr.ib(default=None)


def _bad(detail):
    return JimError(errors.BAD_REQUEST, detail)


class Reports:
    log = Logger()

    def __init__(self, store, accounts, clock, limits):
        self.store = store
        self.accounts = accounts
        self._clock = clock
        self.limits = limits
        self._noted = {}  # (app, username) -> the hour this node last noted them active in
        self._pending = {}  # app -> {username, ...} to note active at the next flush
        self._flusher = None
        self._sweeper = None

    def now_ms(self):
        return int(self._clock.seconds() * 1000)

    # -- messages --------------------------------------------------------------------------

    def horizon(self):
        """The oldest time report data is kept from (epoch ms), or None: all of it."""
        if not self.limits.report_days:
            return None
        return self.now_ms() - int(self.limits.report_days * DAY_MS)

    async def messages(self, app, scope, begin, end, count):
        """The first page of the scope's messages created in [C{begin}, C{end}] (epoch ms):
        at most C{count} (1 to 1000), the window 7 days at most (and the last second's
        milliseconds: a window of whole seconds takes its end second whole)."""
        if not 1 <= count <= MAX_COUNT:
            raise _bad(f"count must be 1 to {MAX_COUNT}")
        if end < begin:
            raise _bad("end_time is before begin_time")
        if end - begin > MAX_WINDOW_MS + 999:
            raise _bad("the window of a report is 7 days at most")
        horizon = self.horizon()
        if horizon is not None:
            begin = max(begin, horizon)
        total = 0
        if begin <= end:
            total = await self.store.count_report_messages(app, scope, begin, end)
        return await self._page(app, scope, begin, end, None, count, total)

    async def next_page(self, app, cursor, scope):
        """The page a cursor of L{messages} (or of this) continues with; the cursor must be
        one of the same C{scope}'s."""
        found, begin, end, after, count, total = await self._opened(app, cursor)
        if found != scope:
            raise _bad("this cursor continues another question: use it on the route that"
                       " gave it")
        return await self._page(app, scope, begin, end, after, count, total)

    async def _page(self, app, scope, begin, end, after, count, total):
        """Up to C{count} messages after C{after}, and a cursor only when more follow (one
        more is read to know): a full last page has none."""
        found = []
        if begin <= end:
            found = await self.store.report_messages(app, scope, begin, end, after, count + 1)
        cursor = None
        if len(found) > count:
            del found[count:]
            last = found[-1]
            cursor = await self._cursor(app, [scope, begin, end, [last.created, last.id], count,
                                              total])
        return ReportPage(total, found, cursor)

    async def _key(self, app):
        settings = await self.accounts.app(app)
        if settings is None:
            raise JimError(errors.NO_SUCH_APP, "no such app")
        return hashlib.sha256(b"jim report cursor\0" + settings.secret_hash.encode()).digest()

    async def _cursor(self, app, question):
        payload = orjson.dumps([*question, self.now_ms() + CURSOR_SECONDS * 1000])
        mac = hmac.new(await self._key(app), payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac + payload).decode("ascii").rstrip("=")

    async def _opened(self, app, cursor):
        stale = _bad("the cursor is not one of this app's, or it is older than 120 seconds")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (ValueError, TypeError):
            raise stale from None
        mac, payload = raw[:16], raw[16:]
        expected = hmac.new(await self._key(app), payload, hashlib.sha256).digest()[:16]
        if len(raw) <= 16 or not hmac.compare_digest(mac, expected):
            raise stale
        scope, begin, end, after, count, total, expires = orjson.loads(payload)
        if self.now_ms() > expires:
            raise stale
        return (None if scope is None else tuple(scope)), begin, end, tuple(after), count, total

    # -- statistics ------------------------------------------------------------------------

    async def user_days(self, app, start, days):
        """Per day from C{start} (epoch ms of a UTC midnight): C{(day, active, total,
        senders, new)}."""
        edges = [start + i * DAY_MS for i in range(days + 1)]
        created = await self.store.created_histogram(app, "user", edges)
        rows = []
        total = created[0]
        for i in range(days):
            day, next_day = edges[i], edges[i + 1]
            total += created[i + 1]
            active = await self.store.distinct_count(app, "active", day, next_day)
            senders = await self.store.distinct_count(app, "sender", day, next_day)
            rows.append((day, active, total, senders, created[i + 1]))
        return rows

    async def group_days(self, app, start, days):
        """Per day from C{start}: C{(day, active, total, new)} of the app's groups."""
        edges = [start + i * DAY_MS for i in range(days + 1)]
        created = await self.store.created_histogram(app, "group", edges)
        rows = []
        total = created[0]
        for i in range(days):
            total += created[i + 1]
            active = await self.store.distinct_count(app, "group", edges[i], edges[i + 1])
            rows.append((edges[i], active, total, created[i + 1]))
        return rows

    async def message_counts(self, app, edges):
        """For each [C{edges[i]}, C{edges[i + 1]}) (hour-aligned epoch ms): C{{(target type,
        message type): count}}."""
        counts = await self.store.message_counts(app, edges[0], edges[-1])
        buckets = [{} for _ in edges[:-1]]
        for (hour, target_type, msg_type), count in counts.items():
            for i in range(len(buckets)):
                if edges[i] <= hour < edges[i + 1]:
                    key = (target_type, msg_type)
                    buckets[i][key] = buckets[i].get(key, 0) + count
                    break
        return buckets

    # -- active users ----------------------------------------------------------------------

    def logged_in(self, app, username):
        """A user logged in: noted active this hour (once per hour and node, in a batch)."""
        hour = report_hour(self.now_ms())
        if self._noted.get((app, username)) == hour:
            return
        self._noted[(app, username)] = hour
        self._pending.setdefault(app, set()).add(username)

    async def flush(self):
        """Hand the active users noted since the last flush to the store."""
        pending, self._pending = self._pending, {}
        now = self.now_ms()
        for app, usernames in pending.items():
            try:
                await self.store.note_active(app, sorted(usernames), now)
            except JimError as e:
                self.log.warn("reports: {count} active user(s) of app {app} not noted: {why}",
                              count=len(usernames), app=app, why=e.detail)
        if len(self._noted) > 100_000:  # a new hour forgets the last one's
            hour = report_hour(now)
            self._noted = {key: h for key, h in self._noted.items() if h == hour}

    async def sweep(self):
        """Forget the report data older than the horizon; how many entries went."""
        horizon = self.horizon()
        if horizon is None:
            return 0
        gone = await self.store.forget_reports(report_hour(horizon))
        if gone:
            self.log.info("reports: forgot {count} entries older than {days:g} days",
                          count=gone, days=self.limits.report_days)
        return gone

    def _logged(self, work, what):
        d = defer.ensureDeferred(work())
        d.addErrback(lambda f: self.log.warn("reports: {what} failed: {why}", what=what,
                                             why=f.getErrorMessage()))
        return d

    def start(self):
        self._flusher = LoopingCall(self._logged, self.flush, "noting active users")
        self._flusher.clock = self._clock
        self._flusher.start(ACTIVE_FLUSH_SECONDS, now=False)
        self._sweeper = LoopingCall(self._logged, self.sweep, "the sweep")
        self._sweeper.clock = self._clock
        self._sweeper.start(SWEEP_SECONDS, now=False)

    def stop(self):
        for loop in (self._flusher, self._sweeper):
            if loop is not None and loop.running:
                loop.stop()
        self._flusher = self._sweeper = None
        if self._pending:
            return self._logged(self.flush, "noting active users")
        return defer.succeed(None)
