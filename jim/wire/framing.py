"""J-IM's TCP framing, without I/O.

A frame is ``01 | flags | [seq:int32 BE if flags & 0x20] | cmd:uint8 | len:int32 BE | body``.
J-IM sends flags 0x51 (0xF1 with a seq); on input only the 0x20 bit is read, the rest is ignored.
The body is UTF-8 JSON, except the Java client's one-byte heartbeat body 0x80.
"""
import struct

from jim.wire import status

VERSION = 0x01
FLAG_SEQ = 0x20
SEND_FLAGS = 0x51
SEND_FLAGS_SEQ = 0xF1
#: the longest header: version, flags, seq, cmd, length
MAX_HEADER = 11
DEFAULT_MAX_BODY = 64 * 1024

_HEAD = struct.Struct(">BBBI")
_HEAD_SEQ = struct.Struct(">BBiBI")
_LEN = struct.Struct(">i")


class FrameError(Exception):
    """The byte stream is not J-IM framing any more; the connection cannot be resynchronised.

    @ivar code: the J-IM status code to report (10013 for a bad version, 10020 otherwise).
    @ivar detail: what was wrong, in English.
    @ivar frames: the complete frames that came before the bad bytes: they are still served.
    """

    def __init__(self, code, detail, frames=()):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.frames = frames


def encode(cmd, body, seq=None):
    """One frame as bytes, with the flags J-IM itself sends."""
    if seq is None:
        return _HEAD.pack(VERSION, SEND_FLAGS, cmd, len(body)) + body
    return _HEAD_SEQ.pack(VERSION, SEND_FLAGS_SEQ, seq, cmd, len(body)) + body


class FrameDecoder:
    """Splits a byte stream into ``(cmd, seq, body)`` tuples, whatever the chunking.

    After L{feed} raised L{FrameError} the decoder is spent: the caller closes the connection.
    """

    __slots__ = ("max_body", "_buf")

    def __init__(self, max_body=DEFAULT_MAX_BODY):
        self.max_body = max_body
        self._buf = b""

    @property
    def buffered(self):
        """How many bytes of an incomplete frame are held."""
        return len(self._buf)

    def feed(self, data):
        """Add bytes; return the list of complete frames, in order."""
        buf = self._buf + data if self._buf else data
        end = len(buf)
        pos = 0
        frames = []
        max_body = self.max_body
        while end > pos:
            if buf[pos] != VERSION:
                self._buf = b""
                raise FrameError(
                    status.VERSION_MISMATCH,
                    f"frame version byte is {buf[pos]:#04x}, expected 0x01",
                    frames,
                )
            if end - pos < 2:
                break
            if buf[pos + 1] & FLAG_SEQ:
                if end - pos < 11:
                    break
                seq = _LEN.unpack_from(buf, pos + 2)[0]
                h = pos + 6
            else:
                if end - pos < 7:
                    break
                seq = None
                h = pos + 2
            length = _LEN.unpack_from(buf, h + 1)[0]
            if length < 0 or length > max_body:
                self._buf = b""
                raise FrameError(
                    status.INVALID,
                    f"frame body length {length} is outside 0..{max_body}",
                    frames,
                )
            stop = h + 5 + length
            if stop > end:
                break
            frames.append((buf[h], seq, buf[h + 5 : stop]))
            pos = stop
        self._buf = buf[pos:] if pos < end else b""
        return frames
