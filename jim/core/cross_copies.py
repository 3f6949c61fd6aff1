# -*- test-case-name: tests.test_core_cross_groups,tests.integration.test_cross_rooms -*-
"""One message of a group or chat room with members of other apps, kept once in each app
(L{jim.core.cross_groups}, L{jim.core.cross_rooms}).

The conversation's app (C{home}) keeps the group or room and every member, another app's user
by its qualified name. A message to it is kept in C{home} and in each other app that has
members in it and allows C{home} now: each copy names its users as its app does, and in
another app names the conversation C{<home>:<number>}. The sender's app's copy is kept last,
so that the sender is answered once every copy is kept; a resend with the same client id finds
each copy kept already instead of keeping it twice. Each copy is published, once kept, to its
app's members online now.
"""
import functools

from jim import model
from jim.core.cross_apps import quietly
from jim.core.words import masked
from jim.model import Delivery, Message


def renamed(name, home, other):
    """How app C{other}'s data names the user that app C{home}'s data names C{name}."""
    app_key, username = model.unqualified(name, home)
    return username if app_key == other else model.qualified(app_key, username)


def audience_by_app(members, home):
    """C{{app: [usernames as that app names them]}} of a conversation's C{members} (as
    C{home} names them); C{home} is always among the apps."""
    audience = {home: []}
    for name in members:
        other_key, username = model.unqualified(name, home)
        audience.setdefault(other_key, []).append(username)
    return audience


def apps_in_order(audience, home, allowed, sender_app):
    """The apps that keep a copy: C{home}, and those of C{audience} that C{allowed} holds,
    and the sender's, whose copy comes last."""
    keys = [k for k in audience if k == home or k in allowed]
    keys.sort(key=lambda k: k == sender_app)
    if sender_app not in keys:
        keys.append(sender_app)
    return keys


async def keep_copies(messages, kind, home, number, sender_app, sender, draft, audience,
                      allowed, alias=None):
    """Keep C{draft} (C{sender}'s of app C{sender_app}) once in each app (L{apps_in_order})
    of conversation C{number} of app C{home}, a group or a chat room (C{kind}), and publish
    each copy to its app's members online (C{alias}: the group's J-IM name, for C{home}'s
    copy). The copies, the sender's last."""
    now = messages.events.now_ms()
    copies = []
    for key in apps_in_order(audience, home, allowed, sender_app):
        copies.append(await _keep(messages, kind, key, home, number, sender_app, sender, draft,
                                  now, audience.get(key, ()), alias if key == home else None))
    return copies


async def _keep(messages, kind, key, home, number, sender_app, sender, draft, now, usernames,
                alias):
    """App C{key}'s copy, kept (once: a resend finds it) and then published."""
    target = str(number) if key == home else model.qualified(home, str(number))
    name = renamed(sender, sender_app, key)
    if draft.client_id is not None:
        earlier = await messages.store.message_by_client_id(key, name, draft.client_id, kind,
                                                            target)
        if earlier is not None:
            return earlier
    body = draft.body
    if key != sender_app:  # the receiving app's own word filter
        settings = await messages.accounts.app(key)
        if settings is not None and settings.word_filter:
            body = masked(await messages.words.filter_of(key), draft).body
    copy = Message._make((0, key, name, kind, target, draft.msg_type, body, draft.extras,
                          draft.client_id, now, draft.from_type, None if key == home else home,
                          draft.no_offline, draft.no_notification, False))
    writing = messages.store.add_message(copy)
    messages.publish_in_order(quietly(writing), functools.partial(
        _publish, messages, key, tuple(usernames), alias))
    stored = await writing
    if messages.callbacks is not None:
        messages.callbacks.accepted(stored)
    return stored


def _publish(messages, app, usernames, alias, stored):
    if stored is None:
        return
    recipients = tuple(messages.presence.online_among(app, usernames))
    if recipients:
        messages.bus.publish(Delivery(app, stored, recipients, None, alias))
