# -*- test-case-name: tests.test_wire_jim_events -*-
"""Events on the J-IM wire: J-IM's own notifications where J-IM has them, and jim's event
command for everything JMessage tells its clients (docs/wire-protocol.md, "Events").

- A user's first connection (L{USER_ONLINE}) and members added are J-IM's cmd 9 for each
  group and user; a user's last connection closing (L{USER_OFFLINE}) and members removed or
  gone are J-IM's cmd 10.
- Every event but presence is also cmd L{status.EVENT} (100, outside J-IM's 0..20, so a J-IM
  client that does not know it skips it), with JMessage's event object: its numeric
  ``event_type`` and field names as JMessage's Web SDK gets them.
"""
import orjson

from jim import model
from jim.wire import jimjson, status

#: JMessage's event_type of each event kind (reference section 4.5)
EVENT_TYPES = {
    model.USER_FORBIDDEN: 1,
    model.USER_DELETED: 1,
    model.LOGGED_IN_ELSEWHERE: 1,
    model.PASSWORD_CHANGED: 2,
    model.FRIEND_ADDED: 5,
    model.FRIEND_REMOVED: 6,
    model.FRIEND_UPDATED: 7,
    model.GROUP_CREATED: 8,
    model.MEMBER_LEFT: 9,
    model.GROUP_DISSOLVED: 9,
    model.MEMBERS_ADDED: 10,
    model.MEMBERS_REMOVED: 11,
    model.GROUP_UPDATED: 12,
    model.NODISTURB_CHANGED: 37,
    model.BLACKLIST_CHANGED: 38,
    model.USER_UPDATED: 40,
    model.MESSAGE_RETRACTED: 55,
    model.MEMBER_SILENCED: 65,
    model.OWNER_TRANSFERRED: 82,
}
#: exit group (9) with this extra: the owner dissolved the group
DISSOLVED_EXTRA = 69
#: the return_code of L{model.LOGGED_IN_ELSEWHERE}: JMessage's "logged in elsewhere"
LOGGED_IN_ELSEWHERE_CODE = 872008


def frames(event, alias=None):
    """The J-IM frames, C{[(command, body bytes), ...]}, that tell a client of C{event};
    C{alias} is the J-IM name of its group, if it has one."""
    kind = event.kind
    out = []
    if kind in (model.USER_ONLINE, model.MEMBERS_ADDED):
        group_id = _group_id(event, alias)
        for user in event.users:
            out.append((status.JOIN_GROUP_NOTIFY, join_notify(group_id, jimjson.card_json(user))))
    elif kind in (model.USER_OFFLINE, model.MEMBERS_REMOVED, model.MEMBER_LEFT):
        group_id = _group_id(event, alias)
        for user in event.users:
            data = {"group": group_id, "user": jimjson.card_json(user)}
            out.append((status.EXIT_GROUP_NOTIFY,
                        jimjson.reply(status.EXIT_GROUP_NOTIFY, data=data)))
    if kind in EVENT_TYPES:
        out.append((status.EVENT, orjson.dumps({"command": status.EVENT,
                                                "data": event_json(event, alias)})))
    return out


def _foreign_group(event):
    """Another app's group, as a copy of its event names it (C{<appkey>:<gid>}, with no
    gid: L{jim.core.cross_groups}), else None."""
    if event.gid is None and event.target_type == model.GROUP and event.target \
            and model.QUALIFIER in event.target:
        return event.target
    return None


def _group_id(event, alias):
    foreign = _foreign_group(event)
    if foreign is not None:
        return foreign
    return jimjson.jim_group_id(event.gid, alias)


def join_notify(group_id, user_json):
    return jimjson.reply(status.JOIN_GROUP_NOTIFY, status.JOIN_OK, group=group_id,
                         user=user_json)


def _to_user(card, app):
    username = card.username
    if model.QUALIFIER in username:  # rare: another app's user
        app, username = model.unqualified(username, app)
    return {"username": username, "appkey": app, "nickname": card.nickname}


def event_json(event, alias=None):
    """JMessage's event object (reference section 4.5) for one event. Another app's user,
    named C{<appkey>:<username>} in the event (L{model.qualified}), is shown by its username
    and its appkey."""
    from_app, actor = model.unqualified(event.actor, event.app)
    obj = {
        "event_id": event.id,
        "event_type": EVENT_TYPES[event.kind],
        "kind": event.kind,
        "from_username": actor,
        "from_appkey": from_app,
        "to_usernames": [_to_user(u, event.app) for u in event.users],
        "ctime_ms": event.created,
    }
    foreign = _foreign_group(event)
    if event.gid is not None or foreign is not None:
        group_app, gid = model.unqualified(foreign or "", event.app)
        obj["gid"] = event.gid if foreign is None else int(gid)
        obj["groupId"] = _group_id(event, alias)
        if foreign is not None:
            obj["group_appkey"] = group_app
        if event.group_name:
            obj["group_name"] = event.group_name
    extra = _extra(event)
    if extra is not None:
        obj["extra"] = extra
    if event.new_owner:
        obj["new_owner"] = event.new_owner
    if event.kind == model.MESSAGE_RETRACTED:
        obj["msgid_list"] = list(event.message_ids)
        if event.target_type == model.GROUP:
            obj["type"] = 1
            obj["from_gid"] = int(model.unqualified(event.target, event.app)[1])
        elif event.target_type == model.CHATROOM:  # jim's: a chat room's message
            obj["type"] = 2
            target = event.target or ""
            obj["roomId"] = int(target) if target.isdigit() and target.isascii() else target
        else:
            obj["type"] = 0
            obj["target"] = event.target
    if event.kind == model.LOGGED_IN_ELSEWHERE:
        obj["return_code"] = LOGGED_IN_ELSEWHERE_CODE
    if event.description:
        obj["description"] = event.description
    return obj


def _extra(event):
    kind = event.kind
    if kind == model.GROUP_DISSOLVED:
        return DISSOLVED_EXTRA
    if kind == model.MEMBER_SILENCED:
        return 1 if event.flag else 2
    if kind in (model.BLACKLIST_CHANGED, model.NODISTURB_CHANGED) and event.flag is not None:
        return 1 if event.flag else 2
    if kind == model.FRIEND_ADDED:
        return 2  # JMessage's "invitation accepted": friends made by the app server
    return None
