# -*- test-case-name: tests.test_wire_sync_reply -*-
"""The reply to a sync (cmd 102): a device's messages and events after its cursor, each kind
in id order, under a byte bound, and the request and acknowledgement bodies (cmd 101 and 103).

Each message is the ChatBody a push carries, each event the object a cmd 100 push carries
(L{jim.wire.jim_events.event_json}), encoded once as it is added; the reply is put together
from those encodings, byte for byte what encoding it whole would give.
"""
import orjson

from jim.errors import BAD_REQUEST, JimError
from jim.model import MAX_INT64
from jim.wire import jim_events, jimjson, status

#: bytes kept free under the bound for the fields after the messages
TAIL_ROOM = 96
#: the most messages one sync reply lists
MAX_SYNC = 1000


def sync_request(obj):
    """A cmd 101 body: C{(after, count)}: after which id to read (None: from the device's
    cursor) and at most how many (None: the server's page)."""
    after = jimjson.integer(obj, "after")
    count = jimjson.integer(obj, "count")
    if after is not None and not 0 <= after <= MAX_INT64:
        raise JimError(BAD_REQUEST, "after must be a message id (0 or more)")
    if count is not None and not 1 <= count <= MAX_SYNC:
        raise JimError(BAD_REQUEST, f"count must be 1 to {MAX_SYNC}")
    return after, count


def ack_request(obj):
    """A cmd 103 body: the id up to which the device holds its inbox."""
    upto = jimjson.integer(obj, "upto")
    if upto is None or not 0 <= upto <= MAX_INT64:
        raise JimError(BAD_REQUEST, "upto must be a message id (0 or more)")
    return upto


def ack_reply(cursor):
    """The cmd 104 reply: the device's cursor (its floor) after the ack."""
    return jimjson.reply(status.ACK_RESP, status.OK, data={"cursor": cursor})


class SyncReply:
    """The messages and events of one cmd 102 reply, in the order added."""

    def __init__(self, bound):
        self.bound = bound
        self._messages = []
        self._events = []
        self.size = len(self._encode(b"", b"", 0, False))
        self.count = 0
        self.last_id = 0

    def offer(self, message, alias=None):
        """Add C{message} if it fits under the bound (the first message or event always
        does): whether it was."""
        return self._add(self._messages, message.id,
                         orjson.dumps(jimjson.chat_body(message, alias)))

    def offer_event(self, event, alias=None):
        """Add C{event} (one kept in the inbox) if it fits under the bound: whether it was."""
        return self._add(self._events, event.id,
                         orjson.dumps(jim_events.event_json(event, alias)))

    def _add(self, parts, item_id, encoded):
        cost = len(encoded) + (1 if parts else 0)
        if self.count and self.size + cost > self.bound - TAIL_ROOM:
            return False
        parts.append(encoded)
        self.size += cost
        self.count += 1
        self.last_id = item_id
        return True

    def reply(self, cursor, more):
        """The encoded reply: C{data.messages}, C{data.events}, C{data.cursor} (the device's
        cursor floor when the sync started), C{data.upto} (the highest id listed, or the
        cursor when none is), C{data.more} (whether more wait after the last one listed)."""
        return self._encode(b",".join(self._messages), b",".join(self._events), cursor, more,
                            self.last_id)

    @staticmethod
    def _encode(messages, events, cursor, more, upto=0):
        head = jimjson.reply(status.SYNC_RESP, status.OK)[:-1]  # without its closing brace
        return b'%s,"data":{"messages":[%s],"events":[%s],"cursor":%d,"upto":%d,"more":%s}}' % (
            head, messages, events, cursor, max(upto, cursor), b"true" if more else b"false")
