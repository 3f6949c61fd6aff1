# -*- test-case-name: tests.store_contract -*-
"""The reference L{IStore}: plain dicts, nothing durable.

It defines what the contract means (the shared contract suites run against it first) and is the
fake the core's tests use. Every method answers with an already-fired Deferred; whatever it
returns is immutable or a copy, so a caller can never change the store by mutating a result.
Each area keeps its own state, as a store on separate servers would.
"""
import itertools

import attr
from twisted.internet import defer
from zope.interface import implementer
from zope.interface.interface import InterfaceClass

from jim import errors, interfaces
from jim.errors import JimError
from jim.interfaces import IAppStore, IRelationStore, IStore, IUserStore
from jim.model import App, User
from jim.store import (
    APP_CHANGES, USER_CHANGES, answered, changed, check_changes, check_page,
)
from jim.store.memory_events import MemoryEvents
from jim.store.memory_groups import MemoryGroups
from jim.store.memory_inbox import MemoryInbox
from jim.store.memory_media import MemoryMedia
from jim.store.memory_messages import MemoryMessages
from jim.store.memory_nonces import MemoryNonces
from jim.store.memory_silences import MemorySilences
from jim.store.memory_rooms import MemoryRooms
from jim.store.memory_words import MemoryWords
from jim.store.memory_callbacks import MemoryCallbacks
from jim.store.memory_reports import MemoryReports


@implementer(IStore)
class MemoryStore:
    def __init__(self):
        self.apps = MemoryApps()
        self.users = MemoryUsers()
        self.relations = MemoryRelations()
        self.silences = MemorySilences()
        self.groups = MemoryGroups(self.silences)
        self.messages = MemoryMessages()
        self.media = MemoryMedia()
        self.inbox = MemoryInbox(self.messages)
        self.events = MemoryEvents(self.messages)
        self.words = MemoryWords()
        self.rooms = MemoryRooms(self.silences)
        self.callbacks = MemoryCallbacks()
        self.reports = MemoryReports(self.messages, self.users, self.groups)
        self.nonces = MemoryNonces()

    @answered
    def start(self):
        return None

    @answered
    def stop(self):
        return None

    def forget_app(self, key):
        """Each area forgets the app (its C{forget_app}): every attribute that provides an
        area interface of L{jim.interfaces}, so that an area added later is included. An area
        without C{forget_app} is a bug: TypeError at once, and nothing is forgotten."""
        forgets = []
        for name, area in vars(self).items():
            if any(interface.providedBy(area) for interface in area_interfaces()):
                forget = getattr(area, "forget_app", None)
                if forget is None:
                    raise TypeError(f"store area {name!r} ({type(area).__name__}) cannot"
                                    " forget an app: it has no forget_app")
                forgets.append(forget)
        return defer.ensureDeferred(_forget_in_turn(forgets, key))


def area_interfaces():
    """The interfaces of L{jim.interfaces} that a store's areas provide: every C{I...Store}
    but L{IStore} itself."""
    return [value for name, value in vars(interfaces).items()
            if name.startswith("I") and name.endswith("Store") and name != "IStore"
            and isinstance(value, InterfaceClass)]


async def _forget_in_turn(forgets, key):
    for forget in forgets:
        await defer.maybeDeferred(forget, key)


@implementer(IAppStore)
class MemoryApps:
    def __init__(self):
        self._apps = {}  # key -> App, in creation order

    @answered
    def add_app(self, app):
        if app.key in self._apps:
            raise JimError(errors.APP_EXISTS, f"app key {app.key!r} is taken")
        self._apps[app.key] = app

    @answered
    def get_app(self, key):
        return self._apps.get(key)

    @answered
    def update_app(self, key, changes):
        check_changes(App, changes, APP_CHANGES)  # a caller's bug comes first, as in SQLite
        app = self._apps.get(key)
        if app is None:
            raise JimError(errors.NO_SUCH_APP, f"no app {key!r}")
        app = self._apps[key] = changed(app, changes, APP_CHANGES)
        return app

    @answered
    def list_apps(self, start, count):
        check_page(start, count)
        apps = list(self._apps.values())
        return len(apps), apps[start : start + count]

    @answered
    def forget_app(self, app):
        """Forget the app's record (L{IStore.forget_app})."""
        self._apps.pop(app, None)

    @answered
    def delete_app(self, key):
        self._apps.pop(key, None)


@implementer(IUserStore)
class MemoryUsers:
    def __init__(self):
        self._users = {}  # (app, username) -> User, in registration order

    def all_users(self, app):
        """The app's users (the report area counts them)."""
        return [user for (of, _), user in self._users.items() if of == app]

    @answered
    def add_user(self, user):
        if (user.app, user.username) in self._users:
            raise JimError(errors.USER_EXISTS, f"user {user.username!r} exists")
        self._users[(user.app, user.username)] = user

    @answered
    def get_user(self, app, username):
        return self._users.get((app, username))

    @answered
    def get_users(self, app, usernames):
        found = (self._users.get((app, name)) for name in dict.fromkeys(usernames))
        return [user for user in found if user is not None]

    @answered
    def update_user(self, app, username, changes):
        check_changes(User, changes, USER_CHANGES)
        user = self._users.get((app, username))
        if user is None:
            raise JimError(errors.NO_SUCH_USER, f"no user {username!r}")
        user = self._users[(app, username)] = changed(user, changes, USER_CHANGES)
        return user

    @answered
    def replace_password(self, app, username, old, new):
        user = self._users.get((app, username))
        if user is None or user.password != old:
            return False
        self._users[(app, username)] = changed(user, {"password": new}, USER_CHANGES)
        return True

    @answered
    def delete_user(self, app, username):
        if self._users.pop((app, username), None) is None:
            raise JimError(errors.NO_SUCH_USER, f"no user {username!r}")

    @answered
    def list_users(self, app, start, count, admin=False):
        check_page(start, count)
        users = [u for (a, _), u in self._users.items() if a == app and u.admin == admin]
        return len(users), users[start : start + count]

    @answered
    def forget_app(self, app):
        """Forget the app's users (L{IStore.forget_app})."""
        for key in [key for key in self._users if key[0] == app]:
            del self._users[key]


@implementer(IRelationStore)
class MemoryRelations:
    def __init__(self):
        # (app, owner) -> {(kind, target): (age, Relation)}, oldest first
        self._owned = {}
        self._ages = itertools.count()

    @answered
    def add_relations(self, relations):
        added = []
        for relation in relations:
            kept = self._owned.setdefault((relation.app, relation.owner), {})
            key = (relation.kind, relation.target)
            if key not in kept:
                kept[key] = (next(self._ages), relation)
                added.append(relation)
        return added

    @answered
    def update_relations(self, relations):
        updated = []
        for relation in relations:
            kept = self._owned.get((relation.app, relation.owner), {})
            key = (relation.kind, relation.target)
            if key in kept:
                age, old = kept[key]
                new = attr.evolve(old, note_name=relation.note_name, others=relation.others)
                kept[key] = (age, new)
                updated.append(new)
        return updated

    @answered
    def remove_relations(self, app, kind, owner, targets):
        kept = self._owned.get((app, owner), {})
        return [t for t in dict.fromkeys(targets) if kept.pop((kind, t), None) is not None]

    @answered
    def relations_of(self, app, owner, kinds=None):
        kept = self._owned.get((app, owner), {})
        return [r for _, r in kept.values() if kinds is None or r.kind in kinds]

    @answered
    def owners_of(self, app, kind, target):
        found = sorted(entry for (a, _), kept in self._owned.items() if a == app
                       for entry in kept.values()
                       if entry[1].kind == kind and entry[1].target == target)
        return [relation.owner for _, relation in found]

    @answered
    def remove_owned(self, app, owner):
        self._owned.pop((app, owner), None)

    @answered
    def targets_with_prefix(self, app, prefix):
        return sorted({relation.target for (a, _), kept in self._owned.items() if a == app
                       for _, relation in kept.values() if relation.target.startswith(prefix)})

    @answered
    def remove_targeting(self, app, kinds, target):
        for (a, _), kept in self._owned.items():
            if a == app:
                for key in [k for k in kept if k[0] in kinds and k[1] == target]:
                    del kept[key]

    @answered
    def forget_app(self, app):
        """Forget the relations the app's users keep (L{IStore.forget_app})."""
        for key in [key for key in self._owned if key[0] == app]:
            del self._owned[key]
