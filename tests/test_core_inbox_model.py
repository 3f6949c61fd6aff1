"""Delivery guarantees of the inbox against a reference model (docs/delivery.md, "Cursors and
acknowledgements" and "Where the promise stops today").

A Hypothesis state machine drives one core on a memory store through J-IM commands: private
and group chats from connections and from REST-like senders (some with client ids, resent;
some with no_offline), events kept in the inbox (a user's blacklist changing: for that user
only; the group updated: for every member), logins of a few fixed devices per user (devices
that ack, a named J-IM device, the shared J-IM device of each transport), logouts and
reconnects, offline fetches and syncs paged by small limits, acks, and crashes (every
connection vanishes unannounced; a new core starts on the same store, which keeps what was
committed, as a disk would). The model knows every message and event and what each device
holds (pushed, listed, or sent by it, over all its sessions; a client of a device that acks
keeps only what it acked when its connection ends), and checks:

1. no loss for devices that ack: a sync to the end leaves the device holding every message
   and event of its inbox since its first login (no_offline messages aside); each sync page
   lists exactly the oldest of the inbox (messages and events merged by id) after the
   device's cursor, and its C{upto} is the highest id it lists;
2. no loss for J-IM devices: likewise, for messages, after an offline fetch to the end (their
   own sends are held: they sent them); an offline fetch lists no event;
3. no repeats for J-IM devices: a fetch never lists an id the device got before unless a
   crash happened since it last got it; a device that acks gets again only what it never
   acked (message or event);
4. cursors never go backwards; a new device starts with what its user's other devices
   consumed; a device that acks is moved by its acks only, each capped at what its
   connection was sent or listed (events included); a J-IM device's cursor never consumes a
   message it did not get (a fetch of everything consumes the events below the last message
   it lists: not checked for events), and consumes what a connection of it held (pushed
   events included) once its logout is processed;
5. every chat gets exactly one answer (10000 or 10001 as its receiver is online or not) and
   reaches at once every connection it should, and no other; a resend is answered with the
   first id and delivered to no one; every kept event reaches at once (cmd 100) every
   connection of the users it is for, and no other, with the same body a sync lists it with.

Retention is not modelled: with the default C{inbox_per_conversation} (100) and a clock that
never moves, a run of C{stateful_step_count} steps never reaches it, for a conversation's
messages or a user's events (asserted).
"""
import itertools
from typing import NamedTuple

import attr
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition,
                                 rule)
from twisted.internet import defer
from twisted.internet.task import Clock

from jim.config import Limits
from jim.cursors import EVENTS, Cursor, group_conversation, private_conversation
from jim.model import GROUP, SINGLE, TEXT, Draft
from jim.wire import status
from tests.support.fakes import APP_KEY, make_core, send

USERS = ("alice", "bob", "carol")
#: a user who never logs in or chats: USERS blacklist it (and take it off) to make events
OUTSIDER = "zed"
GROUP_NAME = "g"  # every user is a member
# small pages: a fetch or sync takes several, cut by count (2) or by bytes (a long message
# and another do not fit in 500)
LIMITS = Limits(offline_max=2, max_reply=500, max_message=64)
#: frames the model does not follow: a group's members coming online and going offline
IGNORED = (status.JOIN_GROUP_NOTIFY, status.EXIT_GROUP_NOTIFY)


class Spec(NamedTuple):
    key: str  # the device's cursor key
    terminal: str
    fields: dict  # what its login names
    acks: bool

    @property
    def named(self):
        return "deviceId" in self.fields


DEVICES = (
    Spec("a:phone", "tcp", {"platform": "a", "deviceId": "phone", "acks": True}, True),
    Spec("i:pad", "ws", {"platform": "i", "deviceId": "pad", "acks": True}, True),
    Spec("w:desk", "tcp", {"platform": "w", "deviceId": "desk"}, False),
    Spec("w:~", "tcp", {}, False),  # J-IM's TCP connections: one device, side by side
    Spec("j:~", "ws", {}, False),  # J-IM's WebSocket connections
)


@attr.s
class Msg:
    id = attr.ib()
    sender = attr.ib()
    kind = attr.ib()  # SINGLE or GROUP
    target = attr.ib()  # a username, or the group's gid as text
    no_offline = attr.ib()

    def of(self, user):
        """Is it in C{user}'s inbox?"""
        return self.kind == GROUP or user in (self.sender, self.target)

    def conversation(self):
        if self.kind == GROUP:
            return group_conversation(self.target)
        return private_conversation(self.sender, self.target)


@attr.s
class Ev:
    """An event kept in the inbox of each user of its C{audience}."""

    id = attr.ib()
    kind = attr.ib()
    audience = attr.ib()  # a frozenset of usernames
    no_offline = False

    def of(self, user):
        return user in self.audience

    def conversation(self):
        return EVENTS


@attr.s(eq=False)
class Device:
    user = attr.ib()
    spec = attr.ib()
    first = attr.ib(default=None)  # the last id (message or event) when it first logged in
    # the ids (messages and events) its cursor consumed when it was new (what the user's
    # other devices had), and that cursor's spans
    start = attr.ib(factory=set)
    start_spans = attr.ib(default=())
    floor = attr.ib(default=0)  # a device that acks: its cursor's floor (moved by its acks)
    # id -> the crash count when the device last got it (pushed, listed, or its own send)
    received = attr.ib(factory=dict)

    def acked(self, message_id):
        """A device that acks: is this id consumed by its cursor?"""
        return message_id <= self.floor or message_id in self.start


@attr.s(eq=False)
class Conn:
    session = attr.ib()
    client = attr.ib()
    device = attr.ib()
    start = attr.ib()  # the last id (message or event) when it logged in
    held = attr.ib(factory=set)  # ids pushed to it, listed to it, or sent by it
    synced = attr.ib(default=False)  # a sync ran to the end since its login
    contiguous = attr.ib(default=None)  # it holds the whole inbox after the floor up to this

    @property
    def user(self):
        return self.device.user

    @property
    def bound(self):
        """The most its acks may reach: the highest id it was sent, listed or sent itself."""
        return max(self.held, default=0)

    @property
    def ackable(self):
        """The highest id it may truthfully say it holds its inbox up to."""
        return self.bound if self.synced else self.contiguous


def settled(d):
    """The result of a Deferred or coroutine that has already fired (raising its failure)."""
    box = []
    defer.ensureDeferred(d).addBoth(box.append)
    assert box, "the call did not complete at once"
    if hasattr(box[0], "raiseException"):
        box[0].raiseException()
    return box[0]


def restarted(store, clock):
    """A new core on C{store} (a node started again after a crash). make_core adds the app,
    which the store already has: that one add is skipped."""
    store.apps.add_app = lambda app: defer.succeed(None)
    try:
        return make_core(store=store, clock=clock, limits=LIMITS)
    finally:
        del store.apps.add_app


class InboxMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.clock = Clock()
        self.fx = make_core(clock=self.clock, limits=LIMITS, users=USERS + (OUTSIDER,))
        self.store = self.fx.memory
        self.gid = str(self.fx.add_group(GROUP_NAME, *USERS).gid)
        self.messages = {}  # id -> Msg
        self.events = {}  # id -> Ev
        self.bodies = {}  # event id -> its cmd 100 data object, as first seen
        self.blacklisting = set()  # the users whose blacklist holds OUTSIDER
        self.last_id = 0  # the last id given, to a message or an event
        self.crashes = 0
        self.crashed_at = 0  # the last id at the last crash
        self.devices = {(u, s.key): Device(u, s) for u in USERS for s in DEVICES}
        self.live = []  # Conns, in login order
        self.sent_with_ids = []  # (device or None for REST, sender, client id, kind, target, id)
        self.names = itertools.count(1)
        self.cursors = {}  # (user, device key) -> the Cursor the store had after the last step

    # -- the model -----------------------------------------------------------------------------

    def frames(self, conn):
        return [(c, b) for c, b in conn.client.take() if c not in IGNORED]

    def known(self):
        """Every message and event: id -> Msg or Ev."""
        return {**self.messages, **self.events}

    def inbox(self, user, after=0, conversation=None, events=False):
        """The ids of C{user}'s inbox after C{after} that offline reads list (of one
        conversation; with C{events}, its events among its messages), in order."""
        items = self.known() if events else self.messages
        return [i for i, m in sorted(items.items())
                if i > after and m.of(user) and not m.no_offline
                and (conversation is None or m.conversation() == conversation)]

    def owed(self, device, after=0, conversation=None, events=False):
        """What a fetch (or, with C{events}, a sync) of a device that acks lists: its inbox
        after its cursor."""
        return [i for i in self.inbox(device.user, after, conversation, events)
                if not device.acked(i)]

    def got(self, conn, ids):
        """C{conn} got these ids (pushed, listed, or its own send)."""
        conn.held.update(ids)
        for i in ids:
            conn.device.received[i] = self.crashes

    def gone(self, conn):
        """A connection ended. The client of a device that acks keeps only what it acked:
        the rest of what the connection got goes with it (as over a half-open socket, or with
        an app killed), and its next sync must bring all of it back."""
        device = conn.device
        if device.spec.acks:
            for i in conn.held:
                if not device.acked(i):
                    device.received.pop(i, None)

    def targets(self, sender):
        return [u for u in USERS if u != sender] + [GROUP_NAME]

    def content(self, long):
        return f"m{next(self.names)} " + ("x" * 40 if long else "")

    def online(self, user):
        return any(c.user == user for c in self.live)

    def within_retention(self):
        """Retention is not modelled: each conversation's messages, and each user's events,
        stay within what the inbox keeps (the clock never moves: no day passes)."""
        counts = {}
        for m in self.messages.values():
            counts[m.conversation()] = counts.get(m.conversation(), 0) + 1
        for e in self.events.values():
            for user in e.audience:
                counts[(EVENTS, user)] = counts.get((EVENTS, user), 0) + 1
        assert max(counts.values()) <= LIMITS.inbox_per_conversation, counts

    def delivered(self, message, sending=None):
        """A new message reached at once every live connection of its inbox's users (but the
        one that sent a private message, which got its answer), and no other."""
        self.messages[message.id] = message
        self.last_id = max(self.last_id, message.id)
        self.within_retention()
        for conn in self.live:
            if conn is sending:
                continue  # its frames were checked by the caller
            frames = self.frames(conn)
            pushed = [int(b["data"]["id"]) for c, b in frames if c == status.CHAT_REQ]
            assert len(pushed) == len(frames), frames
            assert pushed == ([message.id] if message.of(conn.user) else []), (
                conn.device, pushed, message)
            assert message.id not in conn.held, "pushed twice to one connection"
            self.got(conn, pushed)

    def check_listed(self, conn, ids, conversation=None):
        """Ids a fetch or sync listed: messages of the user's inbox (of the conversation
        asked), none sent with no_offline, none twice, none the device must not get again."""
        device = conn.device
        assert len(set(ids)) == len(ids), ids
        for i in ids:
            message = self.messages.get(i)
            assert message is not None and message.of(conn.user), (i, message)
            assert not message.no_offline, message
            assert conversation is None or message.conversation() == conversation, message
            if device.spec.acks:
                assert not device.acked(i), ("listed again after its ack", i, device)
            else:  # invariant 3: a J-IM device gets an id again only after a crash
                assert device.received.get(i, -1) < self.crashes, (
                    "a J-IM device got a message again without a crash", i, device)

    def check_listed_events(self, conn, bodies):
        """Events a sync listed: of the user's inbox, none twice, none the device acked,
        each with the body it was pushed with."""
        ids = [b["event_id"] for b in bodies]
        assert len(set(ids)) == len(ids), ids
        for body in bodies:
            event = self.events.get(body["event_id"])
            assert event is not None and event.of(conn.user), (body, event)
            assert body["kind"] == event.kind, (body, event)
            assert not conn.device.acked(event.id), ("listed again after its ack", event,
                                                     conn.device)
            self.check_body(body)

    def check_body(self, body):
        """An event's cmd 100 data object is the same wherever it is sent or listed."""
        first = self.bodies.setdefault(body["event_id"], body)
        assert body == first, (body, first)

    def check_holds_inbox(self, device, conversation=None, events=False):
        """Invariants 1 and 2: the device holds every message (and with C{events} every
        event) of its user's inbox (of the conversation) since its first login."""
        missing = [i for i in self.inbox(device.user, device.first, conversation, events)
                   if i not in device.received]
        assert not missing, ("lost", missing, device)

    # -- sending -------------------------------------------------------------------------------

    @precondition(lambda self: self.live)
    @rule(pick=st.integers(0, 20), to=st.integers(0, 2),
          how=st.sampled_from(["short", "long", "with id"]))
    def chat(self, pick, to, how):
        """A connection sends a chat (cmd 11): a short or a long one, or one with a client
        id."""
        conn = self.live[pick % len(self.live)]
        target = self.targets(conn.user)[to]
        body = {"content": self.content(how == "long")}
        if target == GROUP_NAME:
            body.update(chatType=1, groupId=GROUP_NAME)
            kind, key = GROUP, self.gid
        else:
            body.update(chatType=2, to=target)
            kind, key = SINGLE, target
        client_id = f"c{next(self.names)}" if how == "with id" else None
        if client_id:
            body["id"] = client_id
        online = kind == GROUP or self.online(target)
        send(conn.session, status.CHAT_REQ, body)
        frames = self.frames(conn)
        answers = [b for c, b in frames if c == status.CHAT_RESP]
        assert len(answers) == 1, frames  # invariant 5
        [answer] = answers
        assert answer["code"] == (status.OK if online else status.OFFLINE), answer
        assert answer["data"].get("clientId") == client_id, answer
        message = Msg(int(answer["data"]["id"]), conn.user, kind, key, False)
        assert message.id > self.last_id, (message, self.last_id)
        # a group chat comes back to its sending connection too; a private one does not
        pushed = [int(b["data"]["id"]) for c, b in frames if c == status.CHAT_REQ]
        assert pushed == ([message.id] if kind == GROUP else []), frames
        assert len(frames) == 1 + len(pushed), frames
        self.got(conn, [message.id])
        self.delivered(message, conn)
        if client_id:
            self.sent_with_ids.append((conn.device, conn.user, client_id, kind, key, message.id))

    @rule(sender=st.sampled_from(USERS), to=st.integers(0, 2),
          how=st.sampled_from(["short", "three", "long", "with id", "no offline"]))
    def rest_chat(self, sender, to, how):
        """A chat sent without a connection (the REST API's way), or three: short or long
        ones, one with a client id, or one sent with no_offline (pushed, never listed). Every
        connection of the sender gets them too."""
        target = self.targets(sender)[to]
        kind, key = (GROUP, self.gid) if target == GROUP_NAME else (SINGLE, target)
        no_offline = how == "no offline"
        for _ in range(3 if how == "three" else 1):
            client_id = f"c{next(self.names)}" if how == "with id" else None
            online = kind == GROUP or self.online(target)
            stored, delivered = settled(self.fx.core.messages.send(
                APP_KEY, sender, Draft(kind, key, TEXT, {"text": self.content(how == "long")},
                                       client_id=client_id, no_offline=no_offline)))
            assert delivered == online, (delivered, online)  # invariant 5
            assert stored.id > self.last_id, (stored, self.last_id)
            self.delivered(Msg(stored.id, sender, kind, key, no_offline))
            if client_id:
                self.sent_with_ids.append((None, sender, client_id, kind, key, stored.id))

    def resendable(self):
        """Chats with a client id whose sender can send them again: REST's, and those of a
        device online now (a client resends from the device that sent first)."""
        online = {id(c.device) for c in self.live}
        return [s for s in self.sent_with_ids if s[0] is None or id(s[0]) in online]

    @precondition(lambda self: self.resendable())
    @rule(pick=st.integers(0, 20), via=st.integers(0, 20))
    def resend(self, pick, via):
        """A chat sent again with its client id, from the device that sent it first (any of
        its connections) or REST: answered with the first one's id, delivered to no one."""
        resendable = self.resendable()
        device, sender, client_id, kind, key, first = resendable[pick % len(resendable)]
        if device is None:
            stored, _ = settled(self.fx.core.messages.send(
                APP_KEY, sender, Draft(kind, key, TEXT, {"text": "again"}, client_id=client_id)))
            assert stored.id == first, (stored, first)
        else:
            mine = [c for c in self.live if c.device is device]
            conn = mine[via % len(mine)]
            body = {"content": "again", "id": client_id}
            if kind == GROUP:
                body.update(chatType=1, groupId=GROUP_NAME)
            else:
                body.update(chatType=2, to=key)
            send(conn.session, status.CHAT_REQ, body)
            [(command, answer)] = self.frames(conn)
            assert command == status.CHAT_RESP, answer
            assert answer["code"] in (status.OK, status.OFFLINE), answer
            assert (int(answer["data"]["id"]), answer["data"]["clientId"]) == (first, client_id)
        for conn in self.live:
            assert self.frames(conn) == [], "a resend was delivered again"

    @rule(who=st.sampled_from(USERS + (GROUP_NAME,)))
    def event(self, who):
        """An event kept in the inbox happens: a user blacklists OUTSIDER, or takes it off
        (blacklist_changed, for that user only), or the group is updated (group_updated, for
        every member). Kept with the next id, it reaches at once every connection of its
        users, and no other (invariant 5)."""
        if who == GROUP_NAME:
            kind, audience = "group_updated", frozenset(USERS)
            settled(self.fx.core.groups.update(APP_KEY, int(self.gid),
                                               {"desc": self.content(False)}))
        else:
            kind, audience = "blacklist_changed", frozenset([who])
            relations = self.fx.core.relations
            change = (relations.remove_blacklist if who in self.blacklisting
                      else relations.add_blacklist)
            settled(change(APP_KEY, who, [OUTSIDER]))
            self.blacklisting ^= {who}
        # its id, and its users, as the store kept it
        kept = {user: [e.id for e in settled(self.store.events.read_events(
            APP_KEY, user, Cursor(), after=self.last_id, limit=None, per_user=None))]
            for user in USERS}
        event_id = self.last_id + 1  # no message was sent meanwhile: the next id
        assert kept == {u: [event_id] if u in audience else [] for u in USERS}, (kept, audience)
        self.events[event_id] = event = Ev(event_id, kind, audience)
        self.last_id = event_id
        self.within_retention()
        for conn in self.live:
            frames = self.frames(conn)
            assert [c for c, _ in frames] == ([status.EVENT] if event.of(conn.user) else []), (
                conn.device, frames, event)
            for _, body in frames:
                data = body["data"]
                assert (data["event_id"], data["kind"]) == (event_id, kind), (data, event)
                self.check_body(data)
                self.got(conn, [event_id])

    # -- connections ---------------------------------------------------------------------------

    @initialize(logins=st.lists(st.tuples(st.sampled_from(USERS), st.sampled_from(DEVICES)),
                                min_size=1, max_size=4))
    def first_logins(self, logins):
        for user, spec in logins:
            self.login(user, spec)

    @rule(user=st.sampled_from(USERS), spec=st.sampled_from(DEVICES))
    def login(self, user, spec):
        """A device logs in (a named one that is online replaces its connection)."""
        self.log_in(self.devices[(user, spec.key)])

    def away(self):
        """The devices seen before with no connection now."""
        online = {id(c.device) for c in self.live}
        return [d for d in self.devices.values() if d.first is not None and id(d) not in online]

    @precondition(lambda self: self.away())
    @rule(pick=st.integers(0, 20), read=st.booleans())
    def come_back(self, pick, read):
        """A device seen before, offline now, logs in again, and maybe reads what it missed."""
        away = self.away()
        conn = self.log_in(away[pick % len(away)])
        if read:
            self.catch_up(conn)

    @precondition(lambda self: self.live)
    @rule(pick=st.integers(0, 20), read=st.booleans())
    def reconnect(self, pick, read):
        """A connection goes (its logout processed) and its device logs in again."""
        conn = self.live[pick % len(self.live)]
        self.log_out(conn)
        conn = self.log_in(conn.device)
        if read:
            self.catch_up(conn)

    @precondition(lambda self: self.live)
    @rule(pick=st.integers(0, 20))
    def logout(self, pick):
        self.log_out(self.live[pick % len(self.live)])

    @precondition(lambda self: self.live and self.last_id > self.crashed_at)
    @rule()
    def crash(self):
        """The node dies: no connection's logout is processed; a new node starts on the same
        store (what was committed is kept, as on a disk). (Only with connections, after a
        chat or an event since the last crash: a crash of an idle node proves nothing
        more.)"""
        self.crashes += 1
        self.crashed_at = self.last_id
        for conn in self.live:
            self.gone(conn)
        self.live = []
        self.fx = restarted(self.store, self.clock)

    def log_in(self, device):
        user, spec = device.user, device.spec
        before = settled(self.store.inbox.cursors(APP_KEY, user))
        session, client = self.fx.connect(spec.terminal)
        send(session, status.LOGIN_REQ, {"userId": user, "password": "secret", **spec.fields})
        frames = [(c, b) for c, b in client.take() if c not in IGNORED]
        assert [(c, b["code"]) for c, b in frames] == [(status.LOGIN_RESP, status.LOGIN_OK)]
        if spec.named:  # a second login of a device replaces the first
            for old in [c for c in self.live if c.device is device]:
                self.live.remove(old)
                self.gone(old)
                assert old.session.closed and old.client.closes, old
                assert [c for c, _ in self.frames(old)] == [status.EVENT]
        for other in self.live:
            assert self.frames(other) == [], other
        if device.first is None:
            assert spec.key not in before
            cursor = settled(self.store.inbox.cursors(APP_KEY, user))[spec.key]
            # a device never seen starts with what any other device of its user consumed
            known = self.known()
            for i, m in known.items():
                assert cursor.consumed(i, m.conversation()) == any(
                    c.consumed(i, m.conversation()) for c in before.values()), (i, cursor, before)
            device.first = self.last_id
            device.start = {i for i, m in known.items() if cursor.consumed(i, m.conversation())}
            device.floor, device.start_spans = cursor.floor, cursor.spans
        conn = Conn(session, client, device, self.last_id)
        self.live.append(conn)
        return conn

    def log_out(self, conn):
        self.live.remove(conn)
        self.gone(conn)
        conn.session.connection_lost()
        for other in self.live:
            assert self.frames(other) == [], other
        device = conn.device
        if not device.spec.acks:  # invariant 4: what it was pushed (events too) is consumed
            cursor = settled(self.store.inbox.cursors(APP_KEY, device.user))[device.spec.key]
            known = self.known()
            kept = [i for i in self.inbox(device.user, conn.start, events=True)
                    if i in conn.held and not cursor.consumed(i, known[i].conversation())]
            assert not kept, ("held, not consumed at its logout", kept, cursor, device)

    # -- reading -------------------------------------------------------------------------------

    @precondition(lambda self: self.live)
    @rule(pick=st.integers(0, 20), which=st.sampled_from(["all", "peer", "group"]),
          peer=st.integers(0, 1))
    def fetch(self, pick, which, peer):
        """An offline fetch (cmd 19 type 0), of everything, of one peer or of the group: a
        J-IM device repeats it until a reply lists nothing; a fetch consumes nothing for a
        device that acks, so it makes one (repeating it would list the same again)."""
        conn = self.live[pick % len(self.live)]
        request, conversation = {}, None
        if which == "peer":
            other = [u for u in USERS if u != conn.user][peer]
            request, conversation = {"fromUserId": other}, private_conversation(conn.user, other)
        elif which == "group":
            request, conversation = {"groupId": GROUP_NAME}, group_conversation(self.gid)
        if conn.device.spec.acks:
            self.fetch_page(conn, request, conversation)
        else:
            self.fetch_all(conn, request, conversation)

    @precondition(lambda self: any(c.device.spec.acks for c in self.live))
    @rule(pick=st.integers(0, 20), count=st.none() | st.integers(1, 3), to_end=st.booleans(),
          then_ack=st.booleans())
    def sync(self, pick, count, to_end, then_ack):
        """A device that acks syncs (cmd 101): a page, or pages (with C{after}) while more;
        then, maybe, acks what it holds."""
        acking = [c for c in self.live if c.device.spec.acks]
        conn = acking[pick % len(acking)]
        self.sync_pages(conn, count, to_end)
        if then_ack:
            self.acknowledge(conn, conn.ackable)

    @precondition(lambda self: any(c.ackable is not None for c in self.live))
    @rule(pick=st.integers(0, 20), how=st.sampled_from(["held", "over", "lower"]))
    def ack(self, pick, how):
        """A connection that synced acks what it holds (or claims more, or less)."""
        ready = [c for c in self.live if c.ackable is not None]
        conn = ready[pick % len(ready)]
        upto = conn.ackable
        if how == "over" and conn.synced:  # more than it was sent (not than it holds)
            upto += 1000
        elif how == "lower":
            upto //= 2
        self.acknowledge(conn, upto)

    def acknowledge(self, conn, upto):
        device = conn.device
        send(conn.session, status.ACK_REQ, {"upto": upto})
        [(command, body)] = self.frames(conn)
        assert (command, body["code"]) == (status.ACK_RESP, status.OK), body
        # invariant 4: never back, never past what the connection was sent or listed, but
        # on through what the device had consumed when it was new (a span it started with
        # that reaches down to the floor)
        floor = max(device.floor, min(upto, conn.bound))
        while any(a <= floor < b for a, b in device.start_spans):
            floor = max(b for a, b in device.start_spans if a <= floor)
        assert body["data"]["cursor"] == floor, (body, upto, conn.bound, device)
        device.floor = floor

    def catch_up(self, conn):
        """What a client does after its login: a J-IM one fetches its offline messages, one
        that acks syncs and acks, each to the end."""
        if conn.device.spec.acks:
            self.sync_pages(conn, None, True)
            self.acknowledge(conn, conn.ackable)
        else:
            self.fetch_all(conn, {}, None)

    def fetch_once(self, conn, request):
        send(conn.session, status.GET_MESSAGE_REQ, {"type": 0, **request})
        [(command, body)] = self.frames(conn)
        assert (command, body["code"]) == (status.GET_MESSAGE_RESP, status.GET_OFFLINE_OK), body
        data = body["data"]
        assert "events" not in data, data  # an offline fetch lists messages only
        listed = [int(m["id"]) for kind in ("friends", "groups") for ms in data[kind].values()
                  for m in ms]
        assert len(listed) <= LIMITS.offline_max, listed
        return sorted(listed), body.get("more", False)

    def fetch_page(self, conn, request, conversation):
        """A device that acks fetches: the oldest of its inbox after its cursor."""
        listed, more = self.fetch_once(conn, request)
        expected = self.owed(conn.device, 0, conversation)
        assert listed == expected[:len(listed)], (listed, expected)
        assert listed or not expected, expected
        self.check_listed(conn, listed, conversation)
        self.got(conn, listed)

    def fetch_all(self, conn, request, conversation):
        """A J-IM device fetches until a reply lists nothing."""
        for _ in range(100):
            listed, more = self.fetch_once(conn, request)
            self.check_listed(conn, listed, conversation)
            self.got(conn, listed)
            if not listed:
                assert not more
                break
            if not more and len(listed) < LIMITS.offline_max:
                # a reply neither cut by bytes nor full: nothing is left
                last, _ = self.fetch_once(conn, request)
                assert last == [], ("a reply without more left some", listed, last)
                break
        else:
            raise AssertionError("an offline fetch never ends")
        self.check_holds_inbox(conn.device, conversation)  # invariant 2

    def sync_pages(self, conn, count, to_end):
        device = conn.device
        after = None
        for _ in range(100):
            request = {} if count is None else {"count": count}
            if after is not None:
                request["after"] = after
            send(conn.session, status.SYNC_REQ, request)
            [(command, body)] = self.frames(conn)
            assert (command, body["code"]) == (status.SYNC_RESP, status.OK), body
            data = body["data"]
            assert data["cursor"] == device.floor, (data, device)
            messages = [int(m["id"]) for m in data["messages"]]
            events = [e["event_id"] for e in data["events"]]
            assert messages == sorted(messages) and events == sorted(events), data
            self.check_listed(conn, messages)
            self.check_listed_events(conn, data["events"])
            listed = sorted(messages + events)
            # exactly the oldest of the inbox (messages and events) after the cursor (and
            # after `after`), and `upto` the highest listed (the cursor when none is)
            expected = self.owed(device, after or 0, events=True)
            assert listed == expected[:len(listed)], (listed, expected)
            assert len(listed) <= (count or LIMITS.offline_max), listed
            assert data["more"] == (len(listed) < len(expected)), (data, expected)
            assert listed or not expected, expected
            assert data["upto"] == (listed[-1] if listed else data["cursor"]), data
            self.got(conn, listed)
            if not data["more"]:
                conn.synced = True
                self.check_holds_inbox(device, events=True)  # invariant 1
                return
            conn.contiguous = max(conn.contiguous or 0, listed[-1])
            after = data["upto"]
            if not to_end:
                return
        raise AssertionError("a sync never ends")

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def cursors_move_forward_only(self):
        """Invariant 4, over the store's cursors after every step."""
        now = {}
        for user in USERS:
            for key, cursor in settled(self.store.inbox.cursors(APP_KEY, user)).items():
                now[(user, key)] = cursor
        known = self.known()
        for where, before in self.cursors.items():
            cursor = now.get(where)
            assert cursor is not None, ("a cursor was forgotten", where)
            assert cursor.floor >= before.floor, (where, before, cursor)
            for i, m in known.items():
                if before.consumed(i, m.conversation()):
                    assert cursor.consumed(i, m.conversation()), ("went back", where, i)
        for where, cursor in now.items():
            device = self.devices[where]
            if device.spec.acks:  # only its acks move it
                assert cursor.floor == device.floor, (cursor, device)
                moved = [i for i, m in known.items()
                         if cursor.consumed(i, m.conversation()) != device.acked(i)]
                assert not moved, ("moved by something else than an ack", moved, cursor, device)
                continue
            # a J-IM device's cursor never consumes a message the device did not get
            passed = [i for i in self.inbox(device.user, device.first)
                      if cursor.consumed(i, self.messages[i].conversation())
                      and i not in device.received]
            assert not passed, ("consumed but never got", passed, cursor, device)
        self.cursors = now

    @invariant()
    def nothing_unaccounted(self):
        for conn in self.live:
            assert all(c in IGNORED for c, _ in conn.client.sent), conn.client.sent


InboxModelTests = InboxMachine.TestCase
InboxModelTests.settings = settings(max_examples=200, stateful_step_count=30,
                                    derandomize=True, deadline=None)
