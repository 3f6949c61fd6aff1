# -*- test-case-name: tests.test_core_inbox -*-
"""The Inbox service: where each device of a user is in that user's inbox (a
L{jim.cursors.Cursor}), what its offline fetches and resyncs read, and what moves its cursor.

A user's inbox is every message of their conversations in id order, read from the message
log (L{jim.interfaces.IInboxStore}); nothing is copied per recipient and nothing is deleted by
a fetch, so each device of a user gets every message. Two kinds of device move their cursors
differently:

- A device that acknowledges (its login said C{acks}): only its acks move its cursor. What it
  was sent and did not acknowledge (a push lost with a half-open connection, a crash) is read
  again at its next sync, with the same server ids, and it drops what it already holds.
- Any other device (J-IM's clients): J-IM's meaning. A message pushed to a connection while it
  was connected is consumed (the connection's I{span}: from the inbox's last id when it logged
  in to the last id it was sent, written when it goes), and so is what an offline fetch
  returned. The gaps between its sessions are its offline messages.

Connections that named no device share their transport's cursor
(L{jim.core.devices.cursor_device}). A device never seen starts where the user's furthest
device is (L{jim.cursors.start_of_new_device}). The inbox keeps each conversation's latest
C{inbox_per_conversation} messages for C{inbox_days}; a device unseen for longer is forgotten
by a sweep. See docs/delivery.md, "Cursors and acknowledgements".
"""
import attr
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from jim.core import devices
from jim.cursors import Cursor, group_conversation, private_conversation, start_of_new_device

#: seconds between two sweeps of forgotten devices
SWEEP_EVERY = 3600.0
_DAY_MS = 86_400_000


@attr.s(slots=True)
class Place:
    """What the inbox knows of one logged-in connection."""

    connection = attr.ib()
    device = attr.ib()  # the cursor's device key
    acks = attr.ib()  # it acknowledges: only its acks move its cursor
    start = attr.ib()  # the inbox's last id when it logged in: later ones are pushed to it
    read_upto = attr.ib(default=0)  # the highest id a fetch or sync returned to it


class Inbox:
    log = Logger()

    def __init__(self, store, users, groups, clock, limits):
        self.store = store  # the L{jim.interfaces.IInboxStore}
        self.users = users
        self.groups = groups
        self.clock = clock
        self.limits = limits
        self._places = {}  # connection id -> Place
        self._devices = {}  # (app, username, device) -> {connection id: Place} of this node
        self._sweeper = None

    def now_ms(self):
        return int(self.clock.seconds() * 1000)

    # -- a connection's life -------------------------------------------------------------------

    async def open(self, connection, acks=False):
        """A connection logged in (after the hub attached it, so that every message given an
        id from now on is pushed to it): note where the inbox is, and give its device a cursor
        if it has none. Fires with that device's cursor."""
        app, username = connection.app, connection.username
        device = devices.cursor_device(connection.device)
        start = await self.store.last_message_id(app)
        place = self._places[connection.id] = Place(connection, device, acks, start)
        self._devices.setdefault((app, username, device), {})[connection.id] = place
        if connection.seen_upto < start:
            connection.seen_upto = start
        cursors = await self.store.cursors(app, username)
        cursor = cursors.get(device)
        if cursor is None:
            cursor = start_of_new_device(cursors)._replace(seen=self.now_ms())
            cursor = await self.store.move_cursor(app, username, device, cursor)
            self.log.debug("{user} of app {app}: new device {device} starts at {floor}",
                           user=username, app=app, device=place.device, floor=cursor.floor)
        return cursor

    def close(self, connection):
        """A connection is gone: a J-IM device's cursor keeps what was pushed to it; every
        device's is marked seen. Never fails (a store error is logged)."""
        place = self._places.pop(connection.id, None)
        if place is None:
            return defer.succeed(None)
        key = (connection.app, connection.username, place.device)
        sharing = self._devices.get(key, {})
        sharing.pop(connection.id, None)
        if not sharing:
            self._devices.pop(key, None)
        moved = Cursor(seen=self.now_ms())
        if not place.acks and connection.seen_upto > place.start:
            moved = moved._replace(spans=((place.start, connection.seen_upto),))
        d = self.store.move_cursor(connection.app, connection.username, place.device, moved)
        d.addErrback(self._close_failed, connection)
        return d

    def _close_failed(self, failure, connection):
        self.log.warn("the inbox cursor of {user} ({id}) could not be kept at its logout:"
                      " {why}; what it was sent may come again", user=connection.username,
                      id=connection.id, why=failure.getErrorMessage())

    def place(self, connection):
        return self._places.get(connection.id)

    # -- reading -------------------------------------------------------------------------------

    async def cursor(self, connection):
        """The cursor of the connection's device as the store has it now, with, for a J-IM
        device, what this node's connections of that device were pushed so far (J-IM
        connections that named no device share one)."""
        place = self._places[connection.id]
        app, username = connection.app, connection.username
        cursors = await self.store.cursors(app, username)
        cursor = cursors.get(place.device, Cursor())
        spans = tuple((other.start, other.connection.seen_upto)
                      for other in self._devices.get((app, username, place.device), {}).values()
                      if not other.acks and other.connection.seen_upto > other.start)
        return cursor.moved(Cursor(spans=spans)) if spans else cursor

    async def read(self, connection, after=0, peer=None, gid=None, limit=100):
        """The connection's device's messages after its cursor (and after C{after}), oldest
        first: of its private conversation with C{peer}, or of group C{gid}, or all. A read
        moves no cursor (see L{consume} and L{ack})."""
        app, username = connection.app, connection.username
        cursor = await self.cursor(connection)
        user = await self.users.get(app, username)
        since = max(user.ctime, self.now_ms() - int(self.limits.inbox_days * _DAY_MS))
        gids = ()
        if peer is None and gid is None:
            gids = await self.groups_of(app, username)
        found = await self.store.read(app, username, gids, cursor, after=after, peer=peer,
                                      gid=gid, since=since, limit=limit,
                                      per_conversation=self.limits.inbox_per_conversation)
        place = self._places.get(connection.id)
        if found and place is not None and found[-1].id > place.read_upto:
            place.read_upto = found[-1].id
        return found

    async def groups_of(self, app, username):
        """The gids of the user's groups, but those it shields (they send it nothing)."""
        gids = []
        for group in await self.groups.user_groups(app, username):
            await self.groups.members(app, group.gid)  # in memory: its shields are known
            if username not in self.groups.shielded(app, group.gid):
                gids.append(group.gid)
        return gids

    async def consume(self, connection, upto, peer=None, gid=None):
        """A J-IM offline fetch returned the device's messages up to id C{upto} (of the
        conversation with C{peer}, or of group C{gid}, or all): they are consumed. A device
        that acknowledges keeps them until it acks."""
        place = self._places.get(connection.id)
        if place is None or place.acks or not upto:
            return
        if peer is not None:
            moved = Cursor(conversations=((private_conversation(connection.username, peer),
                                           upto),))
        elif gid is not None:
            moved = Cursor(conversations=((group_conversation(gid), upto),))
        else:
            moved = Cursor(upto)
        await self.store.move_cursor(connection.app, connection.username, place.device,
                                     moved._replace(seen=self.now_ms()))

    async def ack(self, connection, upto):
        """The device holds every message of its inbox up to id C{upto}: its cursor moves
        there, but never past what this connection was sent (a client cannot acknowledge
        what it never got). The device's cursor after it."""
        place = self._places[connection.id]
        upto = min(upto, max(connection.seen_upto, place.read_upto))
        return await self.store.move_cursor(connection.app, connection.username, place.device,
                                            Cursor(max(upto, 0), seen=self.now_ms()))

    # -- retention -----------------------------------------------------------------------------

    def start(self):
        """Sweep forgotten devices now and then."""
        self._sweeper = LoopingCall(self._sweep_logged)
        self._sweeper.clock = self.clock
        self._sweeper.start(SWEEP_EVERY, now=False)

    def stop(self):
        if self._sweeper is not None and self._sweeper.running:
            self._sweeper.stop()
        self._sweeper = None

    async def sweep(self):
        """Forget the cursors of devices unseen for longer than the inbox keeps messages;
        how many. The devices connected to this node are seen now (every node sweeps, each
        an hour or so apart: a device connected anywhere is never forgotten)."""
        now = self.now_ms()
        live = [self.store.move_cursor(app, username, device, Cursor(seen=now))
                for app, username, device in list(self._devices)]
        if live:
            await defer.gatherResults(live, consumeErrors=True)
        return await self.store.forget_cursors(now - int(self.limits.inbox_days * _DAY_MS))

    def _sweep_logged(self):
        d = defer.ensureDeferred(self.sweep())
        d.addCallback(lambda n: n and self.log.info(
            "inbox: forgot {count} device(s) unseen for {days:g} days", count=n,
            days=self.limits.inbox_days))
        d.addErrback(lambda f: self.log.warn("inbox: the sweep of forgotten devices failed:"
                                             " {why}", why=f.getErrorMessage()))
        return d
