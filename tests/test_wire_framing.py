"""J-IM TCP framing: encoding, decoding whatever the chunking, and refusing broken streams."""
import struct

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim.wire import framing
from jim.wire.framing import FrameDecoder, FrameError, encode

#: J-IM's demo client logging in as hello_client/123 (jim-wire.md section 1.4)
JAVA_LOGIN = bytes.fromhex(
    "01 51 05 00 00 00 32 7B 22 63 6D 64 22 3A 35 2C 22 70 61 73 73 77 6F 72 64 22 3A 22 31 32"
    " 33 22 2C 22 75 73 65 72 49 64 22 3A 22 68 65 6C 6C 6F 5F 63 6C 69 65 6E 74 22 7D"
)
JAVA_HEARTBEAT = bytes.fromhex("01 51 0D 00 00 00 01 80")

commands = st.integers(0, 255)
bodies = st.binary(max_size=300)
seqs = st.none() | st.integers(-(2**31), 2**31 - 1)
frames = st.tuples(commands, seqs, bodies)


def raw_frame(flags, cmd, body, seq=None, length=None):
    """A frame built by hand, with any flags and (optionally) a lying length."""
    length = len(body) if length is None else length
    seq_part = b"" if seq is None else struct.pack(">i", seq)
    return bytes([1, flags]) + seq_part + struct.pack(">Bi", cmd, length) + body


class EncodeTests(SynchronousTestCase):
    def test_flags_without_seq(self):
        self.assertEqual(encode(11, b"{}"), bytes.fromhex("01 51 0b 00 00 00 02") + b"{}")

    def test_flags_with_seq(self):
        self.assertEqual(
            encode(6, b"x", seq=7), bytes.fromhex("01 f1 00 00 00 07 06 00 00 00 01") + b"x"
        )

    def test_heartbeat_reply_bytes(self):
        """The reply of jim-wire.md 1.4, byte for byte."""
        body = b'{"command":13,"data":{"hbbyte":-128}}'
        self.assertEqual(encode(13, body)[:7], bytes.fromhex("01 51 0D 00 00 00 25"))


class DecodeTests(SynchronousTestCase):
    @given(commands, bodies, seqs)
    def test_round_trip(self, cmd, body, seq):
        decoder = FrameDecoder()
        self.assertEqual(decoder.feed(encode(cmd, body, seq)), [(cmd, seq, body)])
        self.assertEqual(decoder.buffered, 0)

    @given(st.lists(frames, max_size=6), st.lists(st.integers(0, 2000), max_size=12))
    def test_any_chunking(self, sent, cuts):
        stream = b"".join(encode(cmd, body, seq) for cmd, seq, body in sent)
        points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
        decoder = FrameDecoder()
        received = []
        for start, stop in zip(points, points[1:]):
            received.extend(decoder.feed(stream[start:stop]))
        self.assertEqual(received, sent)
        self.assertEqual(decoder.buffered, 0)

    def test_byte_by_byte(self):
        stream = JAVA_LOGIN + encode(17, b'{"type":0}', seq=3) + JAVA_HEARTBEAT
        decoder = FrameDecoder()
        received = []
        for i in range(len(stream)):
            received.extend(decoder.feed(stream[i : i + 1]))
        self.assertEqual([cmd for cmd, _, _ in received], [5, 17, 13])
        self.assertEqual(received[1], (17, 3, b'{"type":0}'))

    def test_java_login(self):
        self.assertEqual(
            FrameDecoder().feed(JAVA_LOGIN),
            [(5, None, b'{"cmd":5,"password":"123","userId":"hello_client"}')],
        )

    def test_java_heartbeat(self):
        self.assertEqual(FrameDecoder().feed(JAVA_HEARTBEAT), [(13, None, b"\x80")])

    def test_other_flags_ignored(self):
        """Only the 0x20 bit means anything on input."""
        cases = [
            (raw_frame(0x00, 11, b"{}"), (11, None, b"{}")),
            (raw_frame(0x51, 11, b"{}"), (11, None, b"{}")),
            (raw_frame(0xDF, 11, b"{}"), (11, None, b"{}")),
            (raw_frame(0xF1, 11, b"{}", seq=9), (11, 9, b"{}")),
            (raw_frame(0x20, 11, b"{}", seq=-1), (11, -1, b"{}")),
        ]
        for data, frame in cases:
            self.assertEqual(FrameDecoder().feed(data), [frame], data.hex())

    def test_several_frames_in_one_chunk(self):
        data = encode(13, b"") + encode(11, b"ab") + encode(19, b"c", seq=1)
        self.assertEqual(
            FrameDecoder().feed(data), [(13, None, b""), (11, None, b"ab"), (19, 1, b"c")]
        )

    def test_incomplete_is_kept(self):
        decoder = FrameDecoder()
        frame = encode(11, b"hello")
        self.assertEqual(decoder.feed(frame[:6]), [])
        self.assertEqual(decoder.buffered, 6)
        self.assertEqual(decoder.feed(frame[6:-1]), [])
        self.assertEqual(decoder.feed(frame[-1:]), [(11, None, b"hello")])
        self.assertEqual(decoder.buffered, 0)

    def test_empty_feed(self):
        self.assertEqual(FrameDecoder().feed(b""), [])


class BrokenStreamTests(SynchronousTestCase):
    def assertFrameError(self, code, decoder, data):
        error = self.assertRaises(FrameError, decoder.feed, data)
        self.assertEqual(error.code, code)
        return error

    def test_bad_version(self):
        error = self.assertFrameError(10013, FrameDecoder(), b"GET / HTTP/1.1\r\n")
        self.assertIn("0x47", error.detail)

    def test_bad_version_alone(self):
        """One wrong byte is enough: no need to wait for the rest of a header."""
        self.assertFrameError(10013, FrameDecoder(), b"\x02")

    def test_bad_version_after_a_frame(self):
        decoder = FrameDecoder()
        self.assertEqual(decoder.feed(encode(13, b"")), [(13, None, b"")])
        self.assertFrameError(10013, decoder, b"\x00\x51")

    def test_negative_length_at_header(self):
        """Refused as soon as the header is in, without waiting for a body."""
        self.assertFrameError(10020, FrameDecoder(), raw_frame(0x51, 11, b"", length=-1))

    def test_negative_length_with_seq(self):
        data = raw_frame(0xF1, 11, b"", seq=1, length=-(2**31))
        self.assertFrameError(10020, FrameDecoder(), data)

    def test_over_limit_at_header(self):
        decoder = FrameDecoder(max_body=100)
        self.assertFrameError(10020, decoder, raw_frame(0x51, 11, b"", length=101))

    def test_over_limit_with_seq_at_header(self):
        decoder = FrameDecoder(max_body=100)
        self.assertFrameError(10020, decoder, raw_frame(0x20, 11, b"", seq=5, length=2**31 - 1))

    def test_limit_itself_allowed(self):
        decoder = FrameDecoder(max_body=100)
        self.assertEqual(decoder.feed(raw_frame(0x51, 11, b"", length=100)), [])
        self.assertEqual(decoder.feed(b"x" * 100), [(11, None, b"x" * 100)])

    def test_default_limit(self):
        self.assertEqual(FrameDecoder().max_body, framing.DEFAULT_MAX_BODY)
        data = raw_frame(0x51, 11, b"", length=framing.DEFAULT_MAX_BODY + 1)
        self.assertFrameError(10020, FrameDecoder(), data)


class FrameErrorCarriesGoodFramesTests(SynchronousTestCase):
    def test_good_frames_before_the_error_are_kept(self):
        decoder = framing.FrameDecoder()
        data = framing.encode(13, b"{}") + framing.encode(11, b'{"a":1}') + b"\x09"
        with self.assertRaises(framing.FrameError) as caught:
            decoder.feed(data)
        self.assertEqual(caught.exception.code, 10013)
        self.assertEqual(caught.exception.frames, [(13, None, b"{}"), (11, None, b'{"a":1}')])

    def test_oversized_after_a_good_frame(self):
        decoder = framing.FrameDecoder(max_body=10)
        data = framing.encode(13, b"{}") + b"\x01\x51\x0b\x00\x00\x00\x0b"
        with self.assertRaises(framing.FrameError) as caught:
            decoder.feed(data)
        self.assertEqual((caught.exception.code, caught.exception.frames), (10020, [(13, None, b"{}")]))
