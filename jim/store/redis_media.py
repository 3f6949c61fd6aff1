# -*- test-case-name: tests.store_contract.test_media -*-
"""The media area of the Redis store (L{jim.interfaces.IMediaStore}).

Keys (named by L{jim.store.redis_keys.key}, each the app's: it has the app's hash tag):

    jim:{app}:media:<media_id>  STRING  the Media as the JSON list of its fields after C{app},
                                        in L{jim.model.Media}'s order

A media id is never changed nor forgotten, so keeping one is C{SET ... NX} and reading back
the value kept: the first upload's, whichever node made it.
"""
import attr
import orjson
from zope.interface import implementer

from jim.interfaces import IMediaStore
from jim.model import Media
from jim.store.redis_keys import deferred, key

#: Media's fields after C{app}, as they are kept
_FIELDS = [field.name for field in attr.fields(Media)][1:]


def _media_key(app, media_id):
    return key(app, "media", media_id)


def _value(media):
    return orjson.dumps([getattr(media, name) for name in _FIELDS])


def _media(app, text):
    return None if text is None else Media(app, *orjson.loads(text))


@implementer(IMediaStore)
class RedisMedia:
    def __init__(self, client):
        self._client = client

    @deferred
    async def add_media(self, media):
        name = _media_key(media.app, media.media_id)
        await self._client.call("SET", name, _value(media), "NX")
        return _media(media.app, await self._client.call("GET", name))

    @deferred
    async def get_media(self, app, media_id):
        return _media(app, await self._client.call("GET", _media_key(app, media_id)))
