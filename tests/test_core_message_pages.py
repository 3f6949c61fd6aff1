"""History pages bounded in bytes: paging with the request for the rest gets every message of
the page asked for, in order, once (property tested over the core's real loop)."""
import attr
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.trial import unittest

from jim.config import Limits
from jim.core import message_pages
from jim.model import SINGLE, TEXT, Message
from jim.store import page


class FakeMessages:
    """Messages.history over a list ordered by (created, id), as every store pages it."""

    def __init__(self, messages, limits):
        self.ordered = messages
        self.limits = limits
        self.reads = []

    def history(self, app, username, peer=None, gid=None, begin=None, end=None, offset=None,
                count=None):
        self.reads.append(count)
        in_range = [m for m in self.ordered if (begin is None or m.created >= begin)
                    and (end is None or m.created <= end)]
        return defer.succeed(page(in_range, offset, count))


class SizedSink:
    """Each message's size is its body's "size"; the first always fits."""

    def __init__(self, bound):
        self.bound = bound
        self.held = []

    async def offer(self, message):
        if self.held and sum(m.body["size"] for m in self.held) + message.body["size"] > \
                self.bound:
            return False
        self.held.append(message)
        return True

    async def force(self, message):
        self.held.append(message)

    def drop(self, ids):
        self.held = [m for m in self.held if m.id not in ids]


def conversation(steps, sizes):
    """Messages created at non-decreasing times (steps of 0 make ties), in (created, id) order."""
    created, out = 1000, []
    for i, (step, size) in enumerate(zip(steps, sizes)):
        created += step
        out.append(Message(i + 1, "a", "ann", SINGLE, "bob", TEXT, {"size": size}, None, None,
                           created))
    return out


async def page_through(messages, request, bound):
    """Page as a J-IM client does (wire-protocol.md §6.10): the messages got, oldest first,
    duplicates dropped, and how many duplicates there were."""
    got, duplicates = [], 0
    latest = request.get("offset") is None
    for _ in range(1000):  # a rest that never ends is a failure, not a hang
        sink = SizedSink(bound)
        rest = await message_pages.history_page(messages, "a", "bob", sink, peer="ann",
                                                **request)
        page_ = sorted(sink.held, key=lambda m: (m.created, m.id))
        known = {m.id for m in got}
        fresh = [m for m in page_ if m.id not in known]
        duplicates += len(page_) - len(fresh)
        got = fresh + got if latest else got + fresh
        if rest is None:
            return got, duplicates
        if "endTime" in rest:
            request = dict(request, end=rest["endTime"], count=rest["count"])
        else:
            request = dict(request, offset=rest["offset"], count=rest["count"])
    raise AssertionError(f"paging did not end: the last rest was {rest}")



steps = st.lists(st.integers(0, 3), min_size=0, max_size=40)


class HistoryPageTests(unittest.TestCase):
    @given(steps, st.data(), st.integers(1, 30), st.none() | st.integers(0, 45),
           st.integers(1, 400), st.integers(1, 50))
    def test_paging_gets_the_page_exactly_once_in_order(self, steps, data, count, offset,
                                                        bound, max_message):
        sizes = data.draw(st.lists(st.integers(1, 120), min_size=len(steps),
                                   max_size=len(steps)))
        ordered = conversation(steps, sizes)
        limits = attr.evolve(Limits(), max_reply=bound, max_message=max_message)
        messages = FakeMessages(ordered, limits)
        request = dict(count=count, offset=offset)
        got, duplicates = _run(page_through(messages, request, bound))
        expected = page(ordered, offset, count)
        self.assertEqual([m.id for m in got], [m.id for m in expected])
        self.assertEqual(duplicates, 0)
        self.assertTrue(all(n <= count + len(ordered) for n in messages.reads))

    def test_whole_millis(self):
        self.assertEqual(message_pages.whole_millis([9, 8, 8], 8), 1)
        self.assertEqual(message_pages.whole_millis([9, 8], 7), 2)
        self.assertEqual(message_pages.whole_millis([8, 8], 8), 0)
        self.assertEqual(message_pages.latest_rest(10, [9, 8, 8], 8), (1, 8, 9))
        self.assertIsNone(message_pages.latest_rest(10, [8, 8], 8))


def _run(coroutine):
    d = defer.ensureDeferred(coroutine)
    results = []
    d.addBoth(results.append)
    result = results[0]
    if hasattr(result, "raiseException"):
        result.raiseException()
    return result
