# -*- test-case-name: tests.integration.test_rest_groups -*-
"""``/v1/groups``: create, read, change and dissolve groups, their members, owner and
silences; and the ``/v2`` member calls (reference section 2.3)."""
from jim import errors, model
from jim.errors import JimError
from jim.web.rest_v1 import params, shapes
from jim.web.rest_v1.router import route

_MEMBERS_BODY = 128 * 1024
#: JMessage's clients expect 400, not 403, when a member to add does not exist (reference 2.3)
_ADDING = {errors.NO_SUCH_USER: (899002, 400)}


def _gid(call):
    return params.gid(call.params["gid"])


@route("GET", "/v1/groups")
async def list_groups(call):
    """List groups, a page at a time."""
    start, count = params.page(call)
    total, groups = await call.core.groups.list(call.app.key, start, count)
    return 200, {"total": total, "start": start, "count": len(groups),
                 "groups": [shapes.group(g) for g in groups]}


@route("POST", "/v1/groups", body_limit=_MEMBERS_BODY, codes=_ADDING)
async def create_group(call):
    """Create a group with its owner and first members; all of them are told."""
    body = params.obj(call.json())
    owner = params.name(params.text(body, "owner_username", required=True), "owner_username")
    name = params.text(body, "name", required=True)
    members = params.names(params.array(body, "members_username"), "members_username",
                           allow_empty=True)
    flag = body.get("flag")
    if flag is not None and type(flag) is not int:  # true would pass for 1, 2.0 for 2
        raise params.bad("flag must be 1 (private) or 2 (public)")
    if flag is None or flag == 0:  # the Java client always sends 0: JMessage's default
        flag = model.PRIVATE
    # the owner is who made it, for its members (the event's from_username), as in JMessage
    group = await call.core.groups.create(
        call.app.key, owner, name, members, avatar=params.text(body, "avatar", default=""),
        desc=params.text(body, "desc", default=""), flag=flag, actor=owner)
    answer = shapes.group(group)
    answer["members_username"] = [m for m in dict.fromkeys(members) if m != owner]
    return 201, answer


@route("GET", "/v1/groups/{gid}")
async def get_group(call):
    """A group."""
    return 200, shapes.group(await call.core.groups.get(call.app.key, _gid(call)))


@route("PUT", "/v1/groups/{gid}", body_limit=8 * 1024)
async def update_group(call):
    """Change a group's name, description or avatar; its members are told."""
    changes = params.obj(call.json())
    await call.core.groups.update(call.app.key, _gid(call), changes)
    return 204, None


@route("DELETE", "/v1/groups/{gid}")
async def dissolve_group(call):
    """Dissolve a group; its members are told."""
    await call.core.groups.dissolve(call.app.key, _gid(call))
    return 204, None


@route("GET", "/v1/groups/{gid}/members")
async def members(call):
    """A group's members, with their profiles and roles."""
    app = call.app.key
    listed = await call.core.groups.member_list(app, _gid(call))
    users = await call.core.users.get_many(app, [m.username for m in listed])
    return 200, [shapes.member(m, users.get(m.username)) for m in listed]


@route("POST", "/v1/groups/{gid}/members", body_limit=_MEMBERS_BODY, codes=_ADDING)
async def change_members(call):
    """Add members (``add``) and remove members (``remove``); members are told."""
    body = params.obj(call.json())
    add = params.names(params.array(body, "add"), "add", allow_empty=True)
    remove = params.names(params.array(body, "remove"), "remove", allow_empty=True)
    if not add and not remove:
        raise params.bad("name members to add or remove")
    groups, app, gid = call.core.groups, call.app.key, _gid(call)
    if add:  # each of the two refuses a group that does not exist
        await groups.add_members(app, gid, add)
    if remove:
        await groups.remove_members(app, gid, remove)
    return 204, None


@route("POST", "/v2/groups/{gid}/addMembers", body_limit=_MEMBERS_BODY, codes=_ADDING)
async def add_members(call):
    """Add members (a JSON array of usernames)."""
    names = params.names(call.json(), "members")
    await call.core.groups.add_members(call.app.key, _gid(call), names)
    return 204, None


@route("POST", "/v2/groups/{gid}/delMembers", body_limit=_MEMBERS_BODY)
async def remove_members(call):
    """Remove members (a JSON array of usernames)."""
    names = params.names(call.json(), "members")
    await call.core.groups.remove_members(call.app.key, _gid(call), names)
    return 204, None


@route("PUT", "/v1/groups/owner/{gid}", body_limit=4 * 1024)
async def transfer(call):
    """Hand a group to another member: ``{"username", "appkey"?}``."""
    body = params.obj(call.json(), "the body (the new owner)")
    username = params.name(body.get("username"), "username")
    appkey = body.get("appkey", body.get("appKey"))
    if appkey not in (None, "", call.app.key) or model.QUALIFIER in username:
        raise JimError(errors.CROSS_APP, "the new owner must be a user of this app")
    await call.core.groups.transfer(call.app.key, _gid(call), username)
    return 204, None


@route("PUT", "/v1/groups/messages/{gid}/silence", body_limit=_MEMBERS_BODY)
async def silence(call):
    """Silence members (``status=true``) or let them speak again (``false``)."""
    silenced = params.boolean(call.query("status"), "status")
    names = params.names(call.json(), "members")
    await call.core.cross_groups.silence(call.app.key, _gid(call), names, silenced)
    return 204, None
