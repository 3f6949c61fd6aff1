"""Reconnect tokens: HMAC-SHA256 signed ``(app, username, password stamp, expiry)``, so a client
that logged in once with its password reconnects without another password hash (a reconnect
storm must not become a hashing storm). The stamp ties a token to the password it was earned
with: changing the password ends every token."""
import base64
import hashlib
import hmac

_VERSION = "2"


def _b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    """Issue and check tokens with a server secret (kept in the data directory)."""

    def __init__(self, secret, ttl):
        self._secret = secret
        self.ttl = ttl

    def _mac(self, payload):
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def issue(self, app, username, stamp, now):
        fields = (_VERSION, app, username, stamp, str(int(now + self.ttl)))
        payload = "\n".join(fields).encode("utf-8")
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def check(self, token, now):
        """(app, username, stamp) if C{token} is authentic and unexpired, else None."""
        try:
            head, mac = token.split(".")
            payload = _unb64(head)
            given = _unb64(mac)
        except (ValueError, TypeError):
            return None
        if not hmac.compare_digest(self._mac(payload), given):
            return None
        try:
            version, app, username, stamp, expiry = payload.decode("utf-8").split("\n")
            expiry = int(expiry)
        except ValueError:
            return None
        if version != _VERSION or expiry < now:
            return None
        return app, username, stamp
