"""The Redis client's scripts (L{jim.redis.client.Script}) on a real redis-server: each command
connection loads every script as it is made, so that after a restart none is run by a SHA-1
Redis has forgotten (it would go again with its source, after the scripts sent behind it);
one Redis forgot all the same (SCRIPT FLUSH) still runs, with its source; a Redis user that may
not load them (an ACL without SCRIPT) runs each with its source the first time, in order."""
from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from txredisapi import ResponseError

import jim.store.redis  # noqa: F401  (the store's areas make their scripts at import)
from jim.errors import JimError
from jim.redis.address import parse
from jim.redis.client import SCRIPTS, LoadsScripts, RedisClient, Script
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


#: two scripts that add to a list: the order they ran in is the list's
PUSH = Script("tests.push", "return redis.call('RPUSH', KEYS[1], ARGV[1])")
PUSH_TOO = Script("tests.push-too", "-- another\nreturn redis.call('RPUSH', KEYS[1], ARGV[1])")


class RefusedLoadTests(unittest.TestCase):
    """A Redis user whose ACL lacks the SCRIPT command (SCRIPT LOAD is refused) runs the
    scripts all the same, by EVAL, and in the order they were sent."""

    def setUp(self):
        self.server = RedisServer().start()
        self.addCleanup(self.server.remove)
        self.assertEqual(self.server.query("ACL", "SETUSER", "jim", "on", ">secret", "~*", "&*",
                                           "+@all", "-script"), "OK")
        url = f"redis://jim:secret@127.0.0.1:{self.server.port}/0"
        self.client = RedisClient(parse(url), reactor, timeout=2.0, poolsize=1)
        return self.client.start().addCallback(lambda _: self.addCleanup(self.client.stop))

    calls = ScriptLoadingTests.calls

    async def test_a_script_goes_with_its_source_the_first_time_then_by_its_sha(self):
        refused = self.server.info("commandstats")["cmdstat_script|load"]
        self.assertIn("calls=0,", refused)
        self.assertIn(f"rejected_calls={len(SCRIPTS)},", refused)
        self.assertEqual(self.server.query("SCRIPT", "EXISTS", ECHO.sha), [0])
        self.assertEqual(await self.client.run(ECHO, [], ["hi"]), "hi")
        self.assertEqual(await self.client.run(ECHO, [], ["again"]), "again")
        self.assertEqual(self.calls("eval"), {"calls": 1, "failed_calls": 0})
        self.assertEqual(self.calls("evalsha"), {"calls": 1, "failed_calls": 0},
                         "no NOSCRIPT on the way")

    async def test_scripts_run_in_the_order_they_were_sent(self):
        """One run before (in Redis's cache), one not: the second, sent behind the first,
        must not run before it."""
        await self.client.run(PUSH_TOO, ["list"], ["0"])
        first = self.client.run(PUSH, ["list"], ["1"])
        second = self.client.run(PUSH_TOO, ["list"], ["2"])
        self.assertEqual((await first, await second), (2, 3))
        self.assertEqual(self.server.query("LRANGE", "list", "0", "-1"), ["0", "1", "2"])


class RenamedScriptTests(RefusedLoadTests):
    """A Redis whose SCRIPT command is renamed away (C{rename-command}) refuses every load
    for good, as an ACL without it does: the same."""

    def setUp(self):
        self.server = RedisServer(extra=("--rename-command", "SCRIPT", "")).start()
        self.addCleanup(self.server.remove)
        self.client = RedisClient(parse(self.server.url()), reactor, timeout=2.0, poolsize=1)
        return self.client.start().addCallback(lambda _: self.addCleanup(self.client.stop))

    async def test_a_script_goes_with_its_source_the_first_time_then_by_its_sha(self):
        self.assertEqual(await self.client.run(ECHO, [], ["hi"]), "hi")
        self.assertEqual(await self.client.run(ECHO, [], ["again"]), "again")
        self.assertEqual(self.calls("eval"), {"calls": 1, "failed_calls": 0})
        self.assertEqual(self.calls("evalsha"), {"calls": 1, "failed_calls": 0})


class _Sent:
    """What a connection's command writer was given, answering SCRIPT LOAD with a refusal."""

    def __init__(self, refusal):
        self.refusal = refusal
        self.sent = []

    def execute_command(self, *args):
        self.sent.append(args[0])
        if args[:2] == ("SCRIPT", "LOAD"):
            return defer.fail(ResponseError(self.refusal))
        return defer.succeed(None)


class _Connection(LoadsScripts, _Sent):
    connected = True


class PassingRefusalTests(unittest.SynchronousTestCase):
    """A load refused for a while only (a Redis still loading its data after a restart, busy
    with a script) leaves the connection running scripts by their SHA-1: one that Redis
    misses then goes again with its source (RedisClient.run), in the order it failed."""

    def connection(self, refusal):
        connection = _Connection(refusal)
        connection._load_scripts(None)
        del connection.sent[:]
        return connection

    def test_a_passing_refusal_changes_nothing(self):
        for refusal in ("LOADING Redis is loading the dataset in memory",
                        "BUSY Redis is busy running a script"):
            connection = self.connection(refusal)
            connection.execute_command("EVALSHA", ECHO.sha, 0, "hi")
            self.assertEqual(connection.sent, ["EVALSHA"], refusal)

    def test_a_refusal_for_good_sends_each_script_with_its_source_once(self):
        connection = self.connection("NOPERM this user has no permissions to run the"
                                     " 'script|load' command")
        for _ in range(2):
            connection.execute_command("EVALSHA", ECHO.sha, 0, "hi")
        self.assertEqual(connection.sent, ["EVAL", "EVALSHA"])
