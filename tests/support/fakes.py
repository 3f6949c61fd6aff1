"""Fakes for the core's unit tests: a recording connection, a store that holds chosen calls,
a password runner that holds hashing, and one builder that wires a whole core around a
L{jim.store.memory.MemoryStore} and a L{jim.bus.local.LocalBus}.

With the memory store and the default synchronous password runner every command completes
before C{frame_received} returns, so tests read what was sent right after sending.
"""
import orjson
from twisted.internet import defer
from twisted.internet.task import Clock
from zope.interface import implementer

from jim.bus.local import LocalBus, LocalPresence
from jim.config import Limits
from jim.core.accounts import secret_hash
from jim.core.core import build_core
from jim.core.passwords import Passwords, hash_password
from jim.core.tokens import Tokens
from jim.cursors import start_of_new_device
from jim.errors import JimError
from jim.interfaces import IClient
from jim.metrics import Metrics
from jim.model import MEMBER, OWNER, PUBLIC, App, Group, Member, User
from jim.protocols.jim_session import Session
from jim.store import with_id
from jim.store.memory import MemoryStore
from jim.wire import jimjson

#: scrypt cost for tests: the smallest the algorithm accepts, so a hash takes microseconds
COST = (2, 1, 1)
APP_KEY = "defaultapp00000000000000"
APP_SECRET = "mastersecret000000000000"
TOKEN_KEY = b"k" * 32


def decoded(body):
    """A sent body as JSON when it is JSON, else the raw bytes."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body


@implementer(IClient)
class RecordingClient:
    """An L{IClient} that records what the core does to it.

    @ivar sent: C{(command, decoded JSON body)} in sending order.
    @ivar closes: the reasons of every C{close} call.
    @ivar reading: "pause" / "resume" in call order.
    """

    def __init__(self, terminal="tcp", peer="127.0.0.1:40000"):
        self.terminal = terminal
        self.peer = peer
        self.sent = []
        self.closes = []
        self.reading = []
        self.writes_of_all = []  # how many bodies each send_all call had

    encoding = "recording"

    def send(self, command, body):
        assert isinstance(body, bytes), body
        self.sent.append((command, decoded(body)))

    def encode(self, frames):
        return tuple(frames)

    def send_encoded(self, data):
        for command, body in data:
            self.send(command, body)

    def send_all(self, command, bodies):
        self.writes_of_all.append(len(bodies))
        for body in bodies:
            self.send(command, body)

    def close(self, reason):
        self.closes.append(reason)

    def pause_reading(self):
        self.reading.append("pause")

    def resume_reading(self):
        self.reading.append("resume")

    def take(self):
        """What was sent since the last C{take}, and forget it."""
        sent, self.sent = self.sent, []
        return sent

    def commands(self):
        return [command for command, _ in self.sent]


def codes(client):
    """(command, status code) of what C{client} was sent since the last take, and forget it."""
    return [(command, body.get("code")) for command, body in client.take()]


def _job_name(f, args):
    """The name of the hashing function a runner was given (unwrapping the timing wrapper)."""
    return args[0].__name__ if f.__name__ == "_timed" else f.__name__


class HeldRunner:
    """A password runner (C{(f, *args) -> Deferred}) whose results wait for L{release}."""

    def __init__(self):
        self.pending = []
        self.calls = []

    def __call__(self, f, *args):
        d = defer.Deferred()
        self.calls.append(_job_name(f, args))
        self.pending.append((d, f, args))
        return d

    def release(self):
        """Run every held call and fire its Deferred, oldest first (including calls made by
        the callbacks themselves)."""
        while self.pending:
            d, f, args = self.pending.pop(0)
            d.callback(f(*args))


class RecordingRunner:
    """A synchronous password runner that notes the name of every function it runs."""

    def __init__(self):
        self.calls = []

    def __call__(self, f, *args):
        self.calls.append(_job_name(f, args))
        return defer.maybeDeferred(f, *args)


class HoldingStore:
    """Wraps a L{MemoryStore}; calls to the methods named in C{held} (of any area) answer with
    unfired Deferreds until L{release} runs them against the wrapped store. Holding
    C{add_message} holds every message write (add_message, add_message_then,
    append_message_then, and a run's append_run_then or add_run_then as one), each taking its
    id at once, as SqliteStore's do. With C{reserves_ids=False} its messages' C{reserve_id}
    promises none, as a Redis store's."""

    def __init__(self, store, *held, reserves_ids=True):
        self.store = store
        self.held = set(held)
        #: False: its messages' reserve_id promises no id (as a Redis store's)
        self.reserves_ids = reserves_ids
        self.pending = []
        for area in ("apps", "users", "relations", "groups", "messages", "inbox", "events",
                     "words", "rooms", "callbacks", "reports", "nonces", "silences"):
            setattr(self, area, _HoldingArea(self, getattr(store, area)))

    def start(self):
        return self.store.start()

    def stop(self):
        return self.store.stop()

    def take_only(self):
        """The one held call, taken out of the queue: C{(args, d)}, its arguments and the
        Deferred its caller waits on, for the test to answer as it likes."""
        [(_, _, d, args, _)] = self.pending
        self.pending = []
        return args, d

    def release(self, name=None, count=None):
        """Run held calls (only those of C{name}, if given; only the first C{count}, if
        given), oldest first."""
        keep = []
        pending, self.pending = self.pending, []
        for call in pending:
            area, method, d, args, kwargs = call
            if (name is not None and method != name) or count == 0:
                keep.append(call)
                continue
            if count is not None:
                count -= 1
            if kwargs.get("prepared"):
                area.append_message_then(*args, d.callback)
                continue
            if kwargs.get("run"):
                area.append_run_then(*args, d.callback)
                continue
            getattr(area, method)(*args, **kwargs).chainDeferred(d)
        self.pending = keep + self.pending
        if name is None and count is None and self.pending:
            self.release()  # the calls the released ones' callbacks made


def _no_id():
    return None


class _HoldingArea:
    def __init__(self, holder, area):
        self._holder = holder
        self._area = area

    def __getattr__(self, name):
        holder = self._holder
        if name == "reserve_id" and not holder.reserves_ids:
            return _no_id
        if "add_message" in holder.held:
            if name == "add_message":
                return self._held_add_message
            if name == "add_message_then":
                return self._held_add_message_then
            if name == "append_message_then":
                return self._held_append_message_then
            if name == "append_run_then":
                return self._held_append_run_then
            if name == "add_run_then":
                return self._held_add_run_then
        method = getattr(self._area, name)
        if name not in holder.held:
            return method

        def held(*args, **kwargs):
            d = defer.Deferred()
            holder.pending.append((self._area, name, d, args, kwargs))
            return d

        return held

    def _held_add_message(self, message):
        d = defer.Deferred()
        self._held_append_message_then(with_reserved_id(self._area, message), d.callback)
        return d

    def _held_add_message_then(self, message, then, *args):
        self._held_add_message(message).addBoth(then, *args)

    def _held_append_message_then(self, stored, then, *args):
        """An append of a prepared message, held as an add_message: its id stays the one
        it was built with."""
        d = defer.Deferred()
        self._holder.pending.append(
            (self._area, "add_message", d, (stored,), {"prepared": True}))
        d.addBoth(then, *args)

    def _held_append_run_then(self, run, then, *args):
        """An append of a run (L{jim.interfaces.IMessageStore.append_run_then}), held as one
        add_message."""
        d = defer.Deferred()
        self._holder.pending.append((self._area, "add_message", d, (run,), {"run": True}))
        d.addBoth(then, *args)

    def _held_add_run_then(self, run, then, *args):
        self._held_append_run_then([with_reserved_id(self._area, message) for message in run],
                                   then, *args)


class LateReads:
    """A store area whose named reads look at the store at once but answer only when
    released: a read on another thread that a change overtakes."""

    def __init__(self, area, *names):
        self._area = area
        self._names = set(names)
        self.holding = False
        self._held = []

    def __getattr__(self, name):
        method = getattr(self._area, name)
        if name not in self._names:
            return method

        def late(*args, **kwargs):
            answer = method(*args, **kwargs)
            if not self.holding:
                return answer
            d = defer.Deferred()
            self._held.append((answer, d))
            return d

        return late

    def release(self):
        self.holding = False
        held, self._held = self._held, []
        for answer, d in held:
            answer.chainDeferred(d)


class CoreFixture:
    """A core on a memory store, a local bus that passes every value through its wire form,
    and a Clock, with helpers to add users and groups and to connect clients."""

    def __init__(self, store, clock, limits, open_registration, auto_join, run, cost, token_ttl):
        self.clock = clock
        self.limits = limits
        self.store = store
        self.memory = store.store if isinstance(store, HoldingStore) else store
        self.metrics = Metrics()
        # a held runner holds 4 hashes at once
        self.passwords = Passwords(cost, run=run, threads=4,
                                   per_source=limits.logins_per_address)
        self.tokens = Tokens(TOKEN_KEY, token_ttl)
        self.app_key = APP_KEY
        self.app_secret = APP_SECRET
        self.memory.apps.add_app(App(APP_KEY, secret_hash(APP_SECRET), "default"))
        self.bus = LocalBus(node="test", wire=True, metrics=self.metrics)
        self.core = build_core(store, self.bus, LocalPresence(), self.passwords, self.tokens,
                               clock, self.metrics, limits, APP_KEY, open_registration,
                               auto_join)
        self.hub = self.core.hub
        self.accounts = self.core.accounts

    def add_user(self, username, password="secret", app=APP_KEY, cost=COST, nickname="",
                 **fields):
        user = User(app, username, hash_password(password, cost), nickname=nickname, **fields)
        self.memory.users.add_user(user)
        return user

    def add_group(self, gid, *members, app=APP_KEY, owner="", flag=PUBLIC):
        """A group J-IM calls C{gid} (a name or a number) with C{members}, the first of them
        (or C{owner}) owning it; the stored Group."""
        number, alias = jimjson.group_ref(gid)
        owner = owner or (members[0] if members else "")
        group = Group(app, 0 if alias is not None else number, gid, owner=owner, flag=flag,
                      max_members=self.limits.group_size, alias=alias)
        first = [Member(name, OWNER if name == owner else MEMBER) for name in members]
        return self.memory.groups.create_group(group, first).result

    def connect(self, terminal="tcp"):
        """A new connection: (session, client)."""
        client = RecordingClient(terminal)
        return Session(self.core, client), client

    def login(self, username, password="secret", terminal="tcp"):
        """A new connection logged in as C{username} (an existing user); what the login sent
        is already taken from the client."""
        session, client = self.connect(terminal)
        send(session, 5, {"cmd": 5, "userId": username, "password": password})
        replies = client.take()
        assert replies and replies[0][1].get("code") == 10007, replies
        return session, client


def offline(fx, username, device="w:~", app=APP_KEY):
    """What an offline fetch on C{device} of C{username} would list now: its inbox after its
    cursor (a device without one starts as a new device would), in the user's groups but
    those it shields. C{fx}: a L{CoreFixture} on a memory store (nothing held)."""
    memory = fx.memory
    cursors = memory.inbox.cursors(app, username).result
    cursor = cursors.get(device) or start_of_new_device(cursors)
    gids = list(defer.ensureDeferred(fx.core.inbox.groups_of(app, username)).result)
    return memory.inbox.read(app, username, gids, cursor).result


def with_reserved_id(messages, message):
    """C{message} with the next id C{messages} (an L{IMessageStore}) reserves, as the hot path
    builds one for L{append_message_then}; None when the store can promise no id now."""
    message_id = messages.reserve_id()
    return None if message_id is None else with_id(message, message_id)


class ServiceCalls:
    """For a SynchronousTestCase calling the core's services (whose memory-store calls
    complete at once)."""

    def ok(self, d):
        """What the coroutine or Deferred C{d} returned."""
        return self.successResultOf(defer.ensureDeferred(d))

    def refused(self, d, code):
        """The JimError C{d} failed with, after checking its C{code}."""
        error = self.failureResultOf(defer.ensureDeferred(d), JimError).value
        self.assertEqual(error.code, code, error.detail)
        return error


def send(session, cmd, obj):
    """Hand a session a TCP frame whose body is C{obj} as JSON."""
    session.frame_received(cmd, orjson.dumps(obj))


def make_core(
    clock=None,
    store=None,
    limits=None,
    open_registration=False,
    auto_join=(),
    run=None,
    cost=COST,
    token_ttl=3600,
    users=(),
):
    """A L{CoreFixture}: MemoryStore (or C{store}), Hub, Accounts with C{Passwords(cost)}
    running synchronously (or through C{run}), Tokens and Core on a L{Clock}; C{users} are
    added (password "secret")."""
    fixture = CoreFixture(
        MemoryStore() if store is None else store,
        Clock() if clock is None else clock,
        Limits() if limits is None else limits,
        open_registration,
        auto_join,
        run,
        cost,
        token_ttl,
    )
    for username in users:
        fixture.add_user(username)
    return fixture
