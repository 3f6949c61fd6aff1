# -*- test-case-name: tests.integration.test_reply_sizes -*-
"""cmd 19, get messages: history pages and offline messages as one cmd 20 reply each, bounded
in bytes (C{--max-reply-bytes}) as well as in count, encoded message by message.

A connection's cmd 19s run one at a time, in the order they came: a client that sends many
at once holds one reply's worth of messages, not many.
"""
from twisted.internet import defer
from twisted.logger import Logger

from jim import errors
from jim.core import message_pages
from jim.errors import JimError
from jim.model import GROUP
from jim.wire import jimjson, status
from jim.wire.message_list import MessageList

log = Logger()

#: session id -> fired when the last cmd 19 of that session queued so far has finished
_turns = {}


async def get_messages(session, obj):
    """cmd 19, after the cmd 19s of the same connection before it."""
    key = session.id
    ahead = _turns.get(key)
    mine = _turns[key] = defer.Deferred()
    try:
        if ahead is not None:
            await ahead
        await _get_messages(session, obj)
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

    async def _alias(self, message):
        if message.target_type != GROUP:
            return None
        if message.target not in self._aliases:
            group = await self._groups.find(self._app, int(message.target))
            self._aliases[message.target] = None if group is None else group.alias
        return self._aliases[message.target]

    async def offer(self, message):
        return self.listed.offer(message, await self._alias(message))

    async def force(self, message):
        self.listed.force(message, await self._alias(message))

    def drop(self, ids):
        self.listed.drop(ids)


async def _get_messages(session, obj):
    core = session.core
    request = jimjson.message_request(obj)
    app, me = session.app, session.username
    if request.user_id is not None and request.user_id != me:
        raise JimError(errors.NOT_ALLOWED, "userId must be the logged-in user")
    gid, missing = None, False
    if request.group_id is not None:
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
                core.messages, app, me, _Sink(core, app, listed), peer=request.from_user_id,
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
