# -*- test-case-name: tests.test_protocols_jim_groups,tests.integration.test_sdk_groups -*-
"""jim's commands for JMessage's Web SDK on J-IM's TCP and WebSocket: cmd 111, a user's own
group calls (answered by cmd 112), and cmd 113, a user's profile (cmd 114). Their objects are
the REST API's (L{jim.wire.jmessage_shapes}); who may make which call is the core's
(L{jim.core.own_groups}). See docs/wire-protocol.md, sections 6.17 and 6.18."""
from jim.protocols.jim_requests import answering
from jim.wire import jmessage_shapes as shapes
from jim.wire import sdk_requests, status
from jim.wire.sdk_requests import ADD, CREATE, EXIT, INFO, LIST, REMOVE, UPDATE


async def _create(session, request):
    group = await session.core.own_groups.create(session.app, session.username, request.name,
                                                 request.desc, request.usernames)
    return {"group": shapes.group(group)}


async def _info(session, request):
    core, app = session.core, session.app
    group, members = await core.own_groups.info(app, session.username, request.gid)
    users = await core.users.get_many(app, [m.username for m in members])
    return {"group": shapes.group(group),
            "members": [shapes.member(m, users.get(m.username)) for m in members]}


async def _update(session, request):
    group = await session.core.own_groups.update(session.app, session.username, request.gid,
                                                 request.name, request.desc)
    return {"group": shapes.group(group)}


async def _add(session, request):
    await session.core.own_groups.add(session.app, session.username, request.gid,
                                      request.usernames)
    return {"gid": request.gid}


async def _remove(session, request):
    await session.core.own_groups.remove(session.app, session.username, request.gid,
                                         request.usernames)
    return {"gid": request.gid}


async def _exit(session, request):
    await session.core.own_groups.exit(session.app, session.username, request.gid)
    return {"gid": request.gid}


async def _list(session, request):
    listed = await session.core.own_groups.listed(session.app, session.username)
    return {"groups": [dict(shapes.group(group), member_usernames=names)
                       for group, names in listed]}


_OPS = {CREATE: _create, INFO: _info, UPDATE: _update, ADD: _add, REMOVE: _remove,
        EXIT: _exit, LIST: _list}


async def _group_call(session, obj):
    request = sdk_requests.group_request(obj)
    return await _OPS[request.op](session, request)


async def _profile(session, obj):
    username = sdk_requests.profile_request(obj)
    user = await session.core.users.get(session.app, username)
    return {"user": shapes.user(user)}


#: cmd 111: C{{"op", "seq"?, ...}} -> cmd 112
group_call = answering(status.GROUPS_RESP, _group_call, echo_op=True)
#: cmd 113: C{{"username", "seq"?}} -> cmd 114
profile = answering(status.PROFILE_RESP, _profile)
