# -*- test-case-name: tests.test_protocols_ws_deflate -*-
"""permessage-deflate (RFC 7692) for jim's WebSocket, as the operator chooses.

Browsers offer the extension on every connection. Accepting it trades memory for bandwidth: a
deflate stream keeps a compressor (about ``2 ** (bits + 2) + 2 ** (mem_level + 9)`` bytes plus
zlib's own state) and an inflater (``2 ** bits`` and its state) for as long as the connection
lives, once it has carried a message: measured, about 100 KiB a connection with the default
15-bit window and 10 KiB with a 9-bit one (memory level L{MEM_LEVEL}), against the 3 KiB an
idle connection costs without it. So jim accepts no offer unless told to:

 - ``off`` (the default): the handshake answers without the extension.
 - ``on``: accepted with context takeover (each message compressed against the ones before:
   the best ratio for chats that repeat themselves), windows of ``window_bits``.
 - ``no-takeover``: accepted, and each message compressed on its own in both directions
   (smaller gains; the streams are still allocated, so memory is as for ``on`` at the same
   window size: use a small window to keep it low).

A compressed message still may not inflate beyond ``max_message`` bytes (a small frame that
would inflate to gigabytes is refused with 1009 as it is read, not after).
"""
from autobahn.websocket.compress import (PerMessageDeflateOffer,
                                         PerMessageDeflateOfferAccept)

MODES = ("off", "on", "no-takeover")
WINDOW_BITS = range(9, 16)
MEM_LEVEL = 4  # zlib's default is 8: half the hash table, enough for chat-sized messages


def accept_deflate(mode, window_bits, max_message):
    """The C{perMessageCompressionAccept} function for autobahn's protocol options, or None
    (C{mode} off: no offer is accepted)."""
    if mode not in MODES:
        raise ValueError(f"permessage-deflate mode must be one of {', '.join(MODES)}")
    if window_bits not in WINDOW_BITS:
        raise ValueError("permessage-deflate window bits go from 9 to 15")
    if mode == "off":
        return None
    no_takeover = mode == "no-takeover"

    def accept(offers):
        for offer in offers:
            if not isinstance(offer, PerMessageDeflateOffer):
                continue
            bits = window_bits
            if offer.request_max_window_bits:  # the client wants our window at most this
                bits = min(bits, offer.request_max_window_bits)
            return PerMessageDeflateOfferAccept(
                offer,
                # the client's direction: ask for no takeover / a smaller window when allowed
                request_no_context_takeover=no_takeover and offer.accept_no_context_takeover,
                request_max_window_bits=(window_bits if window_bits < 15
                                         and offer.accept_max_window_bits else 0),
                # ours: no takeover when chosen or asked for
                no_context_takeover=no_takeover or offer.request_no_context_takeover,
                window_bits=bits,
                mem_level=MEM_LEVEL,
                max_message_size=max_message,
            )
        return None

    return accept
