# -*- test-case-name: tests.test_redis_address -*-
"""Where a Redis is, as ``--store`` and ``--bus`` name it.

Three forms, each with an optional password (``:PASSWORD@``, or ``USER:PASSWORD@`` for a Redis 6
ACL user) and database number (``/DB``, default 0):

- ``redis://HOST[:PORT]/DB``: a plain TCP connection (port 6379 by default);
- ``rediss://HOST[:PORT]/DB``: the same over TLS, the server's certificate checked against
  the system's trusted roots (or ``?ca=FILE``) and its name by service-identity;
- ``redis+sentinel://HOST[:PORT][,HOST[:PORT]...]/SERVICE/DB``: the master of SERVICE, as the
  Sentinels at those addresses name it (port 26379 by default); jim follows a failover.

Pure parsing: nothing here connects.
"""
from urllib.parse import parse_qs, unquote, urlsplit

import attr

from jim import errors
from jim.errors import JimError

REDIS_PORT = 6379
SENTINEL_PORT = 26379
SCHEMES = ("redis", "rediss", "redis+sentinel")


@attr.s(frozen=True, slots=True)
class RedisAddress:
    """A parsed Redis URL.

    @ivar hosts: C{((host, port), ...)}: one Redis, or the Sentinels.
    @ivar service: the Sentinel service name (None without Sentinel).
    @ivar tls: connect over TLS and check the server's certificate.
    @ivar ca: a PEM file of the roots to trust instead of the system's (None: the system's).
    """

    hosts = attr.ib(type=tuple)
    db = attr.ib(type=int, default=0)
    username = attr.ib(default=None)
    password = attr.ib(default=None, repr=False)
    tls = attr.ib(type=bool, default=False)
    service = attr.ib(default=None)
    ca = attr.ib(default=None)

    def describe(self):
        """The address for logs: everything but the password."""
        scheme = "redis+sentinel" if self.service else ("rediss" if self.tls else "redis")
        hosts = ",".join(f"{host}:{port}" for host, port in self.hosts)
        path = f"/{self.service}/{self.db}" if self.service else f"/{self.db}"
        return f"{scheme}://{hosts}{path}"


def _bad(url, why):
    return JimError(errors.BAD_REQUEST, f"bad Redis address {url!r}: {why}")


def _host_port(url, text, default_port):
    """C{(host, port)} of C{HOST}, C{HOST:PORT} or C{[IPV6]:PORT}."""
    if text.startswith("["):
        host, bracket, port = text[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            raise _bad(url, f"{text!r} is not [IPV6] or [IPV6]:PORT")
        port = port[1:]
    else:
        host, _, port = text.partition(":")
    if not host:
        raise _bad(url, "a host is missing")
    if not port:
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise _bad(url, f"port {port!r} is not a number from 1 to 65535")
    return host, int(port)


def _db(url, text):
    if not text:
        return 0
    if not text.isdigit() or int(text) > 10_000:
        raise _bad(url, f"database {text!r} is not a small number")
    return int(text)


def parse(url):
    """The L{RedisAddress} of C{url}; JimError(BAD_REQUEST) saying what is wrong with it."""
    scheme, _, rest = url.partition("://")
    if scheme not in SCHEMES or not rest:
        raise _bad(url, "it must start with redis://, rediss:// or redis+sentinel://")
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise _bad(url, str(e)) from None
    userinfo, at, hostlist = parts.netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        password = unquote(secret) if colon else unquote(user)
        username = unquote(user) if colon and user else None
    if not hostlist:
        raise _bad(url, "a host is missing")
    query = parse_qs(parts.query)
    unknown = set(query) - {"ca"}
    if unknown:
        raise _bad(url, f"unknown options {sorted(unknown)} (only ca=FILE is known)")
    ca = query.get("ca", [None])[-1]
    path = [piece for piece in parts.path.split("/") if piece]
    if scheme == "redis+sentinel":
        if not 1 <= len(path) <= 2:
            raise _bad(url, "a Sentinel address ends with /SERVICE or /SERVICE/DB")
        hosts = tuple(_host_port(url, h, SENTINEL_PORT) for h in hostlist.split(","))
        return RedisAddress(hosts, _db(url, path[1] if len(path) > 1 else ""), username,
                            password, False, unquote(path[0]), ca)
    if "," in hostlist:
        raise _bad(url, "several hosts need redis+sentinel://")
    if len(path) > 1:
        raise _bad(url, "the path is the database number only")
    return RedisAddress((_host_port(url, hostlist, REDIS_PORT),), _db(url, path[0] if path else ""),
                        username, password, scheme == "rediss", None, ca)
