"""The access log hides the secrets a URL may carry: a media link's signature, a password or a
token in a query string, in the request line and in the Referer."""
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.test.requesthelper import DummyRequest

from jim.web.access_log import HIDDEN, SECRET_PARAMETERS, access_line, redacted
from jim.web.site import build_site
from tests.support.fakes import make_core

LINK = b"/media/app1/qiniu/image/j/x.png?expires=1796600000&signature=5ecre7ab"


def request_for(uri, referer=None):
    request = DummyRequest([b""])
    request.uri = uri
    request.method = b"GET"
    request.clientproto = b"HTTP/1.1"
    request.client = IPv4Address("TCP", "10.1.2.3", 40000)
    request.code = 200
    request.sentLength = 7
    request.requestHeaders.addRawHeader(b"user-agent", b"curl/8")
    if referer is not None:
        request.requestHeaders.addRawHeader(b"referer", referer)
    return request


class RedactedTests(SynchronousTestCase):
    def test_a_media_links_signature_is_hidden(self):
        self.assertEqual(redacted(LINK),
                         b"/media/app1/qiniu/image/j/x.png?expires=1796600000&signature=***")

    def test_passwords_and_tokens_are_hidden_whatever_their_case_or_encoding(self):
        self.assertEqual(redacted(b"/x?Password=pw&user=bob&TOKEN=t&sig%6Eature=s#top"),
                         b"/x?Password=***&user=bob&TOKEN=***&sig%6Eature=***#top")

    def test_other_urls_are_as_they_were(self):
        for uri in (b"/v1/users/?start=0&count=10", b"/", b"/a?", b"/a?signature",
                    b"/a?x=1&&y", b"/a#signature=1"):
            self.assertEqual(redacted(uri), uri)

    @given(st.binary(max_size=60), st.lists(st.tuples(
        st.sampled_from([b"signature", b"Token", b"count", b"password", b"x"]),
        st.binary(max_size=12).filter(lambda v: b"&" not in v and b"#" not in v)),
        max_size=5))
    def test_no_secret_value_is_left_and_nothing_else_changes(self, path, params):
        path = path.replace(b"?", b"").replace(b"#", b"")
        uri = path + b"?" + b"&".join(name + b"=" + value for name, value in params)
        shown = redacted(uri)
        expected = [name + b"=" + (HIDDEN if name.lower() in SECRET_PARAMETERS else value)
                    for name, value in params]
        self.assertEqual(shown, path + b"?" + b"&".join(expected))
        self.assertEqual(redacted(shown), shown)


class AccessLineTests(SynchronousTestCase):
    def test_the_line_is_the_combined_format_without_the_secret(self):
        line = access_line("[07/Dec/2026:10:00:00 +0000]",
                           request_for(LINK, referer=b"https://chat.example/?token=abc&x=1"))
        self.assertEqual(line, '"10.1.2.3" - - [07/Dec/2026:10:00:00 +0000] "GET '
                               '/media/app1/qiniu/image/j/x.png?expires=1796600000&signature=*** '
                               'HTTP/1.1" 200 7 "https://chat.example/?token=***&x=1" "curl/8"')

    def test_the_servers_site_writes_such_lines(self):
        site = build_site(make_core().core, "memory", Clock())
        site.logPath = self.mktemp()
        site.startFactory()
        self.addCleanup(site.stopFactory)
        site.log(request_for(LINK))
        site.stopFactory()
        with open(site.logPath, "rb") as f:
            written = f.read()
        self.assertIn(b"signature=***", written)
        self.assertNotIn(b"5ecre7ab", written)
