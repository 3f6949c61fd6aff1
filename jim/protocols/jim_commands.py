"""The J-IM commands: one function per request command, and the table that routes to them.

Each handler gets the session and the parsed JSON object, turns it into a neutral request to
the core's services (accounts, users, groups, messages), and sends its own J-IM reply; a
refusal is a raised L{JimError} that the session turns into the reply J-IM would send (the
command's response number and status code).
"""
import attr
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from jim import errors, model
from jim.core import devices
from jim.errors import JimError
from jim.protocols.jim_body_chat import send_body_chat
from jim.protocols.jim_fetch import ack, get_messages, sync
from jim.protocols.jim_groups import group_call, profile
from jim.protocols.jim_retract import retract
from jim.protocols.jim_rooms import enter_room, leave_room
from jim.protocols.jim_web_sdk import configure
from jim.wire import jim_events, jimjson, status

log = Logger()

_HEARTBEAT = jimjson.reply(status.HEARTBEAT, data={"hbbyte": -128})
_HANDSHAKE = jimjson.reply(status.HANDSHAKE_RESP, data={"hbyte": -127})
_CLOSE_OK = jimjson.reply(status.CLOSE, status.CLOSE_OK)
#: login refusals not logged one by one (a flood of them is logged by L{jim.core.accounts})
_UNLOGGED_REFUSALS = frozenset((errors.RATE_LIMITED, errors.BUSY))
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
        device = _device(session, request)
        if session.username is not None:
            if request.user_id in (None, session.username):
                session.client.send(status.LOGIN_RESP, _login_ok(session))
                return
            raise JimError(errors.NOT_ALLOWED, "this connection is logged in as another user")
        app_key = request.app_key
        if session.configured_app is not None:
            # a page configured with a signature logs in to that app only
            if app_key not in (None, session.configured_app):
                raise JimError(errors.AUTH_FAILED, "this connection was configured for"
                               " another app")
            app_key = session.configured_app
        app, user = await core.accounts.login(app_key, request.user_id,
                                              request.password, request.token,
                                              session.address)
    except JimError as e:  # Handler.close_on_failure closes the connection
        core.metrics.login_failures += 1
        if e.code in _UNLOGGED_REFUSALS:
            raise  # a flood's: its throttled address is logged once a window, by accounts
        log.info(
            "login of {user} from {peer} refused: {detail}",
            user=None if request is None else request.user_id,
            peer=session.peer,
            detail=e.detail,
        )
        raise
    if session.closed:
        return
    session.logged_in(app, user, device)
    await core.hub.attach(session)
    if session.closed:
        return
    await core.inbox.open(session, request.acks)
    if session.closed:
        return
    session.client.send(status.LOGIN_RESP, _login_ok(session))
    await core.hub.bind(session, user)
    for gid in core.auto_join:
        try:
            await core.groups.join(app, user, *jimjson.group_ref(gid), terminal=session.terminal)
        except JimError as e:  # e.g. the group is full: the login itself stands
            log.warn(
                "could not auto-join {user} to group {gid}: {detail}",
                user=session.username,
                gid=gid,
                detail=e.detail,
            )


def _device(session, request):
    """The device key of a login: what it named (``platform``, ``deviceId``), or by default
    its transport's platform and a device of its own connection."""
    platform, device_id = request.platform, request.device_id
    if platform is not None:
        devices.check_platform(platform)
    if device_id is not None:
        devices.check_device_id(device_id)
    return devices.device_key(session.terminal, session.id, platform, device_id)


def _login_ok(session):
    """The cmd 6 reply, with what J-IM leaves out: the user, a reconnect token, and the largest
    message body this server takes (a client that sends more is disconnected)."""
    user = jimjson.user_json(session.current_user, True, session.client.terminal)
    # earned with the password this connection logged in with, not whatever the user's is now
    # (one changed, or a user made again under the name, refuses it)
    token = session.core.accounts.token_for(session.user)
    return jimjson.reply(status.LOGIN_RESP, status.LOGIN_OK, user=user, token=token,
                         maxBody=session.core.limits.max_body)


async def auth(session, obj):
    token = jimjson.text(obj, "token", limit=jimjson.MAX_TOKEN_BYTES)
    app, user = await session.core.accounts.token_user(token)
    if session.username is not None and (app, user.username) != (session.app,
                                                                   session.username):
        raise JimError(errors.AUTH_FAILED, "invalid or expired token")
    session.client.send(
        status.AUTH_RESP, jimjson.reply(status.AUTH_RESP, status.AUTH_OK, data={"token": token})
    )


async def join(session, obj):
    request = jimjson.join_request(obj)
    gid, alias = jimjson.group_ref(request.group_id)
    group, added = await session.core.groups.join(
        session.app, session.current_user, gid, alias, request.name, request.avatar,
        session.terminal)
    if not added:  # a member already: only this connection hears it, as its confirmation
        user = jimjson.user_json(session.current_user, True, session.terminal)
        session.client.send(status.JOIN_GROUP_NOTIFY, jim_events.join_notify(
            jimjson.jim_group_id(group.gid, group.alias), user))


def chat(session, obj):
    """cmd 11, the hot path: no coroutine and no Deferred of its own when the target is known
    (see L{jim.core.messages.Messages.send_then}). A refusal carries the chat's client id, as
    its acknowledgement would."""
    if "msgBody" in obj:  # a JMessage body (jim_body_chat.FIELD): its own, slower way
        d = defer.ensureDeferred(send_body_chat(session, obj))
        d.addBoth(_chat_done, session, jimjson.chat_client_id(obj))
        return
    try:
        draft, group_id = jimjson.chat_draft(obj)
    except JimError:
        session.command_done(_CHAT, Failure(), jimjson.chat_client_id(obj))
        return
    if _charged(session, draft):
        _send_draft(session, draft, group_id)


def _charged(session, draft):
    """Whether the chat rates (L{jim.core.rates}) let C{draft} go; if not, it is answered."""
    rates = session.core.chat_rates
    if rates.enabled:
        refusal = rates.charge(session.app, session.username, session.address)
        if refusal is not None:
            session.command_done(_CHAT, Failure(refusal), draft.client_id)
            return False
    return True


def chat_run(session, objs):
    """Several cmd 11 of one read, in order: the hot path under load. Consecutive private
    chats to one user without client ids go to the core as one run (L{jim.core.messages.
    Messages.send_run_then}), their acknowledgements as one write; any other chat goes as
    L{chat}. Each is answered once, as it would be alone: whatever is answered at once (a
    refusal) comes after the run before it was sent."""
    run = []  # the drafts of the run being gathered (one list: _flush empties it)
    rates = session.core.chat_rates
    chat_draft = jimjson.chat_draft
    for obj in objs:
        try:
            if "msgBody" in obj:
                _flush(session, run)
                _guarded(session, chat, session, obj)
                continue
            try:
                draft, group_id = chat_draft(obj)
            except JimError:
                _flush(session, run)
                session.command_done(_CHAT, Failure(), jimjson.chat_client_id(obj))
                continue
            if draft.target_type != model.SINGLE or draft.client_id is not None:
                _flush(session, run)
                if _charged(session, draft):
                    _guarded(session, _send_draft, session, draft, group_id)
                continue
            if run and run[0].target != draft.target:
                _flush(session, run)
            if rates.enabled:
                refusal = rates.charge(session.app, session.username, session.address)
                if refusal is not None:
                    _flush(session, run)  # those before it go first, as they would alone
                    session.command_done(_CHAT, Failure(refusal), draft.client_id)
                    continue
            run.append(draft)
        except Exception:  # a bug in this chat's own steps: it fails alone
            session.command_done(_CHAT, Failure())
    _flush(session, run)


def _flush(session, run):
    """Send the run gathered so far, and empty C{run}. One draft goes as L{chat} sends it."""
    if len(run) == 1:
        draft = run.pop()
        _guarded(session, _send_draft, session, draft, None)
    elif run:
        drafts = run[:]
        run.clear()
        answers = _RunAnswers(session, len(drafts))
        try:
            session.core.messages.send_run_then(session.app, session.username, drafts,
                                                session.id, answers.answered)
        except Exception:  # a bug: what it did not answer yet fails
            answers.failed(Failure())


def _guarded(session, send, *args):
    """C{send(*args)} of one chat; if it raises (a bug), the chat fails with it."""
    try:
        send(*args)
    except Exception:
        session.command_done(_CHAT, Failure())


class _RunAnswers:
    """The answers of a run (L{chat_run}): each draft's once, even if the send raised (a bug)
    after answering some: the rest fail then, and what comes for them later is dropped."""

    __slots__ = ("_session", "_left")

    def __init__(self, session, count):
        self._session = session
        self._left = count  # drafts not answered yet; None once the send failed

    def answered(self, answers):
        if self._left is not None:
            self._left -= len(answers)
            _chats_done(answers, self._session)

    def failed(self, failure):
        left, self._left = self._left, None
        for _ in range(left or 0):
            self._session.command_done(_CHAT, failure)


def _send_draft(session, draft, group_id):
    """The send of one chat's draft, charged already."""
    core = session.core
    if group_id is not None and model.QUALIFIER in group_id:
        # another app's group, <appKey>:<gid> (jim.core.cross_groups): the core's name too
        core.messages.send_then(session.app, session.username, draft, session.id, _chat_done,
                                session, draft.client_id, draft.body)
        return
    if group_id is not None:
        gid = core.groups.cached_gid(session.app, *jimjson.group_ref(group_id))
        if gid is None:
            d = defer.ensureDeferred(_group_chat_resolving(session, draft, group_id))
            d.addBoth(_chat_done, session, draft.client_id, draft.body)
            return
        draft = draft._replace(target=str(gid))
    core.messages.send_then(session.app, session.username, draft, session.id, _chat_done,
                            session, draft.client_id, draft.body)


def _chats_done(answers, session):
    """Answers of a run (L{chat_run}), as L{_chat_done} answers each: the acknowledgements
    of consecutive stored ones go in one write."""
    acks = []
    for draft, outcome in answers:
        if type(outcome) is Failure:
            if acks:  # the ones before it first: answers keep their order
                session.chats_acknowledged(acks)
                acks = []
            session.command_done(_CHAT, outcome, draft.client_id)
            continue
        stored, delivered = outcome
        session.note_message(stored.id)
        acks.append(jimjson.chat_ack(status.OK if delivered else status.OFFLINE, stored,
                                     _stored_text(stored, draft.body)))
    if acks:
        session.chats_acknowledged(acks)


def _stored_text(stored, sent_body):
    """The text C{stored} keeps if it is not the one its chat sent (its body C{sent_body}):
    sensitive words masked, or a resend answered with the first. Else None."""
    if stored.body is sent_body or stored.msg_type != model.TEXT:
        return None
    text = stored.body.get("text")
    if type(text) is not str or text == sent_body.get("text"):
        return None
    return text


async def _group_chat_resolving(session, draft, group_id):
    """A group chat to a J-IM groupId that memory does not know yet."""
    gid = await session.core.groups.require_gid_named(session.app,
                                                       *jimjson.group_ref(group_id))
    return await session.core.messages.send(session.app, session.username,
                                            draft._replace(target=str(gid)), session.id)


def _chat_done(outcome, session, client_id, sent_body=None):
    """A chat's outcome, answered as cmd 12. C{sent_body}: the body the client's chat made; a
    stored message whose body is another (its sensitive words masked) tells the client the
    text it keeps (L{jimjson.chat_ack})."""
    if type(outcome) is Failure:
        session.command_done(_CHAT, outcome, client_id)
        return
    stored, delivered = outcome
    session.note_message(stored.id)  # its own message is no offline message of its device
    text = None if sent_body is None else _stored_text(stored, sent_body)
    session.client.send(status.CHAT_RESP,
                        jimjson.chat_ack(status.OK if delivered else status.OFFLINE, stored,
                                         text))
    session.command_done(_CHAT)


async def close(session, obj):
    named = jimjson.close_request(obj)
    if named is not None and named != session.username:
        raise JimError(errors.NOT_ALLOWED,
                       "a connection may only close its own user's connections")
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
        other = await core.users.find(app, request.user_id)
        if other is None:
            raise JimError(errors.NO_SUCH_USER, f"no user {request.user_id!r}")
        data = jimjson.user_json(other, core.users.online(app, other.username))
        session.client.send(
            status.GET_USER_RESP,
            jimjson.reply(status.GET_USER_RESP, status.GET_USER_OK, data=data),
        )
        return
    data = jimjson.user_json(session.current_user, True, session.client.terminal)
    data["groups"] = await _groups_with_members(session, request.type)
    data["friends"] = []
    code = _USER_CODES[request.type]
    session.client.send(status.GET_USER_RESP, jimjson.reply(status.GET_USER_RESP, code, data=data))


async def _groups_with_members(session, kind):
    """The user's groups, each with its members filtered by J-IM's type (0 online, 1 offline)."""
    core = session.core
    app = session.app
    groups = await core.groups.user_groups(app, session.username)
    member_lists = [list(await core.groups.members(app, g.gid)) for g in groups]
    everyone = {name for names in member_lists for name in names}
    users = await core.users.get_many(app, sorted(everyone))
    out = []
    for group, names in zip(groups, member_lists):
        listed = []
        online_count = 0
        for name in names:
            user = users.get(name)
            if user is None:
                continue
            online = core.users.online(app, name)
            online_count += online
            if kind == jimjson.USER_ALL or online == (kind == jimjson.USER_ONLINE):
                listed.append(jimjson.user_json(user, online))
        out.append(jimjson.group_json(group, listed, online_count))
    return out


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
        Handler(status.SYNC_REQ, status.SYNC_RESP, status.GET_MESSAGE_FAILED, sync),
        Handler(status.ACK_REQ, status.ACK_RESP, status.INVALID, ack),
        Handler(status.ENTER_ROOM_REQ, status.ENTER_ROOM_RESP, status.INVALID, enter_room,
                barrier=True),
        Handler(status.LEAVE_ROOM_REQ, status.LEAVE_ROOM_RESP, status.INVALID, leave_room,
                barrier=True),
        Handler(status.CONFIG_REQ, status.CONFIG_RESP, status.INVALID, configure,
                needs_login=False, barrier=True),
        Handler(status.GROUPS_REQ, status.GROUPS_RESP, status.INVALID, group_call),
        Handler(status.PROFILE_REQ, status.PROFILE_RESP, status.INVALID, profile),
        Handler(status.RETRACT_REQ, status.RETRACT_RESP, status.INVALID, retract),
    )
}
