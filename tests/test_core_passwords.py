"""scrypt password hashes in self-describing strings, verified in constant time."""
import base64
import hashlib

from twisted.trial.unittest import SynchronousTestCase

from jim.core import passwords
from jim.core.passwords import Passwords, hash_password, verify_password

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
    def test_a_login_that_would_wait_too_long_is_refused_at_once(self):
        from twisted.internet import defer

        from jim.core.passwords import Passwords
        from jim.errors import JimError

        held = []

        def run(f, *args):
            d = defer.Deferred()
            held.append((d, f, args))
            return d

        def finish_one(took):
            d, f, args = held.pop(0)
            value = args[0](*args[1:])  # f is the timing wrapper: (hash function, *its args)
            d.callback((value, took))

        pw = Passwords((2, 1, 1), run=run, threads=2, max_wait=1.0)
        first = pw.hash("a")
        finish_one(0.5)  # one hash takes half a second
        self.assertTrue(self.successResultOf(first).startswith("scrypt$"))
        waiting = [pw.hash(str(i)) for i in range(5)]  # 5 x 0.5 s / 2 threads = 1.25 s > 1 s
        self.assertEqual(pw.pending, 5)
        for d in waiting:
            self.assertNoResult(d)
        refused = self.failureResultOf(pw.verify("x", "y"), JimError)
        self.assertEqual(refused.value.code, 10008)
        finish_one(0.5)
        finish_one(0.5)
        self.assertNoResult(pw.hash("again"))  # 4 queued: 1 s, room again

    def test_the_timing_wrapper_measures_the_call(self):
        from jim.core.passwords import _timed

        value, took = _timed(lambda a, b: a + b, 2, 3)
        self.assertEqual(value, 5)
        self.assertGreaterEqual(took, 0.0)
