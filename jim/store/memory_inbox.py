# -*- test-case-name: tests.store_contract.test_inbox -*-
"""The inbox area of L{jim.store.memory.MemoryStore}: cursors in a dict, the inbox read from
the message area's log."""
import heapq

from zope.interface import implementer

from jim.cursors import Cursor, group_conversation, private_conversation
from jim.interfaces import IInboxStore
from jim.store import answered, check_limit


@implementer(IInboxStore)
class MemoryInbox:
    def __init__(self, messages):
        self._messages = messages  # the L{jim.store.memory_messages.MemoryMessages}
        self._cursors = {}  # (app, username) -> {device: Cursor}

    @answered
    def last_message_id(self, app):
        return self._messages.last_id()

    @answered
    def cursors(self, app, username):
        return dict(self._cursors.get((app, username), {}))

    @answered
    def move_cursor(self, app, username, device, cursor):
        mine = self._cursors.setdefault((app, username), {})
        moved = mine[device] = mine.get(device, Cursor()).moved(cursor)
        return moved

    @answered
    def forget_cursors(self, seen_before):
        forgotten = 0
        for key, devices in list(self._cursors.items()):
            for device, cursor in list(devices.items()):
                if cursor.seen < seen_before:
                    del devices[device]
                    forgotten += 1
            if not devices:
                del self._cursors[key]
        return forgotten

    @answered
    def forget_app(self, app):
        """Forget the app's cursors (L{jim.interfaces.IStore.forget_app}); its messages are
        the message area's."""
        for key in [key for key in self._cursors if key[0] == app]:
            del self._cursors[key]

    @answered
    def read(self, app, username, gids, cursor, after=0, peer=None, gid=None, since=0,
             limit=100, per_conversation=100):
        check_limit(limit)
        check_limit(per_conversation)
        if peer is not None:
            keys = [private_conversation(username, peer)]
        elif gid is not None:
            keys = [group_conversation(gid)]
        else:
            keys = list(self._messages.private_conversations(app, username))
            keys += [group_conversation(g) for g in gids]
        found = []
        for key in dict.fromkeys(keys):
            every = self._messages.conversation(app, key)
            latest = every if per_conversation is None else \
                every[-per_conversation:] if per_conversation else []
            found.append([m for m in latest
                          if m.id > after and m.created >= since and not m.retracted
                          and not m.no_offline and not cursor.consumed(m.id, key)])
        merged = heapq.merge(*found, key=lambda m: m.id)
        return list(merged) if limit is None else [m for _, m in zip(range(limit), merged)]
