"""One J-IM connection, whatever carries it (TCP frames or WebSocket): J-IM's dialect of the
core.

The session orders the work of one connection: commands that change what later ones mean
(login, join, close, auth, entering and leaving a chat room, the Web SDK's configuration) are
barriers, and frames that arrive meanwhile wait for them; chats run
concurrently so one connection can have many in flight. It enforces the login gate, a rate
limit and an in-flight cap (both by pausing reads, so nothing is dropped), and converts every
L{JimError} into a J-IM status reply in this one place. To the core it is an
L{IConnection}: what the bus delivers to it, it encodes as J-IM frames, once per fan-out.
"""
import itertools
from collections import deque

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from jim import errors
from jim.core.inbox import MAX_PUSHED
from jim.core.login_throttle import address_key, host_of
from jim.errors import JimError
from jim.interfaces import IConnection
from jim.model import RUN, Message
from jim.protocols import jim_commands as commands
from jim.wire import jim_events, jimjson, status

_UNKNOWN = jimjson.reply(status.UNKNOWN, status.UNKNOWN_CMD)
#: the key of J-IM's encoding of a delivery in a fan-out's cache
_JIM = "jim"
_ids = itertools.count(1)


@implementer(IConnection)
class Session:
    log = Logger()

    __slots__ = (
        "core",
        "client",
        "id",
        "app",
        "configured_app",
        "user",
        "username",
        "device",
        "seen_upto",
        "pushed",
        "connected_at",
        "last_seen",
        "closed",
        "_gone",
        "_inflight",
        "_paused",
        "_queue",
        "_tokens",
        "_stamp",
        "_rate_paused",
        "_address",
    )

    def __init__(self, core, client):
        self.core = core
        self.client = client
        self.id = f"{core.node}:{next(_ids)}"
        self.app = None
        self.configured_app = None  # the app a Web SDK configuration (cmd 109) proved
        self.user = None
        self.username = None
        self.device = None  # its device key (L{jim.core.devices}) once logged in
        self.seen_upto = 0  # the highest message id pushed to it or sent by it
        # the ids pushed to it or sent by it, when its inbox cursor counts them (a J-IM
        # device's: L{jim.core.inbox}); None when nothing counts them
        self.pushed = None
        now = core.clock.seconds()
        self.connected_at = now
        self.last_seen = now
        self.closed = False  # closing or gone: nothing more is read from it
        self._gone = False
        self._inflight = 0
        self._paused = False
        self._queue = None  # a deque while a barrier command runs
        self._tokens = 2.0 * core.limits.rate
        self._stamp = now
        self._rate_paused = False
        self._address = None
        core.sessions.add(self)

    # -- what the adapter calls ----------------------------------------------------------------

    def frame_received(self, cmd, body):
        """A TCP frame: C{cmd} from the header, C{body} the raw bytes."""
        if self.closed:
            return
        self._account()
        if self._queue is not None:
            self._wait(cmd, body, None)
        else:
            self._start(cmd, body, None)

    def frames_received(self, frames):
        """The frames of one TCP read (C{(cmd, seq, body)}), in order: each run of chats
        (cmd 11) goes to the core as one (L{commands.chat_run}), any other frame as
        L{frame_received}."""
        chats = []
        for cmd, _seq, body in frames:
            if self.closed:
                return
            if cmd == status.CHAT_REQ and self._queue is None and self.username is not None:
                self._account()
                chats.append(body)
                continue
            if chats:
                self._chats(chats)
                chats = []
            self.frame_received(cmd, body)
        if chats and not self.closed:
            self._chats(chats)

    def _chats(self, bodies):
        if len(bodies) == 1:
            self._start(status.CHAT_REQ, bodies[0], None)
            return
        objs = []
        for body in bodies:
            try:
                obj = jimjson.loads(body)
            except JimError as e:
                if objs:  # the chats before it first: replies keep their order
                    self._chat_run(objs)
                    objs = []
                self._refuse_body(commands.HANDLERS[status.CHAT_REQ], e)
                continue
            objs.append(obj)
        if objs:
            self._chat_run(objs)

    def _chat_run(self, objs):
        self._inflight += len(objs)
        commands.chat_run(self, objs)
        self._pause_if_full()

    def _pause_if_full(self):
        """At --max-inflight commands in progress, stop reading (L{_update_reading})."""
        if self._inflight >= self.core.limits.max_inflight:
            self._update_reading()

    def _refuse_body(self, handler, error):
        """A command's body that cannot be read: counted, and answered as the command."""
        self.core.metrics.bad_input += 1
        self._reply_error(handler, error)

    def text_received(self, payload):
        """A WebSocket message: JSON whose ``cmd`` field names the command."""
        if self.closed:
            return
        self._account()
        try:
            obj = jimjson.loads(payload)
            cmd = jimjson.integer(obj, "cmd")
        except JimError as e:
            self.core.metrics.bad_input += 1
            self.client.send(status.UNKNOWN,
                             jimjson.refusal(status.UNKNOWN, status.UNKNOWN_CMD, e))
            return
        if cmd is None:
            self.core.metrics.bad_input += 1
            self.client.send(status.UNKNOWN, _UNKNOWN)
            return
        self.command_received(cmd, obj)

    def command_received(self, cmd, obj):
        """A command already parsed (a WebSocket message, or the login of a WebSocket URL)."""
        if self.closed:
            return
        if self._queue is not None:
            self._wait(cmd, None, obj)
        else:
            self._start(cmd, None, obj)

    def close(self, reason):
        """Close the connection: frames already received but not started are dropped."""
        if self.closed:
            return
        self.closed = True
        self._queue = None
        if self.username is not None:
            # at once, not at connection_lost (seconds later): nothing sent to a closing
            # connection would reach the client, so it must count as offline from now on
            self.core.hub.unbind(self, self.user)
            self.core.inbox.close(self)
        self.client.close(reason)

    def connection_lost(self):
        if self._gone:
            return
        self._gone = self.closed = True
        self.core.sessions.discard(self)
        if self.username is not None:
            self.core.hub.unbind(self, self.user)
            self.core.inbox.close(self)

    # -- IConnection ---------------------------------------------------------------------------

    @property
    def terminal(self):
        return self.client.terminal

    @property
    def current_user(self):
        """The user as it is now (its profile may have changed since the login)."""
        return self.core.users.cached(self.app, self.username) or self.user

    def deliver(self, delivery, cache):
        client = self.client
        item = delivery.item
        if type(item) is Message:  # note_message, inline: this runs for every push
            message_id = item.id
            if message_id > self.seen_upto:
                self.seen_upto = message_id
            pushed = self.pushed
            if pushed is not None:
                ids = pushed.ids  # Pushed.note, its usual case inline
                ids.append(message_id)
                if len(ids) >= MAX_PUSHED:
                    pushed.trim()
        elif type(item) is RUN:  # a run of messages (jim.core.message_runs)
            self._note_run(item)
        elif item.kept:  # an event in the inbox: its id counts in the cursor as a message's
            self.note_message(item.id)
        data = cache.get(client.encoding)
        if data is None:  # the first connection of this transport kind in this fan-out
            frames = cache.get(_JIM)
            if frames is None:
                if type(item) is Message:
                    frames = ((status.CHAT_REQ, jimjson.push(item, delivery.alias)),)
                elif type(item) is RUN:
                    frames = tuple([(status.CHAT_REQ, data)
                                    for data in jimjson.pushes(item, delivery.alias)])
                else:
                    frames = tuple(jim_events.frames(item, delivery.alias))
                cache[_JIM] = frames
            data = cache[client.encoding] = client.encode(frames)
        client.send_encoded(data)

    def _note_run(self, messages):
        """L{note_message} of each of a run's messages (a node may hand out several runs'
        parts as one: not always in id order)."""
        ids = [message.id for message in messages]
        highest = max(ids)
        if highest > self.seen_upto:
            self.seen_upto = highest
        if self.pushed is not None:
            self.pushed.note_all(ids)

    def note_message(self, message_id):
        """A message (or an event kept in the inbox) was pushed to it, or sent by it."""
        if message_id > self.seen_upto:
            self.seen_upto = message_id
        pushed = self.pushed
        if pushed is not None:
            pushed.note(message_id)

    def kick(self, kick):
        if kick.event is not None:
            for command, body in jim_events.frames(kick.event):
                self.client.send(command, body)
        self.log.info("closing {peer} ({user}): {reason}", peer=self.peer, user=self.username,
                      reason=kick.reason)
        self.close(kick.reason)

    # -- what handlers call --------------------------------------------------------------------

    def logged_in(self, app, user, device=None):
        self.app = app
        self.user = user
        self.username = user.username
        self.device = device
        self.core.metrics.logins += 1
        settled = self.core.on_login
        if settled is not None:
            settled(self.peer)

    # -- flow ----------------------------------------------------------------------------------

    def _account(self):
        """Note activity and charge the rate limit; pause reading while in debt."""
        core = self.core
        now = core.clock.seconds()
        self.last_seen = now
        rate = core.limits.rate
        if not rate:
            return
        tokens = self._tokens + (now - self._stamp) * rate
        burst = 2.0 * rate
        self._tokens = (burst if tokens > burst else tokens) - 1.0
        self._stamp = now
        if self._tokens < 0 and not self._rate_paused:
            self._rate_paused = True
            self._update_reading()
            core.clock.callLater(-self._tokens / rate, self._rate_resume)

    def _rate_resume(self):
        self._rate_paused = False
        self._update_reading()

    def _wait(self, cmd, body, obj):
        """Hold a frame until the running barrier command is done."""
        self._queue.append((cmd, body, obj))
        if len(self._queue) >= self.core.limits.max_inflight:
            self._update_reading()

    def _update_reading(self):
        """Pause reading once C{max_inflight} commands are in progress (or wait behind a
        barrier), and read again once at most half of that are: a high and a low watermark,
        so that a connection kept at its limit (chats arriving as fast as their commits
        acknowledge them) reads many frames at a time, not a few after each pause and resume
        (two system calls each)."""
        cap = self.core.limits.max_inflight
        if self._paused:
            cap = cap // 2 + 1  # (with a cap of 1, it reads again once none is in progress)
        want_paused = (
            self._rate_paused
            or self._inflight >= cap
            or (self._queue is not None and len(self._queue) >= cap)
        )
        if want_paused and not self._paused:
            self._paused = True
            self.client.pause_reading()
        elif not want_paused and self._paused and not self.closed:
            self._paused = False
            self.client.resume_reading()

    def _start(self, cmd, body, obj):
        handler = commands.HANDLERS.get(cmd)
        if handler is None:
            self.core.metrics.bad_input += 1
            self.client.send(status.UNKNOWN, _UNKNOWN)
            return
        if handler.needs_login and self.username is None:
            self.client.send(handler.response, _LOGIN_FIRST[handler.response])
            return
        if handler.immediate is not None:
            self.client.send(handler.response, handler.immediate)
            return
        if obj is None:
            try:
                obj = jimjson.loads(body)
            except JimError as e:
                self._refuse_body(handler, e)
                return
        self._inflight += 1
        if handler.reports:  # the chat: it calls command_done itself, no Deferred needed
            try:
                handler.run(self, obj)
            except Exception:
                self._failed(Failure(), handler)
            self._pause_if_full()
            return
        if handler.barrier:
            self._queue = deque()
        try:
            d = handler.run(self, obj)
        except Exception:
            d = defer.fail()
        else:
            if type(d) is not defer.Deferred:  # a coroutine
                d = defer.ensureDeferred(d)
        d.addCallbacks(self._done, self._failed, (handler,), None, (handler,))
        self._pause_if_full()

    def command_done(self, handler, failure=None, client_id=None):
        """A handler with C{reports} set is over (with the Failure of why it failed, if so).
        The error reply of a chat with a C{client_id} carries it as ``data.clientId``, even
        when the failure is jim's own."""
        if failure is None:
            self._done(None, handler)
        else:
            self._failed(failure, handler, client_id)

    def chats_acknowledged(self, acks):
        """Chats of a run (L{commands.chat_run}) are over: their acknowledgements (cmd 12
        bodies) go in one write."""
        self.client.send_all(status.CHAT_RESP, acks)
        self._inflight -= len(acks)
        if self._paused:
            self._update_reading()

    def _done(self, _, handler):
        self._inflight -= 1
        if self._paused:
            self._update_reading()
        if handler.barrier:
            self._drain()

    def _failed(self, failure, handler, client_id=None):
        if failure.check(JimError):
            error = failure.value
            if error.code not in errors.SERVER_FAULTS:
                self.core.metrics.bad_input += 1
            self._reply_error(handler, error, client_id)
        elif not self.closed:
            self.log.failure(
                "command {cmd} from {peer} failed", failure, cmd=handler.command, peer=self.peer
            )
            self._reply_error(handler, JimError(errors.SERVER_ERROR, "internal error"),
                              client_id)
        self._done(None, handler)

    def _reply_error(self, handler, error, client_id=None):
        if self._gone:
            return
        command = handler.response
        self.client.send(command, jimjson.refusal(command, handler.failure, error, client_id))
        if handler.close_on_failure:
            self.close(error.detail)

    def _drain(self):
        queue, self._queue = self._queue, None
        while queue:
            if self.closed:
                return
            cmd, body, obj = queue.popleft()
            self._start(cmd, body, obj)
            if self._queue is not None:  # another barrier started: the rest waits for it
                self._queue.extend(queue)
                break
        if self._paused:
            self._update_reading()

    @property
    def peer(self):
        return self.client.peer

    @property
    def address(self):
        """What per-address limits count this client under (L{address_key}: its IPv4 address
        or its IPv6 /64), worked out once a connection."""
        if self._address is None:
            self._address = address_key(host_of(self.client.peer))
        return self._address


#: the reply to a command sent before the login, by the command of the reply
_LOGIN_FIRST = {
    handler.response: jimjson.reply(handler.response, status.INVALID, detail="log in first (cmd 5)")
    for handler in commands.HANDLERS.values()
}
