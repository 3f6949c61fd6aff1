"""Redis replies read in one pass (L{jim.redis.resp}): the values txredisapi's own reader makes,
whatever pieces the bytes come in, and a stream that is not RESP is refused, not guessed at.
Commands written in one pass: the bytes txredisapi's own writer makes."""
import txredisapi
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.testing import StringTransport
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from jim.redis.resp import MAX_LINE, FastCommands, FastReplies, ProtocolViolation, ReplyParser

# what Redis may send: (bytes, the value read) for each kind of reply
_line_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
                     max_size=20)
_bulks = st.one_of(st.none(), st.binary(max_size=300))
_scalars = st.one_of(
    _line_text.map(lambda t: ("status", t)),
    _line_text.filter(lambda t: t != "QUEUED").map(lambda t: ("error", t)),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda n: ("int", n)),
    _bulks.map(lambda b: ("bulk", b)),
)
replies = st.recursive(
    _scalars,
    lambda children: st.one_of(st.none().map(lambda _: ("array", None)),
                               st.lists(children, max_size=6).map(lambda xs: ("array", xs))),
    max_leaves=20,
)


def encode(reply):
    kind, value = reply
    if kind == "status":
        return b"+" + value.encode() + b"\r\n"
    if kind == "error":
        return b"-" + value.encode() + b"\r\n"
    if kind == "int":
        return b":%d\r\n" % value
    if kind == "bulk":
        return b"$-1\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value)
    if value is None:
        return b"*-1\r\n"
    return b"*%d\r\n" % len(value) + b"".join(encode(item) for item in value)


def comparable(value):
    """Errors compare by class and text."""
    if isinstance(value, list):
        return [comparable(item) for item in value]
    if isinstance(value, Exception):
        return (type(value), str(value))
    return value


def pieces(data, cuts):
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    out, last = [], 0
    for point in points + [len(data)]:
        out.append(data[last:point])
        last = point
    return out


class _Stock(txredisapi.RedisProtocol):
    """txredisapi's own reader, its C{callLater(0)} resumptions run by a Clock."""

    def __init__(self, clock):
        super().__init__(charset=None, convertNumbers=False)
        self.callLater = clock.callLater
        self.got = []

    def replyReceived(self, reply):
        self.got.append(reply)


class _Fast(FastReplies, _Stock):
    pass


def read_by(protocol_class, chunks):
    clock = Clock()
    protocol = protocol_class(clock)
    protocol.makeConnection(StringTransport())
    for chunk in chunks:
        protocol.dataReceived(chunk)
        clock.advance(0)
        while clock.getDelayedCalls():
            clock.advance(0)
    return protocol.got


class ParserTests(SynchronousTestCase):
    @given(st.lists(replies, min_size=1, max_size=8), st.lists(st.integers(0, 10**6)))
    def test_the_values_of_txredisapis_reader_in_any_pieces(self, sent, cuts):
        data = b"".join(encode(reply) for reply in sent)
        chunks = pieces(data, cuts)
        ours = read_by(_Fast, chunks)
        self.assertEqual(len(ours), len(sent))
        self.assertEqual(comparable(ours), comparable(read_by(_Stock, [data])))

    @given(st.lists(replies, min_size=1, max_size=8), st.lists(st.integers(0, 10**6)))
    def test_one_byte_at_a_time_is_the_same_as_all_at_once(self, sent, cuts):
        data = b"".join(encode(reply) for reply in sent)
        whole = ReplyParser().feed(data)
        parser = ReplyParser()
        bytewise = [reply for i in range(len(data)) for reply in parser.feed(data[i:i + 1])]
        self.assertEqual(comparable(bytewise), comparable(whole))
        parser = ReplyParser()
        chunked = [reply for chunk in pieces(data, cuts) for reply in parser.feed(chunk)]
        self.assertEqual(comparable(chunked), comparable(whole))

    def test_a_pubsub_message(self):
        data = b"*3\r\n$7\r\nmessage\r\n$7\r\njim:bus\r\n$5\r\nhe\r\no\r\n"
        self.assertEqual(ReplyParser().feed(data), [[b"message", b"jim:bus", b"he\r\no"]])

    def test_a_long_bulk_string_in_many_pieces_is_read_once_whole(self):
        body = bytes(range(256)) * 4096  # 1 MiB
        data = b"$%d\r\n%s\r\n:5\r\n" % (len(body), body)
        parser = ReplyParser()
        got = []
        for start in range(0, len(data), 1000):
            got += parser.feed(data[start:start + 1000])
        self.assertEqual(got, [body, 5])

    def test_queued_is_counted_only_at_the_top(self):
        counted = []
        parser = ReplyParser(queued=lambda: counted.append(1))
        self.assertEqual(parser.feed(b"+QUEUED\r\n*1\r\n+QUEUED\r\n"), ["QUEUED", ["QUEUED"]])
        self.assertEqual(counted, [1])

    def test_errors_keep_their_text(self):
        [error, bare] = ReplyParser().feed(b"-ERR unknown command\r\n-ERR\r\n")
        self.assertIsInstance(error, txredisapi.ResponseError)
        self.assertEqual(str(error), "ERR unknown command")
        self.assertEqual(str(bare), "")

    def test_a_bad_integer_is_an_invalid_response(self):
        [reply, after] = ReplyParser().feed(b":12x\r\n:3\r\n")
        self.assertIsInstance(reply, txredisapi.InvalidResponse)
        self.assertEqual(after, 3)

    def test_what_is_not_resp_is_refused(self):
        for data in (b"?what\r\n", b"$x\r\n", b"$-2\r\n", b"*y\r\n", b"$3\r\nabcd\r\n",
                     b"\r\n"):
            with self.assertRaises(ProtocolViolation, msg=data):
                ReplyParser().feed(data)

    def test_an_endless_line_is_refused(self):
        parser = ReplyParser()
        self.assertEqual(parser.feed(b"+" + b"x" * (MAX_LINE - 1)), [])
        with self.assertRaises(ProtocolViolation):
            parser.feed(b"x" * 10)


class FastRepliesTests(SynchronousTestCase):
    def test_a_stream_that_is_not_resp_drops_the_connection(self):
        clock = Clock()
        protocol = _Fast(clock)
        transport = StringTransport()
        protocol.makeConnection(transport)
        protocol.dataReceived(b":1\r\n!oops\r\n:2\r\n")
        self.assertEqual(protocol.got[0], 1)
        self.assertIsInstance(protocol.got[1], txredisapi.InvalidResponse)
        self.assertEqual(len(protocol.got), 2, "nothing read past the bad reply")
        self.assertTrue(transport.disconnecting)

    def test_no_reactor_turn_between_the_replies_of_one_read(self):
        clock = Clock()
        protocol = _Fast(clock)
        protocol.makeConnection(StringTransport())
        protocol.dataReceived(b"$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
        self.assertEqual(protocol.got, [b"a", b"b", b"c"])
        self.assertEqual(clock.getDelayedCalls(), [])


# what a command may be given: everything txredisapi's writer takes
_arguments = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),  # neither can encode
    st.binary(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.binary(max_size=10).map(bytearray),
)


class _FastWriter(FastCommands, txredisapi.RedisProtocol):
    pass


def _written_by(protocol, args):
    try:
        return protocol._build_command(*args)
    except txredisapi.InvalidData:
        return txredisapi.InvalidData


class FastCommandsTests(SynchronousTestCase):
    @given(st.lists(_arguments, min_size=1, max_size=8))
    def test_the_bytes_of_txredisapis_writer(self, args):
        stock = txredisapi.RedisProtocol(charset="utf-8")
        fast = _FastWriter(charset="utf-8")
        self.assertEqual(_written_by(fast, args), _written_by(stock, args))

    def test_a_long_command(self):
        args = ["EVALSHA", "f" * 40, 600, *[f"jim:{{app}}:history:{n}" for n in range(600)],
                b"x" * 100_000]
        self.assertEqual(_FastWriter(charset="utf-8")._build_command(*args),
                         txredisapi.RedisProtocol(charset="utf-8")._build_command(*args))

    def test_another_charset_keeps_txredisapis_writer(self):
        fast = _FastWriter(charset="latin-1")
        self.assertEqual(fast._build_command("SET", "caf\xe9"),
                         b"*2\r\n$3\r\nSET\r\n$4\r\ncaf\xe9\r\n")
