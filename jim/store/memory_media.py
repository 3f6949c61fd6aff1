# -*- test-case-name: tests.store_contract.test_media -*-
"""The media area of L{jim.store.memory.MemoryStore}: what is known of uploaded files, in a
dict."""
from zope.interface import implementer

from jim.interfaces import IMediaStore
from jim.store import answered


@implementer(IMediaStore)
class MemoryMedia:
    def __init__(self):
        self._media = {}  # (app, media_id) -> Media

    @answered
    def add_media(self, media):
        return self._media.setdefault((media.app, media.media_id), media)

    @answered
    def get_media(self, app, media_id):
        return self._media.get((app, media_id))

    @answered
    def forget_app(self, app):
        """Forget the app's media records (L{jim.interfaces.IStore.forget_app})."""
        for key in [key for key in self._media if key[0] == app]:
            del self._media[key]
