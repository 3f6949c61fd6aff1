# -*- test-case-name: tests.integration.test_rest_messages -*-
"""``/v1/messages``: an app server sends a message in an admin's name, or retracts one
(reference sections 2.4 and 4.1)."""
from jim import errors, model
from jim.errors import JimError
from jim.web.rest_v1 import params
from jim.web.rest_v1.router import route
from jim.wire import jmessage

#: JMessage's send-message version
VERSION = 1
_TARGETS = {model.SINGLE, model.GROUP, model.CHATROOM}


def _flag(body, field):
    value = body.get(field, False)
    if type(value) is not bool:
        raise params.bad(f"{field} must be true or false")
    return value


def draft_of(body, app_key):
    """The L{model.Draft} and the sender of a send-message body; JimError for a bad one."""
    version = body.get("version")
    if version is None:
        raise params.bad("version is required")
    if version not in (VERSION, str(VERSION)) or type(version) is bool:
        raise params.bad(f"version must be {VERSION}")
    target_type = params.text(body, "target_type", required=True)
    if target_type not in _TARGETS:
        raise params.bad("target_type must be single, group or chatroom")
    target = body.get("target_id")
    if target_type != model.SINGLE:
        target = str(params.gid(target, "target_id"))
    else:
        if type(target) is int:  # not a bool: type() is exact
            target = str(target)
        target = params.name(target, "target_id")
    target_app = body.get("target_appkey")
    if target_type == model.SINGLE and model.QUALIFIER in target:
        raise JimError(errors.CROSS_APP, "target_id is a username: another app's user is"
                       " named by target_appkey")
    if target_app in (None, "", app_key):
        target_app = None
    elif type(target_app) is not str:
        raise params.bad("target_appkey must be an appKey")
    else:  # another app's user, group or room, by the name the core knows it by
        target = model.qualified(target_app, target)  # (jim.core.cross_apps, and so on)
    from_type = params.text(body, "from_type", required=True)
    if from_type != model.FROM_ADMIN:
        raise params.bad("from_type must be admin: the REST API sends in an admin's name")
    sender = params.name(body.get("from_id"), "from_id")
    msg_type = params.text(body, "msg_type", required=True)
    msg_body = jmessage.check_body(msg_type, body.get("msg_body"))
    draft = model.Draft(target_type, target, msg_type, msg_body, None, None, model.FROM_ADMIN,
                        _flag(body, "no_offline"), _flag(body, "no_notification"), target_app)
    return draft, sender


@route("POST", "/v1/messages", body_limit=16 * 1024)
async def send(call):
    """Send a message from an admin to a user, a group or a chat room, or to those of another
    app that allows this one (C{target_appkey})."""
    draft, sender = draft_of(params.obj(call.json()), call.app.key)
    stored, _ = await call.core.messages.send(call.app.key, sender, draft)
    return 201, {"msg_id": stored.id, "msg_ctime": stored.created}


@route("POST", "/v1/messages/{username}/{msgid}/retract", body_limit=4 * 1024)
async def retract(call):
    """Retract a message its sender sent within the retract window (any body is ignored:
    the Python client sends one)."""
    message_id = params.gid(call.params["msgid"], "msgid")
    await call.core.messages.retract(call.app.key, call.params["username"], message_id)
    return 204, None
