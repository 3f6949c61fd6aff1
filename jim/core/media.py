# -*- test-case-name: tests.test_core_media -*-
"""The Media service: uploaded files, their ids, and signed links to download them.

It owns the media area of the store (what is known of each upload) and the media files (the
bytes, L{jim.interfaces.IMediaFiles}), which are written on a worker thread: a front end
hands it a function that writes an upload's bytes into a spool there (reading its request as
it goes) and says what else it read of them, and the service keeps the bytes under their
hash, gives them their id and keeps what is known of them. Ids and links are the same on
every node: an id derives from the app and the bytes, a link is signed with a key every node
shares (L{jim.wire.media_links}), and the store and the media folder are shared.
"""
from twisted.internet import defer
from twisted.logger import Logger

from jim import errors, model
from jim.core.cache import Bounded
from jim.errors import JimError
from jim.wire import media_ids, media_links

#: how long a download link stays valid
LINK_SECONDS = 3600
#: media kept in memory (what is known of a media id never changes)
CACHE_SIZE = 10_000


def _inline(function, *args):
    """Run C{function} here and now: how the tests run blocking work."""
    return defer.maybeDeferred(function, *args)


class Media:
    """Uploads and downloads of every app.

    @param store: the L{jim.interfaces.IMediaStore}.
    @param files: the L{jim.interfaces.IMediaFiles}.
    @param run: C{run(function, *args)}: a Deferred of C{function(*args)} run on a worker
        thread (the files block).
    @param clock: provides C{seconds()}.
    @param link_key: the key that signs download links (L{media_links.link_key}).
    @param max_bytes: the largest file an upload may have.
    """

    log = Logger()

    def __init__(self, store, files, clock, link_key, max_bytes, run=_inline,
                 link_seconds=LINK_SECONDS):
        self._store = store
        self._files = files
        self._run = run
        self._clock = clock
        self._key = link_key
        self.max_bytes = max_bytes
        self._link_seconds = link_seconds
        self._known = Bounded(CACHE_SIZE)  # (app, media id) -> Media

    def on_bus(self, value):
        """An app changed or deleted (on any node): forget what is known of its media (a
        deleted app's key given again must find none of them)."""
        if value.area != model.APPS_AREA:
            return
        if value.app == model.EVERY_APP and not value.key:  # this node may have missed any
            self._known.clear()
            return
        app = value.key if value.app == model.EVERY_APP else value.app
        for key in [key for key in self._known if key[0] == app]:
            del self._known[key]

    async def upload(self, app, kind, ingest):
        """Keep an upload of C{kind} (one of L{model.MEDIA_KINDS}) in C{app}; its
        L{model.Media} (the one kept before, when the same upload was made before).

        @param ingest: C{ingest(spool)} (run on a worker thread) writes the upload's bytes
            into the L{jim.interfaces.ISpool} and returns the L{model.Upload} of what else it
            read of them; a JimError it raises refuses the upload, and nothing is kept.
        """
        if kind not in model.MEDIA_KINDS:
            raise JimError(errors.BAD_REQUEST, "type must be image, voice or file")
        content_hash, crc32, size, upload = await self._run(self._receive, ingest)
        fmt = upload.format if kind == model.IMAGE else ""
        digits = media_ids.digits_of(app, kind, content_hash, upload.fname)
        media = model.Media(app, media_ids.media_id(kind, digits, fmt), content_hash, kind,
                            size, crc32, upload.format, upload.width, upload.height,
                            upload.fname, int(self._clock.seconds() * 1000))
        kept = await self._store.add_media(media)
        self._known[app, kept.media_id] = kept
        self.log.info("media: {media_id} of app {app} kept ({kind}, {size} bytes, {content_hash})",
                      media_id=kept.media_id, app=app, kind=kind, size=size,
                      content_hash=content_hash)
        return kept

    def _receive(self, ingest):
        """On a worker thread: the upload's bytes into a spool, kept unless refused."""
        with self._files.spool(self.max_bytes) as spool:
            upload = ingest(spool)
            if spool.size == 0:
                raise JimError(errors.BAD_REQUEST, "the file is empty")
            return (*spool.keep(), upload)

    async def get(self, app, media_id):
        """The L{model.Media} of C{app} with this id (text as clients send it: hex digits in
        either case); JimError(BAD_REQUEST) for a text that is no media id,
        JimError(NO_SUCH_MEDIA) for an id no upload of C{app} has."""
        ref = media_ids.parse(media_id)
        if ref is None:
            raise JimError(errors.BAD_REQUEST, "mediaId is not a media id")
        key = (app, str(ref))
        media = self._known.get(key)
        if media is None:
            media = await self._store.get_media(*key)
            if media is None:
                raise JimError(errors.NO_SUCH_MEDIA, f"no media {str(ref)!r} in this app")
            self._known[key] = media
        return media

    async def require_uploads(self, app, media_ids):
        """Check that each of C{media_ids} names an upload of C{app} (what a message of a
        user of C{app} may carry): refusals as L{get}, the first one found."""
        for media_id in media_ids:
            await self.get(app, media_id)

    async def link(self, app, media_id):
        """The path and query of a signed link that downloads C{media_id} of C{app} until
        L{LINK_SECONDS} from now (refusals as L{get})."""
        media = await self.get(app, media_id)
        expiry = int(self._clock.seconds()) + self._link_seconds
        return media_links.link(self._key, app, media.media_id, expiry)

    async def open_link(self, segments, expires, signature):
        """What a download link names: C{(media, path of its bytes, expiry)}.

        @param segments: the link's path after its mount, each segment percent-decoded.
        @param expires: its C{expires}, C{signature} its C{signature} (text, or None).
        @raise JimError: NOT_ALLOWED for a link that is not signed by this server or expired,
            NO_SUCH_MEDIA for one that names nothing.
        """
        app, media_id = media_links.check(self._key, segments, expires, signature,
                                          self._clock.seconds())
        media = await self.get(app, media_id)
        return media, self._files.path_of(media.content_hash), int(expires)
