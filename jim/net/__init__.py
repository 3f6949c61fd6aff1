"""The one-port front door: sniff the first bytes, layer TLS, hand the connection over.

This package knows Twisted, the first octets of each protocol, and the few whole HTTP answers
it gives itself (431 for a head too large, the require-TLS redirect and its refusals, with
L{jim.wire.http_errors}' JMessage error body); the factories it hands connections to are given
to it (see L{jim.net.sniff.SniffingFactory}).
"""
from jim.net.sniff import Route, SniffingFactory, SniffingProtocol, Unroutable, classify
from jim.net.tls import server_tls_options

__all__ = [
    "Route",
    "SniffingFactory",
    "SniffingProtocol",
    "Unroutable",
    "classify",
    "server_tls_options",
]
