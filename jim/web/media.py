# -*- test-case-name: tests.integration.test_rest_media -*-
"""``/media/...``: uploads downloaded through the signed links ``GET /v1/resource`` hands out
(L{jim.wire.media_links}), on every node of a cluster.

A link is checked (its signature and expiry) and resolved to its upload's file by the core;
the file is then served by Twisted's L{static.File}, given only that resolved path: it
answers ranges (``Range``, 206, ``Accept-Ranges``), ``Content-Length``, ``HEAD`` and
``If-Modified-Since``. What it serves is inert in a browser: an image or a voice with its own
type, anything else as an attachment, never sniffed, sandboxed.
"""
import re
from urllib.parse import quote

from twisted.web import http, server, static

from jim import errors, model
from jim.errors import JimError
from jim.web.resource import AsyncResource, query_arg

#: the Content-Type of each image and voice format (anything else is application/octet-stream)
CONTENT_TYPES = {
    (model.IMAGE, "jpg"): "image/jpeg",
    (model.IMAGE, "png"): "image/png",
    (model.IMAGE, "gif"): "image/gif",
    (model.IMAGE, "bmp"): "image/bmp",
    (model.VOICE, "amr"): "audio/amr",
    (model.VOICE, "mp3"): "audio/mpeg",
    (model.VOICE, "aac"): "audio/aac",
    (model.VOICE, "ogg"): "audio/ogg",
    (model.VOICE, "wav"): "audio/wav",
    (model.VOICE, "m4a"): "audio/mp4",
}
_BINARY = "application/octet-stream"
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?")


def origin(request):
    """C{scheme://host[:port]} a client reached this server by: the request's C{Host} when it
    is a host name or address (and port), else the address it came in on; https when the
    connection is TLS. (jim reads no C{X-Forwarded-*}: it trusts no proxy's word.)"""
    local = request.getHost()
    return origin_of(request.isSecure(), request.getHeader(b"host"),
                     getattr(local, "host", "localhost"), getattr(local, "port", None))


def origin_of(secure, host_header, local_host, local_port):
    """L{origin}, given C{secure}, the C{Host} header (bytes or None) and the local
    address."""
    scheme = "https" if secure else "http"
    host = (host_header or b"").decode("latin-1").strip()
    if not _HOST.fullmatch(host):
        host = f"[{local_host}]" if ":" in local_host else local_host
        if local_port is not None:
            host += f":{local_port}"
    return f"{scheme}://{host}"


def content_type(media):
    return CONTENT_TYPES.get((media.kind, media.format), _BINARY)


def disposition(media):
    """A file is downloaded as an attachment under its name (UTF-8, RFC 6266); an image or a
    voice is shown."""
    if media.kind != model.FILE:
        return "inline"
    plain = "".join(c if " " <= c < "\x7f" and c not in '"\\%' else "_" for c in media.fname)
    return (f"attachment; filename=\"{plain or 'file'}\"; "
            f"filename*=UTF-8''{quote(media.fname, safe='')}")


class MediaDownloads(AsyncResource):
    """Every download link: ``/media/<app>/<media id>?expires=...&signature=...``."""

    def __init__(self, core):
        super().__init__()
        self.core = core

    async def respond(self, request):
        if request.method not in (b"GET", b"HEAD"):
            request.setHeader(b"Allow", b"GET, HEAD")
            raise JimError(errors.METHOD_NOT_ALLOWED, "a download is a GET")
        if self.core.media is None:
            raise JimError(errors.NO_SUCH_MEDIA, "this server keeps no media")
        try:
            # Twisted has percent-decoded each segment already: decoding them again would
            # change an app key that holds a "%"
            segments = [segment.decode("utf-8") for segment in request.postpath]
        except UnicodeDecodeError:
            raise JimError(errors.NO_SUCH_MEDIA, "no such media") from None
        media, path, expiry = await self.core.media.open_link(
            segments, query_arg(request, "expires"), query_arg(request, "signature"))
        upload = static.File(path, defaultType=content_type(media))
        if not upload.isfile():
            # checked before any header is set: a 404 with the file's ETag and a max-age
            # would be kept by a browser, and revalidated into a 304, once the file is back
            self.log.warn("media: the file of {uri} is not in the media folder (every node of"
                          " a cluster must share --media-dir)", uri=request.path)
            raise JimError(errors.NO_SUCH_MEDIA,
                           "the file of this upload is missing on this server")
        seconds = max(0, expiry - int(self.core.clock.seconds()))
        request.setHeader(b"Cache-Control", f"private, max-age={seconds}".encode())
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        request.setHeader(b"Content-Security-Policy", b"default-src 'none'; sandbox")
        request.setHeader(b"Content-Disposition", disposition(media).encode("ascii"))
        if request.setETag(f'"{media.content_hash}"'.encode()) is http.CACHED:
            request.finish()
            return None
        answer = upload.render(request)
        if answer is not server.NOT_DONE_YET:
            request.write(answer)
            request.finish()
        return None
