"""What a bad client C writes in one go: a J-IM TCP frame, whole or with broken framing
(L{tcp_frames}), or a WebSocket message (L{ws_messages}); maybe more commands after it in the
same write, maybe a hang-up right after (L{Sent}); and what the docs answer each with: the
reply commands, the framing error, or the close. The bodies come from
L{tests.support.bad_input}."""
import re
import struct

import orjson
from hypothesis import strategies as st

from jim.wire import framing, status
from tests.support.bad_input import (FLOATS, INTS, KNOWN, MAX_BODY, answers_to, bodies,
                                     commands, deep, encode, exactly, objects, texts, values)


def header(version, flags, cmd, length, seq=0):
    if flags & framing.FLAG_SEQ:
        return struct.pack(">BBiBi", version, flags, seq, cmd, length)
    return struct.pack(">BBBi", version, flags, cmd, length)


class Sent:
    """What C sends, in one write: a J-IM TCP frame (C{kind} "whole") or broken framing
    around C{body}, or a WebSocket message (C{kind} "ws"); C{more}, whole frames (WebSocket
    messages) of other commands after it, as (cmd, body); C{hang_up}: C aborts its connection
    right after the write. The bytes are made by L{data} once the server's names are known
    (C{<token>}, C{<gid>}, C{<room>} in a body), so that a frame's length is its body's."""

    def __init__(self, kind, body, cmd=0, flags=0x51, seq=0, param=0, binary=False, more=(),
                 hang_up=False):
        self.kind, self.body, self.cmd = kind, body, cmd
        self.flags, self.seq, self.param, self.binary = flags, seq, param, binary
        self.more, self.hang_up = tuple(more), hang_up

    def __repr__(self):
        def short(body):
            return body if len(body) <= 300 else body[:300] + b"..."
        extra = (f"binary={self.binary}" if self.kind == "ws" else
                 f"cmd={self.cmd}, flags={self.flags:#04x}, seq={self.seq}, param={self.param}")
        more = [(cmd, short(body)) for cmd, body in self.more]
        return (f"Sent({self.kind!r}, {short(self.body)!r} [{len(self.body)} bytes], {extra}, "
                f"more={more}, hang_up={self.hang_up})")

    def data(self, fill):
        """The bytes to write, the bodies' names filled in by C{fill}."""
        kind, cmd, flags, seq, param = self.kind, self.cmd, self.flags, self.seq, self.param
        body = fill(self.body)
        more = b"".join(framing.encode(c, fill(b)) for c, b in self.more)
        good = header(1, flags, cmd, len(body), seq) + body
        if kind == "whole":
            return good + more
        if kind == "truncated":  # the header promises more than comes: the server waits
            return good[:param % len(good)]
        if kind == "short":  # the length says less than the body is: the rest is no frame
            return header(1, flags, cmd, param % max(len(body), 1), seq) + body
        if kind == "negative":
            return header(1, flags, cmd, -1 - param % 2**31, seq) + body
        if kind == "huge":
            return header(1, flags, cmd, MAX_BODY + 1 + param % (2**31 - MAX_BODY - 1),
                          seq) + body
        if kind == "bad version":  # a good frame, then one whose version byte is not 0x01
            return good + header(2 + param % 254, flags, cmd, len(body), seq) + body
        raise AssertionError(kind)

    def messages(self, fill):
        """A WebSocket C's messages, the bodies' names filled in by C{fill}: after the first,
        each names its command in its ``cmd`` (when it is a JSON object without one)."""
        out = [fill(self.body)]
        for cmd, body in self.more:
            try:
                obj = orjson.loads(body)
            except orjson.JSONDecodeError:
                obj = None
            if type(obj) is dict and "cmd" not in obj:
                body = encode({"cmd": cmd, **obj})
            out.append(fill(body))
        return out

    def answers(self, fill):
        """The reply commands one of which must come; None: nothing need come (what comes is
        still checked). For WebSocket, "close": the docs close it."""
        if self.more or self.hang_up:
            return None
        if self.kind == "ws":
            return ws_answers(fill(self.body), self.binary)
        if self.kind == "whole":
            return answers_to(self.cmd)
        return None

    def oversized(self, fill):
        """A frame over --max-body: the docs answer it with 10020 and a close."""
        return self.kind == "whole" and len(fill(self.body)) > MAX_BODY

    def framing_error(self, fill):
        """The code of the framing error the docs answer this write with before closing
        (section 2.2), or None: a first header whose length is out of bounds, else a byte
        that should start a frame and is no 0x01."""
        body = fill(self.body)
        kind, whole_header = self.kind, self._header_size() <= len(self.data(fill))
        if kind in ("negative", "huge"):
            return status.INVALID
        if kind == "short":
            declared = self.param % max(len(body), 1)
            if declared > MAX_BODY:
                return status.INVALID
            rest = body[declared:]
            if rest and rest[0] != framing.VERSION:
                return status.VERSION_MISMATCH
            return None
        if len(body) > MAX_BODY and kind in ("bad version", "truncated") and whole_header:
            return status.INVALID
        if kind == "bad version":
            return status.VERSION_MISMATCH
        return None

    def _header_size(self):
        return 11 if self.flags & framing.FLAG_SEQ else 7

    def held(self, fill):
        """An incomplete frame: the docs hold it until the rest comes (section 2.1)."""
        return self.kind == "truncated" and self.framing_error(fill) is None


TCP_KINDS = ("whole",) * 5 + ("truncated", "short", "negative", "huge", "bad version")


@st.composite
def more_frames(draw):
    """Whole frames after the first, in the same write: commands that change what later ones
    mean (login, close, join, auth) among others."""
    out = []
    for _ in range(draw(st.integers(1, 4))):
        cmd = draw(st.one_of(st.sampled_from((3, 5, 7, 11, 14, 101, 103, 105, 111)), commands))
        out.append((cmd, draw(st.builds(encode, objects(cmd)) | bodies(cmd))))
    return out


def _extras(draw):
    """(more, hang_up) of an example: mostly one command alone."""
    shape = draw(st.sampled_from(("alone",) * 4 + ("pipeline", "hang up", "both")))
    more = draw(more_frames()) if shape in ("pipeline", "both") else ()
    return more, shape in ("hang up", "both")


@st.composite
def tcp_frames(draw, cmd=None):
    """One J-IM TCP write: a whole frame of C{cmd} (None: any command) with any body, or
    broken framing."""
    # a command of its own: mostly whole frames, which reach its handler
    kinds = TCP_KINDS if cmd is None else ("whole",) * 3 + TCP_KINDS
    if cmd is None:
        cmd = draw(commands)
    kind = draw(st.sampled_from(kinds))
    sent = Sent(kind, draw(bodies(cmd)), cmd,
                draw(st.sampled_from((0x51, 0x00, 0xF1, 0x20, 0xFF, 0x01))),
                draw(st.integers(-2**31, 2**31 - 1)), draw(st.integers(0, 2**31)))
    if kind == "whole":
        sent.more, sent.hang_up = _extras(draw)
    return sent


#: cmd values of a WebSocket message, and the command each means (docs section 3 and 8:
#: integers, integral floats and numeric strings; anything else is no command)
WS_CMDS = st.one_of(
    st.sampled_from(KNOWN), st.integers(0, 255), st.sampled_from(INTS),
    st.sampled_from(KNOWN).map(str), st.sampled_from(KNOWN).map(float),
    st.sampled_from(("13 ", " 13", "13.0", "1e1", "0x0d", "\u0661\u0663", "+13", "-13", "",
                     "cmd", "013", "99999999999999999999")),
    st.sampled_from(FLOATS), st.booleans(), st.none(), st.lists(st.integers(0, 20), max_size=2),
    st.dictionaries(texts, st.integers(), max_size=2),
)


def ws_command(value):
    """The set of commands a message with this ``cmd`` may be taken for (None: no command)."""
    if type(value) is int:
        return {value}
    if type(value) is float and value.is_integer():
        return {int(value)}
    if type(value) is str and re.fullmatch(r"-?[0-9]{1,19}", value):
        return {int(value)}
    if type(value) is str and re.fullmatch(r"\s*-?[0-9]{1,19}\s*", value):
        return {int(value), None}  # padded: the docs neither promise nor refuse it
    return {None}


def ws_answers(payload, binary):
    """The reply commands a WebSocket message may get; "close": the server closes it."""
    if len(payload) > MAX_BODY:
        return "close"  # 1009
    if not binary:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            return "close"  # 1007
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return {status.UNKNOWN}
    if type(obj) is not dict:
        return {status.UNKNOWN}
    out = set()
    for cmd in ws_command(obj.get("cmd")):
        out |= {status.UNKNOWN} if cmd is None else answers_to(cmd)
    return out


@st.composite
def ws_messages(draw, number=None):
    """One WebSocket message (and maybe more after it) naming command C{number} (None: any
    value of ``cmd``, or none), or no command at all."""
    others = ("value", "text", "binary", "bad utf-8", "deep", "huge")
    kind = draw(st.sampled_from(("object",) * (5 if number is None else 12) + others))
    if kind == "object":
        if number is None:
            cmd = draw(WS_CMDS)
        else:  # as a JSON number, an integral float, or its text (docs section 3, 8)
            cmd = draw(st.sampled_from((number, number, float(number), str(number))))
        guess = next(iter(ws_command(cmd)))
        body = draw(objects(guess if guess is not None else 0))
        body = {"cmd": cmd, **{k: v for k, v in body.items() if k != "cmd"}}
        if draw(st.booleans()):
            del body["cmd"]
        payload = encode(body, draw(st.booleans()))
    elif kind == "value":
        payload = encode(draw(values))
    elif kind == "text":
        payload = draw(texts).encode("utf-8")
    elif kind == "binary" or kind == "bad utf-8":
        payload = draw(st.binary(max_size=48))
    elif kind == "deep":
        payload = deep(draw(st.sampled_from(("content", "extras", "cmd"))),
                       draw(st.sampled_from((254, 255, 1024, 1025))))
    else:
        payload = exactly(draw(st.sampled_from((MAX_BODY, MAX_BODY + 1))))
    binary = kind == "binary" or (kind != "bad utf-8" and draw(st.booleans()))
    more, hang_up = _extras(draw)
    return Sent("ws", payload, binary=binary, more=more, hang_up=hang_up)
