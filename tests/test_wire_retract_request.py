"""cmd 115's ``msgId``: a message id as a number or its decimal text, else BAD_REQUEST."""
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim.errors import BAD_REQUEST, JimError
from jim.model import MAX_INT64
from jim.wire.retract_request import message_id
from tests.test_wire_jimjson import json_values


class MessageIdTests(SynchronousTestCase):
    def test_a_number_or_its_digits(self):
        for value, expected in [(42, 42), ("42", 42), ("007", 7), (MAX_INT64, MAX_INT64),
                                (str(MAX_INT64), MAX_INT64)]:
            self.assertEqual(message_id({"msgId": value}), expected)

    def test_refusals(self):
        for obj in [{}, {"msgId": None}, {"msgId": 0}, {"msgId": "0"}, {"msgId": -1},
                    {"msgId": MAX_INT64 + 1}, {"msgId": str(MAX_INT64 + 1)}, {"msgId": 1.0},
                    {"msgId": True}, {"msgId": " 1"}, {"msgId": "1e3"}, {"msgId": "٣"},
                    {"msgId": "²"}, {"msgId": [1]}, {"msgId": ""}]:
            error = self.assertRaises(JimError, message_id, obj)
            self.assertEqual(error.code, BAD_REQUEST, obj)

    @given(st.integers(-(2**64), 2**64) | st.text(max_size=22) | json_values)
    def test_any_value_is_the_integer_it_spells_or_refused(self, value):
        """An independent rule: a non-bool int, or a string of ASCII digits, in 1..2^63-1."""
        spelled = None
        if type(value) is int:
            spelled = value
        elif type(value) is str and value and all("0" <= c <= "9" for c in value):
            spelled = int(value)
        try:
            got = message_id({"msgId": value})
        except JimError as e:
            self.assertEqual(e.code, BAD_REQUEST)
            self.assertFalse(spelled is not None and 0 < spelled <= MAX_INT64
                             and len(str(value)) <= 19, value)
            return
        self.assertEqual(got, spelled)
        self.assertTrue(0 < got <= MAX_INT64)

    @given(st.integers(1, MAX_INT64))
    def test_every_id_both_ways(self, number):
        self.assertEqual(message_id({"msgId": number}), number)
        self.assertEqual(message_id({"msgId": str(number)}), number)
