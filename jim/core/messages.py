# -*- test-case-name: tests.test_core_messages -*-
"""The Messages service: sending (the policy step, the store, the bus), retraction and history
(offline messages are each device's inbox: L{jim.core.inbox}).

A message is acknowledged to its sender only once it is committed. Recipients who are online
get it sooner: as soon as the store has given it its final id (L{IMessageStore.reserve_id}),
in the same reactor turn it arrived in, as a L{Delivery} on the bus, while the store commits
it. When the store cannot promise an id (too many messages are waiting for their commit, or
none was committed since the store started), the message is published after its commit
instead, and the deliveries of the messages after it wait until it has gone out: deliveries
always leave in id order. See docs/architecture.md, "Durable before acknowledged, delivered
before durable".

The common send (no client id, everything it needs already in the services' memory) runs on
callbacks: a coroutine per message costs more than everything else the core does for it. A
private message uses the store's callback interface and makes no Deferred. Everything that
must look something up first is an async def.
"""
import collections

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from jim import errors, model
from jim.cursors import conversation_of
from jim.core.message_history import RetractionAndHistory
from jim.core.message_runs import MARKED, PLAIN, RunSends, private_message, private_route
from jim.core.once_sends import OnceSends
from jim.core.steps import settle
from jim.core.words import masked
from jim.errors import JimError
from jim.model import CHATROOM, GROUP, SINGLE, Delivery, Message, Resent


class Messages(RunSends, RetractionAndHistory):
    log = Logger()

    def __init__(self, store, accounts, users, relations, groups, presence, bus, policy,
                 events, metrics, limits):
        self.store = store
        self.accounts = accounts
        self.users = users
        self.relations = relations
        self.groups = groups
        self.presence = presence
        self.bus = bus
        self.policy = policy
        self.events = events
        self.words = None  # the L{jim.core.words.Words}: masks texts of apps that filter
        self.rooms = None  # the L{jim.core.rooms.Rooms}: chat rooms' members
        self.callbacks = None  # the L{jim.core.callbacks.Callbacks}: told of every message kept
        #: the L{jim.core.cross_apps.CrossApps}: sends to another app's users
        self.cross = None
        #: the L{jim.core.cross_groups.CrossGroups}: groups with members of other apps
        self.cross_groups = None
        #: the L{jim.core.cross_rooms.CrossRooms}: chat rooms with members of other apps
        self.cross_rooms = None
        self.metrics = metrics
        self.limits = limits
        self._clock = events.clock
        # sends with a client id: resends answered with the first (jim.core.once_sends)
        self._once = OnceSends(store, self._send, self._deliver_again)
        # (app, sender, target type, target) -> fired when the last message of that sender to
        # that target that waits for loads has taken its id (see _load_and_send)
        self._loading_turns = {}
        # Deliveries that wait for a message before them to be committed: [ready, deliver,
        # args, kind], in id order (see _store_and_deliver); kind: MARKED (a message that got
        # an announcement from the bus: its parts for other nodes, if any, go with its
        # commit), or it is published after its commit: PLAIN (an event, or a message a
        # store that gives ids at once queued), or a message's conversation (_conversation).
        self._waiting = collections.deque()
        # How many of each kind wait in it. A message is announced only when no PLAIN one
        # waits ahead, and no message of its own conversation published after its commit
        # (_plain_in: conversation -> how many): its parts could overtake that one's. Nor
        # while a marked one waits that got its announcement before connections came or went
        # (presence.changes then was _marked_at): whoever that one's late part is for could
        # get this one first.
        self._plain = 0
        self._plain_in = {}
        self._marked = 0
        self._marked_at = None

    # -- sending -----------------------------------------------------------------------------

    def send(self, app, sender, draft, connection_id=None):
        """Send a L{jim.model.Draft} from C{sender}: a Deferred of C{(stored, delivered)}.
        C{delivered}: a private message's receiver was online (always True for a group)."""
        d = defer.Deferred()
        self.send_then(app, sender, draft, connection_id, settle, d)
        return d

    def send_then(self, app, sender, draft, connection_id, then, *args):
        """L{send}, answered by a call: C{then(outcome or Failure, *args)}, once. The sending
        connection (C{connection_id}) does not get a private message's copy; the sender's
        other connections do. C{then} must not raise."""
        if draft.client_id is None:
            if not self._once.behind_reads(app, sender, draft, connection_id, then, args):
                self._send(app, sender, draft, connection_id, then, args)
        else:
            self._once.send_then(app, sender, draft, connection_id, then, args)

    def _send(self, app, sender, draft, connection_id, then, args):
        settings = self.accounts.known.get(app)
        if settings is not None and settings.word_filter:
            word_filter = self.words.cached(app)
            if word_filter is None or (app, sender, draft.target_type,
                                       draft.target) in self._loading_turns:
                # the app's words are read first, or an earlier message of this sender to
                # this target waits for them: this one goes after it
                self._loading(app, sender, draft, connection_id, then, args)
                return
            draft = masked(word_filter, draft)
        users = self.users.known
        me = users.get((app, sender))
        kind = draft.target_type
        if kind == SINGLE:
            target = draft.target
            receiver = users.get((app, target))
            theirs = self.relations.known.get((app, target))
            if settings is None or me is None or receiver is None or theirs is None:
                self._loading(app, sender, draft, connection_id, then, args)
            else:
                self._private(settings, me, draft, connection_id, receiver, theirs, then, args)
        elif kind == GROUP:
            if model.QUALIFIER in draft.target:  # another app's group: never in memory here
                self._loading(app, sender, draft, connection_id, then, args)
                return
            gid = int(draft.target)
            members = self.groups.cached_members(app, gid)
            group = self.groups.cached_group(app, gid)  # its alias names it to J-IM clients
            if settings is None or me is None or members is None or group is None:
                self._loading(app, sender, draft, connection_id, then, args)
            else:
                self._group(me, draft, members, group.alias, then, args)
        elif kind == CHATROOM:
            if model.QUALIFIER in draft.target:  # another app's room: never in memory here
                self._loading(app, sender, draft, connection_id, then, args)
                return
            members = self.rooms.cached_members(app, int(draft.target))
            if settings is None or me is None or members is None:
                self._loading(app, sender, draft, connection_id, then, args)
            else:
                self._room(me, draft, members, then, args)
        else:
            then(Failure(JimError(errors.BAD_REQUEST, f"cannot send to a {kind}")), *args)

    def _loading(self, app, sender, draft, connection_id, then, args):
        d = defer.ensureDeferred(self._load_and_send(app, sender, draft, connection_id))
        d.addBoth(then, *args)

    async def _load_and_send(self, app, sender, draft, connection_id):
        """The send of a message whose sender, target or group is not in memory yet.

        Messages of one sender to one target that wait for loads take their ids in the order
        they were sent, whatever order their loads are answered in."""
        key = (app, sender, draft.target_type, draft.target)
        ahead = self._loading_turns.get(key)
        mine = self._loading_turns[key] = defer.Deferred()
        try:
            settings = await self.accounts.app(app)
            if settings is not None and settings.word_filter:
                draft = masked(await self.words.filter_of(app), draft)
            if draft.target_type == SINGLE and model.QUALIFIER in draft.target:
                # another app's user (never in memory, so every such send comes here)
                if ahead is not None:
                    await ahead
                return await self.cross.send(app, sender, draft, connection_id)
            if draft.target_type != SINGLE and model.QUALIFIER in draft.target:
                if ahead is not None:  # another app's group or room
                    await ahead
                cross = self.cross_groups if draft.target_type == GROUP else self.cross_rooms
                return await cross.send(app, sender, draft, connection_id)
            me = await self.users.get(app, sender)
            d = defer.Deferred()
            if draft.target_type == SINGLE:
                receiver = await self.users.find(app, draft.target)
                theirs = None  # a receiver that does not exist has none
                if receiver is not None:
                    theirs = await self.relations.of(app, draft.target)
                if ahead is not None:
                    await ahead
                self._private(settings, me, draft, connection_id, receiver, theirs, settle,
                              (d,))
            elif draft.target_type == CHATROOM:
                members = await self.rooms.members(app, int(draft.target))
                if ahead is not None:
                    await ahead
                self._room(me, draft, members, settle, (d,))
            else:
                gid = int(draft.target)
                group = await self.groups.find(app, gid)
                members = await self.groups.members(app, gid)
                if ahead is not None:
                    await ahead
                self._group(me, draft, members, None if group is None else group.alias,
                            settle, (d,))
        finally:
            if self._loading_turns.get(key) is mine:
                del self._loading_turns[key]
            mine.callback(None)  # the next message of this sender to this target may go
        return await d

    def _private(self, settings, me, draft, connection_id, receiver, theirs, then, args):
        refusal = self.policy.private(settings, me, receiver, theirs, draft)
        if refusal is not None:
            then(Failure(refusal), *args)
            return
        app, sender, target = settings.key, me.username, draft.target
        message = private_message(self.store.reserve_id() or 0, app, sender, target, draft,
                                  int(self._clock.seconds() * 1000))
        audience, exclude = private_route(sender, target, connection_id)
        if self.presence.is_online(app, target):
            recipients, watch = audience, (target,)
        else:
            recipients, watch = (sender,), ()
        self._store_and_deliver(message, recipients, audience, exclude, None, watch, True,
                                then, args)

    def _group(self, me, draft, members, alias, then, args):
        gid = int(draft.target)
        refusal = self.policy.group(me, gid, members, draft, alias)
        if refusal is not None:
            then(Failure(refusal), *args)
            return
        app = me.app
        if self.groups.foreign_members(app, gid, members):
            # members of other apps: a copy in each app (jim.core.cross_groups)
            d = defer.ensureDeferred(self.cross_groups.send(app, me.username, draft))
            d.addBoth(then, *args)
            return
        shielded = self.groups.shielded(app, gid)
        names = [u for u in members if u not in shielded] if shielded else members
        recipients = tuple(self.presence.online_among(app, names))
        message = Message._make((self.store.reserve_id() or 0, app, me.username, GROUP,
                                 draft.target, draft.msg_type, draft.body, draft.extras,
                                 draft.client_id, int(self._clock.seconds() * 1000),
                                 draft.from_type, draft.target_app, draft.no_offline,
                                 draft.no_notification, False))
        self._store_and_deliver(message, recipients, names, None, alias, recipients,
                                False, then, args)

    def _room(self, me, draft, members, then, args):
        """A chat room's message: to the members online now, every connection of theirs (the
        sender's too), once in the log, in no inbox."""
        refusal = self.policy.room(me, int(draft.target), members, draft)
        if refusal is not None:
            then(Failure(refusal), *args)
            return
        app = me.app
        if self.rooms.foreign_members(app, int(draft.target), members):
            # members of other apps: a copy in each app (jim.core.cross_rooms)
            d = defer.ensureDeferred(self.cross_rooms.send(app, me.username, draft))
            d.addBoth(then, *args)
            return
        recipients = tuple(self.presence.online_among(app, members))
        message = Message._make((self.store.reserve_id() or 0, app, me.username, CHATROOM,
                                 draft.target, draft.msg_type, draft.body, draft.extras,
                                 draft.client_id, int(self._clock.seconds() * 1000),
                                 draft.from_type, draft.target_app, draft.no_offline,
                                 draft.no_notification, False))
        self._store_and_deliver(message, recipients, members, None, None, recipients,
                                False, then, args)

    # Deliveries leave in id order. A message the store gave an id at once (reserve_id, just
    # before the message was built) is published at once, unless a message before it waits for
    # its commit: then it joins self._waiting behind that one. A message the store could not
    # give an id to (its id is 0) is stored first (add_message_then) and waits in
    # self._waiting until its commit; commits come back in id order, so by then every delivery
    # before it is ready, and _drain sends them in order. Such a message may instead be
    # announced (its parts for other nodes go with its commit, docs/architecture.md,
    # "Announced with the commit"): then it can reach other nodes before a message ahead of
    # it that is published after its commit, so it is announced only when none of its own
    # conversation is (and no event) waits ahead of it: order is kept within a conversation,
    # as it is across nodes.

    def _store_and_deliver(self, message, recipients, audience, exclude, alias, watch,
                           private, then, args):
        """Publish a message and store it, or store it and then publish it (see above): a
        message the store gave its id to (L{reserve_id}), or one with id 0.

        C{recipients}: who is sent it, those of C{audience} (everyone it is for) online when
        it got its id; C{watch}: the private receiver if it was online then; C{private}: a
        private message's outcome says whether its receiver got it (a group message's is
        always delivered). What a recipient does not get live is in its inbox (the log)."""
        stored = message
        if not stored.id:
            # (its order is kept within its conversation)
            entry, parts, announced = self._wait_for_commit(
                (message.app, conversation_of(message)), message, recipients, exclude, alias)
            store = self.store
            # a resend is answered with the first
            once = message.client_id is not None and store.appends_once
            late = (audience, exclude, alias, private, then, args)  # _deliver_late's
            if parts:
                store.add_announced_then(message, parts, once, self._stored_late, entry,
                                         (*late, announced))
                return
            add = store.add_message_once_then if once else store.add_message_then
            add(message, self._stored_late, entry, (*late, None))
            return
        delivery = Delivery._make((stored.app, stored, recipients, exclude, alias))
        delivered = not private or bool(watch)
        if self._waiting:
            # [delivered]: a private receiver who leaves before the queued delivery goes out
            # does not get it; the commit, and so the outcome, always comes after that
            outcome = [delivered]
            self._waiting.append([True, self._publish_queued, (delivery, watch, private,
                                                                outcome), PLAIN])
            self._plain += 1
            self.store.append_message_then(stored, self._queued_committed_then,
                                           outcome, then, args)
            return
        self.bus.publish(delivery)
        self.store.append_message_then(stored, self._committed_then, delivered, then, args)

    def _wait_for_commit(self, conversation, item, recipients, exclude, alias):
        """Queue in _waiting the delivery of a message stored before it is published (or of
        a run's messages, C{item} the first of them), in C{conversation}: C{(entry, parts,
        announced)}. C{parts}, the bus's parts of it for other nodes (and C{announced}, what
        L{jim.interfaces.IBus.publish_announced} takes), go out with its commit when it may
        be announced (see above): a hop sooner than after it; its own node's part, and
        whoever connected meanwhile, after it. Else C{(entry, (), None)}."""
        entry = [False, None, None, conversation]
        self._waiting.append(entry)
        app = item.app
        if not self._plain and conversation not in self._plain_in and self.store.announces(
                app) and (not self._marked or self.presence.changes == self._marked_at):
            announcement = self.bus.announcement(
                Delivery._make((app, item, recipients, exclude, alias)))
            if announcement is not None:
                entry[3] = MARKED
                if not self._marked:
                    self._marked_at = self.presence.changes
                self._marked += 1
                parts, announced = announcement
                return (entry, parts, announced) if parts else (entry, (), None)
        self._plain_in[conversation] = self._plain_in.get(conversation, 0) + 1
        return entry, (), None

    def publish_in_order(self, pending, publish):
        """Call C{publish(value)} with what C{pending} (a Deferred, fired once its store write
        is done) fires with, in the order of the deliveries: those of messages given ids
        after this call wait for it (an event kept in the inbox, whose id came before
        theirs). C{pending} must not fail."""
        entry = [False, None, None, PLAIN]
        self._waiting.append(entry)
        self._plain += 1

        def ready(value):
            entry[0], entry[1], entry[2] = True, publish, (value,)
            self._drain()
            return value

        pending.addCallback(ready)

    def _publish_queued(self, delivery, watch, private, outcome):
        if private and watch and not self.presence.is_online(delivery.app, watch[0]):
            outcome[0] = False
        self.bus.publish(delivery)

    def _committed_then(self, stored, delivered, then, args):
        """The commit of a message published before it: now its sender hears."""
        if type(stored) is Failure:
            # The recipients have it, but it is not stored: the sender is told it failed.
            then(stored, *args)
            return
        self.metrics.messages_in += 1
        if self.callbacks is not None:
            self.callbacks.accepted(stored)
        then((stored, delivered), *args)

    def _queued_committed_then(self, stored, outcome, then, args):
        self._committed_then(stored, outcome[0], then, args)

    def _stored_late(self, stored, entry, rest):
        """The commit of a message that waited for it: its delivery (C{rest}) is ready."""
        entry[0], entry[1], entry[2] = True, self._deliver_late, (stored, *rest)
        self._drain()

    def _drain(self):
        """Send the deliveries at the head of the queue that are ready, in order."""
        waiting = self._waiting
        while waiting and waiting[0][0]:
            _, deliver, args, kind = waiting.popleft()
            if kind is MARKED:
                self._marked -= 1
            elif kind is PLAIN:
                self._plain -= 1
            else:
                plain_in = self._plain_in
                left = plain_in[kind] - 1
                if left:
                    plain_in[kind] = left
                else:
                    del plain_in[kind]
            try:
                deliver(*args)
            except Exception:  # a bug: the deliveries behind it still go out
                self.log.failure("a queued delivery failed")

    def _deliver_late(self, stored, audience, exclude, alias, private, then, args, announced):
        """Publish a message that waited for its commit to those of its audience online now,
        then tell its sender. Its id was given by the commit (a Redis store's), after every
        connection that logged in before it: each of those must get it live (their inbox
        cursors count what they were pushed, see L{jim.core.inbox}). C{announced}: the parts
        the store published with the commit (L{jim.interfaces.IBus.announcement}), or None."""
        if type(stored) is Failure:
            then(stored, *args)
            return
        if type(stored) is Resent:  # sent before (and delivered then): nothing more to do
            then((stored.message, True), *args)
            return
        self.metrics.messages_in += 1
        if self.callbacks is not None:
            self.callbacks.accepted(stored)
        app = stored.app
        recipients = tuple(self.presence.online_among(app, audience))
        delivery = Delivery._make((app, stored, recipients, exclude, alias))
        if announced is None:
            self.bus.publish(delivery)
        else:
            self.bus.publish_announced(delivery, announced)
        delivered = not private or self.presence.is_online(app, stored.target)
        then((stored, delivered), *args)

    async def _deliver_again(self, stored, connection_id):
        """A message whose first send failed with a server error, though the store kept it
        (its answer was lost: Redis failing over), found by its resend: this node never
        published it, so it is now to those online (the others find it in their inbox). If
        its parts for other nodes went with its commit (L{jim.interfaces.IBus.announcement}),
        recipients there get it a second time."""
        app = stored.app
        if stored.target_type == GROUP:
            names = list(await self.groups.members(app, int(stored.target)))
            recipients = self.presence.online_among(app, names)
            exclude, alias = None, None
        elif stored.target_type == CHATROOM:
            members = await self.rooms.members(app, int(stored.target))
            recipients = self.presence.online_among(app, members)
            exclude, alias = None, None
        else:
            recipients = [stored.target] if self.presence.is_online(app, stored.target) else []
            recipients.append(stored.sender)
            exclude, alias = connection_id, None
        self.log.info("message {id} of app {app} was kept though its send failed: delivered"
                      " now, at its resend", id=stored.id, app=app)
        if self.callbacks is not None:  # its first send never told them
            self.callbacks.accepted(stored)
        self.bus.publish(Delivery(app, stored, tuple(dict.fromkeys(recipients)), exclude, alias))
