# -*- test-case-name: tests.test_core_inbox -*-
"""The Inbox service: where each device of a user is in that user's inbox (a
L{jim.cursors.Cursor}), what its offline fetches and resyncs read, and what moves its cursor.

A user's inbox is every message of their conversations in id order, read from the message
log (L{jim.interfaces.IInboxStore}), and their events (L{jim.interfaces.IEventStore}), whose
ids are of the same sequence; nothing is copied per recipient and nothing is deleted by a
fetch, so each device of a user gets every message and event. Two kinds of device move their cursors
differently:

- A device that acknowledges (its login said C{acks}): only its acks move its cursor. What it
  was sent and did not acknowledge (a push lost with a half-open connection, a crash) is read
  again at its next sync, with the same server ids, and it drops what it already holds.
- Any other device (J-IM's clients): J-IM's meaning. A message pushed to a connection while it
  was connected is consumed, and so is what an offline fetch returned. The connection notes
  the ids it was pushed (L{Pushed}); when it goes, they become spans of its cursor, runs of
  the user's inbox from the inbox's last id at its login, so that a message whose push was
  lost (between nodes) is in none. The gaps between its sessions are its offline messages.

On a cluster (C{shared}), deliveries from two nodes may reach a device out of id order, and a
node that dies between a message's commit and its publish never sends its push: an ack could
then move a cursor past a message the device never got. There, an ack first reads the device's
inbox up to the id it names (L{Inbox.ack}); what this connection was never sent (pushed, or
listed by a read) holds the cursor below it, and is handed back for the caller to send now.

Connections that named no device share their transport's cursor
(L{jim.core.devices.cursor_device}). A device never seen starts with what the user's other
devices consumed (L{jim.cursors.start_of_new_device}). The inbox keeps each conversation's latest
C{inbox_per_conversation} messages (and each user's latest as many events) for C{inbox_days}
of what came before a connection's login, and of what came since the latest
L{OWED_PER_CONVERSATION} (L{Inbox._owed}); a device unseen for longer is forgotten by a sweep,
and so are older events. See docs/delivery.md, "Cursors and acknowledgements".
"""
from array import array

import attr
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from jim.core import devices
from jim.model import GROUP
from jim.cursors import (
    Cursor, group_conversation, private_conversation, pushed_spans, start_of_new_device,
)

#: the most inbox items an ack on a cluster checks (past them, the cursor waits for the next)
ACK_CHECK = 200
#: of each conversation, the most of what came since its login a connection is owed past the
#: retention window (L{Inbox.read}): a bound on what a read may cost, however long the session
OWED_PER_CONVERSATION = 1000
#: items read at once for a J-IM connection, which skips what it was pushed
_PUSHED_PAGE = 200
#: seconds between two sweeps of forgotten devices
SWEEP_EVERY = 3600.0
#: the ids one J-IM connection keeps of what it was pushed (past it, the older half counts
#: as one span from its login: a push lost among them would not come again)
MAX_PUSHED = 4096
#: messages read at once when a connection's spans are worked out
_SPAN_READ = 500
_DAY_MS = 86_400_000


class Pushed:
    """The ids of the messages pushed to one connection, or sent by it, since its login."""

    __slots__ = ("ids", "trusted_upto")

    def __init__(self):
        self.ids = array("q")
        self.trusted_upto = 0  # past MAX_PUSHED: everything up to it counts as pushed

    def note(self, message_id):
        ids = self.ids
        ids.append(message_id)
        if len(ids) >= MAX_PUSHED:
            self.trim()

    def note_all(self, ids):
        """L{note} of each of C{ids} (a list)."""
        noted = self.ids
        noted.extend(ids)
        while len(noted) >= MAX_PUSHED:
            self.trim()

    def trim(self):
        """Past L{MAX_PUSHED} ids: the older half counts as pushed up to its highest."""
        ids = self.ids
        half = MAX_PUSHED // 2
        self.trusted_upto = max(self.trusted_upto, max(ids[:half]))
        del ids[:half]


@attr.s(slots=True)
class Place:
    """What the inbox knows of one logged-in connection."""

    connection = attr.ib()
    device = attr.ib()  # the cursor's device key
    acks = attr.ib()  # it acknowledges: only its acks move its cursor
    start = attr.ib()  # the inbox's last id when it logged in: later ones are pushed to it
    read_upto = attr.ib(default=0)  # the highest id a fetch or sync returned to it


@attr.s(frozen=True, slots=True)
class Acked:
    """What an ack did: the device's C{cursor} after it, and the items of its inbox up to the
    acknowledged id that the connection was never sent (C{missed}, oldest first: on a cluster
    only), which the caller sends now; the cursor stays below the first of them."""

    cursor = attr.ib()
    missed = attr.ib(default=())


class Inbox:
    log = Logger()

    def __init__(self, store, users, groups, clock, limits, events=None, shared=False):
        self.store = store  # the L{jim.interfaces.IInboxStore}
        #: on a cluster: acks check what the connection was sent (see the module)
        self.shared = shared
        self.events = events  # the L{jim.interfaces.IEventStore}, or None: no events
        self.users = users
        self.groups = groups
        #: the L{jim.core.cross_groups.CrossGroups}: other apps' groups the user is in
        self.cross_groups = None
        self.clock = clock
        self.limits = limits
        self._places = {}  # connection id -> Place
        self._devices = {}  # (app, username, device) -> {connection id: Place} of this node
        self._sweeper = None
        self._closing = set()  # the Deferreds of closes still writing their cursors

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
        if not acks or self.shared:  # (a cluster's acks check what was pushed)
            connection.pushed = Pushed()
        self._devices.setdefault((app, username, device), {})[connection.id] = place
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
        d = defer.ensureDeferred(self._close(connection, place))
        d.addErrback(self._close_failed, connection)
        self._closing.add(d)
        d.addBoth(self._closed, d)
        return d

    def _closed(self, result, d):
        self._closing.discard(d)
        return result

    def settled(self):
        """Fires once the closes in progress have written their cursors (or failed to)."""
        return defer.DeferredList(list(self._closing))

    async def _close(self, connection, place):
        moved = Cursor(seen=self.now_ms())
        if not place.acks:
            moved = moved._replace(spans=await self._spans(connection, place))
        await self.store.move_cursor(connection.app, connection.username, place.device, moved)

    async def _spans(self, connection, place):
        """The spans of what a J-IM connection was pushed: runs of its user's inbox."""
        pushed = connection.pushed
        if pushed is None:
            return ()
        spans, start = (), place.start
        if pushed.trusted_upto > start:
            spans, start = ((start, pushed.trusted_upto),), pushed.trusted_upto
        ids = set(i for i in pushed.ids if i > start)
        if not ids:
            return spans
        app, username = connection.app, connection.username
        gids = list(await self.groups_of(app, username))
        since = await self._since(app, username)
        inbox_ids, after, upto = [], start, max(ids)
        while after < upto:
            found = await self.store.read(
                app, username, gids, Cursor(start), after=after, since=since, limit=_SPAN_READ,
                per_conversation=self.limits.inbox_per_conversation)
            inbox_ids += [m.id for m in found if m.id <= upto]
            if len(found) < _SPAN_READ:
                break
            after = found[-1].id
        if self.events is not None:
            found = await self.events.read_events(
                app, username, Cursor(start), since=since, limit=None,
                per_user=self.limits.inbox_per_conversation)
            inbox_ids = sorted(inbox_ids + [e.id for e in found if e.id <= upto])
        return spans + pushed_spans(start, inbox_ids, ids)

    async def _since(self, app, username):
        """The oldest a message of the user's inbox may be: its registration, and the days
        the inbox keeps."""
        user = await self.users.get(app, username)
        return max(user.ctime, self.now_ms() - int(self.limits.inbox_days * _DAY_MS))

    def _close_failed(self, failure, connection):
        self.log.warn("the inbox cursor of {user} ({id}) could not be kept at its logout:"
                      " {why}; what it was sent may come again", user=connection.username,
                      id=connection.id, why=failure.getErrorMessage())

    # -- reading -------------------------------------------------------------------------------

    async def cursor(self, connection):
        """The cursor of the connection's device as the store has it now."""
        place = self._places[connection.id]
        cursors = await self.store.cursors(connection.app, connection.username)
        return cursors.get(place.device, Cursor())

    def _live(self, connection, place):
        """What this node's live J-IM connections of the connection's device were pushed so
        far (J-IM connections that named no device share one): C{(spans, ids)}."""
        spans, ids = [], set()
        for other in self._devices.get((connection.app, connection.username, place.device),
                                       {}).values():
            pushed = other.connection.pushed
            if other.acks or pushed is None:
                continue
            if pushed.trusted_upto > other.start:
                spans.append((other.start, pushed.trusted_upto))
            ids.update(pushed.ids)
        return Cursor(spans=tuple(spans)), ids

    async def read(self, connection, after=0, peer=None, gid=None, limit=100, events=False,
                   listing=True):
        """The connection's device's messages after its cursor (and after C{after}), oldest
        first: of its private conversation with C{peer}, or of group C{gid}, or all, and with
        C{events} (and neither C{peer} nor C{gid}) its events among them, in id order; fewer
        than C{limit} only when there are no more. A read moves no cursor (see L{consume} and
        L{ack}); with C{listing} what it returns counts as sent to the connection."""
        app, username = connection.app, connection.username
        # a peer's conversation needs no groups; a group's, only when the user joined it
        joined = {} if peer is not None else await self.groups_of(app, username)
        if gid is not None and gid not in joined:
            return []  # not a group of the user's (or one it shields): none of it is for it
        place = self._places[connection.id]
        cursor = await self.cursor(connection)
        live, pushed = self._live(connection, place)
        cursor = cursor.moved(live)
        since = await self._since(app, username)
        gids = list(joined) if peer is None and gid is None else ()

        def messages(after, window, size):
            return self.store.read(app, username, gids, cursor, after=after, peer=peer, gid=gid,
                                   since=since, limit=size, per_conversation=window)

        found = await self._owed(messages, place, cursor, after, limit, pushed,
                                 lambda m: not self._before_joining(m, joined))
        if events and peer is None and gid is None and self.events is not None:
            # from where the caller asked: the pages above may have moved past events
            found = sorted(found + await self._events(connection, place, cursor, pushed, after,
                                                     since, limit),
                           key=lambda item: item.id)[:limit]
        if listing and found and found[-1].id > place.read_upto:
            place.read_upto = found[-1].id
        return found

    async def _events(self, connection, place, cursor, pushed, after, since, limit):
        """The device's events after its cursor and C{after}, but those pushed to its live
        J-IM connections: the oldest C{limit} (read as L{_owed} says)."""
        def events(after, window, size):
            return self.events.read_events(connection.app, connection.username, cursor,
                                           after=after, since=since, limit=size, per_user=window)

        return await self._owed(events, place, cursor, after, limit, pushed, lambda e: True)

    async def _owed(self, read, place, cursor, after, limit, pushed, keep):
        """The oldest C{limit} items C{read(after, window, size)} finds (a page of C{size} at
        most, of each conversation's latest C{window}) after C{after}, but those in C{pushed}
        and those C{keep} refuses. Up to the connection's login, the items of the retention
        window (the inbox's, for what came while the device was away); after it, of the latest
        L{OWED_PER_CONVERSATION}: what came while the connection was live is owed to it,
        however many of the same conversation followed (pushes lost between nodes while Redis
        was out, then a burst). Pages of a J-IM connection's reads, most of whose items were
        pushed, are larger, so that what it was pushed costs few reads."""
        kept = self.limits.inbox_per_conversation
        owed = max(kept, OWED_PER_CONVERSATION)
        # (a window as large as the owed one reads everything in one pass)
        passes = ((kept, place.start), (owed, None)) if owed > kept else ((owed, None),)
        size = max(limit, _PUSHED_PAGE) if pushed else limit
        found = []
        for window, upper in passes:
            if upper is not None and max(after, cursor.floor) >= upper:
                continue  # nothing up to the login is left to read
            while len(found) < limit:
                page = await read(after, window, size)
                kept = page if upper is None else [item for item in page if item.id <= upper]
                found += [item for item in kept if item.id not in pushed and keep(item)]
                if len(page) < size or len(kept) < len(page):
                    break
                after = page[-1].id
            if len(found) >= limit:
                break
            after = max(after, place.start)
        return found[:limit]

    async def groups_of(self, app, username):
        """C{{gid: when the user joined it (epoch ms)}} of the user's groups, but those it
        shields (they send it nothing)."""
        joined = {}
        for group in await self.groups.user_groups(app, username):
            member = (await self.groups.members(app, group.gid)).get(username)
            if member is not None and username not in self.groups.shielded(app, group.gid):
                joined[group.gid] = member.joined
        if self.cross_groups is not None:  # other apps' groups, by <appkey>:<gid>
            joined.update(await self.cross_groups.joined(app, username))
        return joined

    @staticmethod
    def _before_joining(message, joined):
        """Is C{message} one of a group's from before the user joined it?"""
        if message.target_type != GROUP:
            return False
        target = message.target
        since = joined.get(int(target) if target.isdigit() else target)
        return since is not None and message.created < since

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
        what it never got). An L{Acked}: the device's cursor after it, and on a cluster what
        the connection was never sent up to C{upto}, to send it now."""
        place = self._places[connection.id]
        upto = min(upto, max(connection.seen_upto, place.read_upto))
        missed = ()
        if self.shared and connection.pushed is not None and upto > 0:
            upto, missed = await self._unsent(connection, place, upto)
        cursor = await self.store.move_cursor(connection.app, connection.username,
                                              place.device,
                                              Cursor(max(upto, 0), seen=self.now_ms()))
        return Acked(cursor, missed)

    async def _unsent(self, connection, place, upto):
        """C{(how far the cursor may move, the items never sent)}: the device's inbox after its
        cursor up to C{upto} (at most L{ACK_CHECK} items: the cursor moves no further than
        those read), less what the connection was pushed or a read listed."""
        found = [item for item in await self.read(connection, limit=ACK_CHECK, events=True,
                                                  listing=False)
                 if item.id <= upto]
        pushed = connection.pushed
        sent, trusted = set(pushed.ids), max(pushed.trusted_upto, place.read_upto)
        missed = tuple(item for item in found if item.id > trusted and item.id not in sent)
        if missed:
            upto = missed[0].id - 1
        elif len(found) == ACK_CHECK:
            upto = found[-1].id
        for item in missed:
            connection.note_message(item.id)
        return upto, missed

    # -- retention -----------------------------------------------------------------------------

    async def past_devices(self, app, username, online):
        """The device keys of the user's devices that have an inbox cursor (they logged in
        within the inbox's days) and no connection now (C{online}: the device keys of its
        connections), the most recently seen first: userstat lists them as logged out."""
        cursors = await self.store.cursors(app, username)
        here = {devices.cursor_device(key) for key in online}
        past = sorted(((cursor.seen, key) for key, cursor in cursors.items() if key not in here),
                      key=lambda entry: (-entry[0], entry[1]))
        return [key for _, key in past]

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
        oldest = now - int(self.limits.inbox_days * _DAY_MS)
        if self.events is not None:
            forgotten = await self.events.forget_events(oldest)
            if forgotten:
                self.log.info("inbox: forgot {count} event(s) older than {days:g} days",
                              count=forgotten, days=self.limits.inbox_days)
        return await self.store.forget_cursors(oldest)

    def _sweep_logged(self):
        d = defer.ensureDeferred(self.sweep())
        d.addCallback(lambda n: n and self.log.info(
            "inbox: forgot {count} device(s) unseen for {days:g} days", count=n,
            days=self.limits.inbox_days))
        d.addErrback(lambda f: self.log.warn("inbox: the sweep of forgotten devices failed:"
                                             " {why}", why=f.getErrorMessage()))
        return d
