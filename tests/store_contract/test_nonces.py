"""The contract of the nonce area (INonceStore): a nonce of an app is claimed once while its use
runs, again once it expired, whoever claims it at the same time; the sweep; for every store.

The stores tell a use that runs from one that expired by the wall clock, so the cases give
times relative to it, a minute or more away (or, in one case, a real wait)."""
import time

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor, task
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim.interfaces import INonceStore
from jim.store.redis import RedisStore
from tests.store_contract.base import ContractCase, OnMemory, OnRedis, OnSqlite

MINUTE = 60_000
HOUR = 60 * MINUTE


def now_ms():
    """The wall clock, in epoch ms: the stores' clock."""
    return int(time.time() * 1000)


class NoncesContract(ContractCase):
    #: whether forget_nonces counts what it forgot (Redis expires nonces itself: it says 0)
    counts_forgotten = True

    def setUp(self):
        opened = super().setUp()
        opened.addCallback(lambda _: setattr(self, "nonces", self.store.nonces))
        return opened

    def test_provides_the_interface(self):
        self.assertTrue(verifyObject(INonceStore, self.nonces))

    async def test_a_nonce_is_claimed_once_while_in_use(self):
        app, other = self.fresh_app(), self.fresh_app()
        until = now_ms() + HOUR
        self.assertIs(await self.nonces.claim(app, "n1", until), True)
        self.assertIs(await self.nonces.claim(app, "n1", until), False)
        self.assertIs(await self.nonces.claim(app, "n1", until + HOUR), False)
        self.assertIs(await self.nonces.claim(app, "n1", now_ms() - MINUTE), False)
        self.assertIs(await self.nonces.claim(other, "n1", until), True)  # another app's
        self.assertIs(await self.nonces.claim(app, "n2", until), True)
        self.assertIs(await self.nonces.claim(other, "n1", until), False)

    async def test_a_nonce_whose_use_expired_may_be_claimed_again(self):
        app = self.fresh_app()
        self.assertIs(await self.nonces.claim(app, "n", now_ms() - MINUTE), True)
        self.assertIs(await self.nonces.claim(app, "n", now_ms() - MINUTE), True)
        self.assertIs(await self.nonces.claim(app, "n", now_ms() + HOUR), True)
        self.assertIs(await self.nonces.claim(app, "n", now_ms() + HOUR), False)

    async def test_a_use_ends_when_it_expires(self):
        """A real wait: the use expires by the wall clock (in Redis, the key's PX)."""
        app = self.fresh_app()
        until = now_ms() + 50
        self.assertIs(await self.nonces.claim(app, "n", until), True)
        self.assertIs(await self.nonces.claim(app, "n", until), False)
        await task.deferLater(reactor, max(until - now_ms(), 0) / 1000 + 0.02, lambda: None)
        self.assertIs(await self.nonces.claim(app, "n", now_ms() + HOUR), True)
        self.assertIs(await self.nonces.claim(app, "n", now_ms() + HOUR), False)

    async def test_the_sweep_forgets_what_expired_before(self):
        app, other = self.fresh_app(), self.fresh_app()
        now = now_ms()
        await self.nonces.claim(app, "old", now - 3 * MINUTE)
        await self.nonces.claim(other, "old", now - 2 * MINUTE)
        await self.nonces.claim(app, "young", now - MINUTE)
        await self.nonces.claim(app, "live", now + HOUR)
        first = await self.nonces.forget_nonces(now - 2 * MINUTE)
        second = await self.nonces.forget_nonces(now)
        again = await self.nonces.forget_nonces(now)
        if self.counts_forgotten:
            self.assertEqual((first, second, again), (1, 2, 0))
        else:
            self.assertEqual((first, second, again), (0, 0, 0))
        self.assertIs(await self.nonces.claim(app, "live", now + HOUR), False)
        for nonce in ("old", "young"):
            self.assertIs(await self.nonces.claim(app, nonce, now + HOUR), True)

    async def test_claims_in_one_turn_take_a_nonce_once(self):
        app, other = self.fresh_app(), self.fresh_app()
        until = now_ms() + HOUR
        claims = [(self.nonces.claim, app, "n", until)] * 5 + [(self.nonces.claim, other, "n",
                                                                 until)]
        answers = await self.in_one_turn(claims)
        self.assertEqual(answers[:5].count(True), 1)
        self.assertEqual(answers[5], True)
        # a use that expired, taken over by several claims at once: once too
        await self.nonces.claim(app, "gone", now_ms() - MINUTE)
        answers = await self.in_one_turn([(self.nonces.claim, app, "gone", until)] * 4)
        self.assertEqual(answers.count(True), 1)

    async def test_an_app_forgotten_forgets_its_nonces(self):
        app, other = self.fresh_app(), self.fresh_app()
        until = now_ms() + HOUR
        for one in (app, other):
            await self.nonces.claim(one, "n", until)
        await self.store.forget_app(app)
        self.assertIs(await self.nonces.claim(app, "n", until), True)
        self.assertIs(await self.nonces.claim(other, "n", until), False)

    async def test_nonces_and_apps_of_any_text(self):
        until = now_ms() + HOUR
        odd = ["a b", "x:y", "{app}", "'quote'", "ü", "*", ""]
        for app in ("a{", "a}:b", "*"):
            for nonce in odd:
                self.assertIs(await self.nonces.claim(app, nonce, until), True)
            for nonce in odd:
                self.assertIs(await self.nonces.claim(app, nonce, until), False)

    def test_claims_match_the_model(self):
        """Hypothesis: whatever the claims (uses that run an hour or a minute more, or ended a
        minute or an hour ago) and sweeps, each claim's answer, and each sweep's count, is
        what a dict of the expiries says at the model's clock."""
        offsets = st.sampled_from([-HOUR, -MINUTE, MINUTE, HOUR])
        steps = st.lists(st.one_of(
            st.tuples(st.just("claim"), st.sampled_from([0, 1]), st.sampled_from("xyz"),
                      offsets),
            st.tuples(st.just("forget"), st.sampled_from([-2 * HOUR, -30 * MINUTE, 0]))),
            max_size=12)

        @settings(max_examples=self.property_examples, deadline=None, derandomize=True)
        @given(steps)
        def check(plan):
            apps, model = [self.fresh_app(), self.fresh_app()], {}
            now = now_ms()  # the model's clock: an example takes far less than a minute
            # every use of the examples before this one ends within the hour: forgotten,
            # they leave the store empty
            self.blocking(self.nonces.forget_nonces, now + 2 * HOUR)
            for kind, *args in plan:
                if kind == "claim":
                    which, nonce, offset = args
                    at = (apps[which], nonce)
                    expected = at not in model or model[at] <= now
                    if expected:
                        model[at] = now + offset
                    self.assertIs(self.blocking(self.nonces.claim, *at, now + offset),
                                  expected, (kind, args))
                else:
                    before = now + args[0]
                    gone = [at for at, expires in model.items() if expires < before]
                    for at in gone:
                        del model[at]
                    counted = self.blocking(self.nonces.forget_nonces, before)
                    if self.counts_forgotten:
                        self.assertEqual(counted, len(gone), (kind, args))

        return self.run_property(check)


class MemoryNoncesTests(NoncesContract, OnMemory, unittest.TestCase):
    pass


class SqliteNoncesTests(NoncesContract, OnSqlite, unittest.TestCase):
    pass


class RedisNoncesTests(NoncesContract, OnRedis, unittest.TestCase):
    counts_forgotten = False

    async def test_claims_of_two_nodes_at_once_take_a_nonce_once(self):
        """Two stores on one Redis, as two nodes of a cluster: their claims of one nonce, made
        in one turn, take it once."""
        other = RedisStore(self.store.address, reactor)
        await other.start()
        self.addCleanup(other.stop)
        app, until = self.fresh_app(), now_ms() + HOUR
        answers = await self.in_one_turn([(store.nonces.claim, app, "n", until)
                                          for store in (self.store, other) * 3])
        self.assertEqual(answers.count(True), 1)
