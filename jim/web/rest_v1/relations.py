# -*- test-case-name: tests.integration.test_rest_relations -*-
"""Friends, blacklists, group shields and no-disturb settings (reference section 2.2)."""
from jim import errors, model
from jim.errors import JimError
from jim.web.rest_v1 import params, shapes
from jim.web.rest_v1.router import route

#: the most users one friends call names
FRIENDS_MAX = 500
_LIST_BODY = 64 * 1024
#: the keys of a shield body, and of a no-disturb body's single and group
_CHANGES = ("add", "remove")


def _in_app(names):
    """The names, refused when one is another app's user's (``<appkey>:<username>``): those
    are the cross-app routes' (jim.web.rest_v1.cross)."""
    for name in names:
        if model.QUALIFIER in name:
            raise JimError(errors.CROSS_APP, f"{name!r} names another app's user: use"
                           " /v1/cross/users")
    return names


@route("GET", "/v1/users/{username}/friends")
async def friends(call):
    """A user's friends (those of other apps too, each with its appkey), with its notes on
    each."""
    app, owner = call.app.key, call.params["username"]
    relations = await call.core.relations.friends(app, owner)
    users = await call.core.cross.users_named(app, [r.target for r in relations])
    return 200, [shapes.friend(r, users[r.target]) for r in relations if r.target in users]


@route("POST", "/v1/users/{username}/friends", body_limit=_LIST_BODY)
async def add_friends(call):
    """Make the user and each of these users friends (both ways)."""
    names = _in_app(params.names(call.json(), limit=FRIENDS_MAX))
    await call.core.relations.add_friends(call.app.key, call.params["username"], names)
    return 201, None


@route("DELETE", "/v1/users/{username}/friends", body_limit=_LIST_BODY)
async def remove_friends(call):
    """End the friendship of the user with each of these users."""
    names = _in_app(params.names(call.json(), limit=FRIENDS_MAX))
    await call.core.relations.remove_friends(call.app.key, call.params["username"], names)
    return 204, None


@route("PUT", "/v1/users/{username}/friends", body_limit=256 * 1024)
async def update_friends(call):
    """Change the user's notes on friends: C{[{username, note_name?, others?}, ...]}."""
    entries = call.json()
    if type(entries) is not list or not entries:
        raise params.bad("the body must be a JSON array of friends")
    if len(entries) > FRIENDS_MAX:
        raise JimError(errors.TOO_MANY, f"at most {FRIENDS_MAX} friends per call")
    notes = []
    for entry in entries:
        entry = params.obj(entry, "each friend")
        notes.append((_in_app([params.name(entry.get("username"))])[0],
                      params.text(entry, "note_name"),  # None: left as it is
                      params.text(entry, "others")))
    await call.core.relations.update_friends(call.app.key, call.params["username"], notes)
    return 204, None


@route("GET", "/v1/users/{username}/blacklist")
async def blacklist(call):
    """The users a user has blacklisted."""
    app = call.app.key
    names = await call.core.relations.blacklist(app, call.params["username"])
    users = await call.core.users.get_many(app, names)
    return 200, [shapes.user(users[n]) for n in names if n in users]


@route("PUT", "/v1/users/{username}/blacklist", body_limit=_LIST_BODY)
async def add_blacklist(call):
    """Blacklist users: their private messages to the user are refused."""
    names = _in_app(params.names(call.json(), limit=FRIENDS_MAX))
    await call.core.relations.add_blacklist(call.app.key, call.params["username"], names)
    return 204, None


@route("DELETE", "/v1/users/{username}/blacklist", body_limit=_LIST_BODY)
async def remove_blacklist(call):
    """Take users off the user's blacklist."""
    names = _in_app(params.names(call.json(), limit=FRIENDS_MAX))
    await call.core.relations.remove_blacklist(call.app.key, call.params["username"], names)
    return 204, None


@route("POST", "/v1/users/{username}/groupsShield", body_limit=_LIST_BODY,
       codes={errors.NO_SUCH_GROUP: 899051, errors.NOT_MEMBER: 899046})
async def shields(call):
    """Shield the user from groups (``{"add": [gid]}``) or stop (``{"remove": [gid]}``)."""
    body = params.only(params.obj(call.json()), _CHANGES)
    add = params.gids(params.array(body, "add"), "add")
    remove = params.gids(params.array(body, "remove"), "remove")
    if not add and not remove:
        raise params.bad("name groups to add or remove")
    await call.core.relations.set_shields(call.app.key, call.params["username"], add, remove)
    return 204, None


def _changes(body, key, read):
    """The C{(add, remove)} lists of a no-disturb setting (``single`` or ``group``), each read
    by C{read}; absent, the setting changes nothing."""
    setting = params.only(params.obj(body.get(key, {}), key), _CHANGES, key)
    return tuple(read(params.array(setting, part, f"{key}.{part}"), f"{key}.{part}")
                 for part in _CHANGES)


def _usernames(value, field):
    return _in_app(params.names(value, field, allow_empty=True))


@route("POST", "/v1/users/{username}/nodisturb", body_limit=_LIST_BODY,
       codes={errors.NO_SUCH_GROUP: 899045, errors.NOT_MEMBER: 899046})
async def nodisturb(call):
    """Change no-disturb settings: for users (``single``), groups (``group``), everything
    (``global`` 1 or 0); any of them in one call, and at least one change."""
    body = params.only(params.obj(call.json()), ("single", "group", "global"))
    add_users, remove_users = _changes(body, "single", _usernames)
    add_groups, remove_groups = _changes(body, "group", params.gids)
    everything = body.get("global")
    if everything is not None:
        if everything not in (0, 1) or type(everything) is bool:
            raise params.bad("global must be 1 (on) or 0 (off)")
        everything = everything == 1
    changes = dict(add_users=add_users, remove_users=remove_users, add_groups=add_groups,
                   remove_groups=remove_groups)
    if everything is None and not any(changes.values()):
        raise params.bad("nothing to change: name users, groups or global")
    await call.core.relations.set_nodisturb(call.app.key, call.params["username"],
                                            everything=everything, **changes)
    return 204, None
