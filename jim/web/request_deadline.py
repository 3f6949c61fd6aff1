# -*- test-case-name: tests.test_web_request_deadline -*-
"""How long an HTTP request may take to arrive: its head and its whole body.

Twisted's own HTTP timeout is an idle one: any byte restarts it, so a client sending a body
byte a minute holds its connection for ever. jim gives each request a deadline instead,
C{timeout} seconds from its first byte, and lets the body buy more time at C{min_rate}: each
C{min_rate} body bytes received add a second. A request is late at time C{t} when

    t - started >= timeout + received / min_rate

so one whose body arrives at C{min_rate} or faster on average is never late, however large
(an upload of 8 MiB over a slow mobile link), while one trickling a byte now and then is cut
after C{timeout} seconds, having bought nothing. A single deadline for everything would have
to be long enough for the largest upload over the slowest link, and would let trickling
clients hold a connection that long; a rate alone would cut a client that pauses between its
head and its body.
"""

__all__ = ["time_left"]


def time_left(started, now, received, timeout, min_rate):
    """Seconds a request that began arriving at C{started} still has at C{now}, having
    received C{received} body bytes; 0 or less when it is late.

    @param min_rate: body bytes a second that earn one more second; 0 earns nothing.
    """
    allowance = timeout + (received / min_rate if min_rate > 0 else 0.0)
    return started + allowance - now
