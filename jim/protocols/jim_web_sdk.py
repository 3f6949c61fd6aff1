# -*- test-case-name: tests.integration.test_web_sdk_config -*-
"""The Web SDK's signed configuration on J-IM's TCP and WebSocket: cmd 109, answered by cmd
110, before a login (docs/web-sdk.md; docs/wire-protocol.md, "cmd 109: the Web SDK's
configuration"). A refusal answers 10020 with the code JMessage's SDK of that form reports:
872004 or 872005 (v1), 880102 or 880106 (v2), 872004 / 880102 for a malformed one too."""
from jim import errors
from jim.core.web_sdk import V1
from jim.errors import JimError
from jim.wire import status
from jim.wire import jimjson

#: (form, neutral code) -> the code JMessage's Web SDK of that form reports
_SDK_CODES = {
    (V1, errors.SIGNATURE_EXPIRED): 872005,
    ("v2", errors.SIGNATURE_EXPIRED): 880106,
}


def _form(obj):
    return V1 if "appKey" in obj or "randomStr" in obj else "v2"


async def configure(session, obj):
    """cmd 109: the page's appKey, timestamp, random string and signature. Once checked, the
    connection's login is into that app (a login naming another app is refused)."""
    if session.username is not None:
        raise JimError(errors.NOT_ALLOWED, "configure before logging in")
    try:
        config = await session.core.web_sdk.configure(obj)
    except JimError as e:
        form = _form(obj)
        code = _SDK_CODES.get((form, e.code), 872004 if form == V1 else 880102)
        session.client.send(status.CONFIG_RESP, jimjson.reply(
            status.CONFIG_RESP, status.INVALID, data={"code": code}, detail=e.detail))
        return
    session.configured_app = config.app
    session.client.send(status.CONFIG_RESP, jimjson.reply(
        status.CONFIG_RESP, status.OK, data={"appKey": config.app, "form": config.form}))
