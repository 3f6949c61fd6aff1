"""How soon the Redis connections come back after Redis was away for a while: within about two
seconds of its return (L{jim.redis.client.RECONNECT_AT_MOST}), the command connections and the
bus's subscriber alike, so that the nodes of a cluster come back together. With txredisapi's
own backoff (up to ten seconds) an outage of four and a half seconds was felt for eleven."""
import time

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from jim.errors import JimError
from jim.redis.address import parse
from jim.redis.client import RECONNECT_AT_MOST, RedisClient
from jim.redis.listener import Listener
from tests.support.redis_server import RedisServer

AWAY = 4.5  # seconds: past the second attempt; txredisapi alone makes the third 11 s after the loss
#: the attempt's jitter, the connect and the scripts' load on a busy machine
SLACK = 2.0


def pause(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


class ReconnectTests(unittest.TestCase):
    timeout = 60

    def setUp(self):
        self.server = RedisServer().start()
        self.addCleanup(self.server.remove)

    async def away_then_back(self):
        """Stop Redis for L{AWAY} seconds, start it again; the monotonic time it was back."""
        self.server.stop()
        await pause(AWAY)
        self.server.start()
        return time.monotonic()

    async def test_commands_go_again_soon_after_redis_is_back(self):
        client = RedisClient(parse(self.server.url()), reactor, timeout=1.0, poolsize=2)
        await client.start()
        self.addCleanup(client.stop)
        back = await self.away_then_back()
        while True:
            try:
                await client.call("PING")
                break
            except JimError:
                self.assertLess(time.monotonic() - back, RECONNECT_AT_MOST + SLACK + 5)
                await pause(0.05)
        self.assertLess(time.monotonic() - back, RECONNECT_AT_MOST + SLACK)

    async def test_the_subscriber_subscribes_again_soon_after_redis_is_back(self):
        subscribed = []
        listener = Listener(parse(self.server.url()), reactor, [b"jim:test"],
                            lambda channel, payload: None,
                            lambda: subscribed.append(time.monotonic()), ping_every=0.5)
        await listener.start()
        self.addCleanup(listener.stop)
        self.assertEqual(len(subscribed), 1)
        back = await self.away_then_back()
        while len(subscribed) < 2:
            self.assertLess(time.monotonic() - back, RECONNECT_AT_MOST + SLACK + 5)
            await pause(0.05)
        self.assertLess(subscribed[1] - back, RECONNECT_AT_MOST + SLACK)
