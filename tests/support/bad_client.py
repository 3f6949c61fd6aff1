"""The world a bad client C lives in, and the checks that it harmed nobody.

L{World}: one real server, its REST client, and the well-behaved users chatting; C speaks
from another loopback address (L{C_ADDRESS}). L{LoggedErrors}: every error the server logs.
The checks of the properties that tests/integration/test_bad_client_fuzz.py states: 1, 3 and
4 after each example (L{World.after}), 2 for what C got (L{check_frame}, L{check_frames},
L{answer_of}); and what a connection that never logged in may get (L{login_gate}).

Password-login throttling is switched off on this server (C{login_failures_*} 0): C's
refused logins would otherwise slow the run down by design (docs/configuration.md, Logins).
"""
import json
import re
import time

from twisted.internet import defer, reactor
from twisted.internet.task import deferLater
from twisted.logger import LogLevel, formatEvent, globalLogPublisher

from jim.wire import framing, status
from tests.support.jimclient import tcp_client, ws_client
from tests.support.rest import start_rest
from tests.support.waiting import until

#: C's address: per-address limits (chat rates, logins, connections) are not the others'
C_ADDRESS = "127.0.0.2"
#: how long the others may take for one chat and its acknowledgement
CHAT_WITHIN = 3.0
#: how long C may wait for the answer to what it sent
ANSWER_WITHIN = 5.0
#: how long a connection the docs say closes may take to close
CLOSE_WITHIN = 7.0

#: the status codes a socket may carry (section 7: 10014 is never sent, 10019 only over HTTP)
SOCKET_CODES = frozenset(range(10000, 10022)) - {10014, 10019}
#: what the server sends without a code: handshake, heartbeat, offline notice, push, event
CODELESS = frozenset({2, 10, 11, 13, 100})
#: codes after which the docs close the connection: a refused login, cmd 14
CLOSING = frozenset({status.LOGIN_FAILED, status.CLOSE_OK})
#: what must never reach a client: Python's own words, or jim's word for its own fault
LEAKS = re.compile(
    r"Traceback|internal error|File \"|Exception|NoneType|object has no attribute|"
    r"not subscriptable|unsupported operand|invalid literal for int\(\)|unhashable type|"
    r"KeyError|TypeError|ValueError|AttributeError|OverflowError|RecursionError|IndexError|"
    r"sqlite3|too large to convert")


# -- the world the bad client lives in ----------------------------------------------------------

class LoggedErrors:
    """Every error the server logs (a failure, or an event at error level or above)."""

    def __init__(self, testcase):
        self.events = []
        globalLogPublisher.addObserver(self)
        testcase.addCleanup(globalLogPublisher.removeObserver, self)

    def __call__(self, event):
        if "log_failure" in event or event.get("log_level") in (LogLevel.error,
                                                                LogLevel.critical):
            self.events.append(event)

    def check(self):
        if self.events:
            lines = []
            for event in self.events:
                line = formatEvent(event)
                failure = event.get("log_failure")
                if failure is not None:
                    line += "\n" + failure.getTraceback()
                lines.append(line)
            self.events = []
            raise AssertionError("the server logged an error:\n" + "\n".join(lines))


class World:
    """The server, its REST client, and alice, bobby (J-IM TCP) and wendy (WebSocket),
    chatting; carol is C's user."""

    users = ("alice", "bobby", "wendy", "carol")

    @classmethod
    async def start(cls, testcase, **limits):
        self = cls()
        self.testcase = testcase
        self.errors = LoggedErrors(testcase)
        limits = {"login_failures_user": 0, "login_failures_address": 0, **limits}
        self.jim, self.rest = await start_rest(testcase, limits=limits, open_registration=False,
                                               sqlite_sync="normal")
        self.port = self.jim.port
        await self.rest.register(*self.users)
        self.gid = await self.rest.group("alice", ["bobby", "carol"], name="team")
        room = await self.rest.post("/v1/chatroom", {"owner_username": "alice", "name": "lobby",
                                                     "members_username": ["bobby", "carol"]})
        assert room.status == 201, room
        self.room = room.json()["chatroom_id"]
        self.alice = await tcp_client(self.port, testcase=testcase)
        self.bobby = await tcp_client(self.port, testcase=testcase)
        self.wendy = await ws_client(self.port, testcase=testcase)
        for client, name in ((self.alice, "alice"), (self.bobby, "bobby"), (self.wendy, "wendy")):
            await client.login(name)
        first = await tcp_client(self.port, source=C_ADDRESS)
        self.token = (await first.login("carol"))["token"]
        await first.expect(9)  # announced online to its group: its going will be announced
        await first.disconnect()
        # the logins told the group's members who came online, and carol's going: heard
        for member in (self.alice, self.bobby):
            await wait_for(member, 10, lambda o: o["data"]["user"]["userId"] == "carol",
                           "carol going offline")
        self.forget_noise()
        self.snapshot = await self.rest.snapshot()
        self.full_snapshot = await self.rest.snapshot(self.users)
        self.counter = 0
        self.opened = []
        testcase.addCleanup(self._abort_all)
        return self

    def _abort_all(self):
        for client in self.opened:
            if not client.inbox.closed.called:
                client.transport.abortConnection()

    def substitute(self, data):
        return (data.replace(b"<token>", self.token.encode())
                .replace(b"<gid>", str(self.gid).encode())
                .replace(b"<room>", str(self.room).encode()))

    # -- property 1: the others still chat ---------------------------------------------------

    async def chat(self, sender, sender_name, receiver, receiver_name):
        self.counter += 1
        text = f"check-{self.counter}"
        started = time.monotonic()
        sender.send(11, {"cmd": 11, "chatType": 2, "to": receiver_name, "content": text,
                         "id": text})
        ack = await wait_for(sender, 12, lambda o: o.get("data", {}).get("clientId") == text,
                             f"{sender_name}'s ack of {text}")
        assert ack["code"] == status.OK, ack
        await wait_for(receiver, 11, lambda o: (o["data"].get("content"), o["data"]["from"])
                       == (text, sender_name), f"{receiver_name} getting {text}")
        return time.monotonic() - started

    async def others_chat(self):
        pairs = ((self.alice, "alice", self.bobby, "bobby"),
                 (self.bobby, "bobby", self.alice, "alice"),
                 (self.wendy, "wendy", self.alice, "alice"),
                 (self.alice, "alice", self.wendy, "wendy"))
        return max([await self.chat(*pair) for pair in pairs])

    def others_heard_nothing(self):
        for client, name in ((self.alice, "alice"), (self.bobby, "bobby"), (self.wendy, "wendy")):
            assert client.inbox.frames == [], f"{name} got {client.inbox.frames[:3]}"

    def forget_noise(self):
        """What a logged-in C made the others hear (its chats, groups, events) is theirs to
        skip."""
        for client in (self.alice, self.bobby, self.wendy):
            client.inbox.frames.clear()

    # -- C --------------------------------------------------------------------------------------

    async def c_over_tcp(self, logged_in):
        c = await tcp_client(self.port, source=C_ADDRESS)
        self.opened.append(c)
        if logged_in:
            reply = await c.request(5, {"cmd": 5, "token": self.token}, 6)
            assert reply["code"] == status.LOGIN_OK, reply
        else:  # a first frame, so that the connection is routed to J-IM
            await c.request(13, {"cmd": 13}, 13)
        c.inbox.frames.clear()
        return c

    async def c_over_ws(self, logged_in):
        c = await ws_client(self.port, source=C_ADDRESS)
        self.opened.append(c)
        c.seen = []  # every message it gets, whoever takes it from its inbox
        put = c.inbox.put
        c.inbox.put = lambda cmd, obj: (c.seen.append((cmd, obj)), put(cmd, obj))
        if logged_in:
            reply = await c.request(5, {"cmd": 5, "token": self.token}, 6)
            assert reply["code"] == status.LOGIN_OK, reply
        c.inbox.frames.clear()
        return c

    async def after(self, logged_in):
        """Properties 1, 3 and 4, after an example."""
        await self.others_chat()
        if logged_in:
            self.forget_noise()
        else:
            self.others_heard_nothing()
            now = await self.rest.snapshot()
            assert now == self.snapshot, "an unauthenticated client changed what REST lists"
        self.errors.check()


async def wait_for(client, command, matches, what, timeout=CHAT_WITHIN):
    """The first frame with C{command} that C{matches}; the others are left where they were."""
    inbox = client.inbox
    for i, (cmd, obj) in enumerate(inbox.frames):
        if cmd == command and matches(obj):
            return inbox.frames.pop(i)[1]
    skipped = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                _cmd, obj = await inbox.take(command, max(deadline - time.monotonic(), 0.001))
            except defer.TimeoutError:
                raise AssertionError(f"no {what} within {timeout} s") from None
            if matches(obj):
                return obj
            skipped.append((command, obj))
    finally:
        inbox.frames[:0] = skipped


async def next_frame(client, timeout):
    """The next (cmd, JSON) C gets, or None once its connection is closed."""
    inbox = client.inbox
    if inbox.frames:
        return inbox.frames.pop(0)
    if inbox.closed.called:
        return None
    waiting = inbox.take(None, timeout)

    def closed(result):
        if not waiting.called:
            waiting.cancel()
        return result

    inbox.closed.addBoth(closed)
    try:
        return await waiting
    except defer.CancelledError:
        return None


def check_frame(obj, cmd_byte=None):
    """Property 2 for one frame C got."""
    assert type(obj) is dict and type(obj.get("command")) is int, obj
    if cmd_byte is not None:
        assert cmd_byte == obj["command"], f"cmd byte {cmd_byte} carries {obj}"
    if "code" in obj:
        assert obj["code"] in SOCKET_CODES, f"undocumented code: {obj}"
        assert obj.get("msg") == status.MESSAGES[obj["code"]], f"wrong msg: {obj}"
    else:
        assert obj["command"] in CODELESS, f"no code: {obj}"
    for field in ("detail", "msg"):
        leak = LEAKS.search(str(obj.get(field, "")))
        assert leak is None, f"{leak.group()!r} reached the client: {obj}"


def tcp_frames_of(client):
    """Every frame a TcpClient got, as (cmd byte, JSON), from its raw bytes."""
    decoder = framing.FrameDecoder(max_body=16 * 1024 * 1024)
    return [(cmd, json.loads(body)) for cmd, _seq, body in decoder.feed(b"".join(client.raw))]


async def closed_within(client, timeout):
    try:
        await until(lambda: client.inbox.closed.called, timeout)
    except AssertionError:
        return False
    return True


def check_frames(client, anonymous=False):
    """Property 2 for every frame C has not had checked yet (a TcpClient's command is its
    frame's cmd byte; a WebSocket client's, the message's own); C{anonymous}: and none says
    it logged in."""
    for cmd, obj in client.inbox.frames:
        check_frame(obj, cmd)
        if anonymous:
            assert obj.get("code") != status.LOGIN_OK, f"logged in: {obj}"


async def answer_of(client, sent, fill, anonymous=False):
    """Property 2 for what C sent: wait for one of its answers (reply commands), or for the
    close the docs allow; then check that a connection the docs keep open is served."""
    code = sent.framing_error(fill) if sent.kind != "ws" else None
    if sent.oversized(fill):
        code = status.INVALID
    if code is not None and not sent.hang_up:  # section 2.2: one error frame, then the close
        assert await closed_within(client, CLOSE_WITHIN), "a framing error left it open"
        check_frames(client, anonymous)
        errors = [(cmd, obj.get("code")) for cmd, obj in client.inbox.frames
                  if cmd == 0 and obj.get("code") in (status.VERSION_MISMATCH, status.INVALID)]
        assert errors == [(status.UNKNOWN, code)], client.inbox.frames
        return
    if sent.held(fill) and not sent.hang_up:  # section 2.1: held, nothing answered yet
        await deferLater(reactor, 0.1, lambda: None)
        check_frames(client, anonymous)
        assert replies(client.inbox.frames) == [], client.inbox.frames
        assert not client.inbox.closed.called, "an incomplete frame closed it"
        return
    answers = sent.answers(fill)
    if answers is None:  # nothing need come: give the server a moment, then check
        await deferLater(reactor, 0.1, lambda: None)
        check_frames(client, anonymous)
        return
    wanted = []

    def answered():
        wanted[:] = [obj for cmd, obj in client.inbox.frames if cmd in answers]
        return bool(wanted) or client.inbox.closed.called

    try:
        await until(answered, ANSWER_WITHIN)
    except AssertionError:
        raise AssertionError(f"no reply {sorted(answers)} within {ANSWER_WITHIN} s; got "
                             f"{client.inbox.frames[:5]}") from None
    check_frames(client, anonymous)
    assert wanted, f"closed without the reply {sorted(answers)}; got {client.inbox.frames[:5]}"
    if any(obj.get("code") in CLOSING for obj in wanted):
        assert await closed_within(client, CLOSE_WITHIN), f"{wanted[0]} but still open"
        check_frames(client, anonymous)
        return
    assert not client.inbox.closed.called, f"closed after {wanted}"
    client.inbox.frames.clear()
    heartbeat = await client.request(13, {"cmd": 13}, 13, timeout=ANSWER_WITHIN)
    assert heartbeat["data"] == {"hbbyte": -128}, heartbeat
    check_frames(client, anonymous)


#: the replies of the commands that need a login (docs section 5, item 3)
GATED = frozenset({8, 12, 18, 20, 102, 104, 106, 108, 112, 114, 116})
LOG_IN_FIRST = "log in first (cmd 5)"


def login_gate(frames):
    """What a connection that never logged in got: no login, and every reply to a command
    that needs one its 10020 "log in first"."""
    for cmd, obj in frames:
        assert obj.get("code") != status.LOGIN_OK, f"logged in: {obj}"
        if cmd in GATED:
            assert (obj.get("code"), obj.get("detail")) == (status.INVALID, LOG_IN_FIRST), obj


def anonymous(body):
    """A token is not C's to have when it never logged in."""
    return body.replace(b"<token>", b"not-a-token")


def replies(frames):
    """The (cmd, JSON) frames that answer a request: not the presence notices and events a
    logged-in user is pushed (cmd 9, 10, 100)."""
    return [(cmd, obj) for cmd, obj in frames if cmd not in (9, 10, 100)]
