"""Strict-Transport-Security: on every HTTP response served over TLS, never over plain HTTP;
--hsts-max-age sets it, 0 leaves it out. Raw requests over real loopback sockets.

(The 413 over TLS also shows that a refused body ends the connection there too: it used to
wait for a close_notify the server never sent.)"""
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol, wrapClientTLS
from twisted.trial.unittest import TestCase

from tests.support.certs import client_options, write_pair
from tests.support.inprocess import start_jim
from tests.support.rest import TIMEOUT, _Reader, build_request, parse_response, send_raw

YEAR = "max-age=31536000"


async def send_tls(port, request):
    endpoint = wrapClientTLS(client_options(),
                             TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=TIMEOUT))
    reader = await connectProtocol(endpoint, _Reader(request))
    return parse_response(await reader.done.addTimeout(TIMEOUT, reactor))


class HstsTests(TestCase):
    timeout = 60

    async def start(self, **config):
        cert, key = write_pair(self.mktemp())
        return await start_jim(self, store="memory", tls_cert=cert, tls_key=key,
                               limits=dict(max_body=1024), **config)

    def requests(self):
        return [
            build_request("GET", "/healthz"),  # an answer
            build_request("GET", "/"),  # the chat page (a static file)
            build_request("GET", "/no/such/thing"),  # a 404
            build_request("GET", "/v1/users/", headers=[("Authorization", "Basic eDp5")]),  # 401
            build_request("POST", "/api/x", body=b"x" * 2000),  # 413 before the body is read
        ]

    async def test_over_tls_every_response_has_it(self):
        jim = await self.start()
        statuses = []
        for request in self.requests():
            response = await send_tls(jim.port, request)
            statuses.append(response.status)
            self.assertEqual(response.headers.get("strict-transport-security"), [YEAR],
                             response)
        self.assertEqual(statuses, [200, 200, 404, 401, 413])

    async def test_plain_http_never_has_it(self):
        jim = await self.start()
        statuses = []
        for request in self.requests():
            response = await send_raw(jim.port, request)
            statuses.append(response.status)
            self.assertNotIn("strict-transport-security", response.headers, response)
        self.assertEqual(statuses, [200, 200, 404, 401, 413])

    async def test_nor_the_redirect_to_https(self):
        jim = await self.start(require_tls=True)
        response = await send_raw(jim.port, build_request("GET", "/healthz"))
        self.assertEqual(response.status, 308)
        self.assertNotIn("strict-transport-security", response.headers)

    async def test_max_age_is_an_option_and_0_turns_it_off(self):
        jim = await self.start(hsts_max_age=600)
        response = await send_tls(jim.port, build_request("GET", "/healthz"))
        self.assertEqual(response.header("strict-transport-security"), "max-age=600")
        jim = await self.start(hsts_max_age=0)
        response = await send_tls(jim.port, build_request("GET", "/healthz"))
        self.assertEqual(response.status, 200)
        self.assertNotIn("strict-transport-security", response.headers)
