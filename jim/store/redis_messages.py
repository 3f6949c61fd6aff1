# -*- test-case-name: tests.store_contract.test_messages -*-
"""The message area of the Redis store (L{jim.interfaces.IMessageStore})."""
from zope.interface import implementer

from jim.interfaces import IMessageStore


@implementer(IMessageStore)
class RedisMessages:
    def __init__(self, client, reactor, metrics=None):
        self._client = client
        self._reactor = reactor
        self._metrics = metrics
