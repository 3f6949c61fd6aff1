"""The Web SDK's signed configuration: both forms' signatures (JMessage's own example among
them), parsed strictly, checked in constant time against the app's sealed secret, within 10
minutes, each random string once; and the sealed secret itself."""
import hashlib

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.core import secret_box
from jim.core.web_sdk import V1, V2, expected_signature, parse_config, signature_matches
from jim.model import App
from tests.support.fakes import APP_KEY, ServiceCalls, make_core

SERVER_KEY = b"k" * 32
SECRET = "MasterSecret000000000001"
NOW_MS = 1_800_000_000_000


def v1(secret=SECRET, app=APP_KEY, seconds=NOW_MS // 1000, random="0123456789abcdef"):
    text = f"appKey={app}&timestamp={seconds}&randomStr={random}&masterSecrect={secret}"
    return {"appKey": app, "timestamp": str(seconds), "randomStr": random,
            "signature": hashlib.md5(text.encode()).hexdigest().upper()}


def v2(secret=SECRET, app=APP_KEY, ms=NOW_MS, random="abcdefghij0123456789"):
    text = f"appkey={app}&timestamp={ms}&random_str={random}&key={secret}"
    return {"appkey": app, "timestamp": str(ms), "random_str": random,
            "signature": hashlib.md5(text.encode()).hexdigest()}


class SignatureTests(SynchronousTestCase):
    def test_jmessages_example(self):
        """The reference's v2 example (its hex in upper case, as JMessage's page shows it)."""
        config = parse_config({"appkey": "25b693b31d2c2ad5f072ef0c",
                               "timestamp": "1507791639926", "random_str": "022cd9fd995849b",
                               "signature": "5D59C510EAEDDB178C591226438D97BA"})
        self.assertEqual(expected_signature(config, "bc2efab258f2019727a4f36l"),
                         "5d59c510eaeddb178c591226438d97ba")
        self.assertTrue(signature_matches(config, "bc2efab258f2019727a4f36l"))
        self.assertFalse(signature_matches(config, "bc2efab258f2019727a4f36L"))

    def test_the_two_forms(self):
        first = parse_config(v1())
        self.assertEqual((first.form, first.timestamp_ms), (V1, NOW_MS // 1000 * 1000))
        self.assertTrue(signature_matches(first, SECRET))
        second = parse_config(v2())
        self.assertEqual((second.form, second.timestamp_ms), (V2, NOW_MS))
        self.assertTrue(signature_matches(second, SECRET))
        self.assertTrue(signature_matches(parse_config({**v1(), "signature": v1()["signature"]
                                                        .lower()}), SECRET))
        self.assertEqual(parse_config({**v2(), "timestamp": NOW_MS}).timestamp_ms, NOW_MS)

    def test_malformed_configurations_are_refused(self):
        for bad in ({}, {**v2(), "timestamp": "soon"}, {**v2(), "timestamp": "-5"},
                    {**v2(), "timestamp": True}, {**v2(), "random_str": "short"},
                    {**v2(), "random_str": "x" * 65}, {**v2(), "signature": 7},
                    {**v1(), "appKey": ""}, {**v2(), "appkey": "a" * 129},
                    {**v2(), "timestamp": "1" * 16}):
            with self.assertRaises(errors.JimError) as caught:
                parse_config(bad)
            self.assertEqual(caught.exception.code, errors.BAD_REQUEST, bad)

    @given(st.text(min_size=1, max_size=40), st.text(min_size=8, max_size=40))
    def test_only_the_secret_makes_the_signature(self, secret, random):
        config = parse_config(v2(secret=secret, random=random))
        self.assertTrue(signature_matches(config, secret))
        self.assertFalse(signature_matches(config, secret + "x"))
        odd = parse_config({**v2(secret=secret, random=random), "signature": "not hex é"})
        self.assertFalse(signature_matches(odd, secret))


class SecretBoxTests(SynchronousTestCase):
    def test_a_box_opens_for_its_app_and_key_only(self):
        key = secret_box.box_key(SERVER_KEY)
        box = secret_box.seal(key, "app1", SECRET)
        self.assertNotIn(SECRET, box)
        self.assertEqual(secret_box.opened(key, "app1", box), SECRET)
        self.assertIsNone(secret_box.opened(key, "app2", box))
        self.assertIsNone(secret_box.opened(secret_box.box_key(b"x" * 32), "app1", box))
        for damaged in (None, "", box[:-2], "!!", box[:10]):
            self.assertIsNone(secret_box.opened(key, "app1", damaged))
        self.assertNotEqual(secret_box.seal(key, "app1", SECRET), box, "a new nonce each")


class WebSdkTests(SynchronousTestCase, ServiceCalls):
    def setUp(self):
        self.fixture = make_core()
        self.fixture.clock.advance(NOW_MS / 1000)
        self.key = secret_box.box_key(SERVER_KEY)
        web_sdk = self.fixture.core.web_sdk
        web_sdk.box_key = self.key
        self.web_sdk = web_sdk
        self.ok(self.fixture.core.accounts.update_app(
            APP_KEY, {"secret_box": secret_box.seal(self.key, APP_KEY, SECRET)}))

    def test_a_signature_holds_once_within_ten_minutes(self):
        self.assertEqual(self.ok(self.web_sdk.configure(v1())).app, APP_KEY)
        self.refused(self.web_sdk.configure(v1()), errors.SIGNATURE_INVALID)  # a replay
        self.assertEqual(self.ok(self.web_sdk.configure(v2())).form, V2)
        late = v2(ms=NOW_MS - 10 * 60 * 1000 - 1, random="another-random-string")
        self.refused(self.web_sdk.configure(late), errors.SIGNATURE_EXPIRED)
        early = v2(ms=NOW_MS + 10 * 60 * 1000 + 1, random="a-third-random-string")
        self.refused(self.web_sdk.configure(early), errors.SIGNATURE_EXPIRED)
        edge = v2(ms=NOW_MS - 10 * 60 * 1000, random="a-fourth-random-strng")
        self.ok(self.web_sdk.configure(edge))

    def test_wrong_secret_unknown_app_and_unkept_secret_are_one_refusal(self):
        wrong = self.refused(self.web_sdk.configure(v2(secret="wrong")),
                             errors.SIGNATURE_INVALID)
        unknown = self.refused(self.web_sdk.configure(v2(app="NoSuchApp000000000000001")),
                               errors.SIGNATURE_INVALID)
        self.ok(self.fixture.memory.apps.add_app(App("Unsealed0000000000000001", "h")))
        unsealed = self.refused(self.web_sdk.configure(v2(app="Unsealed0000000000000001")),
                                errors.SIGNATURE_INVALID)
        # the page learns nothing of which apps exist; the operator is told in the log
        self.assertEqual({wrong.detail, unknown.detail, unsealed.detail}, {wrong.detail})
        self.web_sdk.box_key = None  # a core without a sealing key checks no signature
        self.refused(self.web_sdk.configure(v2(random="yet-another-random-str")),
                     errors.SIGNATURE_INVALID)

    def test_used_random_strings_are_forgotten_hourly_once_expired(self):
        nonces = self.fixture.memory.nonces
        forgotten = []
        real = nonces.forget_nonces
        nonces.forget_nonces = lambda before: real(before).addCallback(
            lambda n: forgotten.append((before, n)) or n)
        self.fixture.core.start()
        self.addCleanup(self.fixture.core.stop)
        self.ok(self.web_sdk.configure(v2()))
        self.assertEqual(self.ok(self.web_sdk.sweep()), 0, "still within its 10 minutes")
        self.fixture.clock.advance(3600)  # the hourly sweep forgets it
        self.assertEqual(forgotten[-1], (NOW_MS + 3_600_000, 1))
        self.refused(self.web_sdk.configure(v2()), errors.SIGNATURE_EXPIRED)
