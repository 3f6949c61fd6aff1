# -*- test-case-name: tests.test_core_callbacks -*-
"""The Callbacks service: what an app server is told of its app (JMessage's message callback;
presence as RongCloud's online-status sync does it), see docs/callbacks.md.

For each app with a C{callback_url}, the node that accepted a message (L{accepted}, from
L{jim.core.messages.Messages} once it is stored) and the node where a user's first
connection came up or its last went down (L{presence}, from L{jim.core.hub.Hub}) make an item
of it, in the client's dialect (L{jim.interfaces.ICallbackClient}), and append it to the
app's backlog in the store (L{jim.interfaces.ICallbackStore}): the items of one reactor turn
in one write per app. Nothing waits for that: a message is acknowledged and delivered as it
would be without callbacks.

Whichever node holds the app's lease in the store sends its backlog, oldest first, a batch at
a time, each POST a run of items of one kind; an item leaves the backlog once its POST was
answered 2xx. A POST that fails (no answer, or another status) is made again after a delay
that doubles up to C{max_backoff}, for as long as it takes. An app's backlog keeps its
newest C{backlog} items: beyond, the oldest are dropped, logged and counted. Every node looks
for apps with a backlog every C{poll} seconds, so that the backlog of a node that restarted
or died is sent too, by whichever node claims its lease first.
"""
import attr
from twisted.internet import defer, task
from twisted.logger import Logger

from jim.errors import JimError
from jim.model import GROUP, SINGLE

#: the kinds of backlog item
MESSAGE = "message"
STATUS = "status"


@attr.s(frozen=True, slots=True)
class CallbackOptions:
    """@ivar batch: items in one POST at most.
    @ivar backlog: items an app's backlog keeps at most (the newest).
    @ivar first_backoff: seconds before the first retry of a failed POST; each next waits
        twice as long, up to C{max_backoff}.
    @ivar poll: seconds between two looks for apps with a backlog.
    @ivar lease: seconds a node holds the right to send an app's backlog without renewing it
        (at least twice a POST's timeout is used)."""

    batch = attr.ib(type=int, default=100)
    backlog = attr.ib(type=int, default=10_000)
    first_backoff = attr.ib(type=float, default=1.0)
    max_backoff = attr.ib(type=float, default=300.0)
    poll = attr.ib(type=float, default=5.0)
    lease = attr.ib(type=float, default=60.0)


def backoff(options, failures):
    """Seconds to wait after the C{failures}-th failure in a row (1, 2, ...)."""
    return min(options.max_backoff, options.first_backoff * 2 ** min(failures - 1, 32))


class Callbacks:
    log = Logger()

    def __init__(self, store, accounts, users, groups, client, clock, metrics, node,
                 options=CallbackOptions()):
        self.store = store  # the ICallbackStore
        self.accounts = accounts
        self.client = client
        self.options = options
        self.metrics = metrics
        self.node = node  # this node's name as a lease holder
        self._known = accounts.known  # app key -> App: the hot path's look-up
        self._users = users.known
        self._groups = groups
        self._clock = clock
        self._lease = max(options.lease, 2 * client.timeout + 1)
        self._pending = {}  # app -> [(kind, text), ...] not handed to the store yet
        self._appending = {}  # app -> the Deferred of its appends (one app's run in order)
        self._retrying = {}  # app -> the wait before its appends are tried again
        self._flush_call = None
        self._senders = {}  # app -> the Deferred of this node's sending of its backlog
        self._poller = None
        self._running = False

    # -- collecting ---------------------------------------------------------------------------

    def accepted(self, message):
        """A message was stored (on this node's word): one item for its app, if it wants
        callbacks. A dict look-up for an app without a callback URL."""
        settings = self._known.get(message.app)
        if settings is not None and settings.callback_url is None:
            return
        try:
            from_name, target_name = self._names(message)
            text = self.client.message(message, from_name, target_name)
        except Exception:  # a bug: the message's sender must still hear
            self.log.failure("callbacks: message {id} of app {app} could not be kept",
                             id=message.id, app=message.app)
            return
        self._collect(message.app, MESSAGE, text)

    def presence(self, app, username, online):
        """A user's first connection came up (C{online}) or its last went down."""
        settings = self._known.get(app)
        if settings is not None and settings.callback_url is None:
            return
        now = int(self._clock.seconds() * 1000)
        self._collect(app, STATUS, self.client.status(app, username, online, now))

    def _names(self, message):
        """The names a message's sender and target are shown by: nicknames, a group's name
        (from memory: the send just read them)."""
        app = message.app
        sender = self._users.get((app, message.sender))
        target_name = ""
        if message.target_type == SINGLE:
            target = self._users.get((app, message.target))
            target_name = "" if target is None else target.nickname
        elif message.target_type == GROUP and message.target.isdigit():  # this app's group
            group = self._groups.cached_group(app, int(message.target))
            target_name = "" if group is None else group.name
        return ("" if sender is None else sender.nickname), target_name

    def _collect(self, app, kind, text):
        pending = self._pending.get(app)
        if pending is None:
            pending = self._pending[app] = []
        pending.append((kind, text))
        if len(pending) > self.options.backlog:
            self._bound(pending, app)
        if self._flush_call is None and app not in self._appending:
            self._flush_call = self._clock.callLater(0, self._flush)

    def _bound(self, pending, app):
        """Keep the newest C{backlog} of the items waiting for the store (away for long)."""
        extra = len(pending) - self.options.backlog
        if extra > 0:
            self._dropped(app, extra, "waiting for the store")
            del pending[:extra]

    def _flush(self):
        """Hand each app's items of this turn to the store (but those of an app whose last
        append is still in flight: that one takes them next)."""
        self._flush_call = None
        for app in [app for app in self._pending if app not in self._appending]:
            self._appending[app] = None
            d = defer.ensureDeferred(self._append_all(app))
            if app in self._appending:
                self._appending[app] = d
            d.addErrback(self._bug, "appending", app)

    async def _append_all(self, app):
        failures = 0
        try:
            while self._pending.get(app):
                items = self._pending.pop(app)
                try:
                    settings = await self.accounts.app(app)
                    if settings is None or settings.callback_url is None:
                        continue  # it wants none (any more)
                    await self.store.append(app, items)
                except JimError as e:  # the store is away
                    failures += 1
                    pending = self._pending[app] = items + self._pending.get(app, [])
                    self._bound(pending, app)
                    self.log.warn("callbacks: keeping {count} item(s) of app {app} failed"
                                  " ({why}); trying again", count=len(items), app=app,
                                  why=e.detail)
                    if not self._running:
                        return
                    retry = self._retrying[app] = task.deferLater(
                        self._clock, backoff(self.options, failures))
                    try:
                        await retry
                    finally:
                        self._retrying.pop(app, None)
                    continue
                failures = 0
                try:
                    dropped = await self.store.trim(app, self.options.backlog)
                except JimError as e:  # the store is away (or stopping): the next trims it
                    self.log.info("callbacks: trimming the backlog of app {app} failed: {why}",
                                  app=app, why=e.detail)
                    continue
                if dropped:
                    self._dropped(app, dropped, "not sent in time")
                self._send_soon(app)
        finally:
            self._appending.pop(app, None)

    def _dropped(self, app, count, why):
        self.metrics.callback_dropped[app] = self.metrics.callback_dropped.get(app, 0) + count
        self.log.warn("callbacks: dropped the oldest {count} item(s) of app {app}: its backlog"
                      " is over {most} ({why})", count=count, app=app,
                      most=self.options.backlog, why=why, callback_dropped=count)

    # -- sending ------------------------------------------------------------------------------

    def _send_soon(self, app):
        """Send the app's backlog from this node, unless it does already (or is stopped)."""
        if not self._running or app in self._senders:
            return
        self._senders[app] = None
        d = defer.ensureDeferred(self._send_all(app))
        if app in self._senders:
            self._senders[app] = d
        d.addErrback(self._bug, "sending", app)

    async def _send_all(self, app):
        """While this node holds the app's lease: POST its backlog a run at a time."""
        failures = 0
        holding = False
        try:
            while self._running:
                try:
                    holding = await self.store.claim(app, self.node, self._lease)
                    if not holding:
                        return  # another node sends it
                    settings = await self.accounts.app(app)
                    items = await self.store.batch(app, self.options.batch)
                    if not items:
                        await self.store.delete(app, ())
                        holding = False
                        await self.store.release(app, self.node)
                        if not await self.store.count(app):
                            self.metrics.callback_backlog.pop(app, None)
                            return
                        continue  # appended while this node held the lease: sent too
                    if settings is None or settings.callback_url is None:
                        await self.store.delete(app, [item[0] for item in items])
                        self.log.info("callbacks: app {app} wants none now: {count} item(s)"
                                      " forgotten", app=app, count=len(items))
                        continue
                    run = _first_run(items)
                    if await self._post(settings, run[0][1], run):
                        failures = 0
                        await self.store.delete(app, [item[0] for item in run])
                        self.metrics.callback_backlog[app] = await self.store.count(app)
                        continue
                except JimError as e:  # the store is away
                    self.log.warn("callbacks: the backlog of app {app} cannot be read now:"
                                  " {why}", app=app, why=e.detail)
                if not self._running:
                    return  # stopped during the POST
                failures += 1
                await task.deferLater(self._clock, backoff(self.options, failures))
        finally:
            self._senders.pop(app, None)
            if holding:
                released = self.store.release(app, self.node)
                released.addErrback(lambda _: None)  # it expires

    async def _post(self, settings, kind, run):
        """POST a run of items; whether it was answered 2xx (counted and logged)."""
        app = settings.key
        try:
            status = await self.client.post(settings, kind, [text for _, _, text in run])
        except defer.CancelledError:
            raise  # stopping
        except Exception as e:
            outcome, why = "unreachable", str(e) or type(e).__name__
        else:
            outcome = "ok" if 200 <= status < 300 else "refused"
            why = f"HTTP {status}"
        key = (app, outcome)
        self.metrics.callback_posts[key] = self.metrics.callback_posts.get(key, 0) + 1
        if outcome != "ok":
            self.log.warn("callbacks: POST of {count} {kind} item(s) of app {app} failed:"
                          " {why}", count=len(run), kind=kind, app=app, why=why,
                          callback_outcome=outcome)
        return outcome == "ok"

    # -- the lifecycle ------------------------------------------------------------------------

    def start(self):
        """Look for apps with a backlog now, and every C{poll} seconds."""
        self._running = True
        self._poller = task.LoopingCall(self.poll)
        self._poller.clock = self._clock
        self._poller.start(self.options.poll, now=True)

    def poll(self):
        """Send the backlog of every app that has one (unless another node does), and count
        it."""
        d = defer.ensureDeferred(self._poll())
        d.addErrback(lambda f: self.log.warn("callbacks: looking for backlogs failed: {why}",
                                             why=f.getErrorMessage()))
        return d

    async def _poll(self):
        apps = set(await self.store.pending_apps())
        for app in list(self.metrics.callback_backlog):
            if app not in apps:
                del self.metrics.callback_backlog[app]
        for app in apps:
            self.metrics.callback_backlog[app] = await self.store.count(app)
            self._send_soon(app)

    def stop(self):
        """Stop sending; the items of this turn are handed to the store (what is not sent
        yet stays in the backlog, for the next start or another node)."""
        self._running = False
        if self._poller is not None and self._poller.running:
            self._poller.stop()
        if self._flush_call is not None:
            self._flush_call.cancel()
            self._flush()
        lost = sum(len(self._pending.get(app, ())) for app in self._retrying)
        for d in list(self._senders.values()) + list(self._retrying.values()):
            if d is not None:
                d.cancel()
        if lost:
            self.log.warn("callbacks: {count} item(s) lost at stop: the store was away",
                          count=lost)

    def _bug(self, failure, doing, app):
        if not failure.check(defer.CancelledError):
            self.log.failure("callbacks: {doing} the items of app {app} failed", failure,
                             doing=doing, app=app)


def _first_run(items):
    """The leading items of C{items} of the first one's kind: one POST's."""
    kind = items[0][1]
    for n, item in enumerate(items):
        if item[1] != kind:
            return items[:n]
    return items
