# -*- test-case-name: tests.store_contract.test_media -*-
"""The media area of L{jim.store.memory.MemoryStore}: what is known of uploaded files, in
dicts."""
from zope.interface import implementer

from jim.interfaces import IMediaStore
from jim.store import answered, media_quota


@implementer(IMediaStore)
class MemoryMedia:
    def __init__(self):
        self._media = {}  # (app, media_id) -> Media
        self._hashes = {}  # app -> the content hashes its records name
        self._usage = {}  # app -> bytes

    @answered
    def add_media(self, media, quota=0):
        kept = self._media.get((media.app, media.media_id))
        if kept is not None:
            return kept
        if media.content_hash not in self._hashes.get(media.app, ()):
            used = self._usage.get(media.app, 0)
            if not media_quota.passes(quota, used, media.size):
                raise media_quota.refusal(quota, used, media.size)
            self._usage[media.app] = media_quota.grown(used, media.size)
            self._hashes.setdefault(media.app, set()).add(media.content_hash)
        self._media[media.app, media.media_id] = media
        return media

    @answered
    def get_media(self, app, media_id):
        return self._media.get((app, media_id))

    @answered
    def media_usage(self, app):
        return self._usage.get(app, 0)

    @answered
    def count_older(self):
        """Nothing to count: every record here was counted as it was kept."""

    @answered
    def named_hashes(self, content_hashes):
        return {content_hash for content_hash in content_hashes
                if any(content_hash in hashes for hashes in self._hashes.values())}

    @answered
    def forget_app(self, app):
        """Forget the app's media records and usage (L{jim.interfaces.IStore.forget_app})."""
        for key in [key for key in self._media if key[0] == app]:
            del self._media[key]
        self._hashes.pop(app, None)
        self._usage.pop(app, None)
