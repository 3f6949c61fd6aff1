# -*- test-case-name: tests.test_web_access_log -*-
"""The access log's lines: twisted.web's combined log format, with the secrets a URL may carry
replaced by C{***}: a media link's C{signature} (whoever reads the log could otherwise download
the file while the link is valid), and a password or token given in a query string. The
C{Referer} header, which may repeat such a URL, is shown the same way."""
from urllib.parse import unquote_to_bytes

from twisted.web.http import combinedLogFormatter

#: the query parameters whose values the log does not show (compared lowercased, decoded)
SECRET_PARAMETERS = frozenset({b"signature", b"password", b"token", b"access_token",
                               b"secret"})
HIDDEN = b"***"


def redacted(uri):
    """C{uri} (bytes) with the value of every parameter of L{SECRET_PARAMETERS} in its query
    replaced by L{HIDDEN}; everything else as it was."""
    path, mark, query = uri.partition(b"?")
    if not mark:
        return uri
    fragment_mark = query.find(b"#")
    fragment = b""
    if fragment_mark >= 0:
        query, fragment = query[:fragment_mark], query[fragment_mark:]
    pairs = []
    for pair in query.split(b"&"):
        name, equals, _ = pair.partition(b"=")
        if equals and unquote_to_bytes(name.replace(b"+", b" ")).lower() in SECRET_PARAMETERS:
            pair = name + b"=" + HIDDEN
        pairs.append(pair)
    return path + b"?" + b"&".join(pairs) + fragment


class _AsLogged:
    """A request as its log line shows it: its URI and Referer redacted."""

    def __init__(self, request):
        self._request = request
        self.uri = redacted(request.uri)

    def __getattr__(self, name):
        return getattr(self._request, name)

    def getHeader(self, name):
        value = self._request.getHeader(name)
        if value is not None and name.lower() == b"referer":
            return redacted(value)
        return value


def access_line(timestamp, request):
    """An L{twisted.web.iweb.IAccessLogFormatter}: the combined log format of C{request},
    its secrets hidden."""
    return combinedLogFormatter(timestamp, _AsLogged(request))
