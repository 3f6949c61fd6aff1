# -*- test-case-name: tests.test_wire_message_list -*-
"""A cmd 20 reply (history or offline messages) built message by message, under a byte bound.

Each message is encoded once, as it is added, and its exact share of the reply's bytes is
counted: the reply is assembled from those encodings at the end, byte for byte what encoding
the whole reply at once would give (orjson's compact form does not depend on where a value
sits). A reply with more than one message never passes its bound.
"""
import orjson

from jim.model import GROUP
from jim.wire import jimjson, status

FRIENDS, GROUPS = "friends", "groups"
#: bytes kept free under the bound for the fields that say there is more (``"more"``,
#: ``"next"`` with two 64-bit numbers: 68 bytes at most)
MORE_ROOM = 80


class MessageList:
    """The messages of one cmd 20 reply, grouped as J-IM lists them: C{friends} by the other
    user, C{groups} by J-IM group id, each list in the order added (or its reverse)."""

    def __init__(self, me, code, bound):
        self.me = me
        self.code = code
        self.bound = bound
        self.size = len(self._encode({FRIENDS: {}, GROUPS: {}}, {}))
        self._lists = {FRIENDS: {}, GROUPS: {}}  # kind -> key -> [(message id, bytes)]
        self._added = []  # (kind, key, message id, bytes) in the order added
        self.count = 0

    def place(self, message, alias=None):
        """Where J-IM lists C{message}: (kind, key)."""
        if message.target_type == GROUP:
            return GROUPS, jimjson.jim_group_id(message.target, alias)
        peer = message.target if message.sender == self.me else message.sender
        return FRIENDS, peer

    def offer(self, message, alias=None):
        """Add C{message} if it fits under the bound (the first always does): whether it was."""
        kind, key = self.place(message, alias)
        encoded = orjson.dumps(jimjson.chat_body(message, alias))
        cost = _cost(self._lists[kind], key, encoded)
        if self.count and self.size + cost > self.bound - MORE_ROOM:
            return False
        self._lists[kind].setdefault(key, []).append((message.id, encoded))
        self._added.append((kind, key, message.id, encoded))
        self.size += cost
        self.count += 1
        return True

    def force(self, message, alias=None):
        """Add C{message} whatever its size (it was taken: it must be sent)."""
        kind, key = self.place(message, alias)
        encoded = orjson.dumps(jimjson.chat_body(message, alias))
        self.size += _cost(self._lists[kind], key, encoded)
        self._lists[kind].setdefault(key, []).append((message.id, encoded))
        self._added.append((kind, key, message.id, encoded))
        self.count += 1

    def drop(self, ids):
        """Leave out the messages whose ids are in C{ids}."""
        kept = {FRIENDS: {}, GROUPS: {}}
        size, count = len(self._encode(kept, {})), 0
        added = [item for item in self._added if item[2] not in ids]
        for kind, key, message_id, encoded in added:  # as if only these had been added
            size += _cost(kept[kind], key, encoded)
            kept[kind].setdefault(key, []).append((message_id, encoded))
            count += 1
        self._lists, self._added, self.size, self.count = kept, added, size, count

    def reply(self, reverse=False, **extra):
        """The encoded reply; C{reverse}: each list in the reverse of the order added (history
        read newest first). C{extra}: top-level fields after C{data} (None: left out)."""
        data = {}
        for kind, lists in self._lists.items():
            data[kind] = {key: orjson.Fragment(_array(items, reverse))
                          for key, items in lists.items()}
        return self._encode(data, extra)

    def _encode(self, lists, extra):
        data = {"userId": self.me, FRIENDS: lists[FRIENDS], GROUPS: lists[GROUPS]}
        return jimjson.reply(status.GET_MESSAGE_RESP, self.code, data=data, **extra)


def _cost(lists, key, encoded):
    """The bytes C{encoded} adds to a map of lists when appended to C{key}'s list."""
    if key in lists:
        return 1 + len(encoded)  # ",{...}"
    # '"key":[{...}]', and a comma before it when the map has keys already
    return len(orjson.dumps(key)) + 3 + len(encoded) + (1 if lists else 0)


def _array(items, reverse):
    encodings = [encoded for _, encoded in items]
    if reverse:
        encodings.reverse()
    return b"[" + b",".join(encodings) + b"]"
