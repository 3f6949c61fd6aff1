"""The sync reply (cmd 102): messages and events encoded one by one come out byte for byte as
the whole reply encoded at once, under the byte bound, with the highest id listed as upto."""
import orjson
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import model
from jim.model import TEXT, Message
from jim.wire import jim_events, jimjson, status
from jim.wire.sync_reply import TAIL_ROOM, SyncReply
from tests.support.model_strategies import events, texts

#: an event whose JSON needs nothing of its other fields (a retraction's reads its target)
_KINDS = sorted(model.INBOX_EVENT_KINDS - {model.MESSAGE_RETRACTED})

chats = st.builds(lambda i, sender, text, created: Message(i, "a", sender, model.SINGLE, "bob",
                                                           TEXT, {"text": text}, None, None,
                                                           created),
                  st.integers(1, 2**53), texts, st.text(max_size=200), st.integers(0, 2**50))
items = st.lists(st.one_of(chats, events(st.sampled_from(_KINDS))), max_size=8)


def whole(messages, listed_events, cursor, upto, more):
    """The reply encoded at once, as a client reads it."""
    return orjson.loads(jimjson.reply(status.SYNC_RESP, status.OK, data={
        "messages": [jimjson.chat_body(m) for m in messages],
        "events": [jim_events.event_json(e) for e in listed_events],
        "cursor": cursor, "upto": upto, "more": more}))


class SyncReplyTests(SynchronousTestCase):
    @given(items, st.integers(0, 2**53), st.booleans(), st.integers(300, 3000))
    def test_the_reply_is_what_was_offered_under_the_bound(self, offered, cursor, more, bound):
        reply = SyncReply(bound)
        taken = []
        for item in offered:
            fits = (reply.offer(item) if type(item) is Message else reply.offer_event(item))
            if not fits:
                break
            taken.append(item)
        self.assertTrue(taken or not offered, "the first always fits")
        encoded = reply.reply(cursor, more)
        upto = max([cursor] + [taken[-1].id] if taken else [cursor])
        self.assertEqual(orjson.loads(encoded), whole(
            [i for i in taken if type(i) is Message], [i for i in taken if type(i) is not Message],
            cursor, upto, more))
        self.assertEqual(reply.count, len(taken))
        if len(taken) > 1:
            self.assertLessEqual(len(encoded), bound - TAIL_ROOM + 2 * 20 + len(b"false"))

    def test_an_empty_reply(self):
        self.assertEqual(orjson.loads(SyncReply(1000).reply(41, False))["data"],
                         {"messages": [], "events": [], "cursor": 41, "upto": 41, "more": False})

    def test_upto_is_the_last_id_listed(self):
        reply = SyncReply(10_000)
        reply.offer(Message(42, "a", "alice", model.SINGLE, "bob", TEXT, {"text": "hi"}))
        reply.offer_event(model.Event(model.BLACKLIST_CHANGED, "a", id=43, kept=True))
        data = orjson.loads(reply.reply(41, False))["data"]
        self.assertEqual((data["upto"], [e["event_id"] for e in data["events"]]), (43, [43]))
