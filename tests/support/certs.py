"""Certificates for tests: a development CA and server certificate, as files or client options.

Keys are generated once per test process (EC P-256, cheap) and written into each test's own
temporary directory when files are needed.
"""
import functools
import os

from twisted.internet.ssl import Certificate, optionsForClientTLS

from jim.net.devcert import DevPair, issue_ca, issue_server, make_dev_pair
from jim.net.tls import server_tls_options


@functools.lru_cache(maxsize=None)
def dev_pair():
    """The shared in-memory CA + server certificate for localhost, 127.0.0.1 and ::1."""
    return make_dev_pair()


@functools.lru_cache(maxsize=None)
def chained_pair():
    """A server certificate signed by an intermediate CA: returns (root, intermediate, server).

    Clients trust only the root, so the server must send the intermediate as its chain.
    """
    root = issue_ca("jim test root CA")
    intermediate = issue_ca("jim test intermediate CA", signer=root)
    return root, intermediate, issue_server(intermediate)


def write_pem(directory, name, data):
    """Write C{data} to C{directory/name}, creating the directory; returns the path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "wb") as out:
        out.write(data)
    return path


def write_pair(directory, pair=None):
    """Write the server certificate and key of C{pair} (default L{dev_pair}) to files.

    @return: C{(cert_path, key_path)}
    """
    pair = pair or dev_pair()
    return (
        write_pem(directory, "server.pem", pair.server.cert_pem),
        write_pem(directory, "server.key.pem", pair.server.key_pem),
    )


def server_options(directory, pair=None):
    """Server C{CertificateOptions} for C{pair}, loaded the way the server loads them."""
    return server_tls_options(*write_pair(directory, pair))


def client_options(ca_pem=None, hostname="localhost", **extra):
    """Client TLS options that trust only the given CA (default: L{dev_pair}'s)."""
    if ca_pem is None:
        ca_pem = dev_pair().ca.cert_pem
    return optionsForClientTLS(hostname, trustRoot=Certificate.loadPEM(ca_pem), **extra)


__all__ = [
    "DevPair",
    "chained_pair",
    "client_options",
    "dev_pair",
    "server_options",
    "write_pair",
    "write_pem",
]
