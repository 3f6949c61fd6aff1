# -*- test-case-name: tests.test_protocols_jim_retract,tests.integration.test_socket_retract -*-
"""cmd 115, answered by cmd 116: a user retracts a message it sent, from its socket
(docs/wire-protocol.md, "cmd 115: retract one's own message").

It is the REST API's retraction (``POST /v1/messages/{username}/{msgid}/retract``,
L{jim.core.messages.Messages.retract}) in the logged-in user's name: the same retract window,
the same refusals, the same ``message_retracted`` event to the same users. The reply and its
refusals are those of jim's own request commands (L{jim.protocols.jim_requests}): ``seq``
echoed, 10020 with ``data.code`` (855001 too late, 855002 not the sender's, 855003 no such
message, 855004 retracted already)."""
from jim.protocols.jim_requests import answering
from jim.wire import retract_request, status


async def _retract(session, obj):
    message_id = retract_request.message_id(obj)
    await session.core.messages.retract(session.app, session.username, message_id)
    return {"msgId": str(message_id)}


#: cmd 115: C{{"msgId", "seq"?}} -> cmd 116
retract = answering(status.RETRACT_RESP, _retract)
