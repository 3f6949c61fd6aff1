# -*- test-case-name: tests.test_net_sniff -*-
"""The plain-text HTTP answer on a port that requires TLS: one redirect to https, then close.

The sniffer only routes HTTP here once the whole request head is buffered, so the head
usually arrives in the first L{RedirectProtocol.dataReceived}; the protocol still copes with
a head in pieces and caps it. The answer keeps the Host (and its port: the same port serves
TLS) and the request target, and uses 308 so the method and body are kept on the retry.
"""
import re

from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

from jim.net.httphead import head_end
from jim.wire.http_errors import bad_request, raw_response

__all__ = ["RedirectFactory", "RedirectProtocol", "redirect_location"]

_HOST = re.compile(rb"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?")
# a request target we are willing to echo into a header: visible ASCII, nothing else
_TARGET = re.compile(rb"/[\x21-\x7e]*")


def redirect_location(head):
    """The https URL for a plain-text request head, or C{None} when it has no usable Host.

    @param head: the request line and header lines, up to and including the blank line.
    """
    lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
    request_line = lines[0].split(b" ")
    if len(request_line) != 3:
        return None
    target = request_line[1]
    host = None
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"host":
            if host is not None:
                return None  # two Host headers: no way to know which one is meant
            host = value.strip()
    if target[:7].lower() == b"http://":
        # absolute form: the authority in the target wins over the Host header
        authority, slash, path = target[7:].partition(b"/")
        host, target = authority, slash + path if slash else b"/"
    if host is None or not _HOST.fullmatch(host) or not _TARGET.fullmatch(target):
        return None
    return b"https://" + host + target


class RedirectProtocol(Protocol):
    """Answers 308 to https://<Host><target> (400 when that cannot be built, 431 for a head
    over C{max_bytes}: JMessage's error body, as the sniffer's own refusals) and closes."""

    log = Logger()

    def __init__(self, max_bytes):
        self._max_bytes = max_bytes
        self._buffer = b""
        self._answered = False

    def dataReceived(self, data):
        if self._answered:
            return
        self._buffer += data
        end = head_end(self._buffer, self._max_bytes)
        if end < 0:
            if len(self._buffer) > self._max_bytes:
                self._answer(bad_request(b"431 Request Header Fields Too Large",
                                         f"HTTP request head larger than {self._max_bytes}"
                                         " bytes"))
            return
        location = redirect_location(self._buffer[:end])
        if location is None:
            self._answer(bad_request(b"400 Bad Request",
                                     "TLS is required, and the request has no usable Host"
                                     " header to redirect it to"))
            return
        self.log.debug(
            "redirecting plain-text HTTP to {location}", location=location.decode("ascii")
        )
        self._answer(raw_response(b"308 Permanent Redirect", b"", ((b"Location", location),),
                                  content_type=b"text/plain; charset=utf-8"))

    def connectionLost(self, reason):
        self._buffer = b""

    def _answer(self, response):
        self._answered = True
        self._buffer = b""
        self.transport.write(response)
        self.transport.loseConnection()


class RedirectFactory(Factory):
    noisy = False

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes

    def buildProtocol(self, addr):
        protocol = RedirectProtocol(self.max_bytes)
        protocol.factory = self
        return protocol

