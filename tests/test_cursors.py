"""Cursors as pure values: canonical forms consume exactly what their parts do, moves never
lose anything, and a connection's pushed ids become spans that hold nothing it was not
pushed."""
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import cursors, model
from jim.cursors import Cursor, canonical, from_json, pushed_spans, start_of_new_device

IDS = st.integers(0, 60)
KEYS = st.sampled_from(["s:3:ann:bob", "g:1", "g:2"])
SPANS = st.lists(st.tuples(IDS, IDS), max_size=6)
CONVERSATIONS = st.lists(st.tuples(KEYS, IDS), max_size=4)


def naive(floor, conversations, spans, message_id, key):
    """What the parts of a cursor consume, before any merging."""
    return (message_id <= floor
            or any(k == key and message_id <= u for k, u in conversations)
            or any(a < message_id <= u for a, u in spans))


class CanonicalTests(SynchronousTestCase):
    @given(IDS, CONVERSATIONS, SPANS)
    def test_consumes_exactly_what_its_parts_do(self, floor, conversations, spans):
        cursor = canonical(floor, conversations, spans)
        for message_id in range(0, 62):
            for key in ("s:3:ann:bob", "g:1", "g:2"):
                self.assertEqual(cursor.consumed(message_id, key),
                                 naive(floor, conversations, spans, message_id, key))
        self.assertEqual(canonical(*cursor[:3]), cursor)  # canonical is a fixed point
        self.assertEqual(from_json(cursor.to_json()), cursor)

    @given(IDS, CONVERSATIONS, SPANS, KEYS, IDS)
    def test_left_out_upto_is_where_the_unconsumed_ids_start(self, floor, conversations,
                                                             spans, key, after):
        """Every id up to the bound is consumed (or up to C{after}); the next one is not."""
        cursor = canonical(floor, conversations, spans)
        bound = cursor.left_out_upto(key, after)
        self.assertGreaterEqual(bound, after)
        for message_id in range(after + 1, bound + 1):
            self.assertTrue(cursor.consumed(message_id, key), (message_id, bound))
        self.assertFalse(cursor.consumed(bound + 1, key), bound)

    @given(IDS, CONVERSATIONS, SPANS, IDS, CONVERSATIONS, SPANS)
    def test_moves_commute_and_lose_nothing(self, f1, c1, s1, f2, c2, s2):
        a, b = canonical(f1, c1, s1), canonical(f2, c2, s2)
        self.assertEqual(a.moved(b), b.moved(a))
        merged = a.moved(b)
        for message_id in range(0, 62):
            for key in ("s:3:ann:bob", "g:1"):
                if a.consumed(message_id, key) or b.consumed(message_id, key):
                    self.assertTrue(merged.consumed(message_id, key))

    def test_past_the_cap_the_oldest_spans_are_forgotten(self):
        spans = [(n * 10, n * 10 + 1) for n in range(1, cursors.MAX_SPANS + 5)]
        cursor = canonical(0, (), spans)
        self.assertEqual(len(cursor.spans), cursors.MAX_SPANS)
        self.assertFalse(cursor.consumed(11, "g:1"))  # forgotten: it comes again
        self.assertTrue(cursor.consumed(spans[-1][1], "g:1"))


class NewDeviceTests(SynchronousTestCase):
    def test_a_new_device_starts_with_what_any_other_device_consumed(self):
        phone = Cursor(5, (("g:1", 9),), ((12, 14),), seen=100)
        laptop = Cursor(7, spans=((20, 22),), seen=200)
        start = start_of_new_device({"a:phone": phone, "w:laptop": laptop})
        self.assertEqual(start, Cursor(7, (("g:1", 9),), ((12, 14), (20, 22))))
        self.assertEqual(start_of_new_device({}), Cursor())


class PushedSpansTests(SynchronousTestCase):
    def test_a_lost_push_stays_out_of_every_span(self):
        # the inbox since the login (at 10): 12 and 15 pushed, 13 lost, 14 and 16 pushed
        spans = pushed_spans(10, [12, 13, 14, 16], {12, 14, 16})
        cursor = canonical(0, (), spans)
        self.assertEqual([i for i in (12, 13, 14, 16) if cursor.consumed(i, "g:1")],
                         [12, 14, 16])

    def test_pushed_ids_above_the_inbox_join_the_last_run(self):
        # pushed before their commit: not in the inbox yet when the connection went
        self.assertEqual(pushed_spans(10, [12], {12, 18}), ((10, 18),))
        self.assertEqual(pushed_spans(10, [11, 12], {12, 18}), ((11, 18),))
        self.assertEqual(pushed_spans(10, [], set()), ())

    @given(st.lists(st.tuples(st.integers(1, 50), st.booleans()), unique_by=lambda t: t[0]),
           st.integers(0, 5))
    def test_spans_hold_the_pushed_and_nothing_else(self, entries, start):
        entries = sorted((start + i, pushed) for i, pushed in entries)
        inbox = [i for i, _ in entries]
        pushed = {i for i, p in entries if p}
        cursor = canonical(0, (), pushed_spans(start, inbox, pushed))
        for message_id in inbox:
            self.assertEqual(cursor.consumed(message_id, "g:1"), message_id in pushed)


class ConversationKeyTests(SynchronousTestCase):
    @given(st.text(min_size=1, max_size=8), st.sampled_from(["single", "group", "chatroom"]),
           st.text(min_size=1, max_size=8))
    def test_the_key_of_a_sender_and_target_is_their_messages_key(self, sender, kind, target):
        message = model.Message._make((1, "app", sender, kind, target, "text", "hi", None, None,
                                       0, "user", None, False, False, False))
        self.assertEqual(cursors.conversation_to(sender, kind, target),
                         cursors.conversation_of(message))

    def test_either_direction_is_one_conversation(self):
        self.assertEqual(cursors.conversation_to("ann", "single", "bob"),
                         cursors.conversation_to("bob", "single", "ann"))
        self.assertNotEqual(cursors.conversation_to("ann", "group", "7"),
                            cursors.conversation_to("ann", "chatroom", "7"))
