"""Reconnect tokens: HMAC-signed (app, username, expiry)."""
import base64

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim.core.tokens import Tokens

KEY = b"s" * 32
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TokenTests(SynchronousTestCase):
    def setUp(self):
        self.tokens = Tokens(KEY, ttl=100)

    def test_round_trip(self):
        token = self.tokens.issue("app1", "alice", now=1000)
        self.assertEqual(self.tokens.check(token, now=1000), ("app1", "alice"))

    def test_unicode_names(self):
        token = self.tokens.issue("app", "用户", now=0)
        self.assertEqual(self.tokens.check(token, now=0), ("app", "用户"))

    def test_url_safe(self):
        token = self.tokens.issue("app", "alice", now=0)
        self.assertRegex(token, r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")

    def test_expiry(self):
        token = self.tokens.issue("app", "alice", now=1000)
        self.assertEqual(self.tokens.check(token, now=1100), ("app", "alice"))
        self.assertIsNone(self.tokens.check(token, now=1100.5))
        self.assertIsNone(self.tokens.check(token, now=5000))

    def test_other_key(self):
        token = Tokens(b"t" * 32, ttl=100).issue("app", "alice", now=0)
        self.assertIsNone(self.tokens.check(token, now=0))

    def test_tampered(self):
        """Any character changed (in its most significant bit, as the last character of a
        base64 text may carry unused low bits) makes the token worthless."""
        token = self.tokens.issue("app", "alice", now=0)
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
        """Another user's name (or a later expiry) under an old signature is refused."""
        token = self.tokens.issue("app", "alice", now=0)
        mac = token.split(".")[1]
        for payload in [b"1\napp\nbob\n100", b"1\napp\nalice\n99999"]:
            self.assertIsNone(self.tokens.check(b64(payload) + "." + mac, now=0))

    def test_garbage(self):
        for token in ["", ".", "..", "a.b", "%%%.###", "é.é", "abc", "a.b.c", "====.===="]:
            self.assertIsNone(self.tokens.check(token, now=0), token)

    @given(st.text(max_size=60))
    def test_never_raises(self, token):
        self.assertIsNone(self.tokens.check(token, now=0))
