# -*- test-case-name: tests.integration.test_rest_users,tests.integration.test_rest_relations,tests.integration.test_rest_groups -*-
"""The JSON shapes of JMessage's REST API (reference sections 2.9 and 4), from jim's values.

Users, groups and group members are shaped by L{jim.wire.jmessage_shapes} (jim's socket
commands for the Web SDK answer the same objects); they are named here too, beside the shapes
only the REST API answers. Times of users and groups are ``yyyy-MM-dd HH:mm:ss`` in UTC;
message times are epoch ms.
"""
from jim.wire.jmessage_shapes import MEMBER_FLAGS, clock_time, group, member, profile, user

__all__ = ["MEMBER_FLAGS", "clock_time", "profile", "user", "group", "member", "friend", "room",
           "room_member"]


def friend(relation, friend_user):
    """A friend in a friend list: the user, the owner's notes on it, and its app (another
    app's, for a cross-app friend)."""
    out = user(friend_user)
    out["note_name"] = relation.note_name
    out["others"] = relation.others
    out["appkey"] = friend_user.app
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
