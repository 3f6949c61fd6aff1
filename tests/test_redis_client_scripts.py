"""The Redis client's scripts (L{jim.redis.client.Script}) on a real redis-server: each command
connection loads every script as it is made, so that after a restart none is run by a SHA-1
Redis has forgotten (it would go again with its source, after the scripts sent behind it);
one Redis forgot all the same (SCRIPT FLUSH) still runs, with its source."""
from twisted.internet import reactor, task
from twisted.trial import unittest

import jim.store.redis  # noqa: F401  (the store's areas make their scripts at import)
from jim.errors import JimError
from jim.redis.address import parse
from jim.redis.client import SCRIPTS, RedisClient, Script
from tests.support.redis_server import RedisServer

ECHO = Script("tests.echo", "return ARGV[1]")


class ScriptLoadingTests(unittest.TestCase):
    def setUp(self):
        self.server = RedisServer().start()
        self.addCleanup(self.server.remove)
        self.client = RedisClient(parse(self.server.url()), reactor, timeout=2.0, poolsize=1)
        return self.client.start().addCallback(lambda _: self.addCleanup(self.client.stop))

    def loaded(self):
        """For each script made, whether Redis has it."""
        return self.server.query("SCRIPT", "EXISTS", *[script.sha for script in SCRIPTS])

    def calls(self, command):
        """INFO commandstats' figures of C{command}: {'calls': ..., 'failed_calls': ...}."""
        line = self.server.info("commandstats").get(f"cmdstat_{command}")
        if line is None:
            return {}
        figures = dict(field.split("=") for field in line.split(","))
        return {name: int(figures[name]) for name in ("calls", "failed_calls")}

    async def back(self):
        """Wait until the client's connection is made again (a command is answered)."""
        for _ in range(100):
            try:
                await self.client.call("PING")
                return
            except JimError:
                await task.deferLater(reactor, 0.1, lambda: None)
        self.fail("the client did not connect again")

    def test_every_script_is_loaded_with_the_connection(self):
        self.assertGreater(len(SCRIPTS), 10)
        self.assertEqual(self.loaded(), [1] * len(SCRIPTS))

    async def test_after_a_restart_they_are_loaded_before_any_command_runs(self):
        self.server.stop()
        self.server.start()
        await self.back()
        self.assertEqual(self.loaded(), [1] * len(SCRIPTS))
        self.assertEqual(await self.client.run(ECHO, [], ["hi"]), "hi")
        self.assertEqual(self.calls("evalsha"), {"calls": 1, "failed_calls": 0},
                         "run by its SHA-1 at once")
        self.assertEqual(self.calls("eval"), {})

    async def test_a_script_redis_forgot_meanwhile_goes_with_its_source(self):
        self.server.query("SCRIPT", "FLUSH")
        self.assertEqual(await self.client.run(ECHO, [], ["again"]), "again")
        self.assertEqual(self.calls("evalsha")["failed_calls"], 1)
        self.assertEqual(self.calls("eval")["calls"], 1)
