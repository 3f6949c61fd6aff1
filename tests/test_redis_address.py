"""Redis URLs as --store and --bus take them."""
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.errors import JimError
from jim.redis.address import RedisAddress, parse

hosts = st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True)
ports = st.integers(1, 65535)
dbs = st.integers(0, 10_000)
passwords = st.text(min_size=1, max_size=20)


class ParseTests(SynchronousTestCase):
    def test_plain(self):
        self.assertEqual(parse("redis://localhost"), RedisAddress((("localhost", 6379),)))
        self.assertEqual(parse("redis://10.0.0.5:6380/3"), RedisAddress((("10.0.0.5", 6380),), 3))

    def test_password_and_acl_user(self):
        address = parse("redis://:s%40cret@h/1")
        self.assertEqual((address.username, address.password, address.db), (None, "s@cret", 1))
        address = parse("redis://jim:pw@h")
        self.assertEqual((address.username, address.password), ("jim", "pw"))

    def test_tls_with_a_ca(self):
        address = parse("rediss://redis.example:6380/0?ca=roots.pem")
        self.assertTrue(address.tls)
        self.assertEqual((address.hosts, address.ca), ((("redis.example", 6380),), "roots.pem"))

    def test_ipv6(self):
        self.assertEqual(parse("redis://[::1]:7000/0").hosts, (("::1", 7000),))

    def test_sentinel(self):
        address = parse("redis+sentinel://s1,s2:26380/mymaster/2")
        self.assertEqual(address.hosts, (("s1", 26379), ("s2", 26380)))
        self.assertEqual((address.service, address.db, address.tls), ("mymaster", 2, False))

    def test_the_log_never_shows_the_password(self):
        address = parse("redis://:hunter2@h:1/2")
        self.assertEqual(address.describe(), "redis://h:1/2")
        self.assertNotIn("hunter2", repr(address))

    def test_mistakes_say_what_is_wrong(self):
        for url, words in (
            ("http://h", "must start with"),
            ("redis://", "must start with"),
            ("redis://h:0", "port '0'"),
            ("redis://h:x", "port 'x'"),
            ("redis://h/db", "database 'db'"),
            ("redis://h/1/2", "database number only"),
            ("redis://a,b", "redis+sentinel"),
            ("redis+sentinel://a", "/SERVICE"),
            ("redis://h?timeout=3", "unknown options"),
            ("redis://[::1/0", "IPv6"),
        ):
            with self.assertRaises(JimError) as caught:
                parse(url)
            self.assertEqual(caught.exception.code, errors.BAD_REQUEST)
            self.assertIn(words, caught.exception.detail, url)

    @given(hosts, ports, dbs, passwords, st.booleans())
    def test_what_is_written_is_what_is_read(self, host, port, db, password, tls):
        scheme = "rediss" if tls else "redis"
        url = f"{scheme}://:{quote(password, safe='')}@{host}:{port}/{db}"
        self.assertEqual(parse(url), RedisAddress(((host, port),), db, None, password, tls))

    @given(st.text(max_size=60))
    def test_any_text_parses_or_is_refused_cleanly(self, text):
        for url in (text, "redis://" + text, "redis+sentinel://" + text):
            try:
                address = parse(url)
            except JimError as e:
                self.assertEqual(e.code, errors.BAD_REQUEST)
            else:
                self.assertTrue(address.hosts)
                self.assertTrue(all(1 <= port <= 65535 for _, port in address.hosts))
