# -*- test-case-name: tests.integration.test_cross_relations -*-
"""``/v1/cross/users``: a user's friends, blacklist and no-disturb settings about the users
of other apps (reference section 2.10). Each user is named with its app (``appkey``); an app
that does not allow the caller's is refused (899020) and the call changes nothing. See
docs/rest-api.md, "Cross-app"."""
from jim import errors, model
from jim.errors import JimError
from jim.web.rest_v1 import params, shapes
from jim.web.rest_v1.relations import FRIENDS_MAX
from jim.web.rest_v1.router import route

_BODY = 64 * 1024
_CHANGES = ("add", "remove")


def _appkey(entry):
    key = entry.get("appkey")
    if type(key) is not str or not key:
        raise params.bad("each entry needs its appkey")
    return key


def _entries(value, field):
    """A JSON array of C{{"appkey", field: [usernames]}}: C{[(appkey, [username, ...])]},
    at most L{FRIENDS_MAX} users in all."""
    if type(value) is not list or not value:
        raise params.bad(f"the body must be a JSON array of {{appkey, {field}}}")
    entries = []
    for entry in value:
        entry = params.only(params.obj(entry, "each entry"), ("appkey", field), "each entry")
        entries.append((_appkey(entry), params.names(entry.get(field), field)))
    _at_most(sum(len(names) for _, names in entries))
    return entries


def _at_most(count):
    if count > FRIENDS_MAX:
        raise JimError(errors.TOO_MANY, f"at most {FRIENDS_MAX} users per call")


@route("GET", "/v1/cross/users/{username}/blacklist")
async def blacklist(call):
    """The users a user has blacklisted, of every app, each with its appkey."""
    users = await call.core.cross_relations.blacklist(call.app.key, call.params["username"])
    return 200, [{**shapes.user(user), "appkey": user.app} for user in users]


@route("PUT", "/v1/cross/users/{username}/blacklist", body_limit=_BODY)
async def add_blacklist(call):
    """Blacklist users of other apps: C{[{appkey, usernames}]}."""
    entries = _entries(call.json(), "usernames")
    await call.core.cross_relations.add_blacklist(call.app.key, call.params["username"],
                                                  entries)
    return 204, None


@route("DELETE", "/v1/cross/users/{username}/blacklist", body_limit=_BODY)
async def remove_blacklist(call):
    """Take users of other apps off the user's blacklist: C{[{appkey, usernames}]}."""
    entries = _entries(call.json(), "usernames")
    await call.core.cross_relations.remove_blacklist(call.app.key, call.params["username"],
                                                     entries)
    return 204, None


def _setting(entry, key, read):
    setting = params.only(params.obj(entry.get(key, {}), key), _CHANGES, key)
    return tuple(read(params.array(setting, part, f"{key}.{part}"), f"{key}.{part}")
                 for part in _CHANGES)


@route("POST", "/v1/cross/users/{username}/nodisturb", body_limit=_BODY,
       codes={errors.NO_SUCH_GROUP: 899045, errors.NOT_MEMBER: 899046})
async def nodisturb(call):
    """No-disturb for users and groups of other apps: C{[{appkey, single?: {add?, remove?},
    group?: {add?, remove?}}]}; a group of another app is one the user is a member of
    (L{jim.core.cross_groups}), kept as C{<appkey>:<gid>}."""
    value = call.json()
    if type(value) is not list or not value:
        raise params.bad("the body must be a JSON array of {appkey, single?, group?}")
    add, remove, add_groups, remove_groups = [], [], [], []
    for entry in value:
        entry = params.only(params.obj(entry, "each entry"), ("appkey", "single", "group"),
                            "each entry")
        key = _appkey(entry)
        users_on, users_off = _setting(entry, "single",
                                       lambda v, f: params.names(v, f, allow_empty=True))
        groups_on, groups_off = _setting(entry, "group", params.gids)
        if key != call.app.key:  # another app's groups, as the caller's app names them
            groups_on = [model.qualified(key, str(gid)) for gid in groups_on]
            groups_off = [model.qualified(key, str(gid)) for gid in groups_off]
        add.append((key, users_on))
        remove.append((key, users_off))
        add_groups += groups_on
        remove_groups += groups_off
    _at_most(sum(len(names) for _, names in add + remove))
    if not any(names for _, names in add + remove) and not add_groups and not remove_groups:
        raise params.bad("nothing to change: name users or groups")
    await call.core.cross_relations.set_nodisturb(
        call.app.key, call.params["username"], [e for e in add if e[1]],
        [e for e in remove if e[1]], add_groups, remove_groups)
    return 204, None


def _friends_body(value):
    body = params.only(params.obj(value), ("appkey", "users"))
    return _appkey(body), params.names(body.get("users"), "users", limit=FRIENDS_MAX)


@route("POST", "/v1/cross/users/{username}/friends", body_limit=_BODY)
async def add_friends(call):
    """Make the user and each of another app's users friends (both ways): C{{appkey,
    users}}."""
    key, names = _friends_body(call.json())
    await call.core.cross_relations.add_friends(call.app.key, call.params["username"], key,
                                                names)
    return 201, None


@route("DELETE", "/v1/cross/users/{username}/friends", body_limit=_BODY)
async def remove_friends(call):
    """End friendships with another app's users: C{{appkey, users}}."""
    key, names = _friends_body(call.json())
    await call.core.cross_relations.remove_friends(call.app.key, call.params["username"], key,
                                                   names)
    return 204, None


@route("PUT", "/v1/cross/users/{username}/friends", body_limit=256 * 1024)
async def update_friends(call):
    """The user's notes on friends of other apps: C{[{appkey, username, note_name?,
    others?}]}."""
    entries = call.json()
    if type(entries) is not list or not entries:
        raise params.bad("the body must be a JSON array of friends")
    _at_most(len(entries))
    notes = []
    for entry in entries:
        entry = params.only(params.obj(entry, "each friend"),
                            ("appkey", "username", "note_name", "others"), "each friend")
        notes.append((_appkey(entry), params.name(entry.get("username")),
                      params.text(entry, "note_name"), params.text(entry, "others")))
    await call.core.cross_relations.update_friends(call.app.key, call.params["username"],
                                                   notes)
    return 204, None



# -- groups -----------------------------------------------------------------------------------

_MEMBERS_BODY = 128 * 1024
#: as in the app: a member to add that does not exist is 400 (reference section 2.3)
_ADDING = {errors.NO_SUCH_USER: (899002, 400)}


@route("POST", "/v1/cross/groups/{gid}/members", body_limit=_MEMBERS_BODY, codes=_ADDING)
async def change_group_members(call):
    """Add users of other apps to a group of this app, or remove them: C{[{appkey, add?,
    remove?}]}; the members are told, in their apps."""
    value = call.json()
    if type(value) is not list or not value:
        raise params.bad("the body must be a JSON array of {appkey, add?, remove?}")
    entries = []
    for entry in value:
        entry = params.only(params.obj(entry, "each entry"), ("appkey", "add", "remove"),
                            "each entry")
        add = params.names(params.array(entry, "add"), "add", allow_empty=True)
        remove = params.names(params.array(entry, "remove"), "remove", allow_empty=True)
        entries.append((_appkey(entry), add, remove))
    if not any(add or remove for _, add, remove in entries):
        raise params.bad("name members to add or remove")
    await call.core.cross_groups.change_members(call.app.key, params.gid(call.params["gid"]),
                                                entries)
    return 204, None


@route("GET", "/v1/cross/groups/{gid}/members")
async def group_members(call):
    """A group's members, of every app, each with its appkey (a profile only for the users
    of this app and of the apps that allow it now)."""
    listed = await call.core.cross_groups.member_list(call.app.key,
                                                      params.gid(call.params["gid"]))
    out = []
    for member, appkey, username, user in listed:
        shaped = shapes.member(member, user)
        shaped["username"] = username
        shaped["appkey"] = appkey
        out.append(shaped)
    return 200, out


@route("GET", "/v1/cross/users/{username}/groups")
async def user_groups(call):
    """The groups a user is a member of: its app's and those of the apps that allow it, each
    with its appkey (JMessage's cross-app list names the size ``max_member_count``; the
    in-app name is kept beside it)."""
    groups = await call.core.cross_groups.user_groups(call.app.key, call.params["username"])
    return 200, [{**shapes.group(group), "max_member_count": group.max_members}
                 for group in groups]


# -- chat rooms -------------------------------------------------------------------------------

_ROOM_ADD = {errors.NO_SUCH_USER: 851002, errors.IN_ROOM: 851003, errors.NO_SUCH_ROOM: 851004,
             errors.ROOM_FULL: 851006}
_ROOM_REMOVE = {errors.NO_SUCH_ROOM: 852001, errors.NOT_IN_ROOM: 852002,
                errors.NOT_ALLOWED: 852003}
#: the most users one chat room member call names (JMessage's 3000)
_ROOM_MEMBERS_MAX = 3000


def _room_entries(call):
    value = call.json()
    if type(value) is not list or not value:
        raise params.bad("the body must be a JSON array of {appkey, usernames}")
    entries = []
    for entry in value:
        entry = params.only(params.obj(entry, "each entry"), ("appkey", "usernames"),
                            "each entry")
        entries.append((_appkey(entry), params.names(entry.get("usernames"), "usernames",
                                                     limit=_ROOM_MEMBERS_MAX)))
    if sum(len(names) for _, names in entries) > _ROOM_MEMBERS_MAX:
        raise JimError(errors.TOO_MANY, f"at most {_ROOM_MEMBERS_MAX} users per call")
    return params.gid(call.params["id"], "chat room id"), entries


@route("POST", "/v1/cross/chatroom/{id}/members", body_limit=512 * 1024, codes=_ROOM_ADD)
async def add_room_members(call):
    """Bring users of other apps into a chat room of this app: C{[{appkey, usernames}]}."""
    room_id, entries = _room_entries(call)
    await call.core.cross_rooms.add_members(call.app.key, room_id, entries)
    return 204, None


@route("DELETE", "/v1/cross/chatroom/{id}/members", body_limit=512 * 1024,
       codes=_ROOM_REMOVE)
async def remove_room_members(call):
    """Take users of other apps out of a chat room of this app: C{[{appkey, usernames}]}."""
    room_id, entries = _room_entries(call)
    await call.core.cross_rooms.remove_members(call.app.key, room_id, entries)
    return 204, None
