# -*- test-case-name: tests.store_contract.test_messages -*-
"""The message area of the Redis store (L{jim.interfaces.IMessageStore}).

Keys (named by L{jim.store.redis_keys.key}, all of them the message's app's):

    jim:{app}:message-id          STRING  the last message id given (INCR): ids are per app
    jim:{app}:messages            HASH    id -> the message as compact JSON: the list of its
                                          fields after C{id} and C{app}, C{retracted} last
    jim:{app}:message-client-ids  HASH    the JSON of [sender, client id, target type,
                                          target] -> the id of the first such message
    jim:{app}:history:<conv>      ZSET    the conversation's messages that are not retracted,
                                          every score 0, each entry C{<created + 2**63>:<id>}
                                          with both numbers as 20 digits: their order is
                                          (created, id), exactly, whatever the int64 created
    jim:{app}:message-ids:<conv>  LIST    the ids of every message of the conversation, the
                                          retracted ones too, in id order: the inbox's
                                          (L{jim.store.redis_inbox}) latest of a conversation
    jim:{app}:private:<username>  SET     the keys of the user's private conversations (a
                                          single-target message's sender and target)
    jim:{app}:reports:...                 the report area's indexes and hourly figures
                                          (L{jim.store.redis_reports}, which reads them)

An append is one script (L{jim.store.redis_message_scripts}): its id (the script reads the last
id given once, and sets it once, for its whole batch), the message, its
history entry, its conversation's id list (and, with the first message of a private
conversation, both users' sets), its client-id entry, and its share of the reports (its entry
in the app's report log and, for a group or chat room message, in its sender's report index, its
hour's count, sender and group), all or nothing. A retraction takes it out of the report indexes
too.
The appends of one reactor turn leave together at its end, one script an app (up to L{BATCH}
messages a script), and each app has at most L{SCRIPTS_IN_FLIGHT} scripts in flight from this
node: what comes meanwhile waits for one to be answered, and then goes as one batch. The store
has one connection, and Redis runs the scripts of a connection in the order they were sent, so the
messages of one app are given their ids, and answered, in the order they were sent.
(With one script in flight, a message that comes while it is waited for would wait for its
whole round trip first: half of the latency of a chat across nodes at half load.) While Redis
is away, a message waits at most two timeouts: its script is sent when one in flight has
failed. Ids increase in commit order across nodes, so none is
promised before the write: L{RedisMessages.reserve_id} is always None.

A message appended with L{RedisMessages.add_announced_then} is also published by its script,
to the other nodes with recipients, once the batch is written (docs/architecture.md, "Announced
with the commit"); L{RedisMessages.announces} says while that pays. The bus publishes on this
area's connection: a script that publishes parts is sent after what the bus gathered in this
turn (L{jim.redis.client.RedisClient.flush_buffers}), so that it cannot overtake it.

The retraction script needs no key but the message's, its history's and its report indexes',
all known from the message itself (read first: they never change).

Versions of jim before the inbox cursors also kept C{jim:{app}:offline:<username>} sorted
sets (offline marks); nothing reads or writes them any more (docs/storage.md).

Lua's numbers are doubles: ids stay exact up to 2**53, which an app reaches after 285 years of
a million messages a second.
"""

import functools
from typing import Any, Callable, NamedTuple

import orjson
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from jim import errors
from jim.errors import JimError
from jim.interfaces import IAnnouncingMessageStore
from jim.model import GROUP, MAX_INT64, SINGLE, Message, Resent
from jim.store import (
    check_paging,
    conversation_to,
    group_conversation,
    private_conversation,
    with_id,
)
from jim.store.redis_keys import deferred, key
from jim.store.redis_message_scripts import APPEND, HISTORY, RETRACT

#: the most messages, and about the most keys, one append script writes
BATCH = 256
SCRIPTS_IN_FLIGHT = 2  # per app, from this node
BATCH_KEYS = 4096
#: a message is announced with its commit while fewer of its app's wait (L{RedisMessages.
#: announces})
ANNOUNCE_BELOW = 64
#: the highest id a script counts exactly
LAST_ID = 2**53
_SHIFT = 2**63  # created + _SHIFT: 0 .. 2**64 - 1, at most 20 digits
_new = tuple.__new__  # (a NamedTuple's own constructor costs more, once an append)
HOUR = 3_600_000
HOUR_SHIFT = 10**19  # the hour of any int64 time, shifted so: 20 digits, positive
assert Message._fields[:2] == ("id", "app") and Message._fields[-1] == "retracted"


@functools.lru_cache(maxsize=4096)  # the messages of one millisecond share theirs
def history_head(created):
    """The start of a history entry: C{created}, shifted to be positive, as 20 digits, and ':'.
    (The report indexes hold the same entries: L{jim.store.redis_reports}.)"""
    return f"{created + _SHIFT:020d}:"


def report_key(app, *parts):
    """A key of the app's reports (L{jim.store.redis_reports}), some of which the append script
    writes: C{reports:log}, C{reports:hours}, C{reports:user:<username>},
    C{reports:<figure>:<hour>}."""
    return key(app, "reports", *parts)


def hour_of(created):
    """The start of the hour of C{created} (epoch ms, UTC)."""
    return created - created % HOUR


def hour_member(hour):
    """An hour's member of C{reports:hours}: shifted to be positive, as 20 digits, so that their
    byte order is their order (every int64 time's hour fits)."""
    return f"{hour + HOUR_SHIFT:020d}"


@functools.lru_cache(maxsize=16384)
def _conversation_keys(app, sender, target_type, target):
    """What an append names for a message of C{sender} to C{target}: C{(keys, p, private,
    indexes)}, its keys (its conversation's history and list of ids, the p (as text)
    private-conversation sets it enters, then its report indexes), its conversation's key
    when private ('' if not) and the report indexes among the keys. Made once for each
    sender and target of the last many (every message names them, and a retraction too)."""
    conversation = conversation_to(sender, target_type, target)
    keys = [key(app, "history", conversation), key(app, "message-ids", conversation)]
    private = ""
    if target_type == SINGLE:  # the conversation is in both users' sets
        private = conversation
        keys.append(key(app, "private", sender))
        if target != sender:
            keys.append(key(app, "private", target))
    p = str(len(keys) - 2)
    # a group or chat room message is in its sender's report index; a private one is not (a
    # user's report scope reads it from the conversation's history)
    indexes = () if target_type == SINGLE else (report_key(app, "user", sender),)
    return (*keys, *indexes), p, private, indexes


def _client_field(sender, client_id, target_type, target):
    return orjson.dumps([sender, client_id, target_type, target]).decode()


def stored_message(app, message_id, value):
    """The L{Message} a message's stored JSON value is (the inbox area reads them too)."""
    return Message._make((int(message_id), app, *orjson.loads(value)))


def _messages(app, reply):
    """The Messages of a script's C{id, JSON, id, JSON...}."""
    return [stored_message(app, reply[i], reply[i + 1]) for i in range(0, len(reply), 2)]


class _Append(NamedTuple):
    """An append waiting for its script."""

    message: Message
    keys: tuple  # what its script names for it (L{_conversation_keys})
    entry: list  # its texts in the script's ARGV[1] (see L{APPEND})
    value: bytes  # its JSON, as the messages hash keeps it
    parts: Any  # its delivery's parts the script publishes: C{(channel, tail)}s
    then: Callable
    args: tuple  # C{then}'s arguments after the outcome


def _values(p, given, head, client, private, indexes, kind, sender, group, once, parts):
    """The append script's values of one message but the place of its hour (given by
    L{RedisMessages._write}): its conversation's keys' text C{p}, the id C{given} ("" for
    one the script gives), its history head ("" for none: retracted), its client-id field,
    whether it is private, how many report indexes it has, C{kind} (target type and message
    type), the sender, the group ("" for another target), "1" to append it once (by client
    id), and how many bus parts go with it. The reports' share (jim.store.redis_reports): the
    users' indexes, the hour's figures."""
    return [p, given, head, client, private, str(len(indexes)), "", kind, sender, group, once,
            str(len(parts))]


class _Gathered:
    """The answers of a run's appends (L{RedisMessages.append_run_then}), gathered for one
    call of its caller's C{then}."""

    def __init__(self, count, then, args):
        self._results = [None] * count
        self._left = count
        self._then = then
        self._args = args

    def one(self, result, place):
        self._results[place] = result
        self._left -= 1
        if not self._left:
            self._then(self._results, *self._args)


@implementer(IAnnouncingMessageStore)
class RedisMessages:
    log = Logger()

    def __init__(self, client, reactor, metrics=None, announcing=False):
        self._client = client
        #: the bus is on this Redis, so what the script publishes reaches the nodes
        #: (L{jim.backends.bus_shares_store})
        self.announcing = announcing
        self._reactor = reactor
        self._metrics = metrics
        self._waiting = {}  # app -> its appends not sent yet: [_Append, ...]
        self._in_flight = {}  # app -> how many of its scripts are in flight (1 or more)
        self._sending = None  # the call that sends this turn's appends
        self._idle = []  # Deferreds of settled(), fired once no append is waiting or in flight

    # -- appending ---------------------------------------------------------------------------

    def add_message(self, message):
        d = defer.Deferred()
        self._append(message, "", d.callback, ())
        return d

    def add_message_then(self, message, then, *args):
        self._append(message, "", then, args)

    appends_once = True  # the append script finds an earlier message with the client id

    def add_message_once_then(self, message, then, *args):
        self._append(message, "", then, args, once=True)

    def announces(self, app):
        """Whether a message of C{app} appended now is better announced with its commit: the
        bus is on this Redis (L{announcing}), and few of the app's messages wait for a script
        (fewer than L{ANNOUNCE_BELOW}). Past that, batches are big, and publishing them after
        their commit costs less."""
        if not self.announcing:
            return False
        waiting = self._waiting.get(app)
        return waiting is None or len(waiting) < ANNOUNCE_BELOW

    def add_announced_then(self, message, parts, once, then, *args):
        """L{add_message_then} (or L{add_message_once_then} if C{once}) of a message whose
        delivery's C{parts} for other nodes (C{(channel, tail)}: L{jim.bus.redis.RedisBus.
        announcement}) the script publishes as it stores it, each as C{b"stored [" + id +
        b"," + json + b"," + tail + b"]"} (C{json} the message's stored JSON); one stored
        before (a resend of a client id) is not published again."""
        self._append(message, "", then, args, once=once, parts=parts)

    def settled(self):
        """Fires once every append made so far was answered (a stop waits for it)."""
        if not self._waiting and not self._in_flight:
            return defer.succeed(None)
        d = defer.Deferred()
        self._idle.append(d)
        return d

    def reserve_id(self):
        return None  # ids are given by the commit, in commit order across every node

    def append_message_then(self, stored, then, *args):
        """Written with the id it was built with, if that is above every id the app gave
        (which it becomes); refused with SERVER_ERROR if not. With id 0, L{add_message_then}."""
        if not stored.id:
            self._append(stored, "", then, args)
        elif not 0 < stored.id <= LAST_ID:
            self._answer(then, Failure(JimError(errors.SERVER_ERROR,
                                                f"message id {stored.id} is out of range")),
                         args, stored)
        else:
            self._append(stored, str(stored.id), then, args)

    def append_run_then(self, run, then, *args):
        """Each as L{append_message_then} (they may go in different scripts), answered once
        the last one is."""
        answers = _Gathered(len(run), then, args)
        for place, stored in enumerate(run):
            self.append_message_then(stored, answers.one, place)

    def add_run_then(self, run, then, *args):
        self.add_announced_run_then(run, (), then, *args)

    def add_announced_run_then(self, run, parts, then, *args):
        """The texts a run's messages share (their keys, history head, sender...) are made
        once; a list of messages that is no run (another sender, target or time, a client id,
        retracted) is appended message by message."""
        answers = _Gathered(len(run), then, args)
        first = run[0]
        app, sender, kind, target, created = (first.app, first.sender, first.target_type,
                                              first.target, first.created)
        if not -_SHIFT <= created <= MAX_INT64 or any(
                m.client_id is not None or m.retracted or m.created != created
                or m.target != target or m.sender != sender or m.target_type != kind
                or m.app != app for m in run):
            for place, message in enumerate(run):
                self._append(message, "", answers.one, (place,), parts=parts)
            return
        keys, p, private, indexes = _conversation_keys(app, sender, kind, target)
        head, group = history_head(created), target if kind == GROUP else ""
        kind += ":"
        waiting = self._waiting_of(app)
        for place, message in enumerate(run):
            try:
                value = orjson.dumps(message[2:])
            except (TypeError, orjson.JSONEncodeError) as e:
                self._answer(answers.one, Failure(JimError(
                    errors.BAD_REQUEST, f"a message that cannot be stored: {e}")), (place,),
                    message)
                continue
            values = _values(p, "", head, "", private, indexes, kind + message.msg_type, sender,
                             group, "", parts)
            waiting.append(_new(_Append, (message, keys, values, value, parts, answers.one,
                                          (place,))))
        if not waiting:
            del self._waiting[app]
        else:
            self._schedule(app)

    def _append(self, message, given, then, args, once=False, parts=()):
        app = message.app
        try:
            if not -_SHIFT <= message.created <= MAX_INT64:
                raise JimError(errors.BAD_REQUEST, f"created {message.created} is not an int64")
            value = orjson.dumps(message[2:])
        except (JimError, TypeError, orjson.JSONEncodeError) as e:
            self._answer(then, Failure(e if isinstance(e, JimError) else JimError(
                errors.BAD_REQUEST, f"a message that cannot be stored: {e}")), args, message)
            return
        client = ("" if message.client_id is None else _client_field(
            message.sender, message.client_id, message.target_type, message.target))
        keys, p, private, indexes = _conversation_keys(app, message.sender, message.target_type,
                                                       message.target)
        head = ""
        if message.retracted:  # in no history, and so in no report index
            keys, indexes = keys[: len(keys) - len(indexes)], ()
        else:
            head = history_head(message.created)
        values = _values(p, given, head, client, private, indexes,
                         message.target_type + ":" + message.msg_type, message.sender,
                         message.target if message.target_type == GROUP else "",
                         "1" if once and message.client_id is not None else "", parts)
        self._waiting_of(app).append(
            _new(_Append, (message, keys, values, value, parts, then, args)))
        self._schedule(app)

    def _waiting_of(self, app):
        """The app's appends waiting for a script (made when none waits)."""
        waiting = self._waiting.get(app)
        if waiting is None:
            waiting = self._waiting[app] = []
        return waiting

    def _schedule(self, app):
        """Send the waiting appends at the end of this turn, unless the app has as many
        scripts in flight as it may (the answer of one sends the next)."""
        if self._sending is None and self._in_flight.get(app, 0) < SCRIPTS_IN_FLIGHT:
            self._sending = self._reactor.callLater(0, self._send_all)

    def _send_all(self):
        """At the end of a turn: the appends of every app that may send a script now."""
        self._sending = None
        for app in list(self._waiting):
            self._send(app)

    def _send(self, app):
        """As many batches of the app's waiting appends as may be in flight at once. (A
        script that fails at once is answered within L{_write}, which sends again: every
        step reads the state afresh.)"""
        while True:
            waiting = self._waiting.get(app)
            in_flight = self._in_flight.get(app, 0)
            if not waiting or in_flight >= SCRIPTS_IN_FLIGHT:
                return
            count, size = 0, 0
            while count < min(len(waiting), BATCH) and (count == 0 or size < BATCH_KEYS):
                size += len(waiting[count].keys)
                count += 1
            if count < len(waiting):
                self._waiting[app] = waiting[count:]
            else:
                del self._waiting[app]
            self._in_flight[app] = in_flight + 1
            self._write(app, waiting[:count])

    def _write(self, app, batch):
        keys = [key(app, "message-id"), key(app, "messages"), key(app, "message-client-ids"),
                report_key(app, "log"), report_key(app, "hours")]
        hours = {}  # the batch's hours: each one's keys are named once, not once a message
        channels = {}  # the channels its messages' parts go to -> their place (from 1)
        tails = []  # the tails of its messages' parts, in order
        entries = []
        for append in batch:
            hour = hour_of(append.message.created)
            place = hours.get(hour)
            if place is None:
                place = hours[hour] = len(hours) + 1
                keys += [report_key(app, figure, str(hour))
                         for figure in ("counts", "sender", "group")]
            entry = append.entry
            entry[6] = str(place)  # (a batch is written once)
            for channel, tail in append.parts:
                place = channels.get(channel)
                if place is None:
                    place = channels[channel] = len(channels) + 1
                entry.append(place)
                tails.append(tail)
            entries.append(entry)
        # the keys the entry before named: one that shares them names none. Consecutive
        # appends of one conversation (a run's, or not) share them: _conversation_keys keeps
        # each conversation's keys once
        named = None
        for append in batch:
            if append.keys is named:
                append.entry[0] = "="
            else:
                keys += append.keys
                named = append.keys
        if channels:
            # what the bus gathered this turn (a delivery published after its commit) goes
            # first: the script's parts must not overtake it
            self._client.flush_buffers()
        started = self._reactor.seconds()
        d = self._client.run(APPEND, keys, [orjson.dumps((entries, list(channels))),
                                            *[hour_member(hour) for hour in hours],
                                            *tails,
                                            *[append.value for append in batch]])
        d.addBoth(self._written, app, batch, started)

    def _written(self, reply, app, batch, started):
        """Answer a batch, in order, then send what waited for it."""
        if isinstance(reply, Failure):
            results = [reply] * len(batch)
        else:
            if self._metrics is not None:
                self._metrics.observe_commit(self._reactor.seconds() - started, len(batch))
            results = [
                Resent(stored_message(app, *new_id)) if type(new_id) is list
                else with_id(append.message, new_id) if new_id else Failure(JimError(
                    errors.SERVER_ERROR, f"message id {append.message.id} is not above the"
                    f" last id of app {app}"))
                for append, new_id in zip(batch, reply)
            ]
        for append, result in zip(batch, results):
            self._answer(append.then, result, append.args, append.message)
        in_flight = self._in_flight.pop(app) - 1
        if in_flight:
            self._in_flight[app] = in_flight
        self._send(app)
        if not self._waiting and not self._in_flight:
            idle, self._idle = self._idle, []
            for d in idle:
                d.callback(None)

    def _answer(self, then, result, args, message):
        try:
            then(result, *args)
        except Exception:  # a failing caller is logged, never raised to the writer
            self.log.failure("the caller of store write add_message failed (app {app},"
                             " sender {sender})", app=message.app, sender=message.sender)

    # -- lookups and retraction --------------------------------------------------------------

    @deferred
    async def get_message(self, app, message_id):
        value = await self._client.call("HGET", key(app, "messages"), str(message_id))
        return None if value is None else stored_message(app, message_id, value)

    def may_hold_client_id(self, app, sender, client_id):
        return True  # every node appends: one node's memory cannot tell (docs/architecture.md)

    @deferred
    async def message_by_client_id(self, app, sender, client_id, target_type, target):
        found = await self._client.call("HGET", key(app, "message-client-ids"),
                                        _client_field(sender, client_id, target_type, target))
        return None if found is None else await self.get_message(app, int(found))

    @deferred
    async def retract_message(self, app, message_id):
        message = await self.get_message(app, message_id)
        if message is None:
            raise JimError(errors.NO_SUCH_MESSAGE, f"no message {message_id}")
        # its conversation and created never change; the script checks the rest again
        entry = f"{history_head(message.created)}{message.id:020d}"
        keys, _, _, indexes = _conversation_keys(app, message.sender, message.target_type,
                                                 message.target)
        value = await self._client.run(
            RETRACT, [key(app, "messages"), keys[0], report_key(app, "log"), *indexes],
            [str(message.id), entry])
        return stored_message(app, message.id, value)

    # -- history -----------------------------------------------------------------------------

    def private_history(self, app, user, peer, begin=None, end=None, offset=None, count=100):
        return self._history(app, private_conversation(user, peer), begin, end, offset, count)

    def group_history(self, app, gid, begin=None, end=None, offset=None, count=100):
        return self._history(app, group_conversation(gid), begin, end, offset, count)

    @deferred
    async def _history(self, app, conversation, begin, end, offset, count):
        check_paging(offset, count, begin, end)
        if count == 0:
            return []
        # an entry of created t is "<t>:<id>": above "<t>:", below "<t>;"
        low = "-" if begin is None else "[" + history_head(begin)
        high = "+" if end is None else "(" + history_head(end)[:-1] + ";"
        reply = await self._client.run(
            HISTORY, [key(app, "history", conversation), key(app, "messages")],
            [low, high, "" if offset is None else str(offset), str(count)])
        found = _messages(app, reply)
        if offset is None:
            found.reverse()  # the latest come newest first
        return found
