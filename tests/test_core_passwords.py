"""scrypt password hashes in self-describing strings, verified in constant time."""
import base64
import hashlib

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.core import passwords
from jim.core.passwords import Passwords, hash_password, verify_password
from jim.errors import JimError

from tests.support.fakes import COST, RecordingRunner


class HashTests(SynchronousTestCase):
    def test_round_trip(self):
        stored = hash_password("correct horse", COST)
        self.assertTrue(verify_password("correct horse", stored))

    def test_wrong_password(self):
        stored = hash_password("correct horse", COST)
        for attempt in ["correct hors", "Correct horse", "", "correct horse "]:
            self.assertFalse(verify_password(attempt, stored), attempt)

    def test_unicode(self):
        stored = hash_password("пароль密码", COST)
        self.assertTrue(verify_password("пароль密码", stored))
        self.assertFalse(verify_password("пароль", stored))

    def test_self_describing(self):
        """The string says how it was made: scrypt$N$r$p$salt$key, base64."""
        salt = b"0123456789abcdef"
        stored = hash_password("pw", (4, 2, 1), salt=salt)
        key = hashlib.scrypt(b"pw", salt=salt, n=4, r=2, p=1, dklen=32)
        b64 = base64.b64encode
        self.assertEqual(stored, f"scrypt$4$2$1${b64(salt).decode()}${b64(key).decode()}")

    def test_random_salt(self):
        first, second = hash_password("pw", COST), hash_password("pw", COST)
        self.assertNotEqual(first, second)
        self.assertEqual(len(base64.b64decode(first.split("$")[4])), 16)

    def test_cost_comes_from_the_hash(self):
        """A hash made at another cost still verifies after the configured cost changed."""
        stored = hash_password("pw", (8, 1, 1))
        runner = RecordingRunner()
        d = Passwords(COST, run=runner).verify("pw", stored)
        self.assertTrue(self.successResultOf(d))

    def test_constant_time_compare(self):
        compared = []
        real = passwords.hmac.compare_digest

        def spy(a, b):
            compared.append((a, b))
            return real(a, b)

        self.patch(passwords.hmac, "compare_digest", spy)
        stored = hash_password("pw", COST)
        self.assertFalse(verify_password("other", stored))
        self.assertTrue(verify_password("pw", stored))
        self.assertEqual(len(compared), 2)
        self.assertEqual(compared[1][1], base64.b64decode(stored.split("$")[5]))

    def test_garbage_stored_hash(self):
        for stored in [
            "",
            "plaintext",
            "$$$$$",
            "bcrypt$2$1$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
            "scrypt$x$1$1$AAAA$AAAA",
            "scrypt$2$1$1$A$AAAA",  # bad base64 padding
            "scrypt$3$1$1$AAAA$AAAA",  # N not a power of two
            "scrypt$1$1$1$AAAA$AAAA",
            "scrypt$-2$1$1$AAAA$AAAA",
            "scrypt$2$0$1$AAAA$AAAA",
            "scrypt$99999999999999999999999$1$1$AAAA$AAAA",
            "scrypt$2$1$1$AAAA$",  # no key
            "scrypt$2$1$1$AAAA$AAAA$extra",
        ]:
            self.assertFalse(verify_password("pw", stored), stored)


class CheckCostTests(SynchronousTestCase):
    def test_accepted_costs_are_the_ones_scrypt_computes(self):
        """At a small cap, a cost is accepted exactly when hashlib.scrypt works under it."""
        cap = 128 * 8 * (1024 + 2 + 1)  # 1024:8:1 fits to the byte
        outcomes = set()
        for cost in ((1024, 8, 1), (1024, 8, 2), (512, 8, 1), (2048, 8, 1), (1024, 4, 3),
                     (512, 16, 1), (65536, 1, 1), (32768, 1, 1)):
            n, r, p = cost
            try:
                hashlib.scrypt(b"pw", salt=b"s" * 16, n=n, r=r, p=p, maxmem=cap, dklen=32)
            except ValueError:
                self.assertRaises(ValueError, passwords.check_cost, cost, cap)
                outcomes.add("refused")
            else:
                passwords.check_cost(cost, cap)
                outcomes.add("accepted")
        self.assertEqual(outcomes, {"refused", "accepted"})

    def test_the_hashing_cap_is_the_default(self):
        passwords.check_cost((4, 524288, 2))  # 128 * r * (N + p + 2) = 2^29: exactly the cap
        self.assertRaises(ValueError, passwords.check_cost, (8, 524288, 2))
        with self.assertRaises(ValueError) as caught:
            passwords.check_cost((16384, 8, 65))
        self.assertIn("p must be 1 to 64", str(caught.exception))


class PasswordsTests(SynchronousTestCase):
    def test_runs_through_runner(self):
        runner = RecordingRunner()
        pw = Passwords(COST, run=runner)
        stored = self.successResultOf(pw.hash("pw"))
        self.assertTrue(self.successResultOf(pw.verify("pw", stored)))
        self.assertFalse(self.successResultOf(pw.verify("px", stored)))
        self.assertEqual(runner.calls, ["hash_password", "verify_password", "verify_password"])
        self.assertTrue(stored.startswith("scrypt$2$1$1$"))

    def test_default_runner(self):
        pw = Passwords(COST)
        self.assertTrue(self.successResultOf(pw.verify("a", self.successResultOf(pw.hash("a")))))

    def test_needs_rehash(self):
        pw = Passwords((4, 2, 1))
        self.assertTrue(pw.needs_rehash(hash_password("x", (2, 2, 1))))
        self.assertTrue(pw.needs_rehash(hash_password("x", (4, 1, 1))))
        self.assertFalse(pw.needs_rehash(hash_password("x", (4, 2, 1))))
        self.assertFalse(pw.needs_rehash(hash_password("x", (8, 2, 1))))
        self.assertTrue(pw.needs_rehash("garbage"))


class BusyTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.held = []  # (Deferred, f, args) of the hashes waiting for a thread

    def hold(self, f, *args):
        """A runner with one call per thread: each waits until L{finish_one} runs it."""
        d = defer.Deferred()
        self.held.append((d, f, args))
        return d

    def finish_one(self):
        d, f, args = self.held.pop(0)
        d.callback(f(*args))

    def hashes_take(self, seconds):
        """Every hash takes C{seconds} of the clock while it runs on its thread."""
        real = passwords.hash_password

        def slow(*args):
            self.clock.advance(seconds)
            return real(*args)

        self.patch(passwords, "hash_password", slow)

    def passwords(self, **kwargs):
        return Passwords(COST, run=self.hold, timer=self.clock.seconds, **kwargs)

    def test_a_login_that_would_wait_too_long_is_refused_at_once(self):
        self.hashes_take(0.5)
        pw = self.passwords(threads=2, max_wait=1.0)
        first = pw.hash("a")
        self.finish_one()
        self.assertTrue(self.successResultOf(first).startswith("scrypt$"))
        waiting = [pw.hash(str(i)) for i in range(5)]  # 5 x 0.5 s / 2 threads = 1.25 s > 1 s
        self.assertEqual(pw.pending, 5)
        for d in waiting:
            self.assertNoResult(d)
        refused = self.failureResultOf(pw.verify("x", "y"), JimError)
        self.assertEqual(refused.value.code, errors.BUSY)
        self.assertEqual(pw.pending, 5)  # the refused one never queued
        self.finish_one()
        self.finish_one()
        self.assertNoResult(pw.hash("again"))  # 4 queued: 1 s, room again

    def test_a_hash_is_timed_while_it_runs_not_while_it_waits(self):
        """What one hash takes is read around the hash on its thread: the time it waited for
        the thread does not make later logins look slower."""
        self.hashes_take(0.5)
        pw = self.passwords(threads=1, max_wait=1.0)
        first = pw.hash("a")
        self.clock.advance(100)  # a long wait for the thread
        self.finish_one()
        self.assertTrue(verify_password("a", self.successResultOf(first)))
        queued = [pw.hash(name) for name in ("b", "c", "d")]  # 3 x 0.5 s wait 1 s: taken
        for d in queued:
            self.assertNoResult(d)
        refused = self.failureResultOf(pw.hash("e"), JimError)  # 4 x 0.5 s: refused
        self.assertEqual(refused.value.code, errors.BUSY)
        self.assertEqual(pw.expected_wait(), 1.5)

    def test_the_first_hash_is_never_refused(self):
        """Before any hash took a measurable time, nothing is expected to wait."""
        pw = Passwords(COST, run=lambda f, *args: defer.Deferred(), max_wait=0.0)
        for _ in range(3):
            self.assertNoResult(pw.hash("a"))
        self.assertEqual(pw.pending, 3)

    def test_a_failed_hash_frees_its_place(self):
        def failing(f, *args):
            return defer.fail(RuntimeError("no thread"))

        pw = Passwords(COST, run=failing)
        self.failureResultOf(pw.hash("a"), RuntimeError)
        self.assertEqual(pw.pending, 0)


class BulkTests(SynchronousTestCase):
    """A batch registration's hashes queue in their own lane: never refused, and never on the
    thread a login needs."""

    def setUp(self):
        from tests.support.fakes import HeldRunner

        self.runner = HeldRunner()
        self.passwords = Passwords(COST, run=self.runner, threads=3, max_wait=1.0)
        self.passwords.seconds = 10.0  # one hash takes long: logins would be refused at once

    def test_bulk_hashes_take_at_most_all_threads_but_one(self):
        hashes = [self.passwords.hash_in_bulk(f"pw{i}") for i in range(5)]
        self.assertEqual(len(self.runner.pending), 2)  # 3 threads: one stays free for logins
        self.runner.release()
        for d in hashes:
            self.assertTrue(verify_password(f"pw{hashes.index(d)}", self.successResultOf(d)))

    def test_bulk_hashes_are_never_refused_as_busy(self):
        hashes = [self.passwords.hash_in_bulk("pw") for _ in range(50)]
        self.runner.release()
        self.assertEqual(len([d for d in hashes if self.successResultOf(d)]), 50)

    def test_a_login_judges_its_wait_by_the_threads_bulk_work_leaves_it(self):
        self.passwords.seconds = 0.4
        for _ in range(4):
            self.passwords.hash_in_bulk("pw")  # two running, two queued
        first = self.passwords.verify("pw", hash_password("pw", COST))  # nothing pending: taken
        second = self.passwords.verify("pw", hash_password("pw", COST))  # 1 x 0.4 s / 1 thread
        third = self.passwords.verify("pw", hash_password("pw", COST))  # 2 x 0.4 s / 1
        fourth = self.passwords.verify("pw", hash_password("pw", COST))  # 3 x 0.4 s > 1 s
        self.assertEqual(self.failureResultOf(fourth, JimError).value.code, errors.BUSY)
        self.runner.release()
        for d in (first, second, third):
            self.assertTrue(self.successResultOf(d))

    def test_a_failed_bulk_hash_frees_its_place(self):
        failing = []

        def run(f, *args):
            failing.append(1)
            return defer.fail(RuntimeError("no memory"))

        passwords = Passwords(COST, run=run, threads=2)
        for _ in range(3):
            self.failureResultOf(passwords.hash_in_bulk("pw"), RuntimeError)
        self.assertEqual(len(failing), 3)


class FairnessTests(SynchronousTestCase):
    """Login hashes are served to their addresses in turn, and one address holds at most
    C{per_source} of them: a flood from one address neither starves nor refuses the others."""

    def setUp(self):
        from tests.support.fakes import HeldRunner

        self.runner = HeldRunner()
        self.passwords = Passwords(COST, run=self.runner, threads=1, max_wait=1000.0,
                                   per_source=3)
        self.stored = hash_password("pw", COST)
        self.order = []

    def verify(self, source, name):
        d = self.passwords.verify("pw", self.stored, source)
        d.addCallback(lambda ok: self.order.append(name) or ok)
        return d

    def release_one(self):
        d, f, args = self.runner.pending.pop(0)
        d.callback(f(*args))

    def test_addresses_are_served_in_turn(self):
        flood = [self.verify("10.0.0.1", f"flood{i}") for i in range(3)]
        others = [self.verify(f"10.0.0.{i}", f"user{i}") for i in (2, 3)]
        self.assertEqual(len(self.runner.pending), 1)  # one thread: one hash at a time
        while self.runner.pending:
            self.release_one()
        self.assertEqual(self.order, ["flood0", "flood1", "user2", "user3", "flood2"])
        for d in flood + others:
            self.assertTrue(self.successResultOf(d))

    def test_a_flooding_address_finds_its_own_wait_too_long_while_a_newcomer_does_not(self):
        from tests.support.fakes import HeldRunner

        runner = HeldRunner()
        passwords = Passwords(COST, run=runner, threads=1, max_wait=1.0, per_source=1000)
        passwords.seconds = 0.1  # a hash takes 0.1 s: at most 10 may be ahead of a login
        flood = [passwords.verify("pw", self.stored, "10.0.0.1") for _ in range(11)]
        refused = self.failureResultOf(passwords.verify("pw", self.stored, "10.0.0.1"),
                                       JimError).value
        self.assertEqual((refused.code, refused.detail),
                         (errors.BUSY, "too many logins in progress; retry shortly"))
        self.assertEqual(passwords.pending, 11, "the flood's queue stopped growing")
        newcomer = passwords.verify("pw", self.stored, "10.0.0.2")  # its turn comes next
        self.assertNoResult(newcomer)
        self.assertEqual(passwords.pending, 12)
        for d in flood + [newcomer]:
            d.addErrback(lambda f: None)
        while runner.pending:
            d, f, args = runner.pending.pop(0)
            d.callback(f(*args))
        self.assertTrue(self.successResultOf(newcomer))

    def test_an_address_over_its_cap_is_refused_at_once_and_others_are_not(self):
        flood = [self.verify("10.0.0.1", "flood") for _ in range(3)]
        refused = self.failureResultOf(self.verify("10.0.0.1", "flood"), JimError).value
        self.assertEqual(refused.code, errors.BUSY)
        self.assertIn("from your address", refused.detail)
        self.assertEqual(self.passwords.pending, 3)
        other = self.verify("10.0.0.2", "user")
        self.assertNoResult(other)
        self.release_one()  # one of the flood's done: its address may queue one more
        self.assertNoResult(self.verify("10.0.0.1", "flood"))
        self.runner.release()
        self.assertTrue(self.successResultOf(other))
        self.assertEqual(self.passwords.pending, 0)
        for d in flood:
            self.successResultOf(d)

    def test_the_servers_own_hashes_have_no_cap(self):
        hashes = [self.passwords.hash("pw") for _ in range(10)]
        self.runner.release()
        self.assertEqual(len([d for d in hashes if self.successResultOf(d)]), 10)

    def test_at_most_threads_hashes_run_at_once(self):
        passwords = Passwords(COST, run=self.runner, threads=2, max_wait=1000.0, per_source=9)
        for i in range(5):
            passwords.verify("pw", self.stored, f"10.0.0.{i}")
        self.assertEqual(len(self.runner.pending), 2)
        self.release_one()
        self.assertEqual(len(self.runner.pending), 2)
        self.runner.release()
        self.assertEqual(passwords.pending, 0)
