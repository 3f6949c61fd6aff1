"""J-IM 3.0 command numbers and status codes, with their exact wire text.

The wire ``msg`` of a status is ``description + " " + text`` (spaces exact, including the space
before "!" in 10004 and 10008).
"""

UNKNOWN = 0
HANDSHAKE_REQ = 1
HANDSHAKE_RESP = 2
AUTH_REQ = 3
AUTH_RESP = 4
LOGIN_REQ = 5
LOGIN_RESP = 6
JOIN_GROUP_REQ = 7
JOIN_GROUP_RESP = 8
JOIN_GROUP_NOTIFY = 9
EXIT_GROUP_NOTIFY = 10
CHAT_REQ = 11
CHAT_RESP = 12
HEARTBEAT = 13
CLOSE = 14
CANCEL_MSG_REQ = 15
CANCEL_MSG_RESP = 16
GET_USER_REQ = 17
GET_USER_RESP = 18
GET_MESSAGE_REQ = 19
GET_MESSAGE_RESP = 20

#: every command number J-IM 3.0 defines; anything else is not a command at all
KNOWN_COMMANDS = frozenset(range(0, 21))

# jim's own commands, outside J-IM's range: a J-IM client that does not know them skips them
#: server -> client: an event (JMessage's event object under ``data``; docs/wire-protocol.md)
EVENT = 100
#: client -> server: the device's messages after its inbox cursor (docs/wire-protocol.md)
SYNC_REQ = 101
SYNC_RESP = 102
#: client -> server: the device holds every message of its inbox up to an id
ACK_REQ = 103
ACK_RESP = 104
#: jim's chat rooms: enter one (answered by 106), leave one (108); see docs/wire-protocol.md
ENTER_ROOM_REQ = 105
ENTER_ROOM_RESP = 106
LEAVE_ROOM_REQ = 107
LEAVE_ROOM_RESP = 108
#: the Web SDK's signed configuration, before a login (answered by 110); docs/web-sdk.md
CONFIG_REQ = 109
CONFIG_RESP = 110
#: a user's own group calls for JMessage's Web SDK (answered by 112); docs/wire-protocol.md
GROUPS_REQ = 111
GROUPS_RESP = 112
#: a user's profile for JMessage's Web SDK (answered by 114); docs/wire-protocol.md
PROFILE_REQ = 113
PROFILE_RESP = 114
#: a user retracts its own message (answered by 116); docs/wire-protocol.md
RETRACT_REQ = 115
RETRACT_RESP = 116

OK = 10000
OFFLINE = 10001
SEND_FAILED = 10002
GET_USER_OK = 10003
GET_USER_FAILED = 10004
GET_USER_ONLINE_OK = 10005
GET_USER_OFFLINE_OK = 10006
LOGIN_OK = 10007
LOGIN_FAILED = 10008
AUTH_OK = 10009
AUTH_FAILED = 10010
JOIN_OK = 10011
JOIN_FAILED = 10012
VERSION_MISMATCH = 10013
UNSUPPORTED_CMD = 10014
GET_MESSAGE_FAILED = 10015
GET_OFFLINE_OK = 10016
UNKNOWN_CMD = 10017
GET_HISTORY_OK = 10018
ONLINE = 10019
INVALID = 10020
CLOSE_OK = 10021

_TEXT = {
    OK: ("ok", "发送成功"),
    OFFLINE: ("offline", "用户不在线"),
    SEND_FAILED: (
        "send failed",
        "消息发送失败,数据格式不正确,请参考:{'from':来源ID,'to':目标ID,'cmd':'消息命令码',"
        "'createTime':消息创建时间(Long型),'msgType':Integer消息类型,'content':内容}",
    ),
    GET_USER_OK: ("ok", "获取用户信息成功!"),
    GET_USER_FAILED: ("get user failed !", "获取用户信息失败!"),
    GET_USER_ONLINE_OK: ("ok", "获取所有在线用户信息成功!"),
    GET_USER_OFFLINE_OK: ("ok", "获取所有离线用户信息成功!"),
    LOGIN_OK: ("ok", "登录成功!"),
    LOGIN_FAILED: ("login failed !", "登录失败!"),
    AUTH_OK: ("ok", "鉴权成功!"),
    AUTH_FAILED: ("auth failed!", "鉴权失败!"),
    JOIN_OK: ("join group ok!", "加入群组成功!"),
    JOIN_FAILED: ("join group failed!", "加入群组失败!"),
    VERSION_MISMATCH: ("Protocol version number does not match", "协议版本号不匹配!"),
    UNSUPPORTED_CMD: ("unsupported cmd command", "不支持的cmd命令!"),
    GET_MESSAGE_FAILED: ("get user message failed!", "获取用户消息失败!"),
    GET_OFFLINE_OK: ("get user message ok!", "获取离线消息成功!"),
    UNKNOWN_CMD: ("cmd failed!", "未知的cmd命令!"),
    GET_HISTORY_OK: ("get user message ok!", "获取历史消息成功!"),
    ONLINE: ("online", "用户在线"),
    INVALID: ("Invalid verification!", "不合法校验"),
    CLOSE_OK: ("close ok!", "关闭成功"),
}

#: code -> the exact wire ``msg`` string
MESSAGES = {code: f"{desc} {text}" for code, (desc, text) in _TEXT.items()}


def message(code):
    """The wire ``msg`` of a J-IM status code."""
    return MESSAGES[code]
