# -*- test-case-name: tests.test_wire_media_ids -*-
"""Media ids, as JMessage's clients know them: ``qiniu/image/j/<32 hex>.png``,
``qiniu/voice/j/<32 hex>``, ``qiniu/file/j/<32 hex>``. Pure code.

Official SDKs and apps parse that shape (the kind is the second part, an image's format its
extension), so jim keeps it. The 32 hex digits are derived from the app, the kind and the
bytes' hash (and a file's name): the same upload made twice gets the same id, and two apps
never share one.
"""
import hashlib
import re

import attr

from jim import model

#: the image formats an upload may have, as an id's extension names them
IMAGE_FORMATS = ("jpg", "png", "gif", "bmp")
_ID = re.compile(r"qiniu/(image|voice|file)/j/([0-9A-Fa-f]{32})(?:\.([A-Za-z]{3}))?")
_DIGITS = 32


@attr.s(frozen=True, slots=True)
class MediaRef:
    """A media id taken apart: its C{kind}, its 32 upper-case hex C{digits}, and an image's
    C{format} ("" for the other kinds)."""

    kind = attr.ib(type=str)
    digits = attr.ib(type=str)
    format = attr.ib(type=str, default="")

    def __str__(self):
        return media_id(self.kind, self.digits, self.format)


def digits_of(app, kind, content_hash, fname=""):
    """The 32 hex digits of the id of C{kind} for the bytes with C{content_hash} in C{app}: a
    file's name is part of it (the same bytes under two names are two files to their users)."""
    named = fname if kind == model.FILE else ""
    # each part's length first: no two different tuples make the same text
    parts = (app, kind, content_hash, named)
    text = "".join(f"{len(part)}:{part}" for part in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGITS].upper()


def media_id(kind, digits, format=""):
    """The id text: an image's C{format} (one of L{IMAGE_FORMATS}) is its extension; the other
    kinds have none (C{format} "")."""
    if kind not in model.MEDIA_KINDS or not re.fullmatch(r"[0-9A-F]{32}", digits):
        raise ValueError(f"no media id of kind {kind!r} with digits {digits!r}")
    if format not in (IMAGE_FORMATS if kind == model.IMAGE else ("",)):
        raise ValueError(f"a {kind} id cannot have the format {format!r}")
    return f"qiniu/{kind}/j/{digits}" + (f".{format}" if kind == model.IMAGE else "")


def parse(text):
    """The L{MediaRef} of a media id (hex digits and extension in either case), or None when
    C{text} is none."""
    found = _ID.fullmatch(text) if type(text) is str else None
    if found is None:
        return None
    kind, digits, extension = found.groups()
    extension = (extension or "").lower()
    if extension not in (IMAGE_FORMATS if kind == model.IMAGE else ("",)):
        return None
    return MediaRef(kind, digits.upper(), extension)
