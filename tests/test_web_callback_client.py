"""The callback client against a real local HTTP(S) server: the POST as docs/callbacks.md says
(headers, signature, body), redirects not followed, a long answer cut, a silent server timed
out, HTTPS checked against trusted roots."""
import base64

import orjson
from OpenSSL import SSL
from twisted.internet import defer, reactor
from twisted.internet.ssl import Certificate
from twisted.trial.unittest import TestCase
from twisted.web import server
from twisted.web.client import (
    Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool, ResponseNeverReceived,
)
from zope.interface.verify import verifyObject

from jim.core.accounts import secret_hash
from jim.interfaces import ICallbackClient
from jim.model import App, Message
from jim.web.callback_client import CallbackClient
from jim.wire import callbacks as wire
from tests.support.callback_server import Answer, CallbackEndpoint, free_port, start_endpoint
from tests.support.certs import dev_pair, server_options

SECRET = "mastersecret000000000000"


def app_for(url):
    return App("appkey0000000000000000001", secret_hash(SECRET), callback_url=url)


class ClientTests(TestCase):
    timeout = 20

    def setUp(self):
        self.client = CallbackClient(reactor, timeout=2.0, max_response_bytes=1000)

    def test_provides_the_interface(self):
        self.assertTrue(verifyObject(ICallbackClient, self.client))

    async def test_a_post_is_signed_json(self):
        endpoint, _, url = await start_endpoint(self)
        app = app_for(url)
        message = Message(7, app.key, "alice", "single", "bob", "text", {"text": "hi"},
                          created=1_700_000_000_000)
        texts = [self.client.message(message, "Alice", "Bob"), self.client.message(message, "", "")]
        self.assertEqual(await self.client.post(app, "message", texts), 200)
        [got] = endpoint.received
        self.assertEqual(got.path, "/jim/callback")
        self.assertEqual(got.headers["content-type"], "application/json; charset=utf-8")
        self.assertEqual(base64.b64decode(got.headers["authorization"].split()[1]),
                         b"appkey0000000000000000001:")
        self.assertTrue(got.headers["user-agent"].startswith("jim/"))
        self.assertTrue(wire.verify(secret_hash(SECRET), int(got.headers["x-jim-timestamp"]),
                                    got.body, got.headers["x-jim-signature"]))
        body = orjson.loads(got.body)
        self.assertEqual(body["total"], 2)
        self.assertEqual([(m["msgid"], m["from_name"]) for m in body["messages"]],
                         [(7, "Alice"), (7, "")])

    async def test_any_status_is_answered(self):
        endpoint, _, url = await start_endpoint(self)
        endpoint.answers = [500, Answer(302, headers=[(b"Location", url + "/other")]), 204]
        statuses = [await self.client.post(app_for(url), "status", []) for _ in range(3)]
        self.assertEqual(statuses, [500, 302, 204])
        self.assertEqual([r.path for r in endpoint.received], ["/jim/callback"] * 3,
                         "the redirect was not followed")

    async def test_a_long_answer_is_cut(self):
        endpoint, _, url = await start_endpoint(self)
        endpoint.answers = [Answer(200, body=b"x" * 5_000_000),
                            Answer(200, body=b"x" * 10_000, endless=True)]
        self.assertEqual(await self.client.post(app_for(url), "status", []), 200)
        # a body that never ends is cut at 1000 bytes, long before the timeout
        started = reactor.seconds()
        self.assertEqual(await self.client.post(app_for(url), "status", []), 200)
        self.assertLess(reactor.seconds() - started, 1)

    async def test_a_silent_server_times_out(self):
        endpoint, _, url = await start_endpoint(self)
        endpoint.answers = [Answer(None)]
        started = reactor.seconds()
        with self.assertRaises(defer.TimeoutError):
            await self.client.post(app_for(url), "status", [])
        self.assertLess(reactor.seconds() - started, 4)

    async def test_nobody_listening(self):
        url = f"http://127.0.0.1:{free_port()}/x"
        with self.assertRaises(Exception):
            await self.client.post(app_for(url), "status", [])

    async def test_only_http_urls(self):
        for url in ("ftp://127.0.0.1/x", "file:///etc/passwd", "127.0.0.1:80"):
            with self.assertRaises(ValueError):
                await self.client.post(app_for(url), "status", [])

    async def _tls_endpoint(self):
        endpoint = CallbackEndpoint()
        port = reactor.listenSSL(0, server.Site(endpoint), server_options(self.mktemp()),
                                 interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return endpoint, f"https://localhost:{port.getHost().port}/cb"

    async def test_https_checks_the_certificate(self):
        endpoint, url = await self._tls_endpoint()
        with self.assertRaises(ResponseNeverReceived) as refused:  # the dev CA is not trusted
            await self.client.post(app_for(url), "status", [])
        [reason] = refused.exception.reasons
        self.assertTrue(reason.check(SSL.Error))
        self.assertIn("certificate verify failed", reason.getErrorMessage())
        self.assertEqual(endpoint.received, [])
        policy = BrowserLikePolicyForHTTPS(Certificate.loadPEM(dev_pair().ca.cert_pem))
        trusting = CallbackClient(reactor, timeout=5.0, agent=Agent(
            reactor, contextFactory=policy, pool=HTTPConnectionPool(reactor, persistent=False)))
        self.assertEqual(await trusting.post(app_for(url), "status", []), 200)
        self.assertEqual(len(endpoint.received), 1)
