# -*- test-case-name: tests.store_contract.test_users -*-
"""The users area of the Redis store (L{jim.interfaces.IUserStore})."""
from zope.interface import implementer

from jim.interfaces import IUserStore


@implementer(IUserStore)
class RedisUsers:
    def __init__(self, client):
        self._client = client
