# -*- test-case-name: tests.integration.test_rest_users -*-
"""``/v1/users`` and ``/v1/admins``: registration, profiles, passwords, the forbidden flag,
user state, a user's groups (reference section 2.1)."""
from twisted.internet import defer

from jim import errors, model
from jim.core import devices
from jim.errors import JimError
from jim.web.errors import jmessage_error
from jim.web.rest_v1 import params, shapes
from jim.web.rest_v1.router import route

#: the most users one register call takes (899013 past it)
REGISTER_MAX = 500
#: the most users one batch delete takes
DELETE_MAX = 100
#: a register body: 500 entries with their whole profile
REGISTER_BODY = 1024 * 1024


async def _register_all(call, entries, admin):
    """Register each entry: JMessage's answer for each, in order, and each one's refusal (a
    JimError, or None for an entry that was registered). The entries' password hashes are
    made concurrently in the bulk lane, which never takes the thread logins need."""
    outcomes = await defer.gatherResults(
        [defer.ensureDeferred(_register_one(call, entry, admin)) for entry in entries],
        consumeErrors=True)
    answers = [answer for answer, _ in outcomes]
    refusals = [refusal for _, refusal in outcomes]
    return answers, refusals


async def _register_one(call, entry, admin):
    name = entry.get("username") if type(entry) is dict else None
    try:
        entry = params.obj(entry, "each entry")
        name = params.username(entry.get("username"))
        password = params.text(entry, "password", required=True)
        profile = {field: entry[field] for field in model.PROFILE_FIELDS if entry.get(field) is not None}
        await call.core.users.register(call.app.key, name, password, profile, admin=admin,
                                       bulk=True)
    except JimError as e:
        return _entry_error(name, e), e
    return {"username": name}, None


def _entry_error(name, error):
    _, code = jmessage_error(error)
    message = "user exist" if error.code == errors.USER_EXISTS else error.detail
    answer = {"username": name} if type(name) is str else {}
    answer["error"] = {"code": code, "message": message}
    return answer


def _status(refusals):
    """201 when any entry was registered; 403 when every one was refused."""
    return 403 if all(refusals) else 201


@route("POST", "/v1/users", body_limit=REGISTER_BODY)
async def register(call):
    """Register users in a batch: one answer per entry, in order."""
    entries = call.json()
    if type(entries) is not list or not entries:
        raise params.bad("the body must be a JSON array of users")
    if len(entries) > REGISTER_MAX:
        raise JimError(errors.TOO_MANY, f"User list is bigger than {REGISTER_MAX}")
    answers, refusals = await _register_all(call, entries, admin=False)
    return _status(refusals), answers


@route("GET", "/v1/users")
async def list_users(call):
    """List users, a page at a time."""
    start, count = params.page(call)
    total, users = await call.core.users.list(call.app.key, start, count)
    return 200, {"total": total, "start": start, "count": len(users),
                 "users": [shapes.user(u) for u in users]}


@route("POST", "/v1/admins", body_limit=64 * 1024)
async def register_admin(call):
    """Register an admin (an object; the Python client sends an array of them)."""
    body = call.json()
    if type(body) is list:
        if not body:
            raise params.bad("the body must name an admin")
        if len(body) > REGISTER_MAX:
            raise JimError(errors.TOO_MANY, f"User list is bigger than {REGISTER_MAX}")
        answers, refusals = await _register_all(call, body, admin=True)
        return _status(refusals), answers
    _, (refusal,) = await _register_all(call, [params.obj(body)], admin=True)
    if refusal is not None:
        raise refusal
    return 201, None


@route("GET", "/v1/admins")
async def list_admins(call):
    """List admins, a page at a time."""
    start, count = params.page(call)
    total, users = await call.core.users.list(call.app.key, start, count, admin=True)
    return 200, {"total": total, "start": start, "count": len(users),
                 "users": [shapes.user(u) for u in users]}


@route("GET", "/v1/users/{username}")
async def get_user(call):
    """A user's profile."""
    found = await call.core.users.get(call.app.key, call.params["username"])
    return 200, shapes.user(found)


@route("PUT", "/v1/users/{username}", body_limit=8 * 1024)
async def update_user(call):
    """Change a user's profile (the core refuses a field that is not a profile field, and an
    empty object, before it looks the user up)."""
    changes = params.obj(call.json())
    await call.core.users.update(call.app.key, call.params["username"], changes)
    return 204, None


@route("DELETE", "/v1/users/{username}")
async def delete_user(call):
    """Delete a user: its connections close, its memberships and relations go."""
    await call.core.users.delete(call.app.key, call.params["username"])
    return 204, None


@route("DELETE", "/v1/users", body_limit=32 * 1024)
async def delete_users(call):
    """Delete users in a batch (no more than 100); those that do not exist are skipped."""
    names = params.names(call.json(), limit=DELETE_MAX)
    users = call.core.users
    for name in dict.fromkeys(names):
        if await users.find(call.app.key, name) is not None:
            await users.delete(call.app.key, name)
    return 204, None


@route("PUT", "/v1/users/{username}/password", body_limit=4 * 1024)
async def set_password(call):
    """Change a user's password: its connections close, its reconnect tokens stop working."""
    body = params.obj(call.json())
    password = params.text(body, "new_password", required=True)
    await call.core.users.set_password(call.app.key, call.params["username"], password)
    return 204, None


@route("GET", "/v1/users/{username}/userstat")
async def user_state(call):
    """Whether a user is logged in and online."""
    name = call.params["username"]
    await call.core.users.get(call.app.key, name)
    online = call.core.users.online(call.app.key, name)
    return 200, {"login": online, "online": online}


@route("POST", "/v1/users/userstat", body_limit=64 * 1024)
async def user_states(call):
    """The devices of several users, and whether each is online: one entry a device the
    user is logged in on, on any node (a J-IM connection that named no device is one), then
    one a device that logged in within the inbox's days and has no connection now."""
    names = params.names(call.json(), limit=REGISTER_MAX)
    app = call.app.key
    found = await call.core.users.require_all(app, names)
    presence = call.core.presence
    connections = [presence.connections(app, found[name].username) for name in names]
    pasts = await defer.gatherResults([
        defer.ensureDeferred(call.core.inbox.past_devices(
            app, found[name].username, [key for _, key in mine]))
        for name, mine in zip(names, connections)], consumeErrors=True).addErrback(
            lambda failure: failure.value.subFailure)
    return 200, [{"username": name, "devices": devices.devices(mine, past)}
                 for name, mine, past in zip(names, connections, pasts)]


@route("GET", "/v1/users/{username}/groups")
async def user_groups(call):
    """The groups a user is a member of."""
    name = call.params["username"]
    await call.core.users.get(call.app.key, name)
    groups = await call.core.groups.user_groups(call.app.key, name)
    return 200, [shapes.group(g) for g in groups]


@route("PUT", "/v1/users/{username}/forbidden")
async def forbid(call):
    """Forbid a user (it is disconnected and may not log in) or allow it again."""
    disable = params.boolean(call.query("disable"), "disable")
    await call.core.users.forbid(call.app.key, call.params["username"], disable)
    return 204, None
