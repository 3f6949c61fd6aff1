# -*- test-case-name: tests.integration.test_rest_users,tests.integration.test_rest_groups,tests.integration.test_sdk_groups -*-
"""The JSON shapes of JMessage's users, groups and group members (reference sections 2.9 and
4), from jim's values: what the REST API answers and what jim's own socket commands for
JMessage's Web SDK (cmd 111 and 113) answer, the same objects in both. Pure code.

Times of users and groups are ``yyyy-MM-dd HH:mm:ss`` in UTC.
"""
import datetime

import orjson

from jim import model

#: a member's ``flag`` in a group's member list (JMessage's Web SDK also uses 2 for an admin)
MEMBER_FLAGS = {model.MEMBER: 0, model.OWNER: 1, model.ADMIN: 2}


def clock_time(ms):
    """Epoch ms as JMessage writes times: ``yyyy-MM-dd HH:mm:ss`` (UTC)."""
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def profile(user):
    """The profile fields a user has set (unset ones are left out, as JMessage does)."""
    out = {}
    for field in ("nickname", "avatar", "signature", "region", "address"):
        value = getattr(user, field)
        if value:
            out[field] = value
    if user.birthday:
        out["birthday"] = f"{user.birthday} 00:00:00"
    if user.gender:
        out["gender"] = user.gender
    if user.extras is not None:
        out["extras"] = orjson.Fragment(user.extras)
    return out


def user(user):
    """JMessage's user object (``U``)."""
    return {"username": user.username, **profile(user), "mtime": clock_time(user.mtime),
            "ctime": clock_time(user.ctime)}


def group(group):
    """JMessage's group object (``G``)."""
    return {
        "gid": group.gid,
        "name": group.name,
        "desc": group.desc,
        "appkey": group.app,
        "MaxMemberCount": group.max_members,
        "owner_username": group.owner,
        "avatar": group.avatar,
        "flag": group.flag,
        "mtime": clock_time(group.mtime),
        "ctime": clock_time(group.ctime),
    }


def member(member, member_user):
    """An entry of a group's member list."""
    out = {"username": member.username}
    if member_user is not None:
        out.update(profile(member_user))
    out["flag"] = MEMBER_FLAGS[member.role]
    if member.silenced:
        out["silenced"] = True
    return out
