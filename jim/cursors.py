"""Inbox cursors: where each device of a user is in that user's inbox, as pure values.

A user's inbox is every message of their conversations (their private ones, both directions,
and their groups'), in server id order: ids increase in commit order, so a position in the
inbox is a message id. A device's L{Cursor} says which of those messages it has consumed:

- C{floor}: every message with an id up to it;
- C{conversations}: per conversation, every message up to an id above the floor (J-IM's
  fetch of one peer's or one group's offline messages consumes that conversation only);
- C{spans}: messages with ids in C{(after, upto]} (a J-IM connection that never acknowledges
  consumed what was pushed to it while it was connected; the gaps between its sessions are
  its offline messages).

A device that acknowledges (it logged in saying so) moves only its floor, by its acks. Cursors
only ever move forward: L{Cursor.moved} merges, so two writers of one cursor lose nothing
whatever order they write in. Past L{MAX_SPANS} spans or L{MAX_CONVERSATIONS} conversation
entries the oldest are forgotten: their messages come again (a repeat the client can drop by
its server id), never go missing.

See docs/delivery.md, "Cursors and acknowledgements".
"""
from typing import NamedTuple

#: the spans a cursor keeps (the oldest are forgotten past it: their messages come again)
MAX_SPANS = 32
#: the conversation entries a cursor keeps (likewise)
MAX_CONVERSATIONS = 256

_SINGLE = "single"
_GROUP = "group"
_CHATROOM = "chatroom"


def private_conversation(user, peer):
    """The conversation key of the private messages between two users, either direction.

    The shorter-sorting name comes first and its length is spelled out, so two different pairs
    never share a key whatever characters usernames contain; the C{s:} prefix keeps private
    keys apart from group keys.
    """
    if peer < user:  # (a comparison, not a sort: every private message makes one)
        user, peer = peer, user
    return f"s:{len(user)}:{user}:{peer}"


def group_conversation(gid):
    """The conversation key of a group's messages (C{gid} an int, or the decimal text a
    message's target holds)."""
    return f"g:{gid}"


def room_conversation(room_id):
    """The conversation key of a chat room's messages (C{room_id} an int, or the decimal text
    a message's target holds). No user's inbox reads it: a room's messages reach the members
    online when they are sent, and are kept only as the room's history."""
    return f"r:{room_id}"


#: the conversation key of a user's events (L{jim.interfaces.IEventStore}) in their cursors:
#: no private or group key is spelled so
EVENTS = "e:"


def conversation_of(message):
    """The conversation key a L{jim.model.Message} belongs to."""
    if message.target_type == _GROUP:
        return group_conversation(message.target)
    if message.target_type == _CHATROOM:
        return room_conversation(message.target)
    return private_conversation(message.sender, message.target)


def conversation_to(sender, target_type, target):
    """The conversation key of what C{sender} sends to C{target} (L{conversation_of} of such a
    message)."""
    if target_type == _GROUP:
        return group_conversation(target)
    if target_type == _CHATROOM:
        return room_conversation(target)
    return private_conversation(sender, target)


class Cursor(NamedTuple):
    """A device's position in its user's inbox (see the module's docstring).

    @ivar floor: every message with an id up to this one is consumed.
    @ivar conversations: C{((conversation key, upto), ...)}, sorted by key, each C{upto}
        above C{floor}.
    @ivar spans: C{((after, upto), ...)}, sorted, disjoint and not touching, each C{after}
        above C{floor}: the messages with C{after < id <= upto} are consumed.
    @ivar seen: epoch ms of the cursor's last move (a device unseen for longer than the inbox
        keeps messages is forgotten).
    """

    floor: int = 0
    conversations: tuple = ()
    spans: tuple = ()
    seen: int = 0

    def consumed(self, message_id, conversation):
        """Is the message with this id, of this conversation, consumed?"""
        if message_id <= self.floor:
            return True
        for key, upto in self.conversations:
            if key == conversation:
                if message_id <= upto:
                    return True
                break
        for after, upto in self.spans:
            if after < message_id <= upto:
                return True
        return False

    def left_out_upto(self, conversation, floor=0):
        """The id up to which every message of C{conversation} is consumed (and at least
        C{floor}): the floor, the conversation's entry, and the spans that reach down to
        them. A read of the conversation need not look below it."""
        bound = max(floor, self.floor)
        for key, upto in self.conversations:
            if key == conversation:
                bound = max(bound, upto)
                break
        for after, upto in sorted(self.spans):
            if after > bound:
                break
            bound = max(bound, upto)
        return bound

    def moved(self, other):
        """This cursor moved by C{other} (a L{Cursor} of what to add): the furthest floor,
        every conversation entry and span of either, the latest C{seen}, made canonical."""
        return canonical(max(self.floor, other.floor), self.conversations + other.conversations,
                         self.spans + other.spans, max(self.seen, other.seen))

    def to_json(self):
        """A JSON-able value of this cursor, which L{from_json} reads back."""
        return [self.floor, [list(c) for c in self.conversations],
                [list(s) for s in self.spans], self.seen]


def from_json(value):
    """The L{Cursor} of a L{Cursor.to_json} value."""
    floor, conversations, spans, seen = value
    return Cursor(floor, tuple((k, u) for k, u in conversations),
                  tuple((a, u) for a, u in spans), seen)


def canonical(floor, conversations, spans, seen=0):
    """The L{Cursor} that consumes exactly what C{floor}, C{conversations} (key, upto pairs,
    repeats allowed) and C{spans} (after, upto pairs, overlapping allowed) consume, in its one
    canonical form; past the caps, the oldest entries are forgotten."""
    merged = []
    for after, upto in sorted(s for s in spans if s[1] > s[0]):
        if after <= floor:
            floor = max(floor, upto)  # it reaches down to the floor: the floor rises
        elif merged and after <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], upto))
        else:
            merged.append((after, upto))
    # a span swallowed by a risen floor, or reaching down to it now
    while merged and merged[0][0] <= floor:
        floor = max(floor, merged.pop(0)[1])
    if len(merged) > MAX_SPANS:
        merged = merged[-MAX_SPANS:]
    furthest = {}
    for key, upto in conversations:
        if upto > floor and upto > furthest.get(key, 0):
            furthest[key] = upto
    if len(furthest) > MAX_CONVERSATIONS:
        kept = sorted(furthest.items(), key=lambda item: item[1])[-MAX_CONVERSATIONS:]
        furthest = dict(kept)
    return Cursor(floor, tuple(sorted(furthest.items())), tuple(merged), seen)


def start_of_new_device(cursors):
    """The cursor a device starts with when its user first logs in on it: what the user's
    other devices (C{cursors}, a mapping of device to L{Cursor}) consumed, any of them, so
    that a new device does not get again, as offline messages, what another one already had
    (it finds them in history); the beginning of the inbox if the user has no device yet."""
    start = Cursor()
    for cursor in cursors.values():
        start = start.moved(cursor._replace(seen=0))
    return start


def pushed_spans(start, inbox_ids, pushed):
    """The spans a connection consumed: C{inbox_ids} are its user's inbox ids above C{start}
    (the inbox's last id at its login) in order, C{pushed} the set of those pushed to it (or
    sent by it). Each run of pushed ids is a span from the inbox id before it, so that a
    message that was not pushed (a delivery lost between nodes) stays out of every span.
    Pushed ids above every inbox id (pushed before their commit, on one node: every message
    given an id since the login was pushed) join the last run."""
    spans = []
    previous, run_from, last = start, None, start
    for message_id in inbox_ids:
        if message_id in pushed:
            if run_from is None:
                run_from = previous
            last = message_id
        elif run_from is not None:
            spans.append((run_from, last))
            run_from = None
        previous = message_id
    top = max(pushed, default=start)
    if top > previous:
        if run_from is None:
            run_from = previous
        last = top
    if run_from is not None:
        spans.append((run_from, last))
    return tuple(spans)
