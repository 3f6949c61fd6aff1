# -*- test-case-name: tests.test_web_errors,tests.test_net_sniff -*-
"""An HTTP error answered by hand, where no HTTP server answers it: before a request reaches
twisted.web (a request head too large for the sniffer), or instead of the request twisted.web
is reading (a body too large, too slow). Pure bytes."""
import orjson

from jim import errors
from jim.wire.jmessage_codes import JMESSAGE


def error_body(code, message):
    """JMessage's error envelope: ``{"error": {"code", "message"}}``."""
    return orjson.dumps({"error": {"code": code, "message": message}})


def bad_request_body(message):
    """L{error_body} of a bad request (JMessage's 899003)."""
    code, _ = JMESSAGE[errors.BAD_REQUEST]
    return error_body(code, message)


def bad_request(status, message, headers=()):
    """L{raw_response} C{status} with the JMessage error of a bad request (899003) (and
    C{headers})."""
    return raw_response(status, bad_request_body(message), headers)


def raw_response(status, body, headers=(), content_type=b"application/json"):
    """The bytes of an HTTP/1.1 answer C{status} (code and reason) with C{body}, then the
    connection's close (and C{headers}, C{(name, value)} bytes)."""
    head = (b"HTTP/1.1 " + status + b"\r\nContent-Type: " + content_type
            + b"\r\nContent-Length: %d\r\nConnection: close\r\n" % len(body))
    for name, value in headers:
        head += name + b": " + value + b"\r\n"
    return head + b"\r\n" + body
