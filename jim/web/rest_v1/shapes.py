# -*- test-case-name: tests.integration.test_rest_users,tests.integration.test_rest_relations,tests.integration.test_rest_groups -*-
"""The JSON shapes of JMessage's REST API (reference sections 2.9 and 4), from jim's values.

Times of users and groups are ``yyyy-MM-dd HH:mm:ss`` in UTC; message times are epoch ms.
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


def friend(relation, friend_user):
    """A friend in a friend list: the user, the owner's notes on it, and its app (another
    app's, for a cross-app friend)."""
    out = user(friend_user)
    out["note_name"] = relation.note_name
    out["others"] = relation.others
    out["appkey"] = friend_user.app
    return out


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


def room(room, size):
    """JMessage's chat room object (``R``), with how many members it has."""
    return {
        "id": room.id,
        "owner_username": room.owner,
        "max_member_count": room.max_members,
        "appkey": room.app,
        "name": room.name,
        "description": room.description,
        "total_member_count": size,
        "ctime": clock_time(room.ctime),
    }


def room_member(member, member_user):
    """An entry of a chat room's member list: ``flag`` 1 for a silenced member, 0 else;
    ``room_ctime`` when it came in, ``ctime`` and ``mtime`` the user's."""
    out = {"username": member.username, "flag": 1 if member.silenced else 0,
           "room_ctime": clock_time(member.joined)}
    if member_user is not None:
        out["mtime"] = clock_time(member_user.mtime)
        out["ctime"] = clock_time(member_user.ctime)
    return out
