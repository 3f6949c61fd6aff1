"""/metrics: open to loopback clients, the default app's Basic credentials for anyone else."""
import base64

from twisted.internet.address import IPv4Address
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.test.requesthelper import DummyRequest

from jim.web.site import Metrics
from tests.support.fakes import APP_KEY, APP_SECRET, make_core


def render(resource, host, auth=None, site=None):
    request = DummyRequest([b""])
    request.client = IPv4Address("TCP", host, 40000)
    if site is not None:
        request.requestHeaders.addRawHeader(b"sec-fetch-site", site)
    if auth is not None:
        value = base64.b64encode(f"{auth[0]}:{auth[1]}".encode())
        request.requestHeaders.addRawHeader(b"authorization", b"Basic " + value)
    resource.render(request)
    return request.responseCode or 200, b"".join(request.written)


class MetricsAccessTests(SynchronousTestCase):
    def setUp(self):
        self.metrics = Metrics(make_core().core)

    def test_credentials_another_site_made_a_browser_send_are_refused(self):
        code, body = render(self.metrics, "10.1.2.3", (APP_KEY, APP_SECRET), b"cross-site")
        self.assertEqual(code, 403)
        self.assertIn(b"899403", body)
        code, _ = render(self.metrics, "10.1.2.3", (APP_KEY, APP_SECRET), b"same-origin")
        self.assertEqual(code, 200)

    def test_loopback_needs_no_credentials(self):
        code, body = render(self.metrics, "127.0.0.1")
        self.assertEqual(code, 200)
        self.assertIn(b"jim_logins_total 0", body)

    def test_other_clients_need_the_default_apps_credentials(self):
        self.assertEqual(render(self.metrics, "10.1.2.3")[0], 401)
        self.assertEqual(render(self.metrics, "10.1.2.3", (APP_KEY, "x" * 24))[0], 401)
        self.assertEqual(render(self.metrics, "10.1.2.3", ("other" + "0" * 19, APP_SECRET))[0], 401)
        code, body = render(self.metrics, "10.1.2.3", (APP_KEY, APP_SECRET))
        self.assertEqual(code, 200)
        self.assertIn(b"jim_connections", body)
