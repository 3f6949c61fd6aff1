# -*- test-case-name: tests.test_wire_media_links -*-
"""Signed, expiring download links of media: ``/media/<app>/<media id>?expires=<epoch s>&
signature=<hex>``. Pure code.

The signature is HMAC-SHA256, keyed with a key every node shares, over the app, the media id
and the expiry: any node can check a link any node made, nobody else can make one, and a link
names one file of one app until it expires. Signatures are compared in constant time.
"""
import hashlib
import hmac
from urllib.parse import quote

import orjson

from jim import errors
from jim.errors import JimError
from jim.wire import media_ids

#: where links are served: the first path segment
MOUNT = "media"
_PURPOSE = b"jim media download links v1"


def link_key(secret):
    """The key that signs links, derived from the server's C{secret} (bytes: the key that
    signs reconnect tokens), so that a token and a link never share a key."""
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def signature(key, app, media_id, expiry):
    """The hex HMAC-SHA256 of a link (C{expiry}: epoch seconds, an int)."""
    signed = orjson.dumps([app, media_id, expiry])  # no two links sign the same bytes
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def link(key, app, media_id, expiry):
    """The path and query of the link to C{media_id} of C{app} until C{expiry}."""
    return (f"/{MOUNT}/{quote(app, safe='')}/{quote(media_id, safe='/')}"
            f"?expires={expiry}&signature={signature(key, app, media_id, expiry)}")


def check(key, segments, expires, given, now):
    """C{(app, media id)} of a link: C{segments} are its path's after L{MOUNT}, each
    percent-decoded (text: what Twisted's C{request.postpath} holds, decoded from UTF-8),
    C{expires} and C{given} its query's values (text, or None).

    JimError(NO_SUCH_MEDIA) when the path names no media, JimError(NOT_ALLOWED) when the
    signature is not the link's or the link expired at C{now} (epoch seconds)."""
    ref = media_ids.parse("/".join(segments[1:])) if segments else None
    if ref is None:
        raise JimError(errors.NO_SUCH_MEDIA, "no such media")
    if (type(expires) is not str or not expires.isascii() or not expires.isdigit()
            or len(expires) > 18 or type(given) is not str):
        raise JimError(errors.NOT_ALLOWED, "the link is not signed")
    expiry = int(expires)
    app = segments[0]
    wanted = signature(key, app, str(ref), expiry)
    if not hmac.compare_digest(wanted.encode(), given.lower().encode("utf-8", "replace")):
        raise JimError(errors.NOT_ALLOWED, "the link's signature is wrong")
    if expiry < now:
        raise JimError(errors.NOT_ALLOWED, "the link expired: ask for a new one")
    return app, str(ref)
