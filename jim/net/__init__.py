"""The one-port front door: sniff the first bytes, layer TLS, hand the connection over.

This package knows Twisted and the first octets of each protocol, nothing more: the
factories it hands connections to are given to it (see L{jim.net.sniff.SniffingFactory}).
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
