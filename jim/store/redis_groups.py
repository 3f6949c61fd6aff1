# -*- test-case-name: tests.store_contract.test_groups -*-
"""The groups area of the Redis store (L{jim.interfaces.IGroupStore})."""
from zope.interface import implementer

from jim.interfaces import IGroupStore


@implementer(IGroupStore)
class RedisGroups:
    def __init__(self, client):
        self._client = client
