# -*- test-case-name: tests.test_core_cross_apps -*-
"""Cross-app chat (JMessage's cross-app API): the users of two apps that allow each other send
each other private messages and keep each other in their friends, blacklists and no-disturb
settings.

Two apps allow each other when each lists the other in its C{cross_apps} (an administrator's
setting, L{jim.model.cross_allowed}); anything else naming another app's user is refused with
C{CROSS_APP_DENIED}, before anything is read of that app's users, so nothing is told of them.

Inside an app's data another app's user has a qualified name, C{<appkey>:<username>}
(L{jim.model.qualified}). No username holds a C{:}, so that name is no user of the app, and
every store area keeps it as it keeps a username: a relation's target, a message's sender or
target, a private conversation's key.

A cross-app message is kept twice, once in each app's log: the sender's copy (its target the
receiver's qualified name, its C{target_app} the receiver's app) and the receiver's copy (its
sender the sender's qualified name). Each app then holds the whole conversation, both ways, in
its own log: its users' inboxes, offline messages and history read it as they read any
private conversation, ids and cursors stay each app's, and each app server is told of the
copy in its app. The receiver's copy is kept first, then the sender's: the sender is answered
once both are (with its own copy's id), and a resend with the same client id after a failure
between the two writes does not keep the receiver's copy twice. Same-app messages never come here: a qualified target is no user in memory, so it always
takes the send's loading path (L{jim.core.messages.Messages}), which sends it here.
"""
import functools

import attr
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from jim import errors, model
from jim.core.words import masked
from jim.errors import JimError
from jim.model import GROUP, SINGLE, Delivery, Message


async def take_out_everywhere(key, others, listed, remove, what, log):
    """The users of deleted app C{key} out of what the apps C{others} keep them in (C{what}:
    "groups", "chat rooms"): C{listed(app, prefix)} lists that app's C{(id, member name)}
    pairs of names starting with C{prefix} (the store's index of members, not a read of
    everything); C{remove(app, id, names)} takes names out of one, and a JimError of one is
    logged and counted. JimError(SERVER_ERROR) when some stay; the others are taken out."""
    prefix = model.qualified(key, "")
    failed = 0
    for other in others:
        by_id = {}
        for number, name in await listed(other, prefix):
            by_id.setdefault(number, []).append(name)
        for number, names in by_id.items():
            try:
                await remove(other, number, names)
            except JimError as e:
                failed += 1
                log.warn("the users of deleted app {deleted} stay in {what} {id} of app {app}:"
                         " {error}", deleted=key, what=what, id=number, app=other, error=e)
    if failed:
        raise JimError(errors.SERVER_ERROR, f"{failed} {what} of other apps kept users of app"
                       f" {key!r}")


#: apps whose calls one user's deletion runs together (L{in_batches})
APPS_AT_ONCE = 100


async def in_batches(keys, call, at_once=APPS_AT_ONCE):
    """C{[(key, what call(key) gave), ...]} of the apps C{keys}, in their order, C{call} (a
    coroutine function, or one returning a Deferred) run for C{at_once} apps at a time
    together, since a user's deletion asks every app. The first failure of a batch is raised
    as it came."""
    given = []
    for start in range(0, len(keys), at_once):
        part = keys[start:start + at_once]
        try:
            results = await defer.gatherResults(
                [defer.ensureDeferred(call(key)) for key in part], consumeErrors=True)
        except defer.FirstError as e:
            e.subFailure.raiseException()
        given += zip(part, results)
    return given


async def found_in_apps(keys, read, at_once=APPS_AT_ONCE):
    """L{in_batches} of C{read}: only the apps where it found something."""
    return [(key, found) for key, found in await in_batches(keys, read, at_once) if found]


def quietly(d):
    """A Deferred that fires with what C{d} fires with, or None when C{d} fails (C{d}'s
    own result is left to its other callbacks)."""
    quiet = defer.Deferred()

    def tell(result):
        quiet.callback(None if isinstance(result, Failure) else result)
        return result

    d.addBoth(tell)
    return quiet


class CrossApps:
    log = Logger()

    def __init__(self, accounts, users, relations, policy, messages):
        self.accounts = accounts
        self.users = users
        self.relations = relations
        self.policy = policy
        self.messages = messages  # its store, bus and presence, and its order of deliveries

    # -- permission ------------------------------------------------------------------------

    async def allowed(self, app_key, other_key):
        """C{(app, other)}: the two L{model.App}s, when the users of C{app_key} and of
        C{other_key} may chat (each app lists the other); else JimError C{CROSS_APP_DENIED},
        the same for an app that does not exist (which apps exist is not told)."""
        pair = await self._pair(app_key, other_key)
        if pair is None:
            raise JimError(errors.CROSS_APP_DENIED, f"the users of app {app_key!r} may not"
                           f" chat with those of app {other_key!r}: each app must list the"
                           " other in its cross_apps")
        return pair

    async def _pair(self, app_key, other_key):
        """C{(app, other)} when two different apps allow each other, else None."""
        home = await self.accounts.app(app_key)
        other = None if other_key == app_key else await self.accounts.app(other_key)
        if home is None or other is None or not model.cross_allowed(home, other):
            return None
        return home, other

    async def shows(self, app_key, other_key):
        """Whether what app C{other_key} keeps (a group's or a room's name) may be shown to
        app C{app_key} now: it is that app, or the two allow each other (L{allowed}). The
        messages an app keeps copies of stay its own after a permission is withdrawn; what
        the other app has made of its group or room since is not."""
        return other_key == app_key or await self._pair(app_key, other_key) is not None

    async def require_reachable(self, app_key, names):
        """Refuse (C{CROSS_APP_DENIED}) a change naming a user of another app
        (C{<appKey>:<username>}) that does not allow C{app_key} now; removals are not
        changes of this kind: a permission taken back leaves them to the app."""
        for other_key in sorted({model.unqualified(name, app_key)[0] for name in names
                                 if model.QUALIFIER in name}):
            await self.allowed(app_key, other_key)

    async def resolve(self, app_key, entries, exist=True, permitted=True):
        """How app C{app_key}'s data names the users of C{entries} (C{[(app key,
        [username, ...]), ...]}): C{(names, users)}, the names in order (another app's users
        by their L{model.qualified} names, the app's own by their usernames) and, with
        C{exist}, {name: User} of each (JimError C{NO_SUCH_USER} naming those that do not
        exist). Refused (C{CROSS_APP_DENIED}) unless every other app named and this one
        allow each other, before anything of their users is read. Without C{permitted} (a
        removal of the caller's own entries, which may outlive a permission) the permission
        is not asked, and C{exist} must be false."""
        for other_key, _ in entries:
            if other_key != app_key and permitted:
                await self.allowed(app_key, other_key)
        names, found = [], {}
        for other_key, usernames in entries:
            if other_key == app_key:
                names += usernames
            else:
                names += [model.qualified(other_key, name) for name in usernames]
            if exist:
                users = await self.users.require_all(other_key, usernames)
                for name in usernames:
                    found[name if other_key == app_key
                          else model.qualified(other_key, name)] = users[name]
        return names, found

    async def users_named(self, app_key, names):
        """{name: User} of those of C{names} (as app C{app_key}'s data names users: its own
        by their usernames, others' by their qualified names) that exist, of the apps that
        allow C{app_key}'s users now: nothing of another app is read without that."""
        by_app = {}
        for name in names:
            other_key, username = model.unqualified(name, app_key)
            by_app.setdefault(other_key, []).append(username)
        found = {}
        home = await self.accounts.app(app_key)
        for other_key, usernames in by_app.items():
            if other_key != app_key:
                other = await self.accounts.app(other_key)
                if home is None or other is None or not model.cross_allowed(home, other):
                    continue
            users = await self.users.get_many(other_key, usernames)
            for username, user in users.items():
                found[username if other_key == app_key
                      else model.qualified(other_key, username)] = user
        return found

    # -- messages ------------------------------------------------------------------------------

    async def send(self, app, sender, draft, connection_id=None):
        """Send C{draft}, whose target is another app's user by its qualified name:
        C{(sender's copy, delivered)}, as L{jim.core.messages.Messages.send} answers.

        The rules are the in-app ones, as the receiver's app sees the sender (its qualified
        name): its blacklist, and friendship when either app is in friend mode (the
        receiver's friends must list the sender). A message the app server sends in an
        admin's name is bound by neither, as in its app."""
        other_key, username = model.unqualified(draft.target, app)
        home, other = await self.allowed(app, other_key)
        me = await self.users.get(app, sender)
        refusal = self.policy.check_sender(me, draft)
        if refusal is not None:
            raise refusal
        receiver = await self.users.find(other_key, username)
        if receiver is None:
            raise self.policy.refuse(errors.NO_SUCH_USER, f"no user {username!r} in app"
                                     f" {other_key!r}")
        theirs = await self.relations.of(other_key, username)
        seen_as = model.qualified(app, sender)
        rules = attr.evolve(other, friend_mode=home.friend_mode or other.friend_mode)
        refusal = self.policy.check_private(rules, attr.evolve(me, username=seen_as), receiver,
                                            theirs, draft._replace(target=username))
        if refusal is not None:
            raise refusal
        messages = self.messages
        now = messages.events.now_ms()
        mine = Message._make((0, app, sender, SINGLE, model.qualified(other_key, username),
                              draft.msg_type, draft.body, draft.extras, draft.client_id, now,
                              draft.from_type, other_key, draft.no_offline,
                              draft.no_notification, False))
        body = draft.body
        if other.word_filter:  # the receiver's app masks its own words in its copy
            body = masked(await messages.words.filter_of(other_key), draft).body
        copy = mine._replace(app=other_key, sender=seen_as, target=username, target_app=None,
                             body=body)
        # The receiver's copy first: a send that fails after it is stored is answered with
        # the failure, and its resend (the same client id) finds that copy instead of
        # delivering the message twice; the sender's copy, last, is what a resend looks for
        # first (Messages.send), so a message acknowledged is in both apps.
        stored_copy = None
        if draft.client_id is not None:
            stored_copy = await messages.store.message_by_client_id(
                other_key, seen_as, draft.client_id, SINGLE, username)
        fresh = stored_copy is None
        if fresh:
            writing = messages.store.add_message(copy)
            # each goes out once kept, in the order of every delivery (inbox cursors count
            # pushes)
            messages.publish_in_order(quietly(writing), functools.partial(
                self._publish, other_key, username, None))
            stored_copy = await writing
        writing = messages.store.add_message(mine)
        messages.publish_in_order(quietly(writing), functools.partial(
            self._publish, app, sender, connection_id))
        stored = await writing
        messages.metrics.messages_in += 1
        if messages.callbacks is not None:
            messages.callbacks.accepted(stored)
            if fresh:
                messages.callbacks.accepted(stored_copy)
        self.log.debug("cross-app message {id} of app {app} kept as {copy} in app {other}",
                       id=stored.id, app=app, copy=stored_copy.id, other=other_key)
        return stored, messages.presence.is_online(other_key, username)

    # -- retraction -----------------------------------------------------------------------------

    async def retract_copy(self, mine, username):
        """The sender's copy C{mine} of a cross-app message was retracted: the receiver's
        copy is too (found by the client id, else by its time and body), and each side is
        told of its own copy (C{message_retracted})."""
        app = mine.app
        other_key, receiver = model.unqualified(mine.target, app)
        seen_as = model.qualified(app, username)
        store = self.messages.store
        copy = await copy_in(store, other_key, seen_as, SINGLE, receiver, mine)
        if copy is not None and not copy.retracted:
            try:
                copy = await store.retract_message(other_key, copy.id)
            except JimError as e:
                if e.code != errors.ALREADY_RETRACTED:
                    raise
        events = self.messages.events
        await events.send(events.make(model.MESSAGE_RETRACTED, app, actor=username,
                                      message_ids=(mine.id,), target_type=SINGLE,
                                      target=mine.target), [username])
        if copy is not None:
            await events.send(events.make(model.MESSAGE_RETRACTED, other_key, actor=seen_as,
                                          message_ids=(copy.id,), target_type=SINGLE,
                                          target=receiver), [receiver])
        self.log.info("cross-app message {id} of app {app} retracted, and its copy {copy} in"
                      " app {other}", id=mine.id, app=app, other=other_key,
                      copy=None if copy is None else copy.id)

    def _publish(self, app, username, exclude, stored):
        """A copy kept (None: it failed) goes to C{username}'s connections (in C{app}) online
        now, but C{exclude}."""
        if stored is None:
            return
        presence = self.messages.presence
        if presence.is_online(app, username):
            self.messages.bus.publish(Delivery(app, stored, (username,), exclude, None))


async def copy_in(store, app, sender, target_type, target, message):
    """The copy of C{message} in app C{app} (sent by C{sender} to C{target}): found by its
    client id, else by its time among that conversation's latest."""
    if message.client_id is not None:
        return await store.message_by_client_id(app, sender, message.client_id, target_type,
                                                target)
    if target_type == GROUP:
        page = await store.group_history(app, int(target) if target.isdigit() else target,
                                         begin=message.created, end=message.created)
    else:
        page = await store.private_history(app, sender, target, begin=message.created,
                                           end=message.created)
    for candidate in page:
        if candidate.sender == sender and candidate.body == message.body \
                and candidate.msg_type == message.msg_type:
            return candidate
    return None
