"""One bad client never harms another on the socket command surface: Hypothesis properties.

One real server per test (in-process, its SQLite store, a loopback port). Three well-behaved
users chat all along: alice and bobby over J-IM TCP, wendy over WebSocket. A fourth client, C,
speaks from another loopback address (127.0.0.2) and sends what Hypothesis makes of the
command surface: every command number 0..255, bodies of every JSON type with the commands'
real field names (wrong types, boundary and huge numbers, nested values, unicode, strings
around the limits), invalid UTF-8, truncated frames and frames with wrong lengths; over
WebSocket binary messages, text that is no JSON, arrays, and ``cmd`` of every type. Some
examples send several commands in one write (a login, a close or a join among them), and some
hang up right after sending, so that the reply finds the connection gone.

After each example:

1. the server is up and alice, bobby and wendy still chat both ways, each chat acknowledged,
   within a short time;
2. every frame C got carries a status code of docs/wire-protocol.md section 7 with its exact
   text (or is one of the documented pushes), never a traceback nor "internal error"; C got
   the reply command the docs name for what it sent, and its connection stays open unless
   the docs say it closes (a refused login, cmd 14, a framing error, a WebSocket message that
   is not UTF-8 or too big);
3. for a C that never logged in, nothing changed: the REST API lists the same users, admins
   and groups, and the other users heard nothing;
4. the server logged no error (an observer on the global log publisher; trial also fails a
   test whose run logged an error).

Hypothesis runs its examples in a worker thread; each example drives the real sockets on the
reactor (the test's own thread) through C{blockingCallFromThread}, so Hypothesis can shrink a
failure to its smallest input.

The sweep of every field of every documented request, wrong in each way, is in
test_bad_client_fields.py; slow clients and floods are in test_bad_client_floods.py. The
server, the others and the checks are in tests/support/bad_client.py; what C sends, in
tests/support/bad_input.py and tests/support/bad_frames.py.
"""
from hypothesis import HealthCheck, Phase, given, note, settings
from twisted.internet import defer, reactor, threads
from twisted.trial.unittest import TestCase

from tests.support.bad_client import (CLOSE_WITHIN, World, answer_of, anonymous, check_frame,
                                      check_frames, closed_within, login_gate, tcp_frames_of)
from tests.support.bad_frames import tcp_frames, ws_messages
from tests.support.bad_input import KNOWN, UNGATED


#: the longest one example may take (a few seconds at most when all is well)
EXAMPLE_SECONDS = 60


class _Fuzz:
    """Runs Hypothesis properties in a worker thread, each example on the reactor: one for
    each command of C{strata} (so that each gets examples of its own), then one over any
    command with C{examples} examples."""

    timeout = 180
    #: examples of each command of C{strata}
    per_command = 6
    strata = ()
    #: examples over any command
    examples = 40

    async def run_strata(self, strategy, example):
        for cmd in self.strata:
            await self.run_property(strategy(cmd), example, self.per_command)
        await self.run_property(strategy(None), example, self.examples)

    async def fuzz_client(self, world, strategy, example, logged_in):
        """The properties over what a client (logged in, or not: then over the commands it
        may send before a login) sends; one that never logged in changed nothing at all."""
        self.strata = KNOWN if logged_in else UNGATED
        await self.run_strata(strategy, example)
        if not logged_in:
            self.assertEqual(await world.rest.snapshot(world.users), world.full_snapshot)

    def run_property(self, strategy, example, examples):
        @settings(max_examples=examples, database=None, derandomize=True, deadline=None,
                  report_multiple_bugs=False,
                  phases=(Phase.explicit, Phase.generate, Phase.shrink),
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def prop(sent):
            note(repr(sent))
            # bounded: a hung example fails instead of holding this thread, and with it the
            # reactor's thread pool that trial joins after the test, for ever
            threads.blockingCallFromThread(
                reactor, lambda: defer.ensureDeferred(example(sent)).addTimeout(
                    EXAMPLE_SECONDS, reactor))

        return threads.deferToThread(prop)


async def tcp_example(world, sent, logged_in):
    """One example over J-IM TCP: C (logged in or not) sends C{sent}; its answers are checked
    (and, not logged in, that every gated command was refused), then the others chat."""
    c = await world.c_over_tcp(logged_in=logged_in)

    def fill(body):
        return world.substitute(body if logged_in else anonymous(body))

    c.write(sent.data(fill))
    if sent.hang_up:
        c.transport.abortConnection()
    await answer_of(c, sent, fill, anonymous=not logged_in)
    frames = tcp_frames_of(c)  # the raw bytes: every frame, cmd byte and all
    for cmd, obj in frames:
        check_frame(obj, cmd)
    if not logged_in:
        login_gate(frames)
    await c.disconnect()
    await world.after(logged_in=logged_in)


# -- the Hypothesis properties ------------------------------------------------------------------

class TcpFuzzTests(_Fuzz, TestCase):
    per_command = 6
    examples = 30

    async def fuzz(self, logged_in):
        world = await World.start(self)
        await self.fuzz_client(world, tcp_frames,
                               lambda sent: tcp_example(world, sent, logged_in), logged_in)

    async def test_a_logged_in_tcp_client_sending_anything_harms_nobody(self):
        await self.fuzz(logged_in=True)

    async def test_a_tcp_client_that_never_logged_in_changes_nothing(self):
        await self.fuzz(logged_in=False)


class WebSocketFuzzTests(_Fuzz, TestCase):
    per_command = 2
    examples = 20

    async def fuzz(self, logged_in):
        world = await World.start(self)

        async def example(sent):
            c = await world.c_over_ws(logged_in)

            def fill(body):
                return world.substitute(body if logged_in else anonymous(body))

            for i, message in enumerate(sent.messages(fill)):
                c.sendMessage(message, isBinary=sent.binary if i == 0 else False)
            if sent.hang_up:
                c.transport.abortConnection()
            answers = sent.answers(fill)
            if answers == "close":
                assert await closed_within(c, CLOSE_WITHIN), "a bad message left it open"
                assert c.remoteCloseCode in (1007, 1009), c.remoteCloseCode
                check_frames(c, not logged_in)
            else:
                await answer_of(c, sent, fill, not logged_in)
            if not logged_in:
                login_gate(c.seen)
            await c.disconnect()
            await world.after(logged_in)

        await self.fuzz_client(world, ws_messages, example, logged_in)

    async def test_a_logged_in_websocket_client_sending_anything_harms_nobody(self):
        await self.fuzz(logged_in=True)

    async def test_a_websocket_client_that_never_logged_in_changes_nothing(self):
        await self.fuzz(logged_in=False)
