"""permessage-deflate's negotiation (L{jim.protocols.ws_deflate.accept_deflate})."""
from autobahn.websocket.compress import PerMessageDeflateOffer
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial import unittest

from jim.protocols.ws_deflate import accept_deflate


def offer(**params):
    return PerMessageDeflateOffer(**params)


class AcceptDeflateTests(unittest.TestCase):
    def test_off_accepts_nothing(self):
        self.assertIsNone(accept_deflate("off", 15, 65536))

    def test_on_keeps_the_context_and_the_window(self):
        accepted = accept_deflate("on", 15, 65536)([offer()])
        self.assertFalse(accepted.no_context_takeover)
        self.assertEqual(accepted.window_bits, 15)
        self.assertFalse(accepted.request_no_context_takeover)
        self.assertEqual(accepted.get_extension_string(), "permessage-deflate")

    def test_no_takeover_both_ways_when_the_client_allows_it(self):
        accepted = accept_deflate("no-takeover", 15, 65536)([offer()])
        self.assertTrue(accepted.no_context_takeover)
        self.assertTrue(accepted.request_no_context_takeover)
        # ours needs no saying (an inflater that keeps its context reads a stream that does
        # not use it); the client's is asked for
        self.assertEqual(accepted.get_extension_string(),
                         "permessage-deflate; client_no_context_takeover")

    def test_a_client_asking_for_no_takeover_or_a_small_window_gets_it(self):
        accepted = accept_deflate("on", 15, 65536)([offer(request_no_context_takeover=True,
                                                          request_max_window_bits=10)])
        self.assertTrue(accepted.no_context_takeover)
        self.assertEqual(accepted.window_bits, 10)

    def test_a_small_window_is_asked_of_the_client_when_it_may_be(self):
        accepted = accept_deflate("on", 9, 65536)([offer(accept_max_window_bits=True)])
        self.assertEqual((accepted.window_bits, accepted.request_max_window_bits), (9, 9))
        accepted = accept_deflate("on", 9, 65536)([offer(accept_max_window_bits=False)])
        self.assertEqual((accepted.window_bits, accepted.request_max_window_bits), (9, 0))

    def test_bad_settings_are_refused(self):
        self.assertRaises(ValueError, accept_deflate, "sometimes", 15, 1)
        self.assertRaises(ValueError, accept_deflate, "on", 8, 1)
        self.assertRaises(ValueError, accept_deflate, "on", 16, 1)

    @given(st.sampled_from(["on", "no-takeover"]), st.integers(9, 15), st.booleans(),
           st.booleans(), st.sampled_from([0, *range(9, 16)]))
    def test_every_offer_is_accepted_within_what_it_allows(self, mode, bits, accept_nct,
                                                          request_nct, request_bits):
        made = offer(accept_no_context_takeover=accept_nct, accept_max_window_bits=True,
                     request_no_context_takeover=request_nct,
                     request_max_window_bits=request_bits)
        accepted = accept_deflate(mode, bits, 65536)([made])
        self.assertIsNotNone(accepted)  # autobahn's own checks passed
        if request_bits:
            self.assertLessEqual(accepted.window_bits, request_bits)
        self.assertLessEqual(accepted.window_bits, bits)
        if request_nct or mode == "no-takeover":
            self.assertTrue(accepted.no_context_takeover)
        if accepted.request_no_context_takeover:
            self.assertTrue(accept_nct)
