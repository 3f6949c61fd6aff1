"""Reading an HTTP response's body with Twisted's Agent.

C{twisted.web.client.readBody} warns (a DeprecationWarning) whenever the response's transport
has no C{abortConnection}, which the Agent's own HTTP/1.1 transport proxy lacks: this reads the
body through C{Response.deliverBody}, the public way, without it.
"""
from twisted.internet import defer
from twisted.internet.protocol import Protocol
from twisted.web.client import ResponseDone
from twisted.web.http import PotentialDataLoss


class BodyCollector(Protocol):
    """Gathers a response body; C{done} fires with its bytes, or fails as the body did."""

    def __init__(self):
        self._chunks = []
        self.done = defer.Deferred()

    def dataReceived(self, data):
        self._chunks.append(data)

    def connectionLost(self, reason):
        # a body that ends with its connection (no length given) is whole too
        if reason.check(ResponseDone, PotentialDataLoss):
            self.done.callback(b"".join(self._chunks))
        else:
            self.done.errback(reason)


def read_body(response):
    """A Deferred of the whole body of C{response} (an L{twisted.web.iweb.IResponse})."""
    collector = BodyCollector()
    response.deliverBody(collector)
    return collector.done
