"""Properties of what the REST API reads from its clients, at the edges of JMessage's limits
(reference sections 1.3, 4.2 and 5): usernames, query booleans and pages, gids, the lists and
keys of a body's objects, message bodies and send-message requests. Every input either parses
to what an independent rule says, or is refused with JimError(BAD_REQUEST) (TOO_MANY for a
list over its limit): never another exception.

Text here is any Unicode but lone surrogates, which cannot reach these functions: orjson
refuses them in JSON, and paths and queries are decoded as strict UTF-8.
"""
import json
import re
import string
import unittest

from hypothesis import example, given
from hypothesis import strategies as st

from jim import errors, model
from jim.errors import JimError
from jim.web.rest_v1 import params
from jim.web.rest_v1.messages import draft_of
from jim.wire import jmessage

ALLOWED_FIRST = string.ascii_letters + string.digits
ALLOWED_REST = ALLOWED_FIRST + "_.-@"
MAX_INT64 = 2**63 - 1

#: characters around the rules: allowed ones, ASCII ones that are not, multi-byte ones
#: (2, 3 and 4 bytes in UTF-8), digits of other scripts, spaces and controls; never a lone
#: surrogate, which no request can carry (JSON bodies, paths and queries are strict UTF-8)
EDGE_CHARS = st.sampled_from(list("aZ09_.-@ +/:#\t\n\x00é字😀５٣")) | st.characters(codec="utf-8")
EDGE_TEXT = st.text(EDGE_CHARS, max_size=140)
JSON_SCALARS = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
                | st.floats() | st.text(max_size=20))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


def utf8_size(text):
    return len(text.encode("utf-8"))


def is_jmessage_username(value):
    """The rule of reference 5, written out: 4 to 128 bytes, a letter or digit first, then
    letters, digits, _ . - @ (all ASCII)."""
    return (type(value) is str and 4 <= utf8_size(value) <= 128
            and value[0] in ALLOWED_FIRST and all(c in ALLOWED_REST for c in value[1:]))


def ascii_decimal(text):
    """The int an optional "-" and ASCII digits spell (spaces around allowed), or None."""
    match = re.fullmatch(r"\s*(-?[0-9]+)\s*", text)
    return int(match.group(1)) if match else None


class Refusals:
    def assertRefused(self, call, *args, codes=(errors.BAD_REQUEST,)):
        with self.assertRaises(JimError) as caught:
            call(*args)
        self.assertIn(caught.exception.code, codes)
        self.assertIsInstance(caught.exception.detail, str)

    def parsed_or_refused(self, call, *args, codes=(errors.BAD_REQUEST,)):
        """(True, value) or (False, None) for a refusal with one of C{codes}."""
        try:
            return True, call(*args)
        except JimError as e:
            self.assertIn(e.code, codes)
            return False, None


class UsernameTests(unittest.TestCase, Refusals):
    @given(EDGE_TEXT)
    @example("abc")
    @example("abcd")
    @example("a" * 128)
    @example("a" * 129)
    @example("_abc")
    @example("abc字")  # 6 bytes, not ASCII
    @example("a@b.c-d_e")
    @example("abcd\n")
    def test_a_new_username_is_accepted_exactly_by_jmessages_rule(self, value):
        ok, parsed = self.parsed_or_refused(params.username, value)
        self.assertEqual(ok, is_jmessage_username(value), value)
        if ok:
            self.assertEqual(parsed, value)

    @given(JSON_VALUES)
    def test_a_username_that_is_no_string_is_refused(self, value):
        if type(value) is not str:
            self.assertRefused(params.username, value)
            self.assertRefused(params.name, value)

    @given(EDGE_TEXT)
    @example("字" * 42)  # 126 bytes
    @example("字" * 43)  # 129 bytes
    @example("😀" * 32)  # 128 bytes
    @example("😀" * 32 + "a")
    @example("")
    def test_an_existing_users_name_is_1_to_128_bytes_of_anything(self, value):
        ok, parsed = self.parsed_or_refused(params.name, value)
        self.assertEqual(ok, 1 <= utf8_size(value) <= 128, value)

    @given(st.lists(st.sampled_from(["alice", "", 5, None, "字" * 43]), max_size=8),
           st.integers(min_value=0, max_value=6), st.booleans())
    def test_a_list_of_names_is_refused_past_its_limit_or_for_a_bad_name(
            self, value, limit, allow_empty):
        ok, parsed = self.parsed_or_refused(params.names, value, "names", limit, allow_empty,
                                            codes=(errors.BAD_REQUEST, errors.TOO_MANY))
        expected = ((value or allow_empty) and len(value) <= limit
                    and all(item == "alice" for item in value))
        self.assertEqual(ok, bool(expected), value)
        if len(value) > limit:
            self.assertRefused(params.names, value, "names", limit, codes=(errors.TOO_MANY,))


class QueryTests(unittest.TestCase, Refusals):
    @given(EDGE_TEXT | st.sampled_from(["True", "False", "true", "false", "1", "0", "TRUE",
                                        " true ", "yes", "01", "tru", "truE"]))
    def test_a_query_boolean_in_every_spelling_the_clients_use(self, text):
        ok, parsed = self.parsed_or_refused(params.boolean, text, "flag")
        word = text.strip().lower()
        self.assertEqual(ok, word in ("true", "false", "1", "0"), text)
        if ok:
            self.assertEqual(parsed, word in ("true", "1"))

    def test_a_missing_boolean_is_refused(self):
        self.assertRefused(params.boolean, None, "flag")

    @given(st.none() | EDGE_TEXT | st.integers(min_value=-2**70, max_value=2**70).map(str),
           st.none() | EDGE_TEXT | st.integers(min_value=-1000, max_value=1000).map(str))
    @example("9223372036854775807", "500")
    @example("9223372036854775808", "500")
    @example("99999999999999999999", "1")
    @example("--1", "5")
    @example("-0", "1")
    @example("０", "５")
    @example(" 3 ", " 7 ")
    @example("1e3", "5")
    def test_a_page_is_start_at_least_0_and_count_1_to_500(self, start, count):
        query = {"start": start, "count": count}
        ok, parsed = self.parsed_or_refused(params.page, FakeCall(query))
        start_value = 0 if start is None or start.strip() == "" else ascii_decimal(start)
        count_value = None if count is None or count.strip() == "" else ascii_decimal(count)
        expected = (start_value is not None and count_value is not None
                    and 0 <= start_value <= MAX_INT64 and 1 <= count_value <= 500)
        self.assertEqual(ok, expected, query)
        if ok:
            self.assertEqual(parsed, (start_value, count_value))


class FakeCall:
    def __init__(self, query):
        self._query = query

    def query(self, name):
        return self._query.get(name)


class GidTests(unittest.TestCase, Refusals):
    @given(JSON_VALUES | EDGE_TEXT | st.integers().map(str))
    @example("0")
    @example("1")
    @example(str(MAX_INT64))
    @example(str(MAX_INT64 + 1))
    @example(MAX_INT64 + 1)
    @example("007")
    @example("-1")
    @example(" 1")
    @example("５")
    @example(True)
    @example(1.0)
    def test_a_gid_is_a_positive_64_bit_integer_as_a_number_or_ascii_digits(self, value):
        ok, parsed = self.parsed_or_refused(params.gid, value)
        if type(value) is str:
            number = int(value) if re.fullmatch(r"[0-9]+", value) else None
        else:
            number = value if type(value) is int else None
        self.assertEqual(ok, number is not None and 0 < number <= MAX_INT64, value)
        if ok:
            self.assertEqual(parsed, number)

    @given(JSON_VALUES | st.lists(st.integers(min_value=1, max_value=MAX_INT64)
                                  | st.integers(min_value=1, max_value=MAX_INT64).map(str),
                                  max_size=5))
    def test_a_list_of_gids_is_accepted_only_when_every_item_is_a_gid(self, value):
        ok, parsed = self.parsed_or_refused(params.gids, value)
        valid = type(value) is list and all(
            self.parsed_or_refused(params.gid, item)[0] for item in value)
        self.assertEqual(ok, valid, value)
        if ok:
            self.assertEqual(parsed, [int(item) for item in value])


class ObjectFieldTests(unittest.TestCase, Refusals):
    @given(st.dictionaries(st.sampled_from(["add", "remove", "members_username"]), JSON_VALUES,
                           max_size=3),
           st.sampled_from(["add", "members_username"]))
    @example({"add": 0}, "add")
    @example({"add": ""}, "add")
    @example({"add": False}, "add")
    @example({"add": {}}, "add")
    @example({"add": None}, "add")
    @example({"remove": [1]}, "add")
    def test_an_array_field_is_a_list_and_absent_or_null_is_an_empty_one(self, mapping, field):
        ok, parsed = self.parsed_or_refused(params.array, mapping, field)
        value = mapping.get(field)
        self.assertEqual(ok, value is None or type(value) is list, mapping)
        if ok:
            self.assertEqual(parsed, [] if value is None else value)

    @given(JSON_VALUES)
    def test_a_refused_array_is_named_as_the_caller_names_it(self, value):
        if value is not None and type(value) is not list:
            with self.assertRaises(JimError) as caught:
                params.array({"add": value}, "add", "single.add")
            self.assertEqual(caught.exception.detail, "single.add must be a JSON array")

    @given(st.dictionaries(st.sampled_from(["add", "remove", "Add", "bogus", ""]) | EDGE_TEXT,
                           JSON_VALUES, max_size=4),
           st.sampled_from([("add", "remove"), ("single", "group", "global"), ("username",)]))
    @example({}, ("add", "remove"))
    @example({"add": [], "remove ": []}, ("add", "remove"))
    def test_only_the_named_keys_pass_and_a_refusal_names_the_others(self, mapping, keys):
        unknown = set(mapping) - set(keys)
        try:
            self.assertIs(params.only(mapping, keys, "single"), mapping)
            self.assertEqual(unknown, set(), mapping)
        except JimError as e:
            self.assertEqual(e.code, errors.BAD_REQUEST)
            self.assertTrue(unknown, mapping)
            self.assertTrue(e.detail.startswith("single takes "), e.detail)
            for key in unknown:
                self.assertIn(key, e.detail)

    def test_a_refusal_lists_the_keys_taken(self):
        for keys, listed in ((("add", "remove"), "add and remove"),
                             (("single", "group", "global"), "single, group and global"),
                             (("username",), "username")):
            with self.assertRaises(JimError) as caught:
                params.only({"bogus": 1, "also": 2}, keys)
            self.assertEqual(caught.exception.detail, f"the body takes {listed}, not also, bogus")


class BodyTests(unittest.TestCase, Refusals):
    @given(st.integers(min_value=-40, max_value=40), st.sampled_from(["x", "é", "字", "😀",
                                                                       "\n", '"']))
    def test_a_text_body_of_4096_bytes_fits_and_one_more_does_not(self, delta, char):
        overhead = len('{"text":""}')
        escaped = utf8_size(json.dumps(char, ensure_ascii=False)) - 2
        text = char * max(0, (4096 - overhead) // escaped + delta)
        body = {"text": text}
        size = utf8_size(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
        ok, parsed = self.parsed_or_refused(jmessage.check_body, "text", body)
        self.assertEqual(ok, size <= 4096, (size, char))

    @given(st.sampled_from(model.MSG_TYPES + ("chatroom", "", "TEXT")), JSON_VALUES)
    def test_any_body_of_any_type_is_checked_without_another_exception(self, msg_type, body):
        self.parsed_or_refused(jmessage.check_body, msg_type, body)

    @given(st.dictionaries(st.sampled_from(["text", "extras", "content", "media_id"]),
                           JSON_VALUES, max_size=3))
    def test_a_text_body_needs_a_text_string(self, body):
        ok, _ = self.parsed_or_refused(jmessage.check_body, "text", body)
        if ok:
            self.assertIs(type(body["text"]), str)
            self.assertIn(type(body.get("extras", {})), (dict,))


SEND_FIELDS = st.fixed_dictionaries({}, optional={
    "version": st.sampled_from([1, "1", 2, True, None, 1.0]),
    "target_type": st.sampled_from(["single", "group", "chatroom", "", 5]),
    "target_id": st.sampled_from(["alice", 10000001, "10000001", "", None, True, "字" * 43]),
    "target_appkey": st.sampled_from(["", "Appkey000000000000000001", None, 5]),
    "from_type": st.sampled_from(["admin", "user", None]),
    "from_id": st.sampled_from(["admin1", "", None, 7]),
    "msg_type": st.sampled_from(["text", "image", "custom", "x"]),
    "msg_body": st.sampled_from([{"text": "hi"}, {}, None, "hi", {"text": 1}]),
    "no_offline": st.sampled_from([True, False, 0, "true"]),
    "no_notification": st.sampled_from([True, False, 1, None]),
})


class SendRequestTests(unittest.TestCase, Refusals):
    @given(SEND_FIELDS)
    @example({"version": 1, "target_type": "single", "target_id": "alice", "from_type": "admin",
              "from_id": "admin1", "msg_type": "text", "msg_body": {"text": "hi"}})
    def test_a_send_request_is_a_draft_or_a_refusal(self, body):
        ok, parsed = self.parsed_or_refused(draft_of, body, "Appkey000000000000000000",
                                            codes=(errors.BAD_REQUEST, errors.CROSS_APP))
        if ok:
            draft, sender = parsed
            self.assertEqual((body.get("from_type"), sender), ("admin", "admin1"))
            self.assertEqual(draft.target_type, body.get("target_type"))
            self.assertIs(type(draft.target), str)
            self.assertIn(body.get("version"), (1, "1"))
