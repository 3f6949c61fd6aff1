"""jim.web.errors: every neutral code has a JMessage code and an HTTP status, a route's
overrides replace them, and the error envelope is JMessage's ``{"error": {"code", "message"}}``.
"""
import unittest

import orjson

from jim import errors
from jim.errors import JimError
from jim.web.errors import JMESSAGE, jmessage_error
from jim.wire.http_errors import error_body


class TableTests(unittest.TestCase):
    """The mapping table covers jim's neutral codes, and only valid values."""

    def test_every_neutral_code_is_mapped_and_nothing_else(self):
        self.assertEqual(set(JMESSAGE), set(errors.CODES))

    def test_every_status_is_an_http_error_status(self):
        bad = {neutral: status for neutral, (_, status) in JMESSAGE.items()
               if type(status) is not int or not 400 <= status <= 599}
        self.assertEqual(bad, {})

    def test_every_jmessage_code_is_a_six_digit_int(self):
        bad = {neutral: code for neutral, (code, _) in JMESSAGE.items()
               if type(code) is not int or not 100000 <= code <= 999999}
        self.assertEqual(bad, {})

    def test_only_jims_own_faults_are_5xx(self):
        """A client may retry a 5xx unchanged: only a failure of jim's may answer one."""
        server_side = {neutral for neutral, (_, status) in JMESSAGE.items() if status >= 500}
        self.assertEqual(server_side, set(errors.SERVER_FAULTS))


class JmessageErrorTests(unittest.TestCase):
    """C{jmessage_error} reads the table, or a route's overrides."""

    def test_a_code_answers_its_table_entry(self):
        for neutral, (code, status) in JMESSAGE.items():
            self.assertEqual(jmessage_error(JimError(neutral, "detail")), (status, code), neutral)

    def test_some_known_answers(self):
        self.assertEqual(jmessage_error(JimError(errors.NO_SUCH_USER, "")), (403, 899002))
        self.assertEqual(jmessage_error(JimError(errors.MISSING_AUTH, "")), (401, 899007))
        self.assertEqual(jmessage_error(JimError(errors.BUSY, "")), (503, 899030))
        self.assertEqual(jmessage_error(JimError(errors.RATE_LIMITED, "")), (429, 899030))

    def test_an_override_code_keeps_the_tables_status(self):
        overrides = {errors.NO_SUCH_GROUP: 899045}
        self.assertEqual(jmessage_error(JimError(errors.NO_SUCH_GROUP, ""), overrides),
                         (403, 899045))

    def test_an_override_pair_replaces_code_and_status(self):
        overrides = {errors.NOT_MEMBER: (899046, 404)}
        self.assertEqual(jmessage_error(JimError(errors.NOT_MEMBER, ""), overrides),
                         (404, 899046))

    def test_overrides_of_other_codes_change_nothing(self):
        overrides = {errors.NO_SUCH_GROUP: 899045, errors.NOT_MEMBER: (899046, 404)}
        for neutral, (code, status) in JMESSAGE.items():
            if neutral in overrides:
                continue
            self.assertEqual(jmessage_error(JimError(neutral, ""), overrides), (status, code),
                             neutral)
        self.assertEqual(jmessage_error(JimError(errors.NO_SUCH_USER, ""), {}), (403, 899002))
        self.assertEqual(jmessage_error(JimError(errors.NO_SUCH_USER, ""), None), (403, 899002))


class ErrorBodyTests(unittest.TestCase):
    """C{error_body} is JSON bytes of exactly JMessage's envelope."""

    def test_the_envelope_has_exactly_code_and_message(self):
        body = error_body(899002, "user alice does not exist")
        self.assertIsInstance(body, bytes)
        self.assertEqual(orjson.loads(body),
                         {"error": {"code": 899002, "message": "user alice does not exist"}})

    def test_the_code_stays_an_int_and_the_message_any_text(self):
        message = 'quote " backslash \\ newline \n accent é emoji 😀'
        parsed = orjson.loads(error_body(803007, message))
        self.assertIs(type(parsed["error"]["code"]), int)
        self.assertEqual(parsed["error"]["message"], message)

    def test_an_error_answers_its_code_in_the_envelope(self):
        """The two together, as the REST resources answer a refusal."""
        error = JimError(errors.GROUP_FULL, "group 10000001 is full")
        status, code = jmessage_error(error)
        self.assertEqual(status, 403)
        self.assertEqual(orjson.loads(error_body(code, error.detail)),
                         {"error": {"code": 899012, "message": "group 10000001 is full"}})

