"""What a bad client C puts in a J-IM request: the commands and the reply command each gets
(docs/wire-protocol.md section 6), tables of values (every JSON type, boundary and huge
numbers, unicode, strings around the limits), the requests the docs show as templates, and
the Hypothesis strategies for a request's body. The frames and WebSocket messages that carry
them are in L{tests.support.bad_frames}."""
import json

from hypothesis import strategies as st

from jim.wire import status

MAX_BODY = 64 * 1024

#: the reply command of each request command (docs/wire-protocol.md section 6); a join is
#: answered with cmd 9 on success and cmd 8 on failure; any other number gets cmd 0 (10017)
ANSWERS = {1: {2}, 3: {4}, 5: {6}, 7: {8, 9}, 11: {12}, 13: {13}, 14: {14}, 17: {18},
           19: {20}, 101: {102}, 103: {104}, 105: {106}, 107: {108}, 109: {110}, 111: {112},
           113: {114}, 115: {116}}


def answers_to(cmd):
    return ANSWERS.get(cmd, {status.UNKNOWN})


# -- Hypothesis strategies ----------------------------------------------------------------------

#: the field names of the commands' bodies (section 6, 8; the Web SDK's configuration)
FIELDS = (
    "cmd", "userId", "loginname", "password", "token", "appKey", "platform", "deviceId",
    "acks", "chatType", "to", "groupId", "group_id", "roomId", "content", "msgType", "msgBody",
    "extras", "id", "from", "createTime", "type", "userid", "fromUserId", "offset", "count",
    "beginTime", "endTime", "after", "upto", "op", "gid", "name", "desc", "avatar",
    "usernames", "seq", "username", "msgId", "timestamp", "randomStr", "signature", "appkey",
    "random_str", "hbbyte",
)
#: a message body's fields (msgBody)
BODY_FIELDS = ("text", "media_id", "media_crc32", "width", "height", "format", "fsize",
               "duration", "fname", "latitude", "longitude", "scale", "label", "video", "thumb",
               "extras")
INTS = (0, 1, -1, 2, 3, 4, 5, 7, 8, 127, 128, 255, 256, 1000, 1001, 2**31 - 1, 2**31,
        -2**31 - 1, 2**53, 2**53 + 1, 2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64, 10**30,
        9999999, 10000000, 10000001, 10**400)
FLOATS = (0.5, -0.0, 2.0, 1.5, 1e3, 1e19, 1e300, -1e300, 5e-324, 9007199254740993.0, 1e16)
NAMES = ("alice", "bobby", "wendy", "carol", "ghost", "100", "10000001", "10000002", "g1", "",
         " ", " alice", "alice ", "a\x00b", "a\nb", "\u200b", "\u00e9", "\U0001F600" * 32,
         "x" * 128, "x" * 129, "\u00e9" * 64, "\u00e9" * 65, "demoAppKey:1", ":", "a:b", "%s",
         "{}", "null", "-1", "1e3", "0x10", " 2 ", "2.0", "\u0663", "\u00b2", "<token>",
         "<gid>", "<room>", "a", "j", "w", "i", "create", "info", "update", "add", "remove",
         "exit", "list", "qiniu/image/j/0E3D2A3C1B5F4E6D7C8B9A0F1E2D3C4B.png")
#: string lengths around the limits: names 128, tokens 1024, JMessage bodies 4096, a frame
LENGTHS = (63, 64, 65, 127, 128, 129, 250, 251, 255, 256, 1023, 1024, 1025, 4095, 4096, 4097,
           16383, 16385, 65000, 65536, 70000)

texts = st.text(st.characters(codec="utf-8"), max_size=16)
long_texts = st.builds(lambda n, ch: ch * n, st.sampled_from(LENGTHS),
                       st.sampled_from(("x", "\u00e9", "\U0001F600", "\x00", "9")))
scalars = st.one_of(
    st.none(), st.booleans(), st.sampled_from(INTS), st.integers(),
    st.sampled_from(FLOATS), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(NAMES), texts, long_texts,
)
keys = st.one_of(st.sampled_from(FIELDS), st.sampled_from(BODY_FIELDS), texts)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=8,
)

IMAGE = {"media_id": "qiniu/image/j/0E3D2A3C1B5F4E6D7C8B9A0F1E2D3C4B.png", "media_crc32": 1,
         "width": 1, "height": 1, "format": "png", "fsize": 1}
#: requests that the docs show, as a start that one or two changed fields make wrong
TEMPLATES = {
    3: [{"token": "<token>"}, {"token": "x"}],
    5: [{"token": "<token>"}, {"userId": "carol"}, {"userId": "carol", "password": "wrong"},
        {"userId": "nobody", "password": "pw", "platform": "a", "deviceId": "d1"}],
    7: [{"groupId": "g1", "name": "G"}, {"groupId": "<gid>"}, {"groupId": "10000099"}],
    11: [{"chatType": 2, "to": "alice", "content": "hi", "id": "f1"},
         {"chatType": 1, "groupId": "<gid>", "content": "hi"},
         {"chatType": 3, "roomId": "<room>", "content": "hi"},
         {"chatType": 2, "to": "bobby", "msgType": 1, "msgBody": IMAGE},
         {"chatType": 2, "to": "carol", "msgType": 7,
          "msgBody": {"latitude": 1.5, "longitude": 2.5, "scale": 3, "label": "x"}},
         {"chatType": 2, "to": "alice", "msgType": 8, "msgBody": {"k": [1]}, "extras": {}}],
    14: [{}, {"userId": "alice"}],
    17: [{"type": 0}, {"type": 2, "userId": "alice"}, {"groupId": "<gid>"}],
    19: [{"type": 0}, {"type": 1, "fromUserId": "alice", "offset": 0, "count": 10},
         {"type": 1, "groupId": "<gid>", "beginTime": 0, "endTime": 1e13}],
    101: [{}, {"after": 0, "count": 10}],
    103: [{"upto": 1}],
    105: [{"roomId": "<room>"}],
    107: [{"roomId": "<room>"}],
    109: [{"appKey": "k", "timestamp": "1700000000", "randomStr": "abcdefgh",
           "signature": "00"},
          {"appkey": "k", "timestamp": 1700000000000, "random_str": "abcdefgh",
           "signature": "00"}],
    111: [{"op": "create", "name": "n", "usernames": ["alice"], "seq": 1},
          {"op": "info", "gid": "<gid>"}, {"op": "list"},
          {"op": "add", "gid": "<gid>", "usernames": ["bobby"]},
          {"op": "update", "gid": "<gid>", "desc": "d"},
          {"op": "remove", "gid": "<gid>", "usernames": ["alice"]}],
    113: [{"username": "alice", "seq": 1}],
    115: [{"msgId": "1", "seq": 1}],
}
KNOWN = sorted(ANSWERS)
commands = st.one_of(st.sampled_from(KNOWN), st.integers(0, 255))
#: what a connection that never logged in may do (docs section 5, item 3), and one it may not
UNGATED = (1, 3, 5, 13, 14, 109, 11)


@st.composite
def objects(draw, cmd):
    """A JSON object for C{cmd}: one of its documented requests (or none) with up to three
    changes, each a field of its own or any field name, given a value of any type or
    dropped."""
    body = dict(draw(st.sampled_from(TEMPLATES.get(cmd, []) * 3 + [{}])))
    for _ in range(draw(st.integers(0, 3))):
        own = draw(st.booleans()) and list(body)
        key = draw(st.sampled_from(own) if own else st.sampled_from(FIELDS))
        if draw(st.integers(0, 3)):
            body[key] = draw(values)
        else:
            body.pop(key, None)
    return body


def encode(value, ascii_only=False):
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")


def deep(field, depth):
    """An object whose C{field} nests arrays C{depth} levels deep (section 8: 254 at most in a
    chat's content and extras, 1024 in a body)."""
    return (b'{"chatType":2,"to":"alice","' + field.encode() + b'":'
            + b"[" * depth + b"]" * depth + b"}")


def exactly(size):
    """A chat whose JSON is C{size} bytes long (a frame of exactly --max-body, and one past)."""
    head = b'{"chatType":2,"to":"alice","content":"'
    return head + b"y" * (size - len(head) - 2) + b'"}'


def bodies(cmd):
    """A frame's body for C{cmd}: mostly a JSON object (its requests changed), else anything."""
    requests = st.builds(encode, objects(cmd), st.booleans())
    return st.one_of(
        requests, requests, requests, requests, requests,
        st.builds(encode, values),
        st.binary(max_size=48),
        st.builds(lambda b, i, junk: b[:i] + junk + b[i:],
                  st.builds(encode, objects(cmd)), st.integers(0, 40),
                  st.sampled_from((b"\xff", b"\xc3", b"\xed\xa0\x80", b'"', b"}", b"\x00"))),
        st.builds(lambda b, i: b[:i], st.builds(encode, objects(cmd)), st.integers(0, 40)),
        st.builds(deep, st.sampled_from(("content", "extras", "msgBody", "to", "usernames")),
                  st.sampled_from((253, 254, 255, 256, 1023, 1024, 1025, 3000))),
        st.sampled_from((b"", b"\x80", b"{}", b"[]", b"null", b'{"a":NaN}', b"1e400",
                         b'{"content":"\\ud800"}', b'{"cmd":11}' * 2, b"\xef\xbb\xbf{}"))
        .map(bytes),
        st.sampled_from((MAX_BODY - 1, MAX_BODY, MAX_BODY + 1)).map(exactly),
    )
