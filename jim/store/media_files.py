# -*- test-case-name: tests.test_store_media_files -*-
"""The bytes of uploaded files (L{jim.interfaces.IMediaFiles}): one file per content, under
the media directory, named by the hex SHA-256 of its bytes and fanned out by its first four
digits (``ab/cd/abcd...``), so that no folder grows past a few thousand entries and no name
a client chose ever reaches a path.

An upload is written to a temporary file in ``tmp/`` (the same file system: a rename is
atomic there), hashed as it is written, then made durable (``fsync``) and renamed to its
name: a file under its name is always whole. The same bytes uploaded twice are kept once:
the second finds the first in place, touches it (its modification time says when its bytes
were last kept) and drops its temporary file. Several nodes may share the directory (a shared
volume): they write the same bytes under the same name.

A sweep removes the files no record names any more (L{jim.core.media}): only files older
than its cutoff, and each one is first renamed into ``tmp/`` and looked at again there, so
that a file an upload touched meanwhile is put back rather than removed (docs/storage.md,
"Media").

Everything here blocks; it runs on a worker thread, never on the reactor's.
"""
import hashlib
import os
import re
import secrets
import tempfile
import zlib

from twisted.logger import Logger
from zope.interface import implementer

from jim import errors
from jim.errors import JimError
from jim.interfaces import IMediaFiles, ISpool

#: bytes of the start of an upload kept to tell formats apart
HEAD_BYTES = 64
#: temporary files older than this are a crashed upload's: a start removes them
STALE_SECONDS = 24 * 3600
_TEMPORARY = "tmp"
_HASH = re.compile(r"[0-9a-f]{64}")
#: the name of a folder of the fan-out (two hex digits)
_FAN_OUT = re.compile(r"[0-9a-f]{2}")


@implementer(IMediaFiles)
class MediaFiles:
    """The files under C{root} (created when missing, with its C{tmp/}).

    @param clock: provides C{seconds()}, for what counts as a stale temporary file.
    """

    log = Logger()

    def __init__(self, root, clock):
        self.root = os.fspath(root)
        self._clock = clock
        self._temporary = os.path.join(self.root, _TEMPORARY)

    def start(self):
        """Make the folders, and remove the temporary files of uploads a crash interrupted
        (only old ones: another node sharing the folder may be writing the young ones)."""
        os.makedirs(self._temporary, mode=0o750, exist_ok=True)
        now = self._clock.seconds()
        removed = 0
        for entry in os.scandir(self._temporary):
            try:
                if entry.is_file() and entry.stat().st_mtime < now - STALE_SECONDS:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                pass  # another node removed it first
        if removed:
            self.log.info("media: removed {count} temporary files of interrupted uploads",
                          count=removed)

    def spool(self, max_bytes):
        os.makedirs(self._temporary, mode=0o750, exist_ok=True)
        return Spool(self._temporary, max_bytes, self.path_of)

    def path_of(self, content_hash):
        if type(content_hash) is not str or not _HASH.fullmatch(content_hash):
            raise ValueError(f"not a hex SHA-256: {content_hash!r}")
        return os.path.join(self.root, content_hash[:2], content_hash[2:4], content_hash)

    def old_files(self, before):
        for first in _folders(self.root, _FAN_OUT):
            for second in _folders(first.path, _FAN_OUT):
                prefix = first.name + second.name
                for entry in _entries(second.path):
                    if not (_HASH.fullmatch(entry.name) and entry.name.startswith(prefix)):
                        continue  # not a file this class kept
                    try:
                        if entry.is_file() and entry.stat().st_mtime < before:
                            yield entry.name
                    except FileNotFoundError:
                        pass  # another node's sweep removed it

    def remove_old(self, content_hashes, before):
        removed = 0
        for content_hash in content_hashes:
            path = self.path_of(content_hash)
            # out of the way first: an upload that keeps these bytes from now on finds no file
            # and puts its own; one that touched it before is seen here, and it goes back
            aside = os.path.join(self._temporary, f"swept-{content_hash}-{secrets.token_hex(8)}")
            try:
                os.rename(path, aside)
            except FileNotFoundError:
                continue
            if os.stat(aside).st_mtime >= before:
                os.replace(aside, path)
                continue
            os.unlink(aside)
            removed += 1
        return removed


@implementer(ISpool)
class Spool:
    """One upload being written (see L{jim.interfaces.ISpool}): a temporary file in
    C{folder}, kept under C{path_of(its content hash)}."""

    def __init__(self, folder, max_bytes, path_of):
        self._max = max_bytes
        self._path_of = path_of
        fd, self.path = tempfile.mkstemp(prefix="upload-", dir=folder)
        self._file = os.fdopen(fd, "wb")
        self._sha256 = hashlib.sha256()
        self._crc32 = 0
        self.size = 0
        self.head = b""
        self._sealed = None
        self._kept = None

    def write(self, data):
        self.size += len(data)
        if self.size > self._max:
            self.discard()
            raise JimError(errors.BODY_TOO_LARGE, f"the file is over {self._max} bytes")
        if len(self.head) < HEAD_BYTES:
            self.head += data[:HEAD_BYTES - len(self.head)]
        self._sha256.update(data)
        self._crc32 = zlib.crc32(data, self._crc32)
        self._file.write(data)

    def flush(self):
        """Make what was written readable at L{path} (by another file object)."""
        self._file.flush()

    def seal(self):
        if self._sealed is None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._sealed = (self._sha256.hexdigest(), self._crc32 & 0xFFFFFFFF, self.size)
        return self._sealed

    def keep(self):
        if self._kept is not None:
            return self._kept
        sealed = self.seal()
        target = self._path_of(sealed[0])
        folder = os.path.dirname(target)
        os.makedirs(folder, mode=0o750, exist_ok=True)
        try:
            os.utime(target)  # the same bytes are kept already: they were kept again now
        except (FileNotFoundError, PermissionError):  # (another user's file: ours replaces it)
            os.chmod(self.path, 0o640)
            os.replace(self.path, target)
            _sync_folder(folder)
        else:
            os.unlink(self.path)
        self._kept = sealed
        return self._kept

    def discard(self):
        if self._kept is not None:
            return
        self._file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.discard()


def _folders(path, name):
    """The sub-folders of C{path} whose names match C{name} (none if it is gone)."""
    return [entry for entry in _entries(path)
            if name.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)]


def _entries(path):
    try:
        with os.scandir(path) as entries:
            return list(entries)
    except FileNotFoundError:
        return []


def _sync_folder(folder):
    """Make a rename in C{folder} durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
