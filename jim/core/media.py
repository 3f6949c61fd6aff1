# -*- test-case-name: tests.test_core_media -*-
"""The Media service: uploaded files, their ids, and signed links to download them.

It owns the media area of the store (what is known of each upload) and the media files (the
bytes, L{jim.interfaces.IMediaFiles}), which are written on a worker thread: a front end
hands it a function that writes an upload's bytes into a spool there (reading its request as
it goes) and says what else it read of them, and the service keeps the bytes under their
hash, gives them their id and keeps what is known of them. Ids and links are the same on
every node: an id derives from the app and the bytes, a link is signed with a key every node
shares (L{jim.wire.media_links}), and the store and the media folder are shared.

An upload's record is kept before its bytes: the store checks the app's quota and counts the
upload in one step (L{jim.interfaces.IMediaStore.add_media}), and only then are the bytes,
written and made durable in a temporary file already, kept under their hash. A refused upload
leaves nothing, and a sweep (L{Media.sweep}) that asks the store about a file after an upload's
record was kept sees that record; one that asked before sees the file touched by the upload,
or finds it gone and the upload keeps it again (docs/storage.md, "Media").
"""
import itertools

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
#: a sweep leaves the files modified less than this long ago (seconds): on a volume several
#: nodes share, their clocks and the file server's may disagree, and an older jim kept a
#: file before its record (a deleted app's youngest files go with the sweep that follows)
SWEEP_GRACE = 900
#: files a sweep asks the store about at once
SWEEP_BATCH = 500


def _inline(function, *args):
    """Run C{function} here and now: how the tests run blocking work."""
    return defer.maybeDeferred(function, *args)


class Media:
    """Uploads and downloads of every app.

    @param store: the L{jim.interfaces.IMediaStore}.
    @param files: the L{jim.interfaces.IMediaFiles}.
    @param run: C{run(function, *args)}: a Deferred of C{function(*args)} run on a worker
        thread (the files block).
    @param clock: provides C{seconds()} and C{callLater()}.
    @param link_key: the key that signs download links (L{media_links.link_key}).
    @param max_bytes: the largest file an upload may have.
    @param quota: the bytes of files one app may keep (its usage,
        L{jim.interfaces.IMediaStore.media_usage}); 0: no limit.
    """

    log = Logger()

    def __init__(self, store, files, clock, link_key, max_bytes, run=_inline,
                 link_seconds=LINK_SECONDS, quota=0, sweep_grace=SWEEP_GRACE):
        self._store = store
        self._files = files
        self._run = run
        self._clock = clock
        self._key = link_key
        self.max_bytes = max_bytes
        self.quota = quota
        self._link_seconds = link_seconds
        self._sweep_grace = sweep_grace
        self._known = Bounded(CACHE_SIZE)  # (app, media id) -> Media
        self._sweep_waiters = None  # while a sweep runs: those waiting for the next one
        self._sweep_later = None  # the sweep a deletion asked for once its grace is over
        self._stopped = False

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
        @raise JimError: MEDIA_QUOTA when the upload would take the app's usage past the
            quota (the same bytes kept before by the app count nothing), and nothing is kept.
        """
        if kind not in model.MEDIA_KINDS:
            raise JimError(errors.BAD_REQUEST, "type must be image, voice or file")
        spool, upload = await self._run(self._receive, ingest)
        kept_file = False
        try:
            content_hash, crc32, size = spool.seal()  # (sealed on the worker thread already)
            fmt = upload.format if kind == model.IMAGE else ""
            digits = media_ids.digits_of(app, kind, content_hash, upload.fname)
            media = model.Media(app, media_ids.media_id(kind, digits, fmt), content_hash,
                                kind, size, crc32, upload.format, upload.width, upload.height,
                                upload.fname, int(self._clock.seconds() * 1000))
            try:
                kept = await self._store.add_media(media, self.quota)
            except JimError as refusal:
                if refusal.code == errors.MEDIA_QUOTA:
                    self.log.info("media: an upload to app {app} refused: {why}", app=app,
                                  why=refusal.detail)
                raise
            try:
                await self._run(spool.keep)
            except Exception:
                self.log.failure("media: {media_id} of app {app} is recorded, but its file"
                                 " could not be kept (the same upload again keeps it)",
                                 media_id=kept.media_id, app=app)
                raise
            kept_file = True
        finally:
            if not kept_file:
                await self._run(spool.discard)
        self._known[app, kept.media_id] = kept
        self.log.info("media: {media_id} of app {app} kept ({kind}, {size} bytes, {content_hash})",
                      media_id=kept.media_id, app=app, kind=kind, size=size,
                      content_hash=content_hash)
        return kept

    def _receive(self, ingest):
        """On a worker thread: the upload's bytes into a spool, sealed (not kept yet), and
        what else was read of them; the spool is discarded when refused."""
        spool = self._files.spool(self.max_bytes)
        try:
            upload = ingest(spool)
            if spool.size == 0:
                raise JimError(errors.BAD_REQUEST, "the file is empty")
            spool.seal()
        except BaseException:
            spool.discard()
            raise
        return spool, upload

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

    async def usage(self, app):
        """The bytes of files C{app} keeps (each content once), as the quota counts them."""
        return await self._store.media_usage(app)

    async def app_deleted(self, app, others):
        """A step of L{jim.core.apps.Apps.on_delete}: the app's records are forgotten, so
        start a sweep of the files (in the background: it may take long; L{sweep_soon}), and
        another once the app's youngest files are past the grace."""
        self.sweep_soon()
        if self._sweep_later is not None and self._sweep_later.active():
            self._sweep_later.cancel()
        self._sweep_later = self._clock.callLater(self._sweep_grace + 1, self.sweep_soon)

    def stop(self):
        """The server stops: a running sweep ends after its current step, and the one that
        waits for its time is dropped (the files stay until the next one)."""
        self._stopped = True
        if self._sweep_later is not None and self._sweep_later.active():
            self._sweep_later.cancel()
        self._sweep_later = None

    def sweep_soon(self):
        """Start a L{sweep} unless one is running, in which case another follows it (once,
        however many were asked for meanwhile); a Deferred that fires (None) once a sweep that
        started after this call is over. A sweep that fails is logged."""
        waiter = defer.Deferred()
        if self._stopped:
            waiter.callback(None)
        elif self._sweep_waiters is not None:
            self._sweep_waiters.append(waiter)
        else:
            self._sweep_waiters = []
            defer.ensureDeferred(self._sweeps([waiter]))
        return waiter

    async def _sweeps(self, waiters):
        while waiters:
            try:
                await self.sweep()
            except Exception:
                if self._stopped:  # (the store may have stopped under it)
                    self.log.info("media: the sweep of unused files ended with the server")
                else:
                    self.log.failure("media: the sweep of unused files failed (the next one"
                                     " tries again)")
            for waiter in waiters:
                waiter.callback(None)
            waiters, self._sweep_waiters = self._sweep_waiters, []
        self._sweep_waiters = None

    async def sweep(self):
        """Remove the files that no record of any app names (those of deleted apps' uploads
        that no other app uploaded too), except those modified in the last L{SWEEP_GRACE}
        seconds; how many were removed. The folder is walked and the files removed on worker
        threads, L{SWEEP_BATCH} files at a time."""
        before = self._clock.seconds() - self._sweep_grace
        await self._store.count_older()  # (records of nodes not upgraded yet name files too)
        walk = self._files.old_files(before)
        seen = removed = 0
        try:
            while not self._stopped:
                batch = await self._run(_next, walk, SWEEP_BATCH)
                if not batch:
                    break
                seen += len(batch)
                named = await self._store.named_hashes(batch)
                unnamed = [content_hash for content_hash in batch if content_hash not in named]
                if unnamed:
                    removed += await self._run(self._files.remove_old, unnamed, before)
        finally:
            close = getattr(walk, "close", None)
            if close is not None:
                close()  # (a walk holds no folder open between its steps)
        self.log.info("media: swept the files: {removed} of {seen} older than {grace} s were"
                      " no upload's any more and are removed", removed=removed, seen=seen,
                      grace=self._sweep_grace)
        return removed


def _next(iterator, count):
    """The next C{count} items of C{iterator} (fewer at its end)."""
    return list(itertools.islice(iterator, count))
