"""The media area's contract (L{IMediaStore}: what is known of uploads, each app's usage) and
where the bytes of uploads are kept (L{IMediaFiles}, written through an L{ISpool}). As for
every area of L{jim.interfaces.stores.IStore}, store methods return Deferreds; the files'
methods block and run on a worker thread."""
from zope.interface import Attribute, Interface


class IMediaStore(Interface):
    """What is known of uploaded files (L{jim.model.Media}); their bytes are in an
    L{IMediaFiles}. A media id names one file forever: nothing here changes or forgets one
    (records go only with their app, L{IStore.forget_app}).

    Each app's usage is the bytes of the distinct contents its records name: each content
    hash counted once, with the size of the first record that named it."""

    def add_media(media, quota=0):
        """Keep C{media} unless its app already keeps one with its C{media_id}; the one kept
        (the first: the same upload made twice is kept once).

        A record whose C{content_hash} no record of its app named before adds its C{size} to
        the app's usage (L{media_usage}; it stops at 2**63 - 1). With a C{quota} (bytes; 0:
        none) that the usage would pass, nothing is kept: JimError(MEDIA_QUOTA). The check and
        the add are one atomic step: of adds made at once (on any node), no more pass than
        the quota holds."""

    def get_media(app, media_id):
        """The L{jim.model.Media} of C{app} with this id, or None (another app's is None)."""

    def media_usage(app):
        """The app's usage (bytes; 0 for an app that keeps none)."""

    def named_hashes(content_hashes):
        """The set of those of C{content_hashes} that a record of any app names (what a sweep
        of the files must keep)."""

    def count_older():
        """Count in their apps' usage and names the records an older jim kept without them
        (a node not yet upgraded, on a store several nodes share); a sweep calls it first, so
        that no file such a record names is taken for one no record names. Not a hot path."""


class IMediaFiles(Interface):
    """The bytes of uploaded files, each kept once under the hex SHA-256 of its content.

    Every method blocks (it touches the disk): it is called on a worker thread, never on the
    reactor's.
    """

    def spool(max_bytes):
        """A new L{ISpool} for one upload of at most C{max_bytes}."""

    def path_of(content_hash):
        """The local path of the file with this content hash (ValueError for a text that is
        no hex SHA-256); it may not exist."""

    def old_files(before):
        """An iterator of the content hashes of the kept files last modified before
        C{before} (epoch seconds), in no order; each step blocks."""

    def remove_old(content_hashes, before):
        """Remove the files of these content hashes, each unless it was modified at or after
        C{before} (an upload kept the same bytes again meanwhile); how many were removed."""


class ISpool(Interface):
    """One upload being written: a temporary file, hashed as it is written. It is discarded
    unless kept; use it as a context manager, which discards it when it was not kept."""

    size = Attribute("Bytes written so far.")
    head = Attribute("The first bytes written (up to 64), to tell formats apart.")
    path = Attribute("The temporary file's path (to read it: see L{flush}).")

    def write(data):
        """Append C{data}; JimError(BODY_TOO_LARGE), and nothing kept, past C{max_bytes}."""

    def flush():
        """Make every byte written so far readable at L{path}."""

    def seal():
        """End the writing: make the bytes durable in the temporary file and say what they
        are, C{(content_hash, crc32, size)}, before anything is kept (once: later calls say
        the same)."""

    def keep():
        """Seal (if not yet) and keep the file under its content hash, its modification time
        now (once: a file already kept under it stays, touched, and this one is dropped);
        C{(content_hash, crc32, size)}."""

    def discard():
        """Remove the temporary file (nothing once kept)."""
