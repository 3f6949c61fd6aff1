"""The core as the front ends see it: the services, the hub and the limits in one object, the
one function that wires them together, and the sweeper that closes connections which never
log in or fall silent."""
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from jim.core.accounts import Accounts
from jim.core.apps import Apps
from jim.core.callbacks import CallbackOptions, Callbacks
from jim.core.cross_apps import CrossApps
from jim.core.cross_groups import CrossGroups
from jim.core.cross_rooms import CrossRooms
from jim.core.cross_relations import CrossRelations
from jim.core.events import Events
from jim.core.groups import Groups
from jim.core.hub import Hub
from jim.core.inbox import Inbox
from jim.core.login_throttle import LoginThrottle
from jim.core.media import Media
from jim.core.messages import Messages
from jim.core.own_groups import OwnGroups
from jim.core.policy import Policy
from jim.core.rate_buckets import RateLimits
from jim.core.rates import SHARE_SECONDS, ChatRates
from jim.core.relations import Relations
from jim.core.reports import Reports
from jim.core.rooms import Rooms
from jim.core.silences import KeptSilences
from jim.core.users import Users
from jim.core.web_sdk import WebSdk
from jim.core.words import Words
from jim.model import Delivery, Invalidate, Kick, RateUsage


class Core:
    """Everything a front end needs, shared by all of them.

    @ivar sessions: every live socket session, logged in or not (the sweeper's).
    """

    log = Logger()
    #: the L{Callbacks} telling app servers of their apps (None: no callback client)
    callbacks = None
    #: the L{CrossApps}: chat between the users of apps that allow each other
    cross = None
    #: the L{CrossRelations}: friends, blacklists and no-disturb settings across apps
    cross_relations = None
    #: the L{CrossGroups}: groups with members of other apps
    cross_groups = None
    #: the L{CrossRooms}: chat rooms with members of other apps
    cross_rooms = None
    #: the L{Reports}: the Report API v2's service
    reports = None
    #: the L{WebSdk}: checks the Web SDK's signed configurations
    web_sdk = None

    def __init__(self, *, accounts, users, relations, groups, messages, hub, bus, presence,
                 events, limits, clock, metrics, auto_join=(), media=None, inbox=None,
                 words=None, rooms=None, apps=None):
        self.accounts = accounts
        self.apps = apps
        self.words = words
        self.rooms = rooms
        self.users = users
        self.relations = relations
        self.groups = groups
        #: a signed-in user's own group calls, with who may make each (jim's cmd 111)
        self.own_groups = OwnGroups(groups, RateLimits(limits.group_invites, clock,
                                                       window=3600.0))
        self.messages = messages
        self.media = media
        self.inbox = inbox
        self.hub = hub
        self.bus = bus
        self.presence = presence
        self.events = events
        self.limits = limits
        self.chat_rates = ChatRates(clock, limits.user_rate, limits.address_rate,
                                    limits.app_rate, shared=bus.shared)
        self._rate_sharer = None
        #: None, or called with the peer (C{host:port}) of each connection that logs in: the
        #: service tells its connection admission, which never closes those to make room
        self.on_login = None
        self.clock = clock
        self.metrics = metrics
        self.auto_join = tuple(auto_join)
        self.sessions = set()
        metrics.signed_in = self.signed_in
        self._sweeper = None

    @property
    def node(self):
        return self.bus.node

    def start(self):
        """Start sweeping for connections past their login or idle timeout."""
        interval = min(self.limits.login_timeout, self.limits.idle_timeout) / 4
        self._sweeper = LoopingCall(self.sweep)
        self._sweeper.clock = self.clock
        self._sweeper.start(max(interval, 0.5), now=False)
        if self.chat_rates.shared:
            self._rate_sharer = LoopingCall(self.share_rates)
            self._rate_sharer.clock = self.clock
            self._rate_sharer.start(SHARE_SECONDS, now=False)
        if self.inbox is not None:
            self.inbox.start()
        if self.callbacks is not None:
            self.callbacks.start()
        if self.reports is not None:
            self.reports.start()
        if self.web_sdk is not None:
            self.web_sdk.start()

    def stop(self):
        if self._sweeper is not None and self._sweeper.running:
            self._sweeper.stop()
        self._sweeper = None
        if self._rate_sharer is not None and self._rate_sharer.running:
            self._rate_sharer.stop()
        self._rate_sharer = None
        if self.inbox is not None:
            self.inbox.stop()
        if self.callbacks is not None:
            self.callbacks.stop()
        if self.web_sdk is not None:
            self.web_sdk.stop()
        if self.media is not None:
            self.media.stop()
        if self.reports is not None:
            return self.reports.stop()  # fires once the active users noted are handed over
        return defer.succeed(None)

    def signed_in(self):
        """C{{terminal: logged-in connections of this node}}."""
        found = {}
        for session in self.sessions:
            if session.username is not None and not session.closed:
                found[session.terminal] = found.get(session.terminal, 0) + 1
        return found

    def share_rates(self):
        """Tell the other nodes what this one charged against chat rates since it last did."""
        usage = self.chat_rates.take_usage()
        if usage:
            self.bus.publish(RateUsage(self.bus.node, usage))

    def on_rate_usage(self, usage):
        """Another node's chats: off this node's buckets too (this node's own come back too,
        and were charged here already)."""
        if usage.origin != self.bus.node:
            self.chat_rates.debit(usage.entries)

    def sweep(self):
        """Close sessions that did not log in in time, or sent nothing for too long.

        One periodic scan instead of a timer per connection: idle connections then cost no
        DelayedCall each, and a frame costs one float store instead of a timer reset.
        """
        now = self.clock.seconds()
        login_deadline = now - self.limits.login_timeout
        idle_deadline = now - self.limits.idle_timeout
        for session in list(self.sessions):
            if session.closed:
                continue
            if session.username is None:
                if session.connected_at < login_deadline:
                    self.log.info(
                        "closing {peer}: no login within {timeout} s",
                        peer=session.peer,
                        timeout=self.limits.login_timeout,
                    )
                    session.close("login timeout")
            elif session.last_seen < idle_deadline:
                self.log.info(
                    "closing {peer} ({user}): silent for {timeout} s",
                    peer=session.peer,
                    user=session.username,
                    timeout=self.limits.idle_timeout,
                )
                session.close("idle timeout")


def build_core(store, bus, presence, passwords, tokens, clock, metrics, limits, default_app,
               open_registration=False, auto_join=(), media_files=None, media_key=b"",
               run_media=None, single_device=False, callback_client=None,
               callback_options=CallbackOptions(), box_key=None):
    """The services over C{store}, C{bus} and C{presence}, wired to one another and
    subscribed to the bus: the one place that knows who needs whom.

    Uploads are kept in C{media_files} (an L{jim.interfaces.IMediaFiles}; None: no media
    service), their download links signed with C{media_key}; C{run_media(function, *args)}
    runs the files' blocking work on a worker thread (None: here and now). With
    C{single_device} a login replaces its user's other devices (L{Hub}). With a
    C{callback_client} (an L{jim.interfaces.ICallbackClient}) app servers are told of their
    apps (L{Callbacks}). With a C{box_key} (L{jim.core.secret_box}) the apps' master secrets
    are kept sealed, and pages' Web SDK signatures can be checked (L{WebSdk})."""
    events = Events(bus, clock, metrics, bus.node_number, store.events)
    users = Users(store.users, passwords, presence, events, bus)
    silences = KeptSilences(store.silences)
    groups = Groups(store.groups, users, presence, events, bus, limits, silences)
    relations = Relations(store.relations, users, groups, events, bus)
    groups.relations = relations
    users.watchers = relations.friend_names
    users.on_delete = [groups.user_deleted, relations.user_deleted]
    throttle = LoginThrottle(limits.login_failures_user, limits.login_failures_address,
                             limits.login_window, limits.login_lockout)
    accounts = Accounts(store.apps, users, passwords, tokens, clock, default_app,
                        open_registration, throttle, bus)
    messages = Messages(store.messages, accounts, users, relations, groups, presence, bus,
                        Policy(limits, metrics), events, metrics, limits)
    cross = messages.cross = CrossApps(accounts, users, relations, messages.policy, messages)
    events.ordered = messages.publish_in_order
    words = Words(store.words, accounts, bus, clock, limits.sensitive_words)
    messages.words = words
    rooms = Rooms(store.rooms, users, bus, clock, limits, silences)
    messages.rooms = rooms
    users.on_delete.append(rooms.user_deleted)
    hub = Hub(presence, bus, groups, events, metrics, users, single_device)
    for service in (accounts, users, relations, groups, hub, words, rooms):
        bus.subscribe(service.on_bus, (Invalidate,))
    bus.lost = hub.users_lost
    bus.subscribe(hub.deliver, (Delivery,))
    bus.subscribe(hub.on_kick, (Kick,))
    media = None
    if media_files is not None:
        options = {} if run_media is None else {"run": run_media}
        media = Media(store.media, media_files, clock, media_key, limits.media_max_bytes,
                      quota=limits.media_quota, **options)
        bus.subscribe(media.on_bus, (Invalidate,))
    inbox = Inbox(store.inbox, users, groups, clock, limits, store.events,
                  shared=bus.shared)
    reports = hub.reports = Reports(store.reports, accounts, clock, limits)
    callbacks = None
    if callback_client is not None:
        callbacks = messages.callbacks = hub.callbacks = Callbacks(
            store.callbacks, accounts, users, groups, callback_client, clock, metrics, bus.node,
            callback_options)
    core = Core(accounts=accounts, users=users, relations=relations, groups=groups,
                messages=messages, hub=hub, bus=bus, presence=presence, events=events,
                limits=limits, clock=clock, metrics=metrics, auto_join=auto_join, media=media,
                inbox=inbox, words=words, rooms=rooms,
                apps=Apps(store, accounts, bus, clock, box_key))
    core.callbacks = callbacks
    core.reports = reports
    core.web_sdk = WebSdk(accounts, store.nonces, clock, box_key)
    bus.subscribe(core.on_rate_usage, (RateUsage,))
    core.cross = cross
    core.cross_relations = CrossRelations(cross, relations, users, events)
    users.on_delete.append(core.cross_relations.user_deleted)
    core.cross_groups = groups.cross = messages.cross_groups = inbox.cross_groups = \
        CrossGroups(cross, groups, events, limits)
    users.on_delete.append(core.cross_groups.user_deleted)
    core.cross_rooms = messages.cross_rooms = CrossRooms(cross, core.cross_groups, rooms)
    users.on_delete.append(core.cross_rooms.user_deleted)  # (after the groups: see it)
    users.on_delete.append(silences.user_deleted)  # after the leaves, which keep silences
    core.apps.on_delete = [core.cross_groups.app_deleted, core.cross_rooms.app_deleted,
                           silences.app_deleted]  # (after the leaves, which keep silences)
    if media is not None:  # the files only the deleted app's uploads used go
        core.apps.on_delete.append(media.app_deleted)
    return core
