# -*- test-case-name: tests.test_core_policy -*-
"""The policy step: may this message be sent? One set of rules for every front end.

Each check is a lookup in what the services keep in memory (the sender's and receiver's users,
the receiver's relations, the group's members); nothing here reads the store. A refusal is a
L{JimError} with a neutral code that each front end answers in its own dialect (J-IM 10002,
JMessage 803xxx/899xxx), and it is counted by reason in the metrics.
"""
import orjson

from jim import errors, model
from jim.errors import JimError


def body_size(body, extras):
    """The bytes a message's body and extras take, as the limit counts them. A text's body is
    counted as its text (what J-IM calls its content), anything else as its JSON."""
    text = body.get("text") if len(body) == 1 else None
    if type(text) is str:
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
    else:
        size = len(orjson.dumps(body))
    if extras is not None:
        size += len(extras) if extras.isascii() else len(extras.encode("utf-8"))
    return size


def group_label(gid, alias=None):
    """How a refusal names a group: by its gid, and by the name J-IM clients know it by when
    it has one (C{group 10000002 ('g2')})."""
    return f"group {gid}" if alias is None else f"group {gid} ({alias!r})"


class Policy:
    """The rules, over the services' memory. C{metrics.count_refusal(code)} counts refusals."""

    def __init__(self, limits, metrics):
        self.max_message = limits.max_message
        #: a text of at most this many characters is within max_message whatever they are
        self._short_text = limits.max_message // 4
        self.metrics = metrics

    # The hot path asks these two: one call for every check. The usual message (a short text
    # from a user who may send) never needs check_sender, and a private one to a user who
    # takes it never needs check_private.

    def private(self, app, sender, receiver, receiver_relations, draft):
        """L{check_sender} and L{check_private} in one step; the usual message (a short text
        from a user to a user who takes it) needs neither."""
        if not self._ordinary(sender, draft):
            refusal = self.check_sender(sender, draft)
            if refusal is not None:
                return refusal
        if (receiver is None or sender.username in receiver_relations.blacklist
                or app.friend_mode):
            return self.check_private(app, sender, receiver, receiver_relations, draft)
        return None

    def group(self, sender, gid, members, draft, alias=None):
        """L{check_sender} and L{check_group} in one step."""
        if not self._ordinary(sender, draft):
            refusal = self.check_sender(sender, draft)
            if refusal is not None:
                return refusal
        return self.check_group(sender, gid, members, draft, alias)

    def room(self, sender, room_id, members, draft):
        """L{check_sender}, then: a refusal if C{sender} may not write to the chat room whose
        C{members} these are ({username: RoomMember}): a user must be in it and not silenced;
        the app server, sending in an admin's name, may write to any room."""
        refusal = self.check_sender(sender, draft)
        if refusal is not None:
            return refusal
        member = members.get(sender.username)
        if member is None:
            if draft.from_type == model.FROM_ADMIN:
                return None
            return self.refuse(errors.NOT_IN_ROOM, f"{sender.username!r} is not in chat room"
                               f" {room_id}")
        if member.silenced:
            return self.refuse(errors.SILENCED, f"{sender.username!r} is silenced in chat room"
                               f" {room_id}")
        return None

    def _ordinary(self, sender, draft):
        """A short text from a user who may send: nothing L{check_sender} could refuse."""
        body = draft.body
        text = body.get("text")
        return not (sender.forbidden or draft.from_type != model.FROM_USER
                    or draft.extras is not None or type(text) is not str or len(body) != 1
                    or len(text) > self._short_text)

    def refuse(self, code, detail):
        self.metrics.count_refusal(code)
        return JimError(code, detail)

    def check_sender(self, sender, draft):
        """A refusal (JimError) if C{sender} (a User) may not send C{draft} at all, else None."""
        if sender.forbidden:
            return self.refuse(errors.USER_FORBIDDEN, f"{sender.username!r} is forbidden")
        if draft.from_type == model.FROM_ADMIN and not sender.admin:
            return self.refuse(errors.NOT_ADMIN, f"{sender.username!r} is not an admin")
        if body_size(draft.body, draft.extras) > self.max_message:
            return self.refuse(errors.MESSAGE_TOO_LARGE,
                               f"the message is over {self.max_message} bytes")
        return None

    def check_private(self, app, sender, receiver, receiver_relations, draft):
        """A refusal if C{sender} may not write C{draft} to C{receiver} (None: no such user).

        A message the app server sends in an admin's name (C{from_type} admin, which
        L{check_sender} allows admins only) is not bound by blacklists or friend-only apps;
        an admin who chats as a user is, like any user."""
        target = draft.target
        if receiver is None:
            return self.refuse(errors.NO_SUCH_USER, f"no user {target!r} in this app")
        if draft.from_type == model.FROM_ADMIN:
            return None
        name = sender.username
        if name in receiver_relations.blacklist:
            return self.refuse(errors.BLACKLISTED, f"{target!r} does not take messages from"
                               f" {name!r}")
        if app.friend_mode and name != target and name not in receiver_relations.friends:
            return self.refuse(errors.NOT_FRIENDS, f"{name!r} and {target!r} are not friends")
        return None

    def check_group(self, sender, gid, members, draft, alias=None):
        """A refusal if C{sender} may not write C{draft} to the group whose C{members} these
        are ({username: Member}; empty: no such group), named by L{group_label}. The app
        server, sending in an admin's name, may write to a group the admin is not in; a
        silenced member stays silent."""
        if not members:
            return self.refuse(errors.NO_SUCH_GROUP, f"no {group_label(gid, alias)}")
        member = members.get(sender.username)
        if member is None:
            if draft.from_type == model.FROM_ADMIN:
                return None
            return self.refuse(errors.NOT_MEMBER, f"{sender.username!r} is not a member of"
                               f" {group_label(gid, alias)}")
        if member.silenced:
            return self.refuse(errors.SILENCED, f"{sender.username!r} is silenced in"
                               f" {group_label(gid, alias)}")
        return None
