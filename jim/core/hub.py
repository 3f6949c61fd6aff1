"""The hub: who is online, group membership, and delivery of messages.

One hub per process. Sessions bind to it after login; it fans a message out to the connections
of its recipients (encoding the push once) and marks it offline for the others.

A message is acknowledged to its sender only once it is committed. Recipients who are online
get it sooner: as soon as the store has given it its final id (L{IStore.prepare_message}),
in the same reactor turn it arrived in, while the store commits it. When the store cannot
promise an id (too many messages are waiting for their commit, or none was committed since
the store started), the message is pushed after its commit instead, and the pushes of the
messages after it wait until it has gone out: pushes always leave in id order. See
docs/architecture.md, "Durable before acknowledged, delivered before durable".
"""
import collections

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from jim.errors import JimError
from jim.model import GROUP, SINGLE, Group, Message
from jim.wire import jimjson, status


class _Waiters:
    """Deferreds waiting for the same in-flight result (a resent client id)."""

    __slots__ = ("waiting",)

    def __init__(self):
        self.waiting = []

    def wait(self):
        d = defer.Deferred()
        self.waiting.append(d)
        return d

    def fire(self, result, failed=False):
        waiting, self.waiting = self.waiting, []
        for d in waiting:
            if failed:
                d.errback(result)
            else:
                d.callback(result)


class Hub:
    log = Logger()

    def __init__(self, store, clock, metrics, limits):
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.limits = limits
        self.online = {}  # (app, username) -> [session, ...] in login order
        self._user_groups = {}  # (app, username) -> [gid, ...] while online
        self._members = {}  # (app, gid) -> {username: None} (ordered set), loaded on demand
        self._loading = {}  # (app, gid) -> _Waiters while members load
        # (app, sender, client_id, target_type, target) -> _Waiters while a chat is stored
        self._sending = {}
        # Pushes that wait for a chat before them to be committed: [ready, deliver, args], in
        # id order (see _private_send)
        self._waiting = collections.deque()

    def now_ms(self):
        return int(self.clock.seconds() * 1000)

    # -- presence ------------------------------------------------------------------------------

    def sessions_of(self, app, username):
        return self.online.get((app, username), ())

    def is_online(self, app, username):
        return (app, username) in self.online

    async def bind(self, session):
        """Register a logged-in session; the user's first connection announces it (cmd 9)."""
        key = (session.app, session.username)
        sessions = self.online.get(key)
        if sessions is not None:
            sessions.append(session)
            return
        mine = self.online[key] = [session]
        joined = self._user_groups[key] = []  # groups joined while the list loads
        groups = await self.store.user_groups(session.app, session.username)
        if self.online.get(key) is not mine:  # gone again (and maybe back) meanwhile
            return
        loaded = [g.gid for g in groups]
        self._user_groups[key] = loaded + [gid for gid in joined if gid not in loaded]
        user = jimjson.user_json(session.user, True, session.client.terminal)
        for group in groups:
            await self.members(session.app, group.gid)
            if self.online.get(key) is not mine:  # gone meanwhile: its cmd 10 went out
                return
            self._notify_group(
                session.app, group.gid, status.JOIN_GROUP_NOTIFY, _join_notify(group.gid, user)
            )

    def unbind(self, session):
        """Forget a session; the user's last connection announces it offline (cmd 10)."""
        key = (session.app, session.username)
        sessions = self.online.get(key)
        if sessions is None or session not in sessions:
            return
        sessions.remove(session)
        if sessions:
            return
        del self.online[key]
        gids = self._user_groups.pop(key, ())
        user = jimjson.user_json(session.user, False, session.client.terminal)
        for gid in gids:
            body = jimjson.reply(status.EXIT_GROUP_NOTIFY, data={"group": gid, "user": user})
            self._notify_group(session.app, gid, status.EXIT_GROUP_NOTIFY, body)

    def kick(self, app, username, reason):
        """Close every connection of a user; returns how many there were."""
        sessions = list(self.online.get((app, username), ()))
        for session in sessions:
            session.close(reason)
        return len(sessions)

    def _notify_group(self, app, gid, command, body):
        """Send a notification to every online member of a group whose members are loaded."""
        members = self._members.get((app, gid))
        if members is None:
            return
        for username in members:
            for session in self.online.get((app, username), ()):
                session.client.send(command, body)

    # -- groups --------------------------------------------------------------------------------

    async def members(self, app, gid):
        """The member set of a group, loaded once from the store and cached. A group without
        members is not cached (anyone can ask about any id): each call asks the store again,
        and L{join} creates the entry."""
        key = (app, gid)
        members = self._members.get(key)
        if members is not None:
            return members
        waiters = self._loading.get(key)
        if waiters is not None:
            return await waiters.wait()
        waiters = self._loading[key] = _Waiters()
        try:
            names = await self.store.group_members(app, gid)
        except BaseException as e:
            del self._loading[key]
            waiters.fire(e, failed=True)
            raise
        members = dict.fromkeys(names)
        if members:  # nothing is cached for a group that does not exist (any id can be asked)
            members = self._members.setdefault(key, members)
        del self._loading[key]
        waiters.fire(members)
        return members

    async def join(self, session, gid, name="", avatar="", confirm=True):
        """Add the session's user to a group, creating it (owned by the joiner) if missing.

        A member who joins again gets a cmd 9 for itself as confirmation, unless C{confirm} is
        false (``--auto-join`` at every login: the login already announced the member).
        """
        app, username = session.app, session.username
        group = await self.store.get_group(app, gid)
        if group is None:
            group = Group(app, gid, name or gid, username, avatar, self.now_ms())
            await self.store.add_group(group)
            group = await self.store.get_group(app, gid)
        members = await self.members(app, gid)
        if username in members:
            if confirm:
                body = _join_notify(gid, self._user_json(session))
                session.client.send(status.JOIN_GROUP_NOTIFY, body)
            return group
        if len(members) >= self.limits.group_size:
            raise JimError(
                status.JOIN_FAILED,
                f"group {gid} is full ({self.limits.group_size} members)",
                command=status.JOIN_GROUP_RESP,
                extra={"result": 3},
            )
        members = self._members.setdefault((app, gid), members)
        members[username] = None  # the place is taken before the write: no overfull group
        try:
            await self.store.add_member(app, gid, username)
        except BaseException:
            members.pop(username, None)
            raise
        self.log.info("{user} joined group {gid} of app {app}", user=username, gid=gid, app=app)
        groups = self._user_groups.get((app, username))
        if groups is None:  # went offline while it was written: nobody is told it is online
            return group
        if gid not in groups:
            groups.append(gid)
        body = _join_notify(gid, self._user_json(session))
        self._notify_group(app, gid, status.JOIN_GROUP_NOTIFY, body)
        return group

    def _user_json(self, session):
        return jimjson.user_json(session.user, True, session.client.terminal)

    # -- chat ----------------------------------------------------------------------------------
    #
    # The common chat (no client id, recipient online or group members cached) runs on callbacks:
    # a coroutine per chat costs more than everything else the core does for it, and each extra
    # Deferred callback shows up too. A private chat to someone online uses the store's callback
    # interface (append_message_then, or add_message_then when pushed after the commit) and
    # makes no Deferred; a group chat with cached members uses one Deferred. Everything that
    # must look something up first is an async def.

    def chat(self, app, sender, request, session=None):
        """Store a chat from C{sender} and deliver it.

        Returns a Deferred firing with (status code, stored message). C{session} is the sending
        connection (None for the HTTP API): it is left out of a private chat's pushes; the
        sender's other connections get a copy.
        """
        d = defer.Deferred()
        self.chat_then(app, sender, request, session, _settle, d)
        return d

    def chat_then(self, app, sender, request, session, then, *args):
        """L{chat}, answered by a call instead of a Deferred: C{then(outcome, *args)} runs once,
        with (status code, stored message) or the L{Failure} of why not. C{then} must not
        raise."""
        if request.client_id is not None:
            d = defer.ensureDeferred(self._chat_once(app, sender, request, session))
            d.addBoth(then, *args)
        else:
            self._store_and_deliver(app, sender, request, session, then, *args)

    def _store_and_deliver(self, app, sender, request, session, then, *args):
        """A chat without a client id. The usual one (a private chat to someone online) goes
        straight to the store's callback interface; the rest must look something up first."""
        if request.chat_type == jimjson.CHAT_GROUP:
            members = self._members.get((app, request.group_id))
            if members is None:
                d = defer.ensureDeferred(self._group_chat_loading(app, sender, request))
            else:
                d = self._group_chat(app, sender, request, members)
        elif (app, request.to) in self.online:
            message = self._message(app, sender, SINGLE, request.to, request)
            self._private_send(message, sender, session, (), then, args)
            return
        else:
            d = defer.ensureDeferred(self._private_chat_offline(app, sender, request, session))
        d.addBoth(then, *args)

    # Pushes leave in id order. A chat the store gave an id at once (prepare_message) is pushed
    # at once, unless a chat before it waits for its commit: then it joins self._waiting behind
    # that one. A chat the store could not give an id to is stored first (add_message_then)
    # and waits in self._waiting until its commit; commits come back in id order, so by then
    # every push before it is ready, and _drain sends them all in order.

    def _private_send(self, message, sender, session, offline_for, then, args):
        code = status.OFFLINE if offline_for else status.OK
        self._send(message, offline_for, self._push_private, self._private_stored,
                   (sender, session), code, then, args)

    def _send(self, message, offline_for, push, deliver_stored, extra, code, then, args):
        """Push a chat and store it, or store it and then push it (see above), marking it
        offline for C{offline_for}; C{then(outcome, *args)} follows its commit.

        C{push(stored, body, *extra, offline_for)} pushes it and returns the recipients who had
        no connection; C{deliver_stored(stored, *extra, offline_for)} delivers it after its
        commit and returns the outcome (or a Deferred of it); C{code} is the outcome's status
        when it was pushed first.
        """
        stored = self.store.prepare_message(message)
        if stored is None:
            entry = [False, None, None]
            self._waiting.append(entry)
            self.store.add_message_then(
                message, offline_for, self._stored_late, entry,
                self._stored_then, (deliver_stored, extra, offline_for, then, args),
            )
            return
        body = jimjson.push(stored)
        if self._waiting:
            self._waiting.append([True, self._push_queued, (push, stored, body, extra, offline_for)])
        else:
            try:
                push(stored, body, *extra, offline_for)
            except Exception:  # a bug in a connection: this chat fails (and is not stored) alone
                then(Failure(), *args)
                return
        self.store.append_message_then(stored, offline_for, self._committed_then, code, then, args)

    def _push_private(self, stored, body, sender, session, offline_for):
        """Push a private chat to its recipient (unless it is kept offline for them) and to the
        sender's other connections. The recipient, in a list, if they had no connection."""
        app, target = stored.app, stored.target
        # Kept for the recipient's offline fetch (offline_for), it is not pushed to them even
        # if they came online meanwhile: that would deliver it twice. Any fetch they make now
        # is committed after this message, so it finds it.
        missed = [] if offline_for or self._push(app, target, body, None) else [target]
        if sender != target:
            self._push(app, sender, body, session)
        return missed

    def _push_group(self, stored, body, members, offline_for):
        """Push a group chat to every member it is not kept offline for; those who had no
        connection left."""
        app = stored.app
        skip = set(offline_for) if offline_for else ()
        push = self._push
        return [u for u in list(members) if u not in skip and not push(app, u, body, None)]

    def _push_queued(self, push, stored, body, extra, offline_for):
        missed = push(stored, body, *extra, offline_for)
        if missed:  # went offline while it waited for its turn: kept for them instead
            self.store.add_offline(stored.app, stored.id, missed).addErrback(
                self._offline_mark_failed, stored)

    def _committed_then(self, stored, code, then, args):
        """The commit of a chat whose pushes went out before it: now its sender hears."""
        if type(stored) is Failure:
            # The recipients have it, but it is not stored: the sender is told it failed.
            then(stored, *args)
            return
        self.metrics.messages_in += 1
        then((code, stored), *args)

    def _stored_late(self, stored, entry, deliver, args):
        """The commit of a chat that waited for it: its pushes (C{deliver}) are ready."""
        entry[0], entry[1], entry[2] = True, deliver, (stored,) + args
        self._drain()

    def _drain(self):
        """Send the pushes at the head of the queue that are ready, in order."""
        waiting = self._waiting
        while waiting and waiting[0][0]:
            _, deliver, args = waiting.popleft()
            try:
                deliver(*args)
            except Exception:  # a bug in a connection: the pushes behind it still go out
                self.log.failure("a queued delivery failed")

    def _offline_mark_failed(self, failure, stored):
        self.log.failure("message {id} could not be kept offline for a recipient who left",
                         failure, id=stored.id)

    def _stored_then(self, stored, deliver_stored, extra, offline_for, then, args):
        """Deliver a chat that waited for its commit, then tell its sender."""
        if type(stored) is Failure:
            then(stored, *args)
            return
        self.metrics.messages_in += 1
        try:
            outcome = deliver_stored(stored, *extra, offline_for)
        except Exception:  # a bug: the sender hears of it, the store's other writes do not
            then(Failure(), *args)
            return
        if type(outcome) is tuple:
            then(outcome, *args)
        else:  # a recipient left while it was stored: a Deferred of the offline mark
            outcome.addBoth(then, *args)

    async def _chat_once(self, app, sender, request, session):
        """A chat with a client id: a resend (the same id to the same target) is acknowledged
        again, never delivered twice. The same id to another target is another message."""
        if request.chat_type == jimjson.CHAT_GROUP:
            target_type, target = GROUP, request.group_id
        else:
            target_type, target = SINGLE, request.to
        key = (app, sender, request.client_id, target_type, target)
        waiters = self._sending.get(key)
        if waiters is not None:
            return status.OK, await waiters.wait()
        earlier = await self.store.message_by_client_id(
            app, sender, request.client_id, target_type, target
        )
        if earlier is not None:
            return status.OK, earlier
        waiters = self._sending.get(key)
        if waiters is not None:  # the same id arrived again while the store was asked
            return status.OK, await waiters.wait()
        waiters = self._sending[key] = _Waiters()
        stored = defer.Deferred()
        self._store_and_deliver(app, sender, request, session, _settle, stored)
        try:
            result = await stored
        except BaseException as e:
            del self._sending[key]
            waiters.fire(e, failed=True)
            raise
        del self._sending[key]
        waiters.fire(result[1])
        return result

    def _message(self, app, sender, target_type, target, request):
        return Message(
            0,
            app,
            sender,
            target_type,
            target,
            request.msg_type,
            request.content,
            request.extras,
            request.client_id,
            self.now_ms(),
        )

    async def _private_chat_offline(self, app, sender, request, session):
        target = request.to
        if await self.store.get_user(app, target) is None:
            raise JimError(status.SEND_FAILED, f"no user {target!r} in this app")
        offline_for = () if (app, target) in self.online else (target,)
        return await self._private_chat(app, sender, request, session, offline_for)

    def _private_chat(self, app, sender, request, session, offline_for):
        d = defer.Deferred()
        message = self._message(app, sender, SINGLE, request.to, request)
        self._private_send(message, sender, session, offline_for, _settle, (d,))
        return d

    def _private_stored(self, stored, sender, session, offline_for):
        """Deliver a private chat after its commit: the outcome (or a Deferred of it)."""
        body = jimjson.push(stored)
        missed = self._push_private(stored, body, sender, session, offline_for)
        if offline_for:
            return status.OFFLINE, stored
        if not missed:
            return status.OK, stored
        # went offline while the message was being stored
        d = self.store.add_offline(stored.app, stored.id, missed)
        return d.addCallback(lambda _: (status.OFFLINE, stored))

    async def _group_chat_loading(self, app, sender, request):
        members = await self.members(app, request.group_id)
        return await self._group_chat(app, sender, request, members)

    def _group_chat(self, app, sender, request, members):
        gid = request.group_id
        if sender not in members:
            return defer.fail(
                JimError(status.SEND_FAILED, f"{sender!r} is not a member of group {gid!r}")
            )
        online = self.online
        offline_for = [m for m in members if (app, m) not in online]
        message = self._message(app, sender, GROUP, gid, request)
        d = defer.Deferred()
        self._send(message, offline_for, self._push_group, self._group_stored, (members,),
                   status.OK, _settle, (d,))
        return d

    def _group_stored(self, stored, members, offline_for):
        """Deliver a group chat after its commit: the outcome (or a Deferred of it)."""
        missed = self._push_group(stored, jimjson.push(stored), members, offline_for)
        if not missed:
            return status.OK, stored
        # went offline while the message was being stored
        d = self.store.add_offline(stored.app, stored.id, missed)
        return d.addCallback(lambda _: (status.OK, stored))

    def _push(self, app, username, body, exclude):
        """Write a push to every connection of a user but C{exclude}; True if any existed."""
        sessions = self.online.get((app, username))
        if not sessions:
            return False
        n = 0
        for session in sessions:
            if session is not exclude:
                session.client.send(status.CHAT_REQ, body)
                n += 1
        self.metrics.messages_out += n
        return True


def _settle(outcome, d):
    if type(outcome) is Failure:
        d.errback(outcome)
    else:
        d.callback(outcome)


def _join_notify(gid, user_json):
    return jimjson.reply(status.JOIN_GROUP_NOTIFY, status.JOIN_OK, group=gid, user=user_json)
