# -*- test-case-name: tests.store_contract.test_reports -*-
"""The report area of L{jim.store.memory.MemoryStore}: every read is a walk of the message log
(the reference: plain, not fast), bounded below by the sweep's horizon."""
from zope.interface import implementer

from jim.interfaces import IReportStore
from jim.model import GROUP, report_hour
from jim.store import answered, report_scope_has

#: what the sweep has passed: the app-wide and per-user scopes and the figures start there
_NO_HORIZON = -(2**63)


@implementer(IReportStore)
class MemoryReports:
    def __init__(self, messages, users, groups):
        self._messages = messages
        self._users = users
        self._groups = groups
        self._active = {}  # (app, hour) -> {username, ...}
        self._horizon = _NO_HORIZON

    def _log(self, app, begin, end, retracted=False):
        return [m for m in self._messages.all_messages()
                if m.app == app and begin <= m.created <= end and (retracted or not m.retracted)]

    def _scoped(self, app, scope, begin, end):
        if scope is None or scope[0] == "user":
            begin = max(begin, self._horizon)
        found = [m for m in self._log(app, begin, end) if report_scope_has(scope, m)]
        return sorted(found, key=lambda m: (m.created, m.id))

    @answered
    def report_messages(self, app, scope, begin, end, after, count):
        found = self._scoped(app, scope, begin, end)
        if after is not None:
            found = [m for m in found if (m.created, m.id) > tuple(after)]
        return found[:count]

    @answered
    def count_report_messages(self, app, scope, begin, end):
        return len(self._scoped(app, scope, begin, end))

    def _hours_of(self, app, begin, end):
        return [m for m in self._log(app, max(begin, self._horizon), end - 1, retracted=True)]

    @answered
    def message_counts(self, app, begin, end):
        counts = {}
        for m in self._hours_of(app, begin, end):
            key = (report_hour(m.created), m.target_type, m.msg_type)
            counts[key] = counts.get(key, 0) + 1
        return counts

    @answered
    def distinct_count(self, app, what, begin, end):
        if what == "active":
            return len(set().union(*(names for (of, hour), names in self._active.items()
                                     if of == app and begin <= hour < end)))
        if what == "sender":
            return len({m.sender for m in self._hours_of(app, begin, end)})
        return len({m.target for m in self._hours_of(app, begin, end)
                    if m.target_type == GROUP})

    @answered
    def note_active(self, app, usernames, at):
        hour = report_hour(at)
        if hour >= self._horizon:
            self._active.setdefault((app, hour), set()).update(usernames)

    @answered
    def created_histogram(self, app, kind, edges):
        if kind == "user":
            times = [user.ctime for user in self._users.all_users(app)]
        else:
            times = [group.ctime for group in self._groups.all_groups(app)]
        counts = [0] * (len(edges) + 1)
        for ctime in times:
            counts[sum(1 for edge in edges if ctime >= edge)] += 1
        return counts

    @answered
    def forget_reports(self, before):
        if before <= self._horizon:
            return 0
        gone = sum(1 for m in self._messages.all_messages()
                   if self._horizon <= m.created < before)
        for key in [key for key in self._active if key[1] < before]:
            gone += len(self._active.pop(key))
        self._horizon = before
        return gone

    @answered
    def forget_app(self, app):
        for key in [key for key in self._active if key[0] == app]:
            del self._active[key]
