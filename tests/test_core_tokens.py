"""Reconnect tokens: HMAC-signed (app, username, password stamp, expiry)."""
import base64
import hashlib
import hmac

from hypothesis import assume, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim.core.tokens import Tokens

KEY = b"s" * 32
STAMP = "0123456789abcdef"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TokenTests(SynchronousTestCase):
    def setUp(self):
        self.tokens = Tokens(KEY, ttl=100)

    def test_round_trip(self):
        token = self.tokens.issue("app1", "alice", STAMP, now=1000)
        self.assertEqual(self.tokens.check(token, now=1000), ("app1", "alice", STAMP))

    def test_the_stamp_is_kept_as_issued(self):
        for stamp in ("", "0" * 16, "ffffffffffffffff", "any text, even é"):
            token = self.tokens.issue("app", "alice", stamp, now=0)
            self.assertEqual(self.tokens.check(token, now=0)[2], stamp)

    def test_unicode_names(self):
        token = self.tokens.issue("app", "用户", STAMP, now=0)
        self.assertEqual(self.tokens.check(token, now=0), ("app", "用户", STAMP))

    def test_url_safe(self):
        token = self.tokens.issue("app", "alice", STAMP, now=0)
        self.assertRegex(token, r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")

    def test_expiry(self):
        token = self.tokens.issue("app", "alice", STAMP, now=1000)
        self.assertEqual(self.tokens.check(token, now=1100), ("app", "alice", STAMP))
        self.assertIsNone(self.tokens.check(token, now=1100.5))
        self.assertIsNone(self.tokens.check(token, now=5000))

    def test_other_key(self):
        token = Tokens(b"t" * 32, ttl=100).issue("app", "alice", STAMP, now=0)
        self.assertIsNone(self.tokens.check(token, now=0))

    def test_tampered(self):
        """Any character changed (in its most significant bit, as the last character of a
        base64 text may carry unused low bits) makes the token worthless."""
        token = self.tokens.issue("app", "alice", STAMP, now=0)
        head, mac = token.split(".")
        for i, char in enumerate(token):
            if char == ".":
                continue
            flipped = ALPHABET[ALPHABET.index(char) ^ 32]
            changed = token[:i] + flipped + token[i + 1 :]
            self.assertIsNone(self.tokens.check(changed, now=0), changed)
        self.assertIsNone(self.tokens.check(head + "." + mac[:-1], now=0))
        self.assertIsNone(self.tokens.check(head + "." + mac + ".x", now=0))

    def test_forged_payload(self):
        """Another user's name, another stamp (a password changed since) or a later expiry
        under an old signature is refused."""
        token = self.tokens.issue("app", "alice", STAMP, now=0)
        head, mac = token.split(".")
        self.assertEqual(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)),
                         b"2\napp\nalice\n" + STAMP.encode() + b"\n100")
        for payload in [b"2\napp\nbob\n" + STAMP.encode() + b"\n100",
                        b"2\napp\nalice\n" + b"1" * 16 + b"\n100",
                        b"2\napp\nalice\n" + STAMP.encode() + b"\n99999"]:
            self.assertIsNone(self.tokens.check(b64(payload) + "." + mac, now=0))

    def test_garbage(self):
        for token in ["", ".", "..", "a.b", "%%%.###", "é.é", "abc", "a.b.c", "====.===="]:
            self.assertIsNone(self.tokens.check(token, now=0), token)

    def test_version_1_tokens_are_refused(self):
        """A token signed with this key before stamps existed names no password: refused."""
        payload = b"1\napp\nalice\n100"
        mac = hmac.new(KEY, payload, hashlib.sha256).digest()
        self.assertIsNone(self.tokens.check(b64(payload) + "." + b64(mac), now=0))

    def test_signed_garbage_is_refused(self):
        """Only the server signs, but a payload of the wrong shape is no token all the same."""
        for payload in [b"", b"2", b"2\napp\nalice\n100", b"2\na\nb\nc\nsoon",
                        b"2\na\nb\nc\n1\nextra", b"\xff\n\n\n\n1"]:
            mac = hmac.new(KEY, payload, hashlib.sha256).digest()
            self.assertIsNone(self.tokens.check(b64(payload) + "." + b64(mac), now=0), payload)

    @given(st.text(max_size=60))
    def test_never_raises(self, token):
        self.assertIsNone(self.tokens.check(token, now=0))

    @given(st.text(min_size=1, max_size=20), st.text(max_size=20),
           st.text(alphabet="0123456789abcdef", max_size=16), st.integers(0, 2**40))
    def test_issued_tokens_check(self, app, username, stamp, now):
        """Names without line breaks (no userId or app key has one) come back as issued."""
        assume("\n" not in app + username)
        token = self.tokens.issue(app, username, stamp, now)
        self.assertEqual(self.tokens.check(token, now + 100), (app, username, stamp))
        self.assertIsNone(self.tokens.check(token, now + 101))
