# -*- test-case-name: tests.integration.test_cross_relations -*-
"""``/v1/cross/users``: a user's friends, blacklist and no-disturb settings about the users
of other apps (reference section 2.10). Each user is named with its app (``appkey``); an app
that does not allow the caller's is refused (899020) and the call changes nothing. See
docs/rest-api.md, "Cross-app"."""
from jim import errors
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
    """No-disturb for users of other apps: C{[{appkey, single?: {add?, remove?}, group?:
    {add?, remove?}}]}; groups only of the caller's own app (no user is a member of another
    app's group)."""
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
        if (groups_on or groups_off) and key != call.app.key:
            raise JimError(errors.CROSS_APP, "no-disturb for groups names the caller's own"
                           " app's groups only")
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

