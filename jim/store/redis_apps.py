# -*- test-case-name: tests.store_contract.test_apps -*-
"""The apps area of the Redis store (L{jim.interfaces.IAppStore})."""
from zope.interface import implementer

from jim.interfaces import IAppStore


@implementer(IAppStore)
class RedisApps:
    def __init__(self, client):
        self._client = client
