"""Abuse resistance of password logins, over real sockets: one address hammering wrong
passwords neither keeps other users out nor guesses on for ever.

Clients bind to other loopback addresses (127.0.0.2, ...: Linux routes all of 127/8 to lo), so
that the server, which counts by the peer address it reads from the connection, sees them as
different addresses."""
import json

from twisted.internet import defer, reactor, task
from twisted.trial.unittest import TestCase

from tests.support.jimclient import tcp_client, ws_client
from tests.support.server import JimServer

PASSWORD = "right-password"
FLOODERS = 150  # connections of the flooding address at once: 15 s of hashing and more
USERS = 4  # each from its own address: served in turn with the flood, one hash each
BOUND = 10.0  # seconds a real user's login may take during the flood (--login-timeout / 2)


async def log_in(port, user, password, source=None):
    """The cmd 6 reply to a login over a fresh TCP connection (closed afterwards)."""
    client = await tcp_client(port, source=source)
    try:
        return await client.request(5, {"cmd": 5, "userId": user, "password": password}, 6)
    finally:
        await client.disconnect()


class LoginFloodTests(TestCase):
    timeout = 120

    async def test_real_users_log_in_while_one_address_floods_wrong_passwords(self):
        """With the failure counts off, only the fair hashing queue stands between the flood
        and the users: the addresses' hashes are served in turn, and the flooding address's
        next attempt is refused at once once its own wait in those turns is too long."""
        server = await JimServer.start(self, extra_args=[
            "--scrypt-cost", "16384:8:2",  # about 0.1 s a hash: the flood fills a FIFO queue
            "--hash-threads", "1",
            "--login-timeout", "20",  # a login waits for at most 10 s of hashing
            "--login-failures-per-user", "0",
            "--login-failures-per-address", "0",
        ])
        users = [f"user{i}" for i in range(USERS)]
        for user in users:  # registered by their first login (open registration)
            self.assertEqual((await log_in(server.port, user, PASSWORD))["code"], 10007)

        flooding = True
        replies = []

        async def flood():
            while flooding:
                try:
                    reply = await log_in(server.port, "user0", "guess", source="127.0.0.2")
                    replies.append(reply["code"])
                except Exception:
                    await task.deferLater(reactor, 0.01)

        floods = [defer.ensureDeferred(flood()) for _ in range(FLOODERS)]
        try:
            while len(replies) < FLOODERS:  # the flood is in full swing
                await task.deferLater(reactor, 0.05)

            async def real_login(i, user):
                started = reactor.seconds()
                reply = await log_in(server.port, user, PASSWORD, source=f"127.0.0.{10 + i}")
                return reply, reactor.seconds() - started

            results = await defer.gatherResults(
                [defer.ensureDeferred(real_login(i, user)) for i, user in enumerate(users)])
        finally:
            flooding = False
            await defer.gatherResults(floods)
        for (reply, took), user in zip(results, users):
            self.assertEqual(reply["code"], 10007, (user, reply))
            self.assertLess(took, BOUND, user)
        self.assertTrue(replies)
        self.assertEqual(set(replies), {10008})  # every guess answered (refused), none hung


class LoginThrottleTests(TestCase):
    timeout = 60

    async def test_an_address_guessing_is_slowed_then_locked_out(self):
        server = await JimServer.start(self, extra_args=[
            "--login-failures-per-address", "2", "--login-failures-per-user", "100",
        ])
        self.assertEqual((await log_in(server.port, "alice", PASSWORD))["code"], 10007)
        took = []
        for i in range(4):  # 2 at once, then 1 s and 2 s late; the 4th locks the address
            started = reactor.seconds()
            reply = await log_in(server.port, "alice", "guess", source="127.0.0.3")
            self.assertEqual(reply["code"], 10008, reply)
            took.append(reactor.seconds() - started)
        self.assertLess(max(took[:2]), 0.9, took)
        self.assertGreaterEqual(took[2], 0.95, took)
        self.assertGreaterEqual(took[3], 1.95, took)

        # locked: even the right password is refused at once, over TCP and WebSocket
        started = reactor.seconds()
        reply = await log_in(server.port, "alice", PASSWORD, source="127.0.0.3")
        self.assertLess(reactor.seconds() - started, 0.9)
        self.assertEqual(reply["code"], 10008, reply)
        self.assertIn("too many failed logins; retry in", json.dumps(reply))
        ws = await ws_client(server.port, query=f"username=alice&password={PASSWORD}",
                             source="127.0.0.3", testcase=self)
        reply = await ws.expect(6)
        self.assertEqual(reply["code"], 10008, reply)
        self.assertIn("too many failed logins; retry in", json.dumps(reply))

        # another address logs in as alice; a token login is never throttled
        reply = await log_in(server.port, "alice", PASSWORD, source="127.0.0.4")
        self.assertEqual(reply["code"], 10007, reply)
        client = await tcp_client(server.port, source="127.0.0.3", testcase=self)
        reply = await client.request(5, {"cmd": 5, "userId": "alice", "token": reply["token"]},
                                     6)
        self.assertEqual(reply["code"], 10007, reply)

    async def test_an_account_guessed_at_is_locked_out_and_a_success_clears_it(self):
        server = await JimServer.start(self, extra_args=[
            "--login-failures-per-user", "1", "--login-failures-per-address", "100",
        ])
        self.assertEqual((await log_in(server.port, "bob", PASSWORD))["code"], 10007)
        self.assertEqual((await log_in(server.port, "bob", "guess", "127.0.0.5"))["code"], 10008)
        self.assertEqual((await log_in(server.port, "bob", PASSWORD))["code"], 10007)  # after 1 s
        for source in ("127.0.0.5", "127.0.0.6"):  # cleared: 1 failure, then 2 lock it
            self.assertEqual((await log_in(server.port, "bob", "guess", source))["code"], 10008)
        reply = await log_in(server.port, "bob", PASSWORD, "127.0.0.7")
        self.assertIn("too many failed logins; retry in", json.dumps(reply))
