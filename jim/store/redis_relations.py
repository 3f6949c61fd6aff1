# -*- test-case-name: tests.store_contract.test_relations -*-
"""The relations area of the Redis store (L{jim.interfaces.IRelationStore})."""
from zope.interface import implementer

from jim.interfaces import IRelationStore


@implementer(IRelationStore)
class RedisRelations:
    def __init__(self, client):
        self._client = client
