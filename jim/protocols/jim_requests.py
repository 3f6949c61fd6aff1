# -*- test-case-name: tests.test_protocols_jim_groups -*-
"""What jim's own request/reply commands for JMessage's Web SDK share (cmd 111, 113 and those
made the same way): the client's ``seq`` echoed as ``data.seq`` of the reply, and a refusal
that keeps the connection open and says why in JMessage's words.

L{answering} makes a command's handler (a L{jim.protocols.jim_commands.Handler}'s ``run``) of
a coroutine C{run(session, obj)} that returns the reply's ``data`` (a dict). The reply is the
response command with 10000 and that data, after ``op`` (for a command with ops, when the
request has a usable one) and ``seq`` (when it has one). A L{JimError} the coroutine raises,
or a bad ``seq``, is answered with 10020, ``detail`` (why) and ``data.code``, the JMessage
REST code of the reason (L{jim.wire.jmessage_codes}; 899016 for something the user may not
do), with the request's ``op`` and ``seq``. Any other failure is logged and answered the same
way, with 899000. Before the login the session refuses the command itself, as any other.

    HANDLER = Handler(REQ, RESP, status.INVALID, answering(RESP, run))
"""
from twisted.logger import Logger

from jim import errors
from jim.errors import JimError
from jim.wire import jimjson, sdk_requests, status
from jim.wire.jmessage_codes import jmessage_code

log = Logger()

#: where these commands report another code than the REST API's default
CODES = {errors.NOT_ALLOWED: 899016}


def answering(response, run, codes=None, echo_op=False):
    """The handler of a command answered by C{response}: C{run(session, obj)} -> data.
    C{codes}: neutral code -> JMessage code, where the command reports another than
    L{CODES} and the REST API do; C{echo_op}: the command has ops, and its replies echo the
    request's ``op``."""
    overrides = dict(CODES, **(codes or {}))

    async def handle(session, obj):
        head = {}
        op = sdk_requests.echoed_op(obj) if echo_op else None
        if op is not None:
            head["op"] = op
        try:
            seq = sdk_requests.seq(obj)
            if seq is not None:
                head["seq"] = seq
            data = await run(session, obj)
        except JimError as error:
            if error.code not in errors.SERVER_FAULTS:
                session.core.metrics.bad_input += 1
            _refuse(session, response, error, head, overrides)
            return
        except Exception:
            log.failure("the request answered by cmd {response} from {peer} failed",
                        response=response, peer=session.peer)
            _refuse(session, response, JimError(errors.SERVER_ERROR, "internal error"), head,
                    overrides)
            return
        if not session.closed:
            session.client.send(response, jimjson.reply(response, status.OK,
                                                        data={**head, **data}))

    return handle


def _refuse(session, response, error, head, overrides):
    if session.closed:
        return
    data = {"code": jmessage_code(error, overrides), **head}
    session.client.send(response, jimjson.reply(response, status.INVALID, data=data,
                                                detail=error.detail))
