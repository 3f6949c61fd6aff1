"""One bad client never harms another: every field of every documented request, wrong.

Hypothesis (test_bad_client_fuzz.py) draws sparsely from so large a space, so every field of
every documented request is also sent wrong in each of some forty ways (every JSON type,
boundaries, limits), one request after the other, with the same checks (OneFieldWrongTests).

The others, the server and the checks are those of test_bad_client_fuzz.py's properties
(tests/support/bad_client.py).
"""
from twisted.internet import defer
from twisted.trial.unittest import TestCase

from jim.wire import framing
from tests.support.bad_client import (ANSWER_WITHIN, CLOSE_WITHIN, CLOSING, World, anonymous,
                                      check_frame, login_gate, next_frame)
from tests.support.bad_input import KNOWN, TEMPLATES, UNGATED, answers_to, encode


# -- every field of every documented request, wrong in every way ----------------------------------

#: a value of each kind: JSON types, boundaries, limits, the server's own names
SWEEP_VALUES = (
    None, True, False, 0, -1, 1, 2, 1000, 1001, 2**31, 2**53 + 1, 2**63, -2**63 - 1, 10**30,
    1.5, 2.0, -0.0, 1e300, "", " ", "x" * 129, "x" * 1025, "x" * 4097, "\u00e9" * 65, "\x00",
    "\U0001F600", "1e3", "-1", "<gid>", "<room>", "alice", [], [1, "a"], {}, {"a": {"b": [1]}},
    [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]], {"text": "x", "media_id": 1},
)


def one_field_wrong(cmds):
    """(cmd, body) for each documented request of C{cmds}: each of its fields (and each field
    of the command's other requests) given each of L{SWEEP_VALUES}, or dropped."""
    out = []
    for cmd in cmds:
        templates = TEMPLATES.get(cmd, [{}])
        fields = sorted({field for template in templates for field in template})
        for field in fields:
            template = next((t for t in templates if field in t), templates[0])
            out.append((cmd, {k: v for k, v in template.items() if k != field}))
            for value in SWEEP_VALUES:
                out.append((cmd, {**template, field: value}))
        for template in templates:
            out.append((cmd, template))
    return out


class OneFieldWrongTests(TestCase):
    """Not random: every field of every documented request, wrong in each way of
    L{SWEEP_VALUES}, one request after the other on one connection (a new one when the docs
    close it). Each answer is checked as in the properties of test_bad_client_fuzz.py, the log
    after every request, and the others chat every hundred requests."""

    timeout = 120

    async def sweep(self, world, requests, logged_in):
        c = None
        for n, (cmd, body) in enumerate(requests):
            if c is None or c.inbox.closed.called:
                c = await world.c_over_tcp(logged_in)
            data = encode(body)
            if not logged_in:
                data = anonymous(data)
            c.write(framing.encode(cmd, world.substitute(data)))
            answers = answers_to(cmd)
            what = f"request {n}: cmd {cmd} {body!r:.300}"
            frames = []
            try:
                while True:
                    frame = await next_frame(c, ANSWER_WITHIN)
                    if frame is None or frame[0] in answers:
                        break
                    frames.append(frame)
                if frame is not None:
                    frames.append(frame)
                    if frame[1].get("code") in CLOSING:  # then the close, and nothing more
                        while frame is not None:
                            frame = await next_frame(c, CLOSE_WITHIN)
                            frames.append(frame) if frame is not None else None
                for k, obj in frames:
                    check_frame(obj, k)
                if not logged_in:
                    login_gate(frames)
                assert any(k in answers for k, _ in frames), f"closed with no reply: {frames}"
                world.errors.check()
            except defer.TimeoutError:
                raise AssertionError(f"{what}: no reply, or no close, in time; {frames}")
            except AssertionError as e:
                raise AssertionError(f"{what}: {e}") from None
            if n % 100 == 99:
                await world.others_chat()
                world.forget_noise()
        await c.disconnect()
        await world.others_chat()
        world.errors.check()

    async def test_a_logged_in_client_sending_each_field_wrong_harms_nobody(self):
        world = await World.start(self)
        await self.sweep(world, one_field_wrong(KNOWN), logged_in=True)

    async def test_a_client_that_never_logged_in_sending_each_field_wrong_changes_nothing(self):
        world = await World.start(self)
        await self.sweep(world, one_field_wrong(UNGATED), logged_in=False)
        world.others_heard_nothing()
        self.assertEqual(await world.rest.snapshot(world.users), world.full_snapshot)
