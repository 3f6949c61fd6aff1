# -*- test-case-name: tests.store_contract.test_events -*-
"""The event area of L{jim.store.memory.MemoryStore}: each user's events, with ids of the
message area's sequence."""
import attr
from zope.interface import implementer

from jim.cursors import EVENTS
from jim.interfaces import IEventStore
from jim.store import answered, check_audience, check_limit


@implementer(IEventStore)
class MemoryEvents:
    def __init__(self, messages):
        self._messages = messages  # the L{jim.store.memory_messages.MemoryMessages}: its ids
        self._events = {}  # id -> Event
        self._ids = {}  # (app, username) -> [event id, ...] in id order

    @answered
    def add_event(self, event, audience):
        audience = check_audience(event, audience)
        kept = attr.evolve(event, id=self._messages.next_id(), kept=True)
        self._events[kept.id] = kept
        for username in audience:
            self._ids.setdefault((event.app, username), []).append(kept.id)
        return kept

    @answered
    def read_events(self, app, username, cursor, after=0, since=0, limit=100, per_user=100):
        check_limit(limit)
        check_limit(per_user)
        ids = [i for i in self._ids.get((app, username), ()) if i in self._events]
        if per_user is not None:
            ids = ids[-per_user:] if per_user else []
        found = [self._events[i] for i in ids
                 if i > after and not cursor.consumed(i, EVENTS)
                 and self._events[i].created >= since]
        return found if limit is None else found[:limit]

    @answered
    def forget_events(self, created_before):
        old = {i for i, event in self._events.items() if event.created < created_before}
        for i in old:
            del self._events[i]
        for key, ids in list(self._ids.items()):
            ids[:] = [i for i in ids if i not in old]
            if not ids:
                del self._ids[key]
        return len(old)

    @answered
    def forget_app(self, app):
        """Forget the app's events (L{jim.interfaces.IStore.forget_app})."""
        for i in [i for i, event in self._events.items() if event.app == app]:
            del self._events[i]
        for key in [key for key in self._ids if key[0] == app]:
            del self._ids[key]
