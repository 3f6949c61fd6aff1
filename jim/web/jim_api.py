"""J-IM's HTTP API as 2.x intended it, protected by the app's Basic credentials.

- ``/api/message/send``: the body is a ChatBody JSON; ``from`` names the sending user of the app.
- ``/api/user/online?userid=``: 10019 online / 10001 offline.
- ``/api/user/close?userid=``: closes every connection of the user, 10021.

Replies keep J-IM's shapes (``code``/``msg``, HTTP 200); missing credentials get 401, and a
request another site's page made a browser send gets 403 (L{jim.web.resource.basic_credentials}).
"""
import orjson

from jim import errors
from jim.errors import JimError
from jim.wire import jimjson, status

from jim.web.resource import JSON, AsyncResource, Directory, basic_credentials, query_arg

#: refusals of the credentials, answered as every other HTTP API of jim answers them
_CREDENTIALS = frozenset((errors.MISSING_AUTH, errors.AUTH_FAILED, errors.NO_SUCH_APP,
                          errors.CROSS_SITE))


class _JimApiResource(AsyncResource):
    #: the J-IM command every refusal of this resource answers with (None: a bare status)
    command = None

    def __init__(self, core):
        super().__init__()
        self.core = core

    def error(self, request, error, client_id=None):
        if error.code in _CREDENTIALS:
            return super().error(request, error)
        if error.code not in errors.SERVER_FAULTS:
            self.core.metrics.bad_input += 1  # as the J-IM wire counts them
        if self.command is None:
            body = orjson.dumps({"code": status.INVALID, "msg": status.message(status.INVALID),
                                  "detail": error.detail})
        else:
            body = jimjson.refusal(self.command, status.SEND_FAILED, error, client_id)
        return 200, body, JSON

    async def app(self, request):
        key, secret = basic_credentials(request)
        app = await self.core.accounts.check_app_secret(key, secret)
        return app.key

    def userid(self, request):
        user = query_arg(request, "userid") or query_arg(request, "userId")
        if not user:
            raise JimError(errors.BAD_REQUEST, "userid is required")
        return user


def _status_only(code):
    return orjson.dumps({"code": code, "msg": status.message(code)})


class SendMessage(_JimApiResource):
    """Every reply but a 401 or 403 is a cmd 12 status reply, as J-IM's chat handler
    answers."""

    command = status.CHAT_RESP

    async def respond(self, request):
        app = await self.app(request)
        obj = jimjson.loads(request.content.read())
        try:
            sender = jimjson.name(obj, "from", required=True)  # the core refuses a stranger
            draft, group_id = jimjson.chat_draft(obj)
            if group_id is not None:
                gid = await self.core.groups.require_gid_named(app, *jimjson.group_ref(group_id))
                draft = draft._replace(target=str(gid))
            stored, delivered = await self.core.messages.send(app, sender, draft)
        except JimError as e:  # the refusal names the chat, as the acknowledgement would
            return self.error(request, e, jimjson.chat_client_id(obj))
        code = status.OK if delivered else status.OFFLINE
        data = {"id": str(stored.id), "createTime": stored.created}
        if stored.client_id is not None:
            data["clientId"] = stored.client_id
        return 200, jimjson.reply(status.CHAT_RESP, code, data=data), JSON


class UserOnline(_JimApiResource):
    async def respond(self, request):
        app = await self.app(request)
        online = self.core.users.online(app, self.userid(request))
        return 200, _status_only(status.ONLINE if online else status.OFFLINE), JSON


class UserClose(_JimApiResource):
    async def respond(self, request):
        app = await self.app(request)
        user = self.userid(request)
        self.core.hub.kick(app, user, "closed through the HTTP API")
        self.log.info("HTTP API closed the connections of {user}", user=user)
        return 200, _status_only(status.CLOSE_OK), JSON


def jim_api(core):
    """The ``/api`` resource tree."""
    api = Directory()
    message = Directory()
    user = Directory()
    api.putChild(b"message", message)
    api.putChild(b"user", user)
    message.putChild(b"send", SendMessage(core))
    user.putChild(b"online", UserOnline(core))
    user.putChild(b"close", UserClose(core))
    return api
