# -*- test-case-name: tests.integration.test_reply_sizes -*-
"""Reading messages: cmd 19 (history pages and offline messages, one cmd 20 reply each) and
jim's sync (cmd 101, answered by cmd 102) and ack (cmd 103, answered by cmd 104), each reply
bounded in bytes (C{--max-reply-bytes}) as well as in count, encoded message by message.

A connection's reads run one at a time, in the order they came: a client that sends many
at once holds one reply's worth of messages, not many.
"""
from twisted.internet import defer
from twisted.logger import Logger

from jim import errors
from jim.core import message_pages
from jim.errors import JimError
from jim.model import GROUP, QUALIFIER, Message
from jim.wire import jim_events, jimjson, status, sync_reply
from jim.wire.message_list import MessageList

log = Logger()

#: session id -> fired when the last cmd 19 of that session queued so far has finished
_turns = {}


async def get_messages(session, obj):
    """cmd 19, after the reads of the same connection before it."""
    await _in_turn(session, _get_messages, obj)


async def sync(session, obj):
    """cmd 101, after the reads of the same connection before it."""
    await _in_turn(session, _sync, obj)


async def _in_turn(session, read, obj):
    key = session.id
    ahead = _turns.get(key)
    mine = _turns[key] = defer.Deferred()
    try:
        if ahead is not None:
            await ahead
        await read(session, obj)
    finally:
        if _turns.get(key) is mine:
            del _turns[key]
        mine.callback(None)


class _Sink:
    """A L{MessageList} fed by the core, looking each group's alias up once a reply."""

    def __init__(self, core, app, listed):
        self._groups = core.groups
        self._app = app
        self._aliases = {}
        self.listed = listed

    async def _alias(self, gid):
        if gid not in self._aliases:
            group = await self._groups.find(self._app, gid)
            self._aliases[gid] = None if group is None else group.alias
        return self._aliases[gid]

    async def _message_alias(self, message):
        if message.target_type != GROUP or not message.target.isdigit():
            return None  # not a group, or another app's (its target names it)
        return await self._alias(int(message.target))

    async def alias_of(self, item):
        """The J-IM name of the group a message or an event concerns, when it has one."""
        if type(item) is Message:
            return await self._message_alias(item)
        return None if item.gid is None else await self._alias(item.gid)

    async def offer(self, item):
        """Add a message, or (to a sync reply) an event."""
        if type(item) is not Message:
            alias = None if item.gid is None else await self._alias(item.gid)
            return self.listed.offer_event(item, alias)
        return self.listed.offer(item, await self._message_alias(item))

    async def force(self, message):
        self.listed.force(message, await self._message_alias(message))

    def drop(self, ids):
        self.listed.drop(ids)


async def _get_messages(session, obj):
    core = session.core
    request = jimjson.message_request(obj)
    app, me = session.app, session.username
    if request.user_id is not None and request.user_id != me:
        raise JimError(errors.NOT_ALLOWED, "userId must be the logged-in user")
    gid, missing = None, False
    if request.group_id is not None and QUALIFIER in request.group_id:
        # another app's group, <appKey>:<gid> (jim.core.cross_groups): a member's only
        gid = await core.cross_groups.require_member(app, me, request.group_id)
    elif request.group_id is not None:
        group = await core.groups.find_named(app, *jimjson.group_ref(request.group_id))
        if group is None:
            if request.type != jimjson.OFFLINE_MESSAGES:
                raise JimError(errors.NOT_MEMBER, f"not a member of group {request.group_id!r}")
            missing = True
        else:
            gid = group.gid
    bound = core.limits.max_reply
    if request.type == jimjson.OFFLINE_MESSAGES:
        listed = MessageList(me, status.GET_OFFLINE_OK, bound)
        more = False
        if not missing:
            more = await message_pages.offline_page(
                core.inbox, session, _Sink(core, app, listed), peer=request.from_user_id,
                gid=gid)
        rest, newest_first = None, False
    else:
        if gid is None and request.from_user_id is None:
            raise JimError(errors.BAD_REQUEST, "history needs fromUserId or groupId")
        listed = MessageList(me, status.GET_HISTORY_OK, bound)
        rest = await message_pages.history_page(
            core.messages, app, me, _Sink(core, app, listed),
            peer=None if gid is not None else request.from_user_id, gid=gid,
            begin=request.begin, end=request.end, offset=request.offset, count=request.count)
        more, newest_first = rest is not None, request.offset is None
    if more:
        log.info("cmd 20 reply to {user} of app {app} cut at {count} messages, {size} bytes:"
                 " the client pages for the rest", user=me, app=app, count=listed.count,
                 size=listed.size)
    session.client.send(status.GET_MESSAGE_RESP,
                        listed.reply(newest_first, more=True if more else None, next=rest))


async def _sync(session, obj):
    """The device's messages and events after its cursor (or after the id the client names),
    oldest first, up to the count asked (the server's C{--offline-max} by default) and the
    reply's byte bound. Nothing moves the cursor but an ack (cmd 103)."""
    after, count = sync_reply.sync_request(obj)
    core = session.core
    limits = core.limits
    count = min(count or limits.offline_max, sync_reply.MAX_SYNC)
    cursor = await core.inbox.cursor(session)
    listed = sync_reply.SyncReply(limits.max_reply)
    sink = _Sink(core, session.app, listed)
    after = after or 0
    chunk = message_pages.chunk_size(limits, count)
    more = False
    while True:
        n = min(chunk, count - listed.count)
        found = await core.inbox.read(session, after=after, limit=n + 1, events=True)
        for item in found[:n]:
            if not await sink.offer(item):
                more = True
                break
            after = item.id
        if more or len(found) <= n:
            break
        if listed.count >= count:
            more = True
            break
    session.client.send(status.SYNC_RESP, listed.reply(cursor.floor, more))


async def ack(session, obj):
    """cmd 103: the device holds its inbox up to an id; its cursor moves there. On a cluster,
    what its inbox holds up to that id and this connection was never sent (a push lost between
    nodes) is pushed first, as it would have been live, and the cursor stays below it."""
    upto = sync_reply.ack_request(obj)
    acked = await session.core.inbox.ack(session, upto)
    if acked.missed:
        aliases = _Sink(session.core, session.app, None)
        for item in acked.missed:
            alias = await aliases.alias_of(item)
            if type(item) is Message:
                session.client.send(status.CHAT_REQ, jimjson.push(item, alias))
            else:
                for command, body in jim_events.frames(item, alias):
                    session.client.send(command, body)
    session.client.send(status.ACK_RESP, sync_reply.ack_reply(acked.cursor.floor))
