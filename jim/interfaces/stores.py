"""The store's contracts: one interface per area of L{IStore} (the media area's, and what
uploads are kept in, are in L{jim.interfaces.media}).

Every store method returns a Deferred (the core awaits it), but for the few hot-path methods
that say otherwise; a refusal fails it with a L{jim.errors.JimError}. Each area is checked with
C{verifyObject} and one shared contract suite (tests/store_contract/) in every store.
"""
from zope.interface import Attribute, Interface


class IAppStore(Interface):
    def add_app(app):
        """Create an L{jim.model.App}; JimError(APP_EXISTS) if the key is taken."""

    def get_app(key):
        """The L{jim.model.App} with this key, or None."""

    def update_app(key, changes):
        """Change the fields named in the dict C{changes}; the new App. JimError(NO_SUCH_APP)."""

    def delete_app(key):
        """Delete the app's record only (its data stays until L{IStore.forget_app}): from
        then on it is no app, so nothing can log in to it or use its credentials. No error
        for an app that does not exist."""

    def list_apps(start, count):
        """C{(total, [App, ...])}: C{count} apps from the C{start}th, in creation order."""


class IUserStore(Interface):
    def add_user(user):
        """Create an L{jim.model.User}; JimError(USER_EXISTS) if the username is taken in that
        app."""

    def get_user(app, username):
        """The L{jim.model.User} or None."""

    def get_users(app, usernames):
        """The users of C{app} among C{usernames} that exist, as a list (any order)."""

    def update_user(app, username, changes):
        """Change the User fields named in the dict C{changes} (profile fields, C{password},
        C{mtime}, C{forbidden}, C{admin}); the new User. JimError(NO_SUCH_USER)."""

    def replace_password(app, username, old, new):
        """Replace a user's password hash C{old} with C{new}, only if C{old} is still its
        hash (compare and set); whether it was replaced."""

    def delete_user(app, username):
        """Forget a user (not its relations, memberships nor messages: their services do).
        JimError(NO_SUCH_USER)."""

    def list_users(app, start, count, admin=False):
        """C{(total, [User, ...])}: the app's users (C{admin} False) or admins (True), C{count}
        of them from the C{start}th, in registration order."""


class IRelationStore(Interface):
    """What users keep about others: L{jim.model.Relation}s, by kind, owner and target."""

    def add_relations(relations):
        """Keep each L{jim.model.Relation} whose (app, kind, owner, target) is not kept yet;
        the list of those that were added, in the given order."""

    def update_relations(relations):
        """Replace the notes (C{note_name}, C{others}) of relations that are kept; the list of
        those that were, in the given order."""

    def remove_relations(app, kind, owner, targets):
        """Forget these relations; the list of targets that were kept, in the given order."""

    def relations_of(app, owner, kinds=None):
        """The relations C{owner} keeps (of C{kinds}, a sequence, or all), oldest first."""

    def owners_of(app, kind, target):
        """The owners of every relation of C{kind} to C{target}, oldest first."""

    def remove_owned(app, owner):
        """Forget every relation C{owner} keeps."""

    def remove_targeting(app, kinds, target):
        """Forget every relation of C{kinds} whose target is C{target}."""

    def targets_with_prefix(app, prefix):
        """The distinct targets of the app's relations (of every kind) that begin with
        C{prefix}, sorted: the users of another app its users keep (C{"<appkey>:"}), once
        that app is deleted. Not a hot path: it may look at many keys."""


class IGroupStore(Interface):
    def create_group(group, members):
        """Create an L{jim.model.Group} with its first L{jim.model.Member}s, in one write.
        A C{gid} of 0 is assigned: one above every gid the app ever had (those of deleted
        groups and explicit gids included), at least L{jim.model.FIRST_GID}, so that no gid is
        given twice in an app, even across restarts (a deleted group's history is still keyed
        by its gid). Any other gid is kept as given, and raises that
        mark when it is higher. The stored Group. JimError(GROUP_EXISTS) if the gid or the
        alias is taken."""

    def get_group(app, gid):
        """The L{jim.model.Group} or None."""

    def group_by_alias(app, alias):
        """The group whose C{alias} is C{alias}, or None."""

    def update_group(app, gid, changes):
        """Change the Group fields named in C{changes}; the new Group. JimError(NO_SUCH_GROUP)."""

    def delete_group(app, gid):
        """Forget a group and its members. JimError(NO_SUCH_GROUP)."""

    def list_groups(app, start, count):
        """C{(total, [Group, ...])}: C{count} groups from the C{start}th, in creation order."""

    def add_members(app, gid, members):
        """Add L{jim.model.Member}s (those not in it yet); the list of usernames added.
        JimError(NO_SUCH_GROUP)."""

    def remove_members(app, gid, usernames):
        """Remove members; the list of usernames that were members. The silence of each one
        removed who was silenced is kept (L{ISilenceStore}, in the group's place
        L{jim.model.silence_place}) in the same atomic change, so that a silence set on
        another node an instant before is kept too."""

    def update_member(app, gid, username, changes):
        """Change the Member fields named in C{changes} (C{role}, C{silenced}); the new
        Member. JimError(NOT_MEMBER)."""

    def set_owner(app, gid, username):
        """Make member C{username} the owner, and the owner before a plain member, in one
        write; the new Group. JimError(NO_SUCH_GROUP), JimError(NOT_MEMBER)."""

    def members(app, gid):
        """The group's L{jim.model.Member}s in joining order ([] for no such group)."""

    def user_groups(app, username):
        """The L{jim.model.Group}s the user is a member of, in joining order."""

    def members_with_prefix(app, prefix):
        """C{[(gid, username), ...]} of every membership in the app's groups whose username
        begins with C{prefix} (not empty), sorted: the users of another app (C{"<appkey>:"})
        in its groups, once that app is deleted. Not a hot path: it may look at many keys."""


class IRoomStore(Interface):
    """Chat rooms (L{jim.model.Room}) and their members (L{jim.model.RoomMember}), per app.
    Every call naming a room that does not exist fails with JimError(NO_SUCH_ROOM)."""

    def create_room(room, members):
        """Create C{room} (its C{id} is ignored) with C{members} (RoomMembers, distinct
        names; the store checks nothing else of them) in one atomic write: the room with its
        new id, the app's next (L{jim.store.next_room_id}: never one given before, even to a
        room since deleted)."""

    def get_rooms(app, room_ids):
        """The rooms of these ids that exist, in the order asked (a repeat once)."""

    def update_room(app, room_id, changes):
        """Change fields of L{jim.store.ROOM_CHANGES}; the room after the change."""

    def delete_room(app, room_id):
        """Delete the room and its members."""

    def list_rooms(app, start, count):
        """C{(total, [Room, ...])}: a page of the app's rooms in creation order."""

    def add_room_members(app, room_id, members):
        """Add C{members} (RoomMembers, distinct names), all or none: JimError(IN_ROOM) when
        one is a member already, JimError(ROOM_FULL) when the room would have more than its
        C{max_members}."""

    def remove_room_members(app, room_id, usernames):
        """Remove members (distinct names), all or none: JimError(NOT_IN_ROOM) when one is
        not a member. The silences of those silenced are kept in the same atomic change, as
        L{IGroupStore.remove_members} keeps them."""

    def update_room_member(app, room_id, username, changes):
        """Change fields of L{jim.store.ROOM_MEMBER_CHANGES} of a member (JimError(NOT_IN_ROOM)
        for a user who is not); the member after the change."""

    def room_members(app, room_id, start=0, count=None):
        """C{(total, [RoomMember, ...])}: the members in the order they came in, C{count} of
        them from the C{start}th (None: all of them)."""

    def room_sizes(app, room_ids):
        """C{{room id: how many members}} of the rooms of these ids that exist."""

    def user_rooms(app, username):
        """The ids of the rooms the user is a member of, in the order it came into them."""

    def leave_all_rooms(app, username):
        """Remove the user from every room of the app (it was deleted); how many."""

    def room_members_with_prefix(app, prefix):
        """C{[(room id, username), ...]} of every membership in the app's rooms whose username
        begins with C{prefix} (not empty), sorted: the users of another app (C{"<appkey>:"})
        in its rooms, once that app is deleted. Not a hot path: it may look at many keys."""


class IMessageStore(Interface):
    """The message log. History, and each user's inbox (L{IInboxStore}), are queries over it.

    Writes are durable when they are answered: a sender is acknowledged only after that.
    """

    def add_message(message):
        """Append a L{jim.model.Message} (its C{id} is ignored), in one durable write.

        Fires with the stored message: its C{id} assigned (increasing in commit order).
        """

    def add_message_then(message, then, *args):
        """L{add_message}, answered by a call instead of a Deferred (the chat hot path): once,
        on the reactor thread, C{then(stored message or Failure, *args)}. If C{then} raises,
        the store logs it and goes on answering its other writes."""

    def reserve_id():
        """The final id of the next message to be appended, so that the message can be built
        with it and delivered while L{append_message_then} writes it. Or None: the store cannot
        promise an id right now (too many reserved ids wait for their commit, or it never
        can); use L{add_message_then} then. Not a Deferred.

        An id this returns is never given to another message, even if the process dies before
        the message is committed. A message built with it must be appended at once: messages
        are committed in the order their ids were reserved in."""

    def append_message_then(stored, then, *args):
        """L{add_message_then} for a message built with an id from L{reserve_id}: it is
        written with that id."""

    def add_run_then(run, then, *args):
        """L{add_message_then} of several messages without ids (a list), answered once as
        L{append_run_then} is: they take their ids in order."""

    def append_run_then(run, then, *args):
        """L{append_message_then} of several messages (a list, in the order of their ids from
        L{reserve_id}), answered once: C{then(results, *args)} after the last one's commit,
        C{results} a list with, for each message in order, the message as stored or the
        Failure of why it is not (each is written or refused on its own)."""

    def get_message(app, message_id):
        """The stored message with this id in C{app} (retracted or not), or None."""

    def message_by_client_id(app, sender, client_id, target_type, target):
        """The first message C{sender} sent with this client id to this target, or None."""

    appends_once = Attribute(
        "True if the core should store messages with a client id by L{add_message_once_then},"
        " which then needs no L{message_by_client_id} before it (a store whose commit gives the"
        " ids, on which every node appends: Redis); False if it checks first"
        " (L{may_hold_client_id}).")

    def add_message_once_then(message, then, *args):
        """L{add_message_then} of a message with a client id, stored only if its sender never
        stored one with that client id to that target: else nothing is stored and the answer
        is C{then(Resent(the first message), *args)}. Decided where the message is written,
        so that two appends of it (from two nodes, or in one batch) store it once."""

    def announces(app):
        """Whether a message of C{app} is to be stored now by
        L{IAnnouncingMessageStore.add_announced_then}: the store can publish on the bus with a
        message's commit, and it pays now. Always False for a store that cannot."""

    def may_hold_client_id(app, sender, client_id):
        """Whether a message of C{sender} with this client id (to any target) may be stored,
        answered from memory at once: False only if none is, or was ever given to an append
        of this store object (the core then skips L{message_by_client_id}). True when it may
        be: a store that cannot tell always says True."""

    def retract_message(app, message_id):
        """Mark a message retracted (history and inbox reads leave it out from then on); the
        retracted message. JimError(NO_SUCH_MESSAGE), JimError(ALREADY_RETRACTED)."""

    def private_history(app, user, peer, begin=None, end=None, offset=None, count=100):
        """Messages between C{user} and C{peer} (both directions), oldest first, retracted
        ones left out.

        C{begin}/C{end} bound C{created} (epoch ms, inclusive). With C{offset} None the I{latest}
        C{count} messages are returned; with an offset, C{count} messages from C{offset} counted
        from the oldest.
        """

    def group_history(app, gid, begin=None, end=None, offset=None, count=100):
        """Messages of group C{gid} (an int), with the same paging as L{private_history}."""



class IAnnouncingMessageStore(IMessageStore):
    """A message store that can publish on the bus with a message's commit (its
    L{IMessageStore.announces} can be True): the Redis store, whose commit gives the ids and
    whose Redis the bus's channels are on."""

    def add_announced_then(message, parts, once, then, *args):
        """L{IMessageStore.add_message_then} (L{IMessageStore.add_message_once_then} if
        C{once}) of a message whose delivery's C{parts} for other nodes are published with its
        commit, its id in them: each C{(channel, tail)} (L{jim.interfaces.IBus.announcement})
        as C{b"stored [" + id + b"," + json + b"," + tail + b"]"}, C{json} the message's
        fields from its sender on as compact JSON (L{jim.wire.busjson.stored_delivery_tail}).
        A message not stored (a resend: C{Resent}, or a failure) is not published. Called only
        while L{IMessageStore.announces}."""

    def add_announced_run_then(run, parts, then, *args):
        """L{IMessageStore.add_run_then} of messages without client ids whose deliveries have
        the same C{parts} (L{add_announced_then}), each published with its commit."""


class IInboxStore(Interface):
    """Each user's inbox, and where each of their devices is in it.

    A user's inbox is every message of their conversations (their private ones, either
    direction, and the groups the caller names) in id order; it is read from the message log,
    never copied. A device's position is a L{jim.cursors.Cursor}, kept per (app, user, device
    key). Cursors only move forward (L{jim.cursors.Cursor.moved}).
    """

    def last_message_id(app):
        """The highest id given to a message of C{app} so far, committed or not (0 for none):
        every message given an id after this call has a higher one."""

    def cursors(app, username):
        """C{{device key: Cursor}} of the user's devices that have one."""

    def move_cursor(app, username, device, cursor):
        """Merge C{cursor} into the device's (L{jim.cursors.Cursor.moved}; a device without
        one starts from C{Cursor()}), in one atomic step; the merged cursor."""

    def forget_cursors(seen_before):
        """Forget the cursors, of every app, whose C{seen} is below C{seen_before} (epoch ms);
        how many were forgotten."""

    def read(app, username, gids, cursor, after=0, peer=None, gid=None, since=0, limit=100,
             per_conversation=100):
        """The user's messages that C{cursor} has not consumed, oldest (lowest id) first.

        From the user's private conversations (messages they sent or received) and the
        conversations of the groups in C{gids} (ints); with C{peer}, from their private
        conversation with C{peer} only; with C{gid}, from that group's only. Of each
        conversation only its latest C{per_conversation} messages (by id, every message
        counted) are read; None: all of them (read from the cursor up, so that a cursor near
        the top reads little whatever the conversation's length). Left out: ids up to C{after}, messages created before C{since}
        (epoch ms), retracted ones and those sent with C{no_offline}. At most C{limit}, the
        oldest.
        """


class IEventStore(Interface):
    """Each user's events (L{jim.model.Event}s of L{jim.model.INBOX_EVENT_KINDS}), kept in
    their inbox beside their messages.

    An event is kept once for all the users it concerns, with an id of its app's message
    sequence: every message given an id before it has a lower one, every one after a higher
    one (L{IInboxStore.last_message_id} counts it), so that a device's cursor orders events
    among messages. In a cursor, a user's events are the conversation L{jim.cursors.EVENTS}.
    """

    def add_event(event, audience):
        """Keep C{event} (its C{id} is ignored) for C{audience}, usernames of its app (at least
        one, no repeats). Fires with the kept event, its C{id} assigned and C{kept} True, once
        it is durable."""

    def read_events(app, username, cursor, after=0, since=0, limit=100, per_user=100):
        """The user's events that C{cursor} has not consumed, oldest (lowest id) first: of its
        latest C{per_user} (by id; None: all), those above C{after} and created at or after
        C{since} (epoch ms); at most C{limit} (None: all)."""

    def forget_events(created_before):
        """Forget the events, of every app, created before C{created_before} (epoch ms); how
        many."""


class IWordStore(Interface):
    """Each app's sensitive words, in the order they were added, each with the time it was
    (C{itime}, epoch ms). A word is any non-empty text; the core checks JMessage's rules."""

    def add_words(app, words, itime, most):
        """Add the C{words} (distinct) the app does not have yet, in the order given, each at
        C{itime}; a word it has already keeps its place and time. All or nothing: when the
        app would then have more than C{most} words, JimError(TOO_MANY) and none is added.
        Fires with how many were added."""

    def replace_word(app, old, new, itime):
        """Put C{new} in the place of C{old}, at C{itime} (when the app has C{new} already,
        C{old} just goes). JimError(NO_SUCH_WORD) when the app has no C{old}."""

    def remove_word(app, word):
        """JimError(NO_SUCH_WORD) when the app has no such word."""

    def list_words(app, start, count):
        """C{(total, [(word, itime), ...])}: a page of the app's words, in the order added."""

    def all_words(app):
        """Every word of the app, in the order added."""


class IReportStore(Interface):
    """What the Report API v2 reads (docs/rest-api.md, "The Report API v2"): the message log
    by time, app-wide, per user, per group and per chat room, and per-hour figures. All times
    are epoch ms; an hour is the epoch ms of its start (a multiple of 3,600,000, UTC).

    A C{scope} is None (every message of the app), C{("user", username)} (the messages the user
    sent, and the private messages sent to them), C{("group", gid)} or C{("chatroom", room id)}
    (as decimal text: that conversation's messages)."""

    def report_messages(app, scope, begin, end, after, count):
        """The scope's messages created in [C{begin}, C{end}], retracted ones left out, in
        (created, id) order: those after C{after} (a C{(created, id)} pair, exclusive; None
        from the start), at most C{count}."""

    def count_report_messages(app, scope, begin, end):
        """How many messages L{report_messages} has in [C{begin}, C{end}], every page."""

    def message_counts(app, begin, end):
        """C{{(hour, target_type, msg_type): count}} of the messages created in the hours from
        C{begin} up to (not including) C{end}: each hour a message was sent in, retracted
        ones too (they were sent)."""

    def distinct_count(app, what, begin, end):
        """How many distinct names C{what} saw in the hours from C{begin} up to C{end}:
        C{"sender"} (the users who sent a message), C{"group"} (the groups a message was sent
        to) or C{"active"} (the users L{note_active} named)."""

    def note_active(app, usernames, at):
        """Note users active (they logged in, or were online) in the hour of C{at}."""

    def created_histogram(app, kind, edges):
        """How many of the app's current users (C{kind} C{"user"}) or groups (C{"group"}) were
        created before C{edges[0]}, in each [C{edges[i]}, C{edges[i + 1]}), and at or after
        the last edge: a list of C{len(edges) + 1} counts (C{edges} ascending)."""

    def forget_reports(before):
        """Forget, in every app, the figures of the hours before C{before} and what the app-wide
        and per-user scopes index of the messages created before it, a bounded batch at a time
        (writers are never held up for long); fires with how many entries went. The messages
        stay in the log: histories, and the group and chat room scopes, which read them, are
        bounded by the reader (L{jim.core.reports})."""


class INonceStore(Interface):
    """Random strings used once: a Web SDK signature's (docs/web-sdk.md) may not be used
    again while it could still be accepted."""

    def claim(app, nonce, expires):
        """Use C{nonce} of C{app} until C{expires} (epoch ms): fires True if it was not in use,
        False if it is (a replay); a nonce whose use expired may be claimed again. Atomic
        across every node sharing the store."""

    def forget_nonces(before):
        """Forget every nonce whose use expired before C{before} (epoch ms); how many."""


class ISilenceStore(Interface):
    """The silences of users who left a group or a chat room while silenced there: such a user
    comes back silenced, so that leaving and coming back does not lift a silence. A place is
    the text L{jim.model.silence_place} makes of a group's gid or a room's id; a user's
    silence in it is kept from its leaving until it comes back, its silence is lifted there,
    the place goes or the user is deleted."""

    def keep_silences(app, place, usernames):
        """Keep the silences of these users, who are leaving C{place} silenced."""

    def silenced_among(app, place, usernames):
        """Those of C{usernames} whose silence in C{place} is kept, in the order given."""

    def release_silences(app, place, usernames):
        """Forget the kept silences of these users in C{place} (they came back silenced, or
        their silence there was lifted); a user with none is no error."""

    def forget_place(app, place):
        """Forget every silence kept for C{place} (its group or room is gone)."""

    def forget_user_silences(app, username):
        """Forget every silence kept for the user, in every place (it was deleted)."""

    def forget_users_with_prefix(app, prefix):
        """Forget every silence kept for the users whose names begin with C{prefix} (those of
        another app, C{<appKey>:}, once that app is deleted). Not a hot path."""


class ICallbackStore(Interface):
    """Each app's callback backlog (docs/callbacks.md): items waiting to be POSTed to its app
    server, oldest first, each a kind and a text, with a store-made id (increasing in the
    app's order; opaque to the core, and meaningful within their app only). Also who sends
    them: one holder of a lease per app."""

    def append(app, items):
        """Add C{items}, C{[(kind, text), ...]}, after the app's others, in their order."""

    def batch(app, count):
        """The app's oldest C{count} items, oldest first, as C{[(id, kind, text), ...]}."""

    def delete(app, ids):
        """Forget the app's items with these ids (an id it has not is ignored); an app left
        without items is no longer pending (L{pending_apps})."""

    def count(app):
        """How many items the app has."""

    def trim(app, most):
        """Drop the app's oldest items beyond its newest C{most}; how many were dropped."""

    def pending_apps():
        """The keys of the apps that have items, in no order."""

    def claim(app, holder, seconds):
        """Take, or keep, the app's lease for C{seconds}: True when C{holder} has it now (it
        was free, had expired or was C{holder}'s), False while another holder has it."""

    def release(app, holder):
        """Give the app's lease up, when C{holder} has it."""


class IStore(Interface):
    """Durable state of every app, one area per attribute."""

    apps = Attribute("The L{IAppStore}.")
    users = Attribute("The L{IUserStore}.")
    relations = Attribute("The L{IRelationStore}.")
    groups = Attribute("The L{IGroupStore}.")
    messages = Attribute("The L{IMessageStore}.")
    media = Attribute("The L{jim.interfaces.media.IMediaStore}.")
    inbox = Attribute("The L{IInboxStore}.")
    events = Attribute("The L{IEventStore}.")
    words = Attribute("The L{IWordStore}.")
    rooms = Attribute("The L{IRoomStore}.")
    callbacks = Attribute("The L{ICallbackStore}.")
    reports = Attribute("The L{IReportStore}.")
    nonces = Attribute("The L{INonceStore}.")
    silences = Attribute("The L{ISilenceStore}.")

    def start():
        """Open (and migrate) the store. Fires when it is ready."""

    def stop():
        """Finish pending writes and close. Fires when everything acknowledged is on disk."""

    def forget_app(key):
        """Forget the app and everything of it, in every area, in one call (its users,
        relations, groups and members, messages and conversations, inbox cursors, events,
        media records, sensitive words, chat rooms, and any area added later); another app's
        data is untouched; fires when done (None)."""
