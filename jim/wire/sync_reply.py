# -*- test-case-name: tests.test_wire_sync_reply -*-
"""The reply to a sync (cmd 102): a device's messages after its cursor, in id order, under a
byte bound, and the request and acknowledgement bodies (cmd 101 and 103).

Each message is the ChatBody a push carries, encoded once as it is added; the reply is put
together from those encodings, byte for byte what encoding it whole would give.
"""
import orjson

from jim.errors import BAD_REQUEST, JimError
from jim.model import MAX_INT64
from jim.wire import jimjson, status

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
    """The messages of one cmd 102 reply, in the order added."""

    def __init__(self, bound):
        self.bound = bound
        self._parts = []
        self.size = len(self._encode(b"", 0, False))
        self.count = 0
        self.last_id = 0

    def offer(self, message, alias=None):
        """Add C{message} if it fits under the bound (the first always does): whether it
        was."""
        encoded = orjson.dumps(jimjson.chat_body(message, alias))
        cost = len(encoded) + (1 if self._parts else 0)
        if self.count and self.size + cost > self.bound - TAIL_ROOM:
            return False
        self._parts.append(encoded)
        self.size += cost
        self.count += 1
        self.last_id = message.id
        return True

    def reply(self, cursor, more):
        """The encoded reply: C{data.messages}, C{data.cursor} (the device's cursor floor when
        the sync started), C{data.more} (whether more wait after the last one listed)."""
        return self._encode(b",".join(self._parts), cursor, more)

    @staticmethod
    def _encode(messages, cursor, more):
        head = jimjson.reply(status.SYNC_RESP, status.OK)[:-1]  # without its closing brace
        return b'%s,"data":{"messages":[%s],"cursor":%d,"more":%s}}' % (
            head, messages, cursor, b"true" if more else b"false")
