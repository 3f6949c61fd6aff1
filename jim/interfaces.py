"""The contracts between jim's core and the parts around it.

The core talks to storage only through L{IStore} and to connections only through L{IClient}.
Every implementation is checked with C{verifyObject} and one shared contract test suite.
All L{IStore} methods return Deferreds (the core awaits them); a refusal fails the Deferred with
L{jim.errors.JimError}.
"""
from zope.interface import Attribute, Interface


class IStore(Interface):
    """Durable state of every app: apps, users, groups, memberships, the message log, and the
    per-user set of messages still to be fetched as offline messages.

    Writes are durable when their Deferred fires: a sender is acknowledged only after that.
    """

    def start():
        """Open (and migrate) the store. Fires when it is ready."""

    def stop():
        """Finish pending writes and close. Fires when everything acknowledged is on disk."""

    # apps
    def add_app(app):
        """Create an L{jim.model.App}; JimError(BAD_PARAMETER) if the key is taken."""

    def get_app(key):
        """The L{jim.model.App} with this key, or None."""

    # users
    def add_user(user):
        """Create an L{jim.model.User}; JimError(USER_EXISTS, http_status=403) if the username is
        taken in that app."""

    def get_user(app, username):
        """The L{jim.model.User} or None."""

    def get_users(app, usernames):
        """The users of C{app} among C{usernames} that exist, as a list (any order)."""

    def set_password(app, username, password):
        """Replace a user's password hash."""

    # groups
    def add_group(group):
        """Create an L{jim.model.Group}; fires True if created, False if it existed already."""

    def get_group(app, gid):
        """The L{jim.model.Group} or None."""

    def add_member(app, gid, username):
        """Add a member to an existing group; fires True if added, False if already a member.
        JimError(BAD_PARAMETER) if the group does not exist."""

    def group_members(app, gid):
        """The usernames of the group's members, in joining order."""

    def user_groups(app, username):
        """The L{jim.model.Group}s the user is a member of, in joining order."""

    # messages
    def add_message(message, offline_for=()):
        """Append a L{jim.model.Message} (its C{id} is ignored) and mark it to be fetched as an
        offline message by each username in C{offline_for}, in one durable write.

        Fires with the stored message: its C{id} assigned (increasing in commit order).
        """

    def add_message_then(message, offline_for, then, *args):
        """L{add_message}, answered by a call instead of a Deferred (the chat hot path): once,
        on the reactor thread, C{then(stored message or Failure, *args)}. If C{then} raises,
        the store logs it and goes on answering its other writes."""

    def prepare_message(message):
        """The message with its final C{id}, before it is written, so that it can be delivered
        while L{append_message_then} writes it. Or None: the store cannot promise an id right
        now (too many prepared messages are not committed yet, or it never can); use
        L{add_message} then.

        An id this returns is never given to another message, even if the process dies before
        the message is committed. Append what it returns at once: messages are committed in
        the order they were prepared in."""

    def append_message_then(stored, offline_for, then, *args):
        """L{add_message_then} for a message from L{prepare_message}: it is written with the
        id it already has."""

    def add_offline(app, message_id, usernames):
        """Mark an already stored message to be fetched as offline by these users."""

    def message_by_client_id(app, sender, client_id, target_type, target):
        """The first message C{sender} sent with this client id to this target, or None."""

    def take_offline(app, username, peer=None, gid=None, limit=None):
        """Fetch and forget, in one transaction, the user's offline messages, oldest first.

        With C{peer}: only private messages from C{peer}. With C{gid}: only messages of that
        group. At most C{limit} (the oldest; the rest stay for the next fetch). A message is
        never returned twice.
        """

    def private_history(app, user, peer, begin=None, end=None, offset=None, count=100):
        """Messages between C{user} and C{peer} (both directions), oldest first.

        C{begin}/C{end} bound C{created} (epoch ms, inclusive). With C{offset} None the I{latest}
        C{count} messages are returned; with an offset, C{count} messages from C{offset} counted
        from the oldest.
        """

    def group_history(app, gid, begin=None, end=None, offset=None, count=100):
        """Messages of group C{gid}, with the same paging as L{private_history}."""


class IClient(Interface):
    """One live connection of a logged-in (or logging-in) user, as the core sees it."""

    terminal = Attribute("'tcp', 'ws' or 'http': what the connection speaks.")
    peer = Attribute("A printable address of the remote end, for logs.")

    def send(command, body):
        """Queue a J-IM frame: C{command} (int) with C{body}, UTF-8 JSON bytes. Never blocks."""

    def close(reason):
        """Close this connection once what was sent is flushed; C{reason} is for the log."""

    def pause_reading():
        """Stop reading from the peer (flow control: too much of its input is in progress)."""

    def resume_reading():
        """Undo L{pause_reading}."""
