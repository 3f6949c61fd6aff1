"""The J-IM commands: one async function per request command, and the table that routes to them.

Each handler gets the session and the parsed JSON object, does its work through the hub, the
accounts and the store, and sends its own reply; a refusal is a raised L{JimError} that the
session turns into the reply J-IM would send (the command's response number and status code).
"""
import attr
from twisted.logger import Logger
from twisted.python.failure import Failure

from jim.errors import JimError
from jim.model import GROUP
from jim.wire import jimjson, status

log = Logger()

_HEARTBEAT = jimjson.reply(status.HEARTBEAT, data={"hbbyte": -128})
_HANDSHAKE = jimjson.reply(status.HANDSHAKE_RESP, data={"hbyte": -127})
_CLOSE_OK = jimjson.reply(status.CLOSE, status.CLOSE_OK)
_USER_CODES = {
    jimjson.USER_ONLINE: status.GET_USER_ONLINE_OK,
    jimjson.USER_OFFLINE: status.GET_USER_OFFLINE_OK,
    jimjson.USER_ALL: status.GET_USER_OK,
}


@attr.s(frozen=True, slots=True)
class Handler:
    command = attr.ib()  # the request command number
    response = attr.ib()  # the command number of its reply
    failure = attr.ib()  # the status code of a refusal
    run = attr.ib(default=None)  # (session, obj) -> coroutine or Deferred
    needs_login = attr.ib(default=True)
    barrier = attr.ib(default=False)  # later frames of the connection wait for it
    immediate = attr.ib(default=None)  # a constant reply: no body parsing, no async work
    close_on_failure = attr.ib(default=False)  # a refusal also closes the connection
    # run(session, obj) returns nothing and reports through session.command_done (the chat)
    reports = attr.ib(default=False)


async def login(session, obj):
    """cmd 5. Every refusal answers 10008 and closes the connection."""
    core = session.core
    request = None
    try:
        request = jimjson.login_request(obj)
        if session.username is not None:
            if request.user_id in (None, session.username):
                session.client.send(status.LOGIN_RESP, _login_ok(session))
                return
            raise JimError(status.LOGIN_FAILED, "this connection is logged in as another user")
        app, user = await core.accounts.login(request)
    except JimError as e:  # Handler.close_on_failure closes the connection
        core.metrics.login_failures += 1
        log.info(
            "login of {user} from {peer} refused: {detail}",
            user=None if request is None else request.user_id,
            peer=session.peer,
            detail=e.detail,
        )
        raise
    if session.closed:
        return
    session.logged_in(app, user)
    session.client.send(status.LOGIN_RESP, _login_ok(session))
    await core.hub.bind(session)
    for gid in core.auto_join:
        try:
            await core.hub.join(session, gid, confirm=False)
        except JimError as e:  # e.g. the group is full: the login itself stands
            log.warn(
                "could not auto-join {user} to group {gid}: {detail}",
                user=session.username,
                gid=gid,
                detail=e.detail,
            )


def _login_ok(session):
    """The cmd 6 reply, with what J-IM leaves out: the user, a reconnect token, and the largest
    message body this server takes (a client that sends more is disconnected)."""
    user = jimjson.user_json(session.user, True, session.client.terminal)
    token = session.core.accounts.token_for(session.app, session.username)
    return jimjson.reply(status.LOGIN_RESP, status.LOGIN_OK, user=user, token=token,
                         maxBody=session.core.limits.max_body)


async def auth(session, obj):
    token = jimjson.text(obj, "token", code=status.AUTH_FAILED, limit=jimjson.MAX_TOKEN_BYTES)
    accounts = session.core.accounts
    claim = accounts.tokens.check(token, session.core.clock.seconds()) if token else None
    if claim is None or (session.username is not None and claim != (session.app, session.username)):
        raise JimError(status.AUTH_FAILED, "invalid or expired token")
    session.client.send(
        status.AUTH_RESP, jimjson.reply(status.AUTH_RESP, status.AUTH_OK, data={"token": token})
    )


async def join(session, obj):
    request = jimjson.join_request(obj)
    await session.core.hub.join(session, request.group_id, request.name, request.avatar)


def chat(session, obj):
    """cmd 11, the hot path: no coroutine and no Deferred of its own (see L{Hub.chat_then}).
    A refusal carries the chat's client id, as its acknowledgement would."""
    try:
        request = jimjson.chat_request(obj)
    except JimError:
        session.command_done(_CHAT, Failure(), jimjson.chat_client_id(obj))
        return
    session.core.hub.chat_then(
        session.app, session.username, request, session, _chat_done, session, request.client_id
    )


def _chat_done(outcome, session, client_id):
    if type(outcome) is Failure:
        session.command_done(_CHAT, outcome, client_id)
        return
    code, stored = outcome
    session.client.send(status.CHAT_RESP, jimjson.chat_ack(code, stored))
    session.command_done(_CHAT)


async def close(session, obj):
    named = jimjson.close_request(obj)
    if named is not None and named != session.username:
        raise JimError(status.INVALID, "a connection may only close its own user's connections")
    session.client.send(status.CLOSE, _CLOSE_OK)
    if named is None:
        session.close("client asked to close")
    else:
        session.core.hub.kick(session.app, named, "client asked to close all its connections")


async def get_user(session, obj):
    core = session.core
    request = jimjson.user_request(obj)
    app, me = session.app, session.username
    if request.user_id is not None and request.user_id != me:
        other = await core.hub.store.get_user(app, request.user_id)
        if other is None:
            raise JimError(status.GET_USER_FAILED, f"no user {request.user_id!r}")
        data = jimjson.user_json(other, core.hub.is_online(app, other.username))
        session.client.send(
            status.GET_USER_RESP,
            jimjson.reply(status.GET_USER_RESP, status.GET_USER_OK, data=data),
        )
        return
    data = jimjson.user_json(session.user, True, session.client.terminal)
    data["groups"] = await _groups_with_members(session, request.type)
    data["friends"] = []
    code = _USER_CODES[request.type]
    session.client.send(status.GET_USER_RESP, jimjson.reply(status.GET_USER_RESP, code, data=data))


async def _groups_with_members(session, kind):
    """The user's groups, each with its members filtered by J-IM's type (0 online, 1 offline)."""
    hub = session.core.hub
    app = session.app
    groups = await hub.store.user_groups(app, session.username)
    member_lists = [list(await hub.members(app, g.gid)) for g in groups]
    everyone = {name for names in member_lists for name in names}
    users = {u.username: u for u in await hub.store.get_users(app, sorted(everyone))}
    out = []
    for group, names in zip(groups, member_lists):
        listed = []
        online_count = 0
        for name in names:
            user = users.get(name)
            if user is None:
                continue
            online = hub.is_online(app, name)
            online_count += online
            if kind == jimjson.USER_ALL or online == (kind == jimjson.USER_ONLINE):
                listed.append(jimjson.user_json(user, online))
        out.append(jimjson.group_json(group, listed, online_count))
    return out


async def get_messages(session, obj):
    core = session.core
    limits = core.limits
    request = jimjson.message_request(obj)
    app, me = session.app, session.username
    if request.user_id is not None and request.user_id != me:
        raise JimError(status.GET_MESSAGE_FAILED, "userId must be the logged-in user")
    store = core.hub.store
    if request.type == jimjson.OFFLINE_MESSAGES:
        messages = await store.take_offline(
            app, me, peer=request.from_user_id, gid=request.group_id, limit=limits.offline_max
        )
        code = status.GET_OFFLINE_OK
    else:
        count = min(request.count or limits.history_count, limits.history_max)
        paging = dict(begin=request.begin, end=request.end, offset=request.offset, count=count)
        if request.group_id is not None:
            if me not in await core.hub.members(app, request.group_id):
                raise JimError(
                    status.GET_MESSAGE_FAILED, f"not a member of group {request.group_id!r}"
                )
            messages = await store.group_history(app, request.group_id, **paging)
        elif request.from_user_id is not None:
            messages = await store.private_history(app, me, request.from_user_id, **paging)
        else:
            raise JimError(status.GET_MESSAGE_FAILED, "history needs fromUserId or groupId")
        code = status.GET_HISTORY_OK
    friends, groups = {}, {}
    for message in messages:
        if message.target_type == GROUP:
            groups.setdefault(message.target, []).append(jimjson.chat_body(message))
        else:
            peer = message.target if message.sender == me else message.sender
            friends.setdefault(peer, []).append(jimjson.chat_body(message))
    data = {"userId": me, "friends": friends, "groups": groups}
    session.client.send(
        status.GET_MESSAGE_RESP, jimjson.reply(status.GET_MESSAGE_RESP, code, data=data)
    )


_CHAT = Handler(status.CHAT_REQ, status.CHAT_RESP, status.SEND_FAILED, chat, reports=True)

HANDLERS = {
    h.command: h
    for h in (
        Handler(
            status.HANDSHAKE_REQ,
            status.HANDSHAKE_RESP,
            status.INVALID,
            needs_login=False,
            immediate=_HANDSHAKE,
        ),
        Handler(
            status.AUTH_REQ, status.AUTH_RESP, status.AUTH_FAILED, auth, False, barrier=True
        ),
        Handler(
            status.LOGIN_REQ,
            status.LOGIN_RESP,
            status.LOGIN_FAILED,
            login,
            False,
            barrier=True,
            close_on_failure=True,
        ),
        Handler(status.JOIN_GROUP_REQ, status.JOIN_GROUP_RESP, status.JOIN_FAILED, join,
                barrier=True),
        _CHAT,
        Handler(
            status.HEARTBEAT,
            status.HEARTBEAT,
            status.INVALID,
            needs_login=False,
            immediate=_HEARTBEAT,
        ),
        Handler(status.CLOSE, status.CLOSE, status.INVALID, close, False, barrier=True),
        Handler(status.GET_USER_REQ, status.GET_USER_RESP, status.GET_USER_FAILED, get_user),
        Handler(
            status.GET_MESSAGE_REQ, status.GET_MESSAGE_RESP, status.GET_MESSAGE_FAILED,
            get_messages,
        ),
    )
}
