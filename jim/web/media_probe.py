# -*- test-case-name: tests.test_web_media_probe -*-
"""What an upload's bytes are: an image's format and size (read by Pillow from the image's
own header: nothing is decoded), a voice's audio format (from its first bytes), a file's
extension. This runs on a worker thread, on the upload's complete temporary file."""
import re

from PIL import Image, UnidentifiedImageError

from jim import errors
from jim.errors import JimError

#: Pillow's names of the image formats an upload may have -> jim's (an id's extension); a
#: JPEG with several pictures (as cameras make) is Pillow's MPO
IMAGE_FORMATS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "GIF": "gif", "BMP": "bmp"}
#: the most pixels an image may have: far below what a chat shows, and below Pillow's own
#: decompression-bomb limits (an upload names its size in a few bytes, and a client that
#: decodes it would need gigabytes)
MAX_PIXELS = 40_000_000
_EXTENSION = re.compile(r".*\.([A-Za-z0-9]{1,10})", re.S)


def image(path):
    """C{(format, width, height)} of the image in the file at C{path}; JimError(BAD_REQUEST)
    when it is no jpg, png, gif or bmp image, or a larger one than L{MAX_PIXELS}."""
    try:
        # Pillow warns of (and refuses past twice) its own pixel limit, which is above ours:
        # the image is refused below either way
        with Image.open(path, formats=("JPEG", "PNG", "GIF", "BMP")) as opened:
            fmt, (width, height) = IMAGE_FORMATS.get(opened.format), opened.size
    except Image.DecompressionBombError:
        fmt, width, height = "too large", MAX_PIXELS, MAX_PIXELS
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        fmt = None
    if fmt is None:
        raise JimError(errors.BAD_REQUEST, "type=image takes a jpg, png, gif or bmp image, and"
                       " this file is none")
    if not 0 < width * height <= MAX_PIXELS:
        raise JimError(errors.BAD_REQUEST, f"the image is {width}x{height}: at most"
                       f" {MAX_PIXELS} pixels are taken")
    return fmt, width, height


def extension(fname):
    """The extension of a file name, lower case ("" for none, or one that is no short run of
    letters and digits)."""
    found = _EXTENSION.fullmatch(fname)
    return found.group(1).lower() if found else ""


def voice(head, fname):
    """The audio format of a voice file, from its first bytes C{head} (AMR, SILK, MP3, AAC,
    Ogg, WAV, MP4 audio), else from its name's extension ("" when neither says)."""
    if head.startswith(b"#!AMR"):
        return "amr"
    if head.startswith((b"#!SILK", b"\x02#!SILK")):
        return "silk"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "aac"  # an ADTS frame: sync bits, then layer 0
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "mp3"  # an MPEG audio frame
    return extension(fname)
