# -*- test-case-name: tests.integration.test_rest_media -*-
"""``/v1/resource``: an app server uploads an image, a voice or a file, and asks for a link to
download one (reference section 2.5).

An upload is a ``multipart/form-data`` body; its file's bytes are read out of it, probed and
written on a worker thread (L{jim.web.multipart}, L{jim.web.media_probe},
L{jim.core.media}), never on the reactor's. The answer has JMessage's shape for each type,
so that it can be sent back as a message's ``msg_body`` as it is (what the Python client
does for images and voices).
"""
from jim import errors, model
from jim.errors import JimError
from jim.web import media_probe, multipart
from jim.web.media import origin
from jim.web.rest_v1 import params
from jim.web.rest_v1.router import route

#: what a multipart body may add to its file: boundaries, part headers, small fields
MULTIPART_SLACK = 64 * 1024


def upload_body_limit(limits):
    """An upload's body limit: the largest file (C{--media-max-bytes}) and its envelope."""
    return limits.media_max_bytes + MULTIPART_SLACK


def _media(call):
    if call.core.media is None:
        raise JimError(errors.NOT_FOUND, "this server keeps no media")
    return call.core.media


def _ingest(kind, source, content_type):
    """What reads an upload (on a worker thread): the file part's bytes into the spool, then
    what its kind needs of them."""

    def ingest(spool):
        fname = multipart.copy_file_part(source, content_type, spool.write)
        if spool.size == 0:
            raise params.bad("the file is empty")
        if kind == model.IMAGE:
            spool.flush()
            fmt, width, height = media_probe.image(spool.path)
            return model.Upload(fname, fmt, width, height)
        if kind == model.VOICE:
            return model.Upload(fname, media_probe.voice(spool.head, fname))
        return model.Upload(fname, media_probe.extension(fname))

    return ingest


def shape(media):
    """JMessage's answer to an upload of C{media}."""
    common = {"media_id": media.media_id, "media_crc32": media.crc32, "fsize": media.size,
              "hash": media.content_hash}
    if media.kind == model.IMAGE:
        return {**common, "width": media.width, "height": media.height, "format": media.format}
    if media.kind == model.VOICE:
        return {**common, "format": media.format}
    return {**common, "fname": media.fname}


@route("POST", "/v1/resource", body_limit=upload_body_limit, streams=True)
async def upload(call):
    """Upload an image, a voice or a file (the first file part of a multipart body)."""
    media = _media(call)
    kind = call.query("type")
    if kind not in model.MEDIA_KINDS:
        raise params.bad("type must be image, voice or file")
    ingest = _ingest(kind, call.request.content, call.request.getHeader(b"content-type"))
    return 200, shape(await media.upload(call.app.key, kind, ingest))


@route("GET", "/v1/resource")
async def download(call):
    """A signed link, valid for an hour, that downloads an upload of this app."""
    media_id = call.query("mediaId")
    if media_id is None or not media_id.strip():
        raise params.bad("mediaId is required")
    path = await _media(call).link(call.app.key, media_id.strip())
    return 200, {"url": origin(call.request) + path}
