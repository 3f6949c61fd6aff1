"""A cmd 20 reply built message by message: byte for byte the reply built at once, its size
counted exactly, and never past its bound with more than one message."""
import orjson
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial import unittest

from jim.model import GROUP
from jim.wire import jimjson, status
from jim.wire.message_list import MORE_ROOM, MessageList
from tests.support import model_strategies as ms

ALIASES = st.none() | st.text(min_size=1, max_size=5)


def at_once(me, code, messages_and_aliases):
    """The reply as cmd 19 built it before replies were bounded: one dict, encoded once."""
    friends, groups = {}, {}
    for message, alias in messages_and_aliases:
        if message.target_type == GROUP:
            groups.setdefault(jimjson.jim_group_id(message.target, alias), []).append(
                jimjson.chat_body(message, alias))
        else:
            peer = message.target if message.sender == me else message.sender
            friends.setdefault(peer, []).append(jimjson.chat_body(message))
    data = {"userId": me, "friends": friends, "groups": groups}
    return jimjson.reply(status.GET_MESSAGE_RESP, code, data=data)


class MessageListTests(unittest.TestCase):
    @given(ms.texts, st.lists(st.tuples(ms.messages, ALIASES), max_size=6))
    def test_unbounded_is_byte_identical_and_sized_exactly(self, me, items):
        # one alias per group, as a reply looks each group up once
        aliases = {}
        items = [(m, aliases.setdefault(m.target, a) if m.target_type == GROUP else None)
                 for m, a in items]
        listed = MessageList(me, status.GET_HISTORY_OK, 1 << 60)
        for message, alias in items:
            self.assertTrue(listed.offer(message, alias))
        encoded = listed.reply()
        self.assertEqual(encoded, at_once(me, status.GET_HISTORY_OK, items))
        self.assertEqual(listed.size, len(encoded))

    @given(ms.texts, st.lists(ms.messages, min_size=1, max_size=8),
           st.integers(0, 3000), st.data())
    def test_bounded_never_passes_the_bound_and_drop_keeps_sizes_exact(self, me, messages,
                                                                        bound, data):
        messages = [m._replace(id=i) for i, m in enumerate(messages)]
        listed = MessageList(me, status.GET_OFFLINE_OK, bound)
        offered = [m for m in messages if listed.offer(m)]
        self.assertGreaterEqual(len(offered), 1)
        encoded = listed.reply(more=True, next={"offset": 2**63 - 1, "count": 2**63 - 1})
        if len(offered) > 1:
            self.assertLessEqual(len(encoded), bound)
        self.assertLessEqual(listed.size, len(encoded))
        self.assertLessEqual(len(encoded) - listed.size, MORE_ROOM)
        gone = set(data.draw(st.sets(st.sampled_from([m.id for m in offered]))))
        listed.drop(gone)
        kept = [(m, None) for m in offered if m.id not in gone]
        self.assertEqual(listed.reply(), at_once(me, status.GET_OFFLINE_OK, kept))
        self.assertEqual(listed.size, len(listed.reply()))

    def test_reverse_lists_newest_first_input_oldest_first(self):
        from tests.store_contract.test_messages import chat
        messages = [chat("a", "ann", "bob", str(i))._replace(id=i + 1) for i in range(3)]
        listed = MessageList("bob", status.GET_HISTORY_OK, 1 << 20)
        for message in reversed(messages):
            listed.offer(message)
        body = orjson.loads(listed.reply(reverse=True))
        self.assertEqual([m["id"] for m in body["data"]["friends"]["ann"]], ["1", "2", "3"])
