# -*- test-case-name: tests.test_protocols_jim_body_chat,tests.integration.test_socket_media -*-
"""cmd 11 with a ``msgBody``: a media, location or custom message sent from a socket
(docs/wire-protocol.md §6.6, "Sending a JMessage body").

Only a chat that carries a ``msgBody`` comes here (L{jim.protocols.jim_commands.chat} sends
the others on its own, faster path). Its body is checked as the REST API checks a
``msg_body`` (L{jim.wire.jim_body_chat}); the media ids it names must be uploads of the
sender's app (L{jim.core.media.Media.require_uploads}); then it is sent as any chat is, and
answered by cmd 12 as any chat is.
"""
from jim import errors, model
from jim.errors import JimError
from jim.wire import jim_body_chat, jimjson


async def send_body_chat(session, obj):
    """Send a cmd 11 that has a C{msgBody}: C{(stored, delivered)} as
    L{jim.core.messages.Messages.send} gives them; a refusal is a raised JimError, and
    nothing is stored."""
    draft, group_id = jim_body_chat.body_chat_draft(obj)
    core = session.core
    app = session.app
    rates = core.chat_rates
    if rates.enabled:
        refusal = rates.charge(app, session.username, session.address)
        if refusal is not None:
            raise refusal
    named = jim_body_chat.media_ids(draft)
    if named:
        if core.media is None:
            raise JimError(errors.NO_SUCH_MEDIA, "this server keeps no media")
        await core.media.require_uploads(app, named)
    # another app's group, <appKey>:<gid>, is named so to the core too, as by a plain chat
    if group_id is not None and model.QUALIFIER not in group_id:
        gid = await core.groups.require_gid_named(app, *jimjson.group_ref(group_id))
        draft = draft._replace(target=str(gid))
    return await core.messages.send(app, session.username, draft, session.id)
