"""A cluster on a Redis that speaks TLS only (rediss://, redis-server --tls-port): the store and
the bus of two nodes work through it, and a node does not start on a Redis whose certificate it
must not trust (another CA, or another name), saying so in one line that names Redis."""
import os

from twisted.internet import reactor
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import LogLevel, globalLogPublisher
from twisted.trial.unittest import TestCase

from jim.config import Config
from jim.net.devcert import issue_ca, issue_server
from jim.service import JimService
from tests.integration.test_cluster import KEY, SECRET, ClusterCase
from tests.support.certs import dev_pair, write_pair, write_pem
from tests.support.redis_server import RedisServer


def tls_redis(testcase, server=None):
    """A redis-server on TLS only, with C{server}'s certificate (default: the development one,
    for localhost), issued by the development CA; stopped at the end of the test."""
    folder = testcase.mktemp()
    pair = dev_pair()
    ca = write_pem(folder, "ca.pem", pair.ca.cert_pem)
    if server is None:
        cert, key = write_pair(folder)
    else:
        cert = write_pem(folder, "redis.pem", server.cert_pem)
        key = write_pem(folder, "redis.key.pem", server.key_pem)
    redis = RedisServer(tls=(cert, key, ca)).start()
    testcase.addCleanup(redis.remove)
    return redis


class TlsClusterTests(ClusterCase):
    async def test_two_nodes_chat_through_a_tls_redis(self):
        redis = tls_redis(self)
        url = redis.url()
        self.assertTrue(url.startswith(f"rediss://localhost:{redis.port}/0?ca="), url)
        (a, b), (rest_a, rest_b) = await self.cluster(2, url=url)
        await rest_a.register("alice", "bobby")
        self.assertEqual((await rest_b.get("/v1/users/alice")).json()["username"], "alice")
        alice = await self.tcp(a, "alice")
        bobby = await self.tcp(b, "bobby")
        await self.seen_online([rest_a, rest_b], "bobby")
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "over TLS"})
        self.assertEqual((await alice.expect(12))["code"], 10000, "delivered: bobby is online")
        self.assertEqual((await self.chat(bobby))["content"], "over TLS")
        bobby.send(11, {"cmd": 11, "chatType": 2, "to": "alice", "content": "and back"})
        self.assertEqual((await self.chat(alice))["content"], "and back")
        self.assertEqual(await self.fetch(alice, "alice", kind=1, fromUserId="bobby"),
                         {"bobby": ["over TLS", "and back"]})
        self.assertGreater(redis.query("DBSIZE"), 0, "in the Redis that speaks TLS only")


class UntrustedRedisTests(TestCase):
    timeout = 30

    async def refused(self, url):
        """A node on C{url} does not start: its one critical line."""
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        config = Config(listen=("tcp:0:interface=127.0.0.1",), data=self.mktemp(), store=url,
                        app_key=KEY, master_secret=SECRET, scrypt_cost=(2, 1, 1))
        service = JimService(config, reactor, exit_on_failure=False, own_process=False)
        service.startService()
        self.addCleanup(service.stopService)
        with self.assertRaises(ConnectionError):
            await service.when_ready()
        critical = [e for e in events if e["log_level"] == LogLevel.critical]
        self.assertEqual(len(critical), 1, [e.get("log_format") for e in events])
        self.assertNotIn("log_failure", critical[0])  # a sentence, not a traceback
        return critical[0]["log_format"].format(**critical[0])

    async def test_a_certificate_from_another_ca(self):
        redis = tls_redis(self)
        folder = self.mktemp()
        os.makedirs(folder)
        other = write_pem(folder, "other-ca.pem", issue_ca("another CA").cert_pem)
        said = await self.refused(f"rediss://localhost:{redis.port}/0?ca={other}")
        self.assertIn(f"jim could not start: Redis at rediss://localhost:{redis.port}/0", said)
        self.assertIn("TLS handshake failed: certificate verify failed", said)

    async def test_a_certificate_for_another_name(self):
        redis = tls_redis(self, issue_server(dev_pair().ca, hosts=("redis.example",)))
        said = await self.refused(redis.url())
        self.assertIn(f"jim could not start: Redis at rediss://localhost:{redis.port}/0", said)
        self.assertIn("certificate is for another name", said)
        self.assertIn("localhost", said)
