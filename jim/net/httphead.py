"""Where an HTTP request head ends: the one piece of HTTP parsing the sniffer and the TLS
redirect share. Pure code."""


def head_end(buf, limit, start=0):
    """The index just past the blank line ending an HTTP head within C{buf[:limit]}, or -1.

    Lines end with CRLF or a bare LF, so the blank line is the first LF LF or LF CR LF.
    C{buf[:start]} is known to hold none: the search starts where one could still end.
    """
    ends = []
    start = max(0, start - 2)  # a terminator may begin in the bytes already scanned
    for terminator in (b"\n\n", b"\n\r\n"):
        at = buf.find(terminator, start, limit)
        if at >= 0:
            ends.append(at + len(terminator))
    return min(ends, default=-1)
