"""An app server's callback endpoint for tests: a small twisted.web server on a free loopback
port that records every request and answers as the test says (a status, late, never, a
redirect, a long body)."""
import json

import attr
from twisted.internet import defer, reactor
from twisted.internet.error import AlreadyCalled, AlreadyCancelled
from twisted.web import resource, server

TIMEOUT = 10.0


@attr.s(frozen=True)
class Received:
    path = attr.ib()
    headers = attr.ib()  # lower-cased name -> its value
    body = attr.ib()
    status = attr.ib()  # what it was answered (None: no answer)


@attr.s(frozen=True)
class Answer:
    """How to answer one request: C{status} after C{delay} seconds (None: never), with
    C{headers} and C{body}; with C{endless}, a body that never ends (C{body} again and
    again)."""

    status = attr.ib(default=200)
    delay = attr.ib(default=0.0)
    headers = attr.ib(default=())
    body = attr.ib(default=b"")
    endless = attr.ib(default=False)


class CallbackEndpoint(resource.Resource):
    """Answers each request with the next of C{answers} (an L{Answer} or a status), 200 when
    there is none; C{received} lists them in order."""

    isLeaf = True

    def __init__(self):
        super().__init__()
        self.answers = []
        self.received = []
        self._arrivals = []  # (count, Deferred) waiting for that many requests
        self._later = []

    def render(self, request):
        answer = self.answers.pop(0) if self.answers else Answer()
        if isinstance(answer, int):
            answer = Answer(answer)
        headers = {name.decode().lower(): values[0].decode()
                   for name, values in request.requestHeaders.getAllRawHeaders()}
        self.received.append(Received(request.path.decode(), headers, request.content.read(),
                                      answer.status))
        for entry in list(self._arrivals):
            if len(self.received) >= entry[0]:
                self._arrivals.remove(entry)
                entry[1].callback(None)
        if answer.status is None:
            return server.NOT_DONE_YET
        if answer.endless:
            request.setResponseCode(answer.status)
            self._more(request, answer.body)
            return server.NOT_DONE_YET
        if not answer.delay:
            return self._answer(request, answer)
        call = reactor.callLater(answer.delay, self._late, request, answer)
        self._later.append(call)
        request.notifyFinish().addErrback(lambda _: _cancel(call))
        return server.NOT_DONE_YET

    def _answer(self, request, answer):
        request.setResponseCode(answer.status)
        for name, value in answer.headers:
            request.setHeader(name, value)
        return answer.body

    def _more(self, request, chunk):
        if request.finished or request.channel is None:
            return
        request.write(chunk)
        call = reactor.callLater(0.01, self._more, request, chunk)
        self._later.append(call)

    def _late(self, request, answer):
        request.write(self._answer(request, answer))
        request.finish()

    def arrived(self, count, timeout=TIMEOUT):
        """Fires once C{count} requests arrived in all."""
        d = defer.Deferred()
        if len(self.received) >= count:
            d.callback(None)
        else:
            self._arrivals.append((count, d))
        return d.addTimeout(timeout, reactor)

    def stop_later_answers(self):
        for call in self._later:
            _cancel(call)

    def answered_ok(self, key):
        """The items (of the body's C{key} list) of every request answered 2xx, in order."""
        found = []
        for request in self.received:
            if request.status is not None and 200 <= request.status < 300:
                found += json.loads(request.body).get(key, [])
        return found


def _cancel(call):
    try:
        call.cancel()
    except (AlreadyCalled, AlreadyCancelled):
        pass


async def start_endpoint(testcase, port=0, endpoint=None):
    """Listen on 127.0.0.1 (a free port, or C{port}); C{(endpoint, listening port, URL)}.
    Stopped at the end of the test."""
    endpoint = endpoint or CallbackEndpoint()
    site = server.Site(endpoint)
    site.displayTracebacks = False
    listening = reactor.listenTCP(port, site, interface="127.0.0.1")
    testcase.addCleanup(endpoint.stop_later_answers)
    testcase.addCleanup(listening.stopListening)
    url = f"http://127.0.0.1:{listening.getHost().port}/jim/callback"
    return endpoint, listening, url


def free_port():
    """A loopback port nothing listens on (found by listening, then closing)."""
    listening = reactor.listenTCP(0, server.Site(resource.Resource()), interface="127.0.0.1")
    port = listening.getHost().port
    listening.stopListening()
    return port
