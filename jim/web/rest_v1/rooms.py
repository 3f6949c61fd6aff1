# -*- test-case-name: tests.integration.test_rest_rooms -*-
"""``/v1/chatroom``: chat rooms, their members and silences, and a user's rooms (reference
section 2.6). JMessage gives some calls codes of their own (850xxx to 853xxx)."""
from jim import errors
from jim.web.rest_v1 import params, shapes
from jim.web.rest_v1.router import route

#: the most users one member call names (JMessage's 3000)
MEMBERS_MAX = 3000
_MEMBERS_BODY = 512 * 1024
_UPDATE = {errors.NO_SUCH_ROOM: 853001, errors.NOT_IN_ROOM: 853002}
_DELETE = {errors.NO_SUCH_ROOM: 850001}
_ADD = {errors.NO_SUCH_USER: 851002, errors.IN_ROOM: 851003, errors.NO_SUCH_ROOM: 851004,
        errors.ROOM_FULL: 851006}
_REMOVE = {errors.NO_SUCH_ROOM: 852001, errors.NOT_IN_ROOM: 852002, errors.NOT_ALLOWED: 852003}


def _room_id(call):
    return params.gid(call.params["id"], "chat room id")


@route("GET", "/v1/chatroom")
async def list_rooms(call):
    """The app's chat rooms, a page at a time, in creation order."""
    start, count = params.page(call)
    total, rooms = await call.core.rooms.list(call.app.key, start, count)
    return 200, {"total": total, "start": start, "count": len(rooms),
                 "rooms": [shapes.room(room, size) for room, size in rooms]}


@route("POST", "/v1/chatroom/batch")
async def get_rooms(call):
    """The rooms of these ids that exist (a JSON array of ids), in that order."""
    ids = params.gids(call.json(), "chat room ids")
    if not 0 < len(ids) <= params.PAGE_MAX:
        raise params.bad(f"name 1 to {params.PAGE_MAX} chat rooms")
    found = await call.core.rooms.get_many(call.app.key, list(dict.fromkeys(ids)))
    return 200, [shapes.room(room, size) for room, size in found]


@route("POST", "/v1/chatroom", body_limit=_MEMBERS_BODY)
async def create_room(call):
    """Create a chat room with its owner and first members: C{{"chatroom_id": id}}."""
    body = params.obj(call.json())
    owner = params.name(params.text(body, "owner_username", required=True), "owner_username")
    members = params.names(params.array(body, "members_username"), "members_username",
                           limit=MEMBERS_MAX, allow_empty=True)
    room = await call.core.rooms.create(call.app.key, owner,
                                        params.text(body, "name", required=True), members,
                                        params.text(body, "description", default=""))
    return 201, {"chatroom_id": room.id}


@route("PUT", "/v1/chatroom/{id}", body_limit=8 * 1024, codes=_UPDATE)
async def update_room(call):
    """Change a room's name, description or owner (one of its members)."""
    body = params.only(params.obj(call.json()), ("owner_username", "name", "description"))
    owner = params.text(body, "owner_username")
    await call.core.rooms.update(
        call.app.key, _room_id(call), name=params.text(body, "name"),
        description=params.text(body, "description"),
        owner=None if owner is None else params.name(owner, "owner_username"))
    return 204, None


@route("DELETE", "/v1/chatroom/{id}", codes=_DELETE)
async def delete_room(call):
    await call.core.rooms.delete(call.app.key, _room_id(call))
    return 204, None


@route("GET", "/v1/chatroom/{id}/members")
async def members(call):
    """A page of a room's members, in the order they came in."""
    start, count = params.page(call)
    app = call.app.key
    total, listed = await call.core.rooms.member_page(app, _room_id(call), start, count)
    users = await call.core.users.get_many(app, [m.username for m in listed])
    return 200, {"total": total, "start": start, "count": len(listed),
                 "users": [shapes.room_member(m, users.get(m.username)) for m in listed]}


@route("PUT", "/v1/chatroom/{id}/members", body_limit=_MEMBERS_BODY, codes=_ADD)
async def add_members(call):
    """Add members: a JSON array of 1 to 3000 usernames, none of them in the room."""
    names = params.names(call.json(), limit=MEMBERS_MAX)
    await call.core.rooms.add_members(call.app.key, _room_id(call), names)
    return 204, None


@route("DELETE", "/v1/chatroom/{id}/members", body_limit=_MEMBERS_BODY, codes=_REMOVE)
async def remove_members(call):
    """Remove members: a JSON array of 1 to 3000 usernames, all in the room (not its owner)."""
    names = params.names(call.json(), limit=MEMBERS_MAX)
    await call.core.rooms.remove_members(call.app.key, _room_id(call), names)
    return 204, None


@route("PUT", "/v1/chatroom/{id}/forbidden/{username}")
async def silence(call):
    """C{?status=1} silences a member (its messages to the room are refused: 803012), 0 lets
    it speak again."""
    silenced = params.boolean(call.query("status"), "status")
    await call.core.cross_rooms.silence(call.app.key, _room_id(call), call.params["username"],
                                        silenced)
    return 204, None


@route("GET", "/v1/users/{username}/chatroom")
async def user_rooms(call):
    """The chat rooms a user is in, in the order it came into them."""
    found = await call.core.rooms.user_rooms(call.app.key, call.params["username"])
    return 200, [shapes.room(room, size) for room, size in found]
