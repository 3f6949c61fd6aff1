# -*- test-case-name: tests.test_core_hub -*-
"""The hub: this process's logged-in connections, and what reaches them from the bus.

Connections of every dialect (L{jim.interfaces.IConnection}) bind here after their login. The
hub subscribes to the bus: a L{Delivery} goes to the local connections of its recipients, each
encoding it in its own dialect once per fan-out (they share one cache); a L{Kick} closes a
user's local connections (those of one device, when it names one). A login of a device the
user is already logged in on, anywhere, replaces it: the old connection is told
(L{model.LOGGED_IN_ELSEWHERE}) and closed; with C{single_device}, a login replaces every
other device of its user. Who is online anywhere is L{jim.interfaces.IPresence}'s to say; a
user's first connection coming up and its last going down are told to its groups' members.
"""
from twisted.internet import defer, task
from twisted.logger import Logger

from jim import errors, model
from jim.core import devices
from jim.core.events import bare_card, card
from jim.errors import JimError
from jim.model import RUN, Kick, Message


_NONE = {}  # the local connections of an app that has none (never written to)
#: the events that change who is in a group
_MEMBERSHIP = frozenset((model.MEMBERS_ADDED, model.GROUP_CREATED, model.MEMBERS_REMOVED,
                         model.MEMBER_LEFT, model.GROUP_DISSOLVED))


class Hub:
    log = Logger()

    def __init__(self, presence, bus, groups, events, metrics, users=None, single_device=False):
        self.presence = presence
        self.single_device = single_device  # a user has one device: a login replaces others
        self.bus = bus
        self.groups = groups
        self.users = users
        self.events = events
        self.metrics = metrics
        # app -> {username -> [connection, ...] in login order}: by app first, so that a
        # fan-out looks each recipient up by its name alone
        self._local = {}
        # (app, username) -> {gid: alias}: the groups told of a user's coming online
        self._announced = {}
        self._first = {}  # connection id -> whether it was its user's first, attached not bound
        self._passwords = {}  # connection id -> its user's password hash when it logged in
        self.callbacks = None  # the L{jim.core.callbacks.Callbacks}: told of users' presence
        self.reports = None  # the L{jim.core.reports.Reports}: told of logins (active users)

    def attach(self, connection):
        """A connection logged in: it gets deliveries from now on. Fires once every node can
        see it (at once on a single node), so that what a client does after its login reply
        never finds it offline on another node. Then L{bind} it."""
        key = (connection.app, connection.username)
        device = connection.device
        replaced = devices.replaced(self.presence.connections(*key), device,
                                    self.single_device)
        self._local.setdefault(connection.app, {}).setdefault(connection.username,
                                                              []).append(connection)
        first = self._first[connection.id] = self.presence.connect(
            connection.app, connection.username, connection.id, device)
        if first and self.callbacks is not None:
            self.callbacks.presence(connection.app, connection.username, True)
        if self.reports is not None:
            self.reports.logged_in(connection.app, connection.username)
        if replaced:
            self._replace(connection, replaced)
        return self.presence.announced(connection.id)

    def _replace(self, connection, replaced):
        """A login replaces C{replaced} (connection ids, on any node): they are told why and
        closed where they are. The kick names the device (every other one with
        C{single_device}) rather than the ids, so that a connection of it this node has not
        heard of yet is closed too."""
        self.log.info("{user} of app {app} logged in again on {device} ({id}): closing"
                      " {count} connection(s) it replaces", user=connection.username,
                      app=connection.app, device=connection.device, id=connection.id,
                      count=len(replaced))
        event = self.events.make(model.LOGGED_IN_ELSEWHERE, connection.app,
                                 users=[bare_card(connection.username)],
                                 description="logged in elsewhere")
        self.kick(connection.app, connection.username, "logged in elsewhere", event,
                  keep=connection.id, device=None if self.single_device else connection.device)

    async def bind(self, connection, user):
        """After L{attach}: a user's first connection anywhere is announced to the members of
        its groups (J-IM's cmd 9)."""
        key = (connection.app, connection.username)
        self._passwords[connection.id] = user.password
        if not self._first.pop(connection.id, False):
            return
        announced = self._announced[key] = {}  # gid -> the group's J-IM alias
        groups = await self.groups.user_groups(connection.app, connection.username)
        for group in groups:
            members = await self.groups.members(connection.app, group.gid)
            if self._announced.get(key) is not announced:
                return  # every connection of the user left meanwhile (its cmd 10 went out)
            if connection.username not in members:  # removed since its groups were read
                continue
            announced[group.gid] = group.alias
            event = self.events.make(model.USER_ONLINE, connection.app, actor=user.username,
                                     gid=group.gid,
                                     users=[card(user, True, connection.terminal)])
            self.events.send(event, list(members), group.alias)

    def unbind(self, connection, user):
        """A connection is gone; a user's last connection anywhere is announced offline."""
        key = (connection.app, connection.username)
        users = self._local.get(connection.app)
        mine = None if users is None else users.get(connection.username)
        if mine is None or connection not in mine:
            return
        mine.remove(connection)
        self._first.pop(connection.id, None)
        self._passwords.pop(connection.id, None)
        if not mine:
            del users[connection.username]
            if not users:
                del self._local[connection.app]
        last = self.presence.disconnect(connection.app, connection.username, connection.id)
        if last and self.callbacks is not None:
            self.callbacks.presence(connection.app, connection.username, False)
        announced = self._announced.pop(key, {}) if not mine else {}
        if not last:
            return
        offline = card(user, False, connection.terminal)
        for gid, alias in announced.items():
            members = self.groups.cached_members(connection.app, gid)
            if members is not None:
                self._announce_offline(members, connection.app, gid, alias, offline)
                continue
            # no longer in memory (a change elsewhere made them be read again): read them
            d = defer.ensureDeferred(self.groups.members(connection.app, gid))
            d.addCallback(self._announce_offline, connection.app, gid, alias, offline)
            d.addErrback(self._announce_failed, connection.app, user.username, gid)

    def users_lost(self, users):
        """Users whose node died (the bus found it dead): online nowhere now, so their groups
        are told (J-IM's cmd 10), as their node would have told them at their logout."""
        for app, username in users:
            if self.callbacks is not None:
                self.callbacks.presence(app, username, False)
            d = defer.ensureDeferred(self._announce_lost(app, username))
            d.addErrback(self._lost_announce_failed, app, username)

    async def _announce_lost(self, app, username):
        user = None if self.users is None else await self.users.find(app, username)
        offline = bare_card(username) if user is None else card(user, False)
        for group in await self.groups.user_groups(app, username):
            members = await self.groups.members(app, group.gid)
            self._announce_offline(members, app, group.gid, group.alias, offline)

    def _announce_offline(self, members, app, gid, alias, offline):
        if self.presence.is_online(app, offline.username):  # back meanwhile: no longer news
            return
        event = self.events.make(model.USER_OFFLINE, app, actor=offline.username, gid=gid,
                                 users=[offline])
        self.events.send(event, list(members), alias)

    def _announce_failed(self, failure, app, username, gid):
        if failure.check(JimError):  # the store is away (a shutdown, an outage): a notice lost
            self.log.warn("could not tell group {gid} of app {app} that {user} left: {why}",
                          gid=gid, app=app, user=username, why=failure.value.detail)
            return
        self.log.failure("could not tell group {gid} of app {app} that {user} left", failure,
                         gid=gid, app=app, user=username)

    def _lost_announce_failed(self, failure, app, username):
        if failure.check(JimError):  # the store is away: the notice is lost, not the user
            self.log.warn("could not tell the groups of {user} of app {app} that their node"
                          " died: {why}", app=app, user=username, why=failure.value.detail)
            return
        self.log.failure("could not tell the groups of {user} of app {app} that their node"
                         " died", failure, app=app, user=username)

    def kick(self, app, username, reason, event=None, keep=None, device=None):
        """Close every connection of a user, on every node (but C{keep}, a connection id;
        only those of C{device}, a device key, if it is given)."""
        self.bus.publish(Kick(app, username, reason, event, keep, device))

    def on_kick(self, kick):
        """A kick from the bus: close this process's connections of the user (but C{keep};
        only those of C{kick.device} if it names one)."""
        users = self._local.get(kick.app, _NONE)
        if kick.username == model.EVERY_USER:  # the app was deleted
            every = [c for connections in users.values() for c in connections]
        else:
            every = list(users.get(kick.username, ()))
        for connection in every:
            if connection.id != kick.keep and kick.device in (None, connection.device):
                try:
                    connection.kick(kick)
                except Exception:  # the user's other connections are still closed
                    self.log.failure("kicking {user} failed on one connection",
                                     user=kick.username)

    def on_bus(self, value):
        """An invalidation of every user: this node's bus was away and may have missed kicks
        (a user forbidden, deleted or given a new password elsewhere); each local user is
        read again and closed if it should have been."""
        if value.area == model.USERS_AREA and value.app == model.EVERY_APP \
                and not value.key and self.users is not None:
            d = defer.ensureDeferred(self._check_every_user())
            d.addErrback(lambda f: self.log.warn("checking local users again failed: {why}",
                                                 why=f.getErrorMessage()))

    async def _check_every_user(self):
        every = [(app, username, connections) for app, users in self._local.items()
                 for username, connections in users.items()]
        for app, username, connections in every:
            user = await self._read_again(app, username)
            for connection in list(connections):
                if user is None:
                    reason = "user deleted"
                elif user.forbidden:
                    reason = "forbidden"
                elif self._passwords.get(connection.id, user.password) != user.password:
                    reason = "password changed"
                else:
                    continue
                self.log.info("closing {user} ({id}): {reason} while the bus was away",
                              user=username, id=connection.id, reason=reason)
                self.on_kick(Kick(app, username, reason, keep=None))

    async def _read_again(self, app, username, tries=10):
        """The user as the store has it now; the store may still be reconnecting (the bus
        came back first): tried again a second apart."""
        for attempt in range(tries):
            try:
                return await self.users.find(app, username)
            except JimError as e:
                if e.code != errors.SERVER_ERROR or attempt == tries - 1:
                    raise
                await task.deferLater(self.events.clock, 1.0, lambda: None)

    def _track(self, event, alias):
        """Keep the groups a local user will be announced offline to in step with its
        memberships."""
        app, gid = event.app, event.gid
        if gid is None:  # another app's group (jim.core.cross_groups): never announced to
            return
        if event.kind == model.GROUP_DISSOLVED:
            for (owner_app, _), announced in self._announced.items():
                if owner_app == app:
                    announced.pop(gid, None)
            return
        joined = event.kind in (model.MEMBERS_ADDED, model.GROUP_CREATED)
        for user in event.users:
            announced = self._announced.get((app, user.username))
            if announced is None:
                continue
            if joined:
                announced[gid] = alias
            else:
                announced.pop(gid, None)

    def deliver(self, delivery):
        """A delivery from the bus: to this process's connections of its recipients, each
        encoding it in its own dialect once per fan-out (they share C{cache})."""
        local = self._local.get(delivery.app, _NONE)
        exclude = delivery.exclude
        cache = {}
        sent = 0
        for username in delivery.recipients:
            connections = local.get(username)
            if connections:
                for connection in connections:
                    if connection.id != exclude:
                        try:
                            connection.deliver(delivery, cache)
                        except Exception:  # a bug in one connection: the others still get it
                            self.log.failure("delivery to {user} ({id}) failed",
                                             user=username, id=connection.id)
                            continue
                        sent += 1
        item = delivery.item
        if type(item) is Message:
            self.metrics.messages_out += sent
        elif type(item) is RUN:  # a run of messages (jim.core.message_runs)
            sent *= len(item)
            self.metrics.messages_out += sent
        elif item.kind in _MEMBERSHIP:
            self._track(item, delivery.alias)
        self.metrics.deliveries += sent
