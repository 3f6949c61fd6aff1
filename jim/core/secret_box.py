# -*- test-case-name: tests.test_core_web_sdk -*-
"""An app's master secret, kept sealed: what checks a Web SDK signature needs (the signature is
an MD5 over the secret itself, docs/web-sdk.md), while a stolen store gives no secret away.

The box is AES-256-GCM under a key derived from the server's key (the one that signs reconnect
tokens: the data directory's, or the cluster's in Redis), bound to the app's key, so that a box
copied into another app's record opens nowhere. Pure code."""
import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


def box_key(server_key):
    """The sealing key of a server key (bytes): its own, not the tokens' key itself."""
    return hmac.new(server_key, b"jim app secret box", hashlib.sha256).digest()


def seal(key, app, secret):
    """The box of C{app}'s master C{secret}, as text."""
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, secret.encode("utf-8"), app.encode("utf-8"))
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def opened(key, app, box):
    """C{app}'s master secret out of its C{box}, or None (no box, another server's key,
    another app's box, a damaged one)."""
    if not box:
        return None
    try:
        raw = base64.urlsafe_b64decode(box.encode("ascii"))
        secret = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], app.encode("utf-8"))
    except (ValueError, InvalidTag, UnicodeEncodeError):
        return None
    return secret.decode("utf-8")
