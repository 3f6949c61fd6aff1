# -*- test-case-name: tests.test_protocols_jim_rooms -*-
"""jim's chat-room commands on J-IM's TCP and WebSocket: cmd 105 enters a room (answered by
cmd 106), cmd 107 leaves one (cmd 108); a member sends to a room with cmd 11, chatType 3.
See docs/wire-protocol.md, "cmd 105 and 107: chat rooms"."""
from jim.wire import jimjson, status


async def enter_room(session, obj):
    """cmd 105 C{{"roomId": id}}: the user is a member of the room from now on (entering
    one it is in changes nothing)."""
    room_id = jimjson.room_id(obj)
    await session.core.rooms.enter(session.app, session.username, room_id)
    session.client.send(status.ENTER_ROOM_RESP, jimjson.reply(
        status.ENTER_ROOM_RESP, status.OK, data={"roomId": room_id}))


async def leave_room(session, obj):
    """cmd 107 C{{"roomId": id}}: the user leaves the room (its owner may not)."""
    room_id = jimjson.room_id(obj)
    await session.core.rooms.leave(session.app, session.username, room_id)
    session.client.send(status.LEAVE_ROOM_RESP, jimjson.reply(
        status.LEAVE_ROOM_RESP, status.OK, data={"roomId": room_id}))
