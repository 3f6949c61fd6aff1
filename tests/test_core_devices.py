"""Devices, as pure functions: the key of a login's device, its defaults, which connections
a new login replaces, and what userstat lists."""
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.core import devices
from jim.errors import JimError


class DeviceKeyTests(SynchronousTestCase):
    def test_named(self):
        self.assertEqual(devices.device_key("tcp", "n:1", "a", "phone-1"), "a:phone-1")

    def test_a_platform_without_an_id_is_that_platforms_one_device(self):
        self.assertEqual(devices.device_key("ws", "n:1", "i"), "i:")
        self.assertEqual(devices.device_key("ws", "n:2", "i"), "i:")

    def test_an_id_without_a_platform_takes_the_transports(self):
        self.assertEqual(devices.device_key("ws", "n:1", None, "tab"), "j:tab")
        self.assertEqual(devices.device_key("tcp", "n:1", None, "pc"), "w:pc")

    def test_nothing_named_is_a_device_of_the_connection_alone(self):
        self.assertEqual(devices.device_key("tcp", "n:1"), "w:~n:1")
        self.assertEqual(devices.device_key("ws", "n:2"), "j:~n:2")
        self.assertEqual(devices.device_key("http", "n:3"), "j:~n:3")

    def test_platform_of(self):
        for key, platform in [("a:x", "a"), ("i:", "i"), ("j:~n:1", "j"), ("w:pc", "w"),
                              ("tcp", "w"), ("ws", "j")]:  # the last two: an older node's
            self.assertEqual(devices.platform_of(key), platform, key)


class CheckTests(SynchronousTestCase):
    def refused(self, check, value):
        with self.assertRaises(JimError) as caught:
            check(value)
        self.assertEqual(caught.exception.code, errors.BAD_REQUEST)
        return caught.exception.detail

    def test_platforms(self):
        for platform in "aijw":
            self.assertEqual(devices.check_platform(platform), platform)
        for bad in ("x", "A", "android", ""):
            self.assertIn("platform must be one of a, i, j, w", self.refused(
                devices.check_platform, bad))

    def test_device_ids(self):
        self.assertEqual(devices.check_device_id("phone 1"), "phone 1")
        self.assertEqual(devices.check_device_id("é" * 64), "é" * 64)
        self.assertIn("longer than 128", self.refused(devices.check_device_id, "é" * 65))
        self.assertIn("printable", self.refused(devices.check_device_id, "a\nb"))
        # a named device never collides with a connection's own one
        self.assertIn("printable", self.refused(devices.check_device_id, "~n:1"))


class ReplacedTests(SynchronousTestCase):
    CONNECTIONS = [("n:1", "a:phone"), ("n:2", "w:~n:2"), ("m:3", "a:phone"), ("m:4", "j:")]

    def test_the_same_device(self):
        self.assertEqual(devices.replaced(self.CONNECTIONS, "a:phone", False), ["n:1", "m:3"])
        self.assertEqual(devices.replaced(self.CONNECTIONS, "j:", False), ["m:4"])

    def test_another_device_stays(self):
        self.assertEqual(devices.replaced(self.CONNECTIONS, "i:pad", False), [])
        self.assertEqual(devices.replaced(self.CONNECTIONS, "w:~n:9", False), [])

    def test_one_device_a_user(self):
        self.assertEqual(devices.replaced(self.CONNECTIONS, "i:pad", True),
                         ["n:1", "n:2", "m:3", "m:4"])


class UserstatTests(SynchronousTestCase):
    def test_one_entry_a_device(self):
        connections = [("n:1", "a:phone"), ("n:2", "w:~n:2"), ("m:3", "a:phone"), ("m:4", "ws")]
        self.assertEqual(devices.devices(connections), [
            {"login": True, "online": True, "platform": "a"},
            {"login": True, "online": True, "platform": "w"},
            {"login": True, "online": True, "platform": "j"},
        ])

    def test_none(self):
        self.assertEqual(devices.devices([]), [])

    def test_past_devices_follow_as_logged_out(self):
        self.assertEqual(devices.devices([("n:1", "i:pad")], ["a:phone", "w:~"]), [
            {"login": True, "online": True, "platform": "i"},
            {"login": False, "online": False, "platform": "a"},
            {"login": False, "online": False, "platform": "w"},
        ])
