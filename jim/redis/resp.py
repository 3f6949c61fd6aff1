# -*- test-case-name: tests.test_redis_resp -*-
"""Redis replies (RESP2) read in one pass over what each read brought.

txredisapi reads replies with a line receiver that switches to raw mode for every bulk string
and, to switch back, stops reading the socket and reschedules the rest of the buffer with
C{callLater(0)}: every bulk string of a read costs a reactor iteration and two C{epoll_ctl}
calls. A pub/sub message is three bulk strings, and a read under load holds hundreds of them,
so a node spent most of its time spinning through those iterations, and each message waited
for the ones before it to be rescheduled one by one (docs/benchmarks.md, the two-node
scenarios).

L{ReplyParser} is the pure part: bytes in, whole replies out, with the values txredisapi's own
parser makes (status lines as text, errors as L{txredisapi.ResponseError}, integers as ints,
bulk strings through the protocol's own conversion, arrays as lists, nested ones included).
L{FastReplies} puts it in front of a txredisapi protocol: each reply goes to the protocol's
C{replyReceived}, as txredisapi's reader would hand it over.

Commands go the other way: L{command} writes one as RESP in a few operations an argument, where
txredisapi spends several calls and type checks on each (a message append names some six keys a
message, so a node spent a tenth of its time there). L{FastCommands} puts it in front of a
txredisapi protocol, the same bytes for every argument txredisapi takes.
"""
from txredisapi import InvalidResponse, ResponseError

#: longest status, error or header line accepted (txredisapi's line limit)
MAX_LINE = 16384

_CRLF = b"\r\n"


class ProtocolViolation(Exception):
    """What came from Redis is not RESP: the connection cannot be read any further.

    @ivar replies: the whole replies read before the point where it stopped making sense."""

    replies = ()


class ReplyParser:
    """Whole replies out of a stream of bytes fed in pieces of any size.

    @param convert: makes the value of a bulk string's bytes (txredisapi's C{tryConvertData}).
    @param queued: called for a top-level C{+QUEUED} (a command queued in MULTI).
    """

    def __init__(self, convert=bytes, queued=None):
        self._convert = convert
        self._queued = queued
        self._buffer = b""
        self._stack = []  # the arrays being read, outermost first: [items, count]
        self._want = 0  # bytes the buffer must hold before parsing can go on (a long bulk)
        self._waiting = []  # pieces kept meanwhile, joined once there are enough
        self._held = 0  # the bytes of the buffer and those pieces

    def feed(self, data):
        """The replies completed by C{data}, in order. Raises L{ProtocolViolation} when the
        stream is not RESP (nothing can be read past that point; what was read before is the
        exception's C{replies})."""
        if self._want:
            self._waiting.append(data)
            self._held += len(data)
            if self._held < self._want:
                return []
            data = b"".join(self._waiting)
            self._waiting = []
            self._want = 0
        buf = self._buffer + data if self._buffer else data
        replies = []
        try:
            pos = self._parse(buf, replies)
        except ProtocolViolation as e:
            e.replies = replies
            raise
        self._buffer = buf[pos:] if pos < len(buf) else b""
        return replies

    def _parse(self, buf, replies):
        """Append to C{replies} those C{buf} holds whole; where the rest starts."""
        pos, end, stack = 0, len(buf), self._stack
        while pos < end:
            line_end = buf.find(_CRLF, pos)
            if line_end < 0:
                if end - pos > MAX_LINE:
                    raise ProtocolViolation("a reply line longer than %d bytes" % MAX_LINE)
                break
            if line_end - pos > MAX_LINE:
                raise ProtocolViolation("a reply line longer than %d bytes" % MAX_LINE)
            token = buf[pos]
            if token == 36:  # $ bulk string
                length = _integer(buf, pos + 1, line_end)
                if length is None or length < -1:
                    raise ProtocolViolation("a bulk string of no valid length")
                if length == -1:
                    value, pos = None, line_end + 2
                else:
                    start = line_end + 2
                    stop = start + length
                    if stop + 2 > end:
                        self._want = stop + 2 - pos
                        self._held = end - pos
                        break
                    if buf[stop:stop + 2] != _CRLF:
                        raise ProtocolViolation("a bulk string not ended by CRLF")
                    value, pos = self._convert(buf[start:stop]), stop + 2
            elif token == 42:  # * array
                count = _integer(buf, pos + 1, line_end)
                if count is None or count < -1:
                    raise ProtocolViolation("an array of no valid length")
                pos = line_end + 2
                if count > 0:
                    stack.append([[], count])
                    continue
                value = None if count == -1 else []
            elif token == 43:  # + status
                value = buf[pos + 1:line_end].decode(errors="replace")
                pos = line_end + 2
                if not stack and value == "QUEUED" and self._queued is not None:
                    self._queued()
            elif token == 45:  # - error
                # as txredisapi: the text whole ("ERR unknown command ..."), but a bare "ERR"
                # is left empty
                text = buf[pos + 1:line_end].decode(errors="replace")
                value = ResponseError("" if text == "ERR" else text)
                pos = line_end + 2
            elif token == 58:  # : integer
                value = _integer(buf, pos + 1, line_end)
                if value is None:
                    value = InvalidResponse("Cannot convert data %r to integer"
                                            % buf[pos + 1:line_end])
                pos = line_end + 2
            else:
                raise ProtocolViolation("a reply of unknown type %r" % bytes([token]))
            # a value is complete: it ends the arrays it completes, or is a reply
            while stack:
                top = stack[-1]
                top[0].append(value)
                top[1] -= 1
                if top[1]:
                    break
                stack.pop()
                value = top[0]
            else:
                replies.append(value)
        return pos


def _integer(buf, start, stop):
    try:
        return int(buf[start:stop])
    except ValueError:
        return None


def command(args, encode_other):
    """The RESP array of bulk strings that sends C{args}: texts as UTF-8, ints in decimal,
    bytes as they are, anything else as C{encode_other(arg)} makes it (a text UTF-8 cannot
    encode, a lone surrogate, too: it raises there)."""
    out = [b"*%d\r\n" % len(args)]
    add = out.append
    for arg in args:
        kind = type(arg)
        if kind is str:
            try:
                arg = arg.encode()
            except UnicodeEncodeError:
                arg = encode_other(arg)
        elif kind is int:
            arg = b"%d" % arg
        elif kind is not bytes:
            arg = encode_other(arg)
        add(b"$%d\r\n" % len(arg))
        add(arg)
        add(b"\r\n")
    return b"".join(out)


class FastCommands:
    """Mixed in before a txredisapi protocol class: its commands are written by L{command},
    with the protocol's own encoding for what is neither a text, an int nor bytes. A protocol
    whose charset is not UTF-8 (jim never makes one) keeps txredisapi's writer."""

    def _build_command(self, *args, **kwargs):
        if self.charset != "utf-8" or self.errors != "strict":
            return super()._build_command(*args, **kwargs)
        return command(args, self._encode_value)


class FastReplies:
    """Mixed in before a txredisapi protocol class: its replies are read by L{ReplyParser}
    and handed to C{replyReceived}, arrays first through C{handleTransactionData} (as
    txredisapi's reader does). A stream that is not RESP drops the connection; txredisapi
    answers what was waiting with a connection error and connects again."""

    _parser = None
    _refused = False  # the stream stopped being RESP: what still comes is not read

    def dataReceived(self, data, unpause=False):
        if self._refused:
            return
        parser = self._parser
        if parser is None:
            parser = self._parser = ReplyParser(self.tryConvertData, self._count_queued)
        try:
            replies = parser.feed(data)
        except ProtocolViolation as e:
            self._refused = True
            self._hand_over(e.replies)
            self.replyReceived(InvalidResponse(f"not a Redis reply: {e}"))
            self.transport.loseConnection()
            return
        self._hand_over(replies)

    def _hand_over(self, replies):
        for reply in replies:
            if type(reply) is list:
                reply = self.handleTransactionData(reply)
            self.replyReceived(reply)
            if self.transport is not None and self.transport.disconnecting:
                return

    def _count_queued(self):
        self.transactions += 1
