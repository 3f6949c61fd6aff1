"""The wire form of bus values: every value the core can make round-trips equal, and bytes that
are not one are refused with JimError(BAD_REQUEST), never another exception."""
import orjson
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import model
from jim.errors import BAD_REQUEST, JimError
from jim.model import Delivery, Event, Invalidate, Kick, Message, UserCard
from jim.wire import busjson

from tests.support.model_strategies import (
    bus_values, deliveries, events, invalidations, json_values, kicks, messages, rate_usages,
    texts,
)

NAMES = (b"message", b"messages", b"stored", b"delivery", b"kick", b"invalidate", b"rates")

MESSAGE = Message(
    41, "app", "ali\u00e7e", model.GROUP, "10000000", model.CUSTOM,
    {"text": "\u4f60\u597d \U0001f600", "nested": {"list": [1, -2.5, None, True, {"\u00e9": []}]}},
    extras='{"k":"\u00e9"}', client_id="c-1", created=1_700_000_000_123,
    from_type=model.FROM_ADMIN, target_app="other", no_offline=True, no_notification=True,
    retracted=True,
)  # fmt: skip
CARD = UserCard("bob", "Bob \u5c0f\u660e", "b.png", "hi", True, "ws")


def event_of(kind):
    return Event(kind, "app", id=7, actor="alice", gid=100, users=(CARD, UserCard("carol")),
                 created=5, group_name="team", new_owner="bob", message_ids=(1, 2), flag=False,
                 target_type=model.GROUP, target="100", description="why")


class RoundTripTests(SynchronousTestCase):
    def assert_round_trip(self, value):
        data = busjson.encode(value)
        self.assertIsInstance(data, bytes)
        decoded = busjson.decode(data)
        self.assertEqual(decoded, value)
        self.assertIs(type(decoded), type(value))
        if type(value) is Delivery:
            self.assertIs(type(decoded.item), type(value.item))
            if type(value.item) is tuple:  # a run
                self.assertEqual({type(m) for m in decoded.item}, {Message})
        return decoded

    @given(bus_values)
    def test_every_bus_value(self, value):
        self.assert_round_trip(value)

    @given(deliveries.filter(lambda d: type(d.item) is Message))
    def test_deliveries_of_messages(self, delivery):
        decoded = self.assert_round_trip(delivery)
        self.assertEqual(decoded.item.body, delivery.item.body)

    @given(events())
    def test_events_in_deliveries(self, event):
        self.assert_round_trip(Delivery(event.app, event, ("alice", "bob"), None, "g1"))

    @given(kicks)
    def test_kicks(self, kick):
        self.assert_round_trip(kick)

    @given(invalidations)
    def test_invalidations(self, invalidate):
        self.assert_round_trip(invalidate)

    @given(rate_usages)
    def test_rate_usages(self, usage):
        self.assert_round_trip(usage)

    def test_rate_usage_bytes(self):
        usage = model.RateUsage("node-1", (("user", "app", "ann", 3),
                                           ("address", "10.0.0.1", "", 9)))
        self.assertEqual(busjson.encode(usage),
                         b'rates ["node-1",[["user","app","ann",3],["address","10.0.0.1","",9]]]')

    def test_a_message_with_every_field(self):
        decoded = self.assert_round_trip(Delivery("app", MESSAGE, ("bob", "\u7528\u6237"),
                                                  "n1:7", "g1"))
        self.assertEqual(decoded.item.body["nested"]["list"][4], {"\u00e9": []})
        self.assertEqual(decoded.recipients, ("bob", "\u7528\u6237"))

    def test_every_event_kind_with_user_cards(self):
        for kind in model.EVENT_KINDS:
            decoded = self.assert_round_trip(Delivery("app", event_of(kind), ("bob",)))
            self.assertEqual(decoded.item.users, (CARD, UserCard("carol")), kind)
            self.assertEqual(decoded.item.message_ids, (1, 2))

    def test_kick_with_and_without_event(self):
        for event in (None, event_of(model.USER_FORBIDDEN), event_of(model.PASSWORD_CHANGED)):
            self.assert_round_trip(Kick("app", "alice", "forbidden", event, keep="n1:3"))
        self.assert_round_trip(Kick("app", "alice", "user deleted"))

    def test_kick_of_a_device(self):
        self.assert_round_trip(Kick("app", "alice", "logged in elsewhere", None, "n1:4",
                                    "a:phone"))
        # a node from before devices sends no device: every device of the user
        old = b'kick {"app":"app","user":"alice","reason":"r","event":null,"keep":null}'
        self.assertEqual(busjson.decode(old), Kick("app", "alice", "r"))

    def test_invalidate_bytes(self):
        value = Invalidate(model.USERS_AREA, "app", "\u7528\u6237", "n1")
        self.assertEqual(busjson.encode(value),
                         'invalidate ["users","app","\u7528\u6237","n1"]'.encode())
        self.assert_round_trip(value)

    def test_the_name_comes_first(self):
        for value, name in ((Delivery("app", MESSAGE, ()), b"message "),
                            (Delivery("app", event_of(model.USER_UPDATED), ()), b"delivery "),
                            (Kick("app", "a", "r"), b"kick "),
                            (Invalidate(model.APPS_AREA, "app", "app"), b"invalidate ")):
            self.assertTrue(busjson.encode(value).startswith(name), name)

    def test_a_run_is_one_array_of_its_messages(self):
        run = Delivery("app", (MESSAGE, MESSAGE._replace(id=42)), ("bob",), None, "g")
        data = busjson.encode(run)
        self.assertEqual(data, b"messages " + orjson.dumps(
            ["app", ["bob"], None, "g", list(MESSAGE), list(MESSAGE._replace(id=42))]))
        for not_a_run in ((), (MESSAGE,), (MESSAGE, "x")):
            self.assertRaises(TypeError, busjson.encode, run._replace(item=not_a_run))

    def test_a_message_delivery_is_one_flat_array(self):
        delivery = Delivery("app", MESSAGE, ("bob", "carol"), "node-a:3", "g1")
        self.assertEqual(orjson.loads(busjson.encode(delivery)[len(b"message "):]),
                         ["app", ["bob", "carol"], "node-a:3", "g1", *orjson.loads(
                             orjson.dumps(list(MESSAGE)))])

    @given(deliveries.filter(lambda d: type(d.item) is Message))
    def test_the_object_form_of_a_message_delivery_is_read_too(self, delivery):
        """As nodes wrote it before the flat form (a cluster upgraded one node at a time)."""
        body = {"app": delivery.app, "to": list(delivery.recipients),
                "exclude": delivery.exclude, "alias": delivery.alias,
                "message": list(delivery.item)}
        self.assertEqual(busjson.decode(b"delivery " + orjson.dumps(body)), delivery)

    @given(deliveries.filter(lambda d: type(d.item) is Message))
    def test_the_stored_form_a_store_writes_around_its_json(self, delivery):
        """The Redis store publishes a message with its commit as C{stored [id, json, tail]},
        C{json} the message as it keeps it (its fields from the sender on). The app is said
        once: a message's delivery is to users of its own app."""
        item = delivery.item._replace(app=delivery.app)
        delivery = delivery._replace(item=item)
        head = b"stored [" + b"%d" % item.id + b"," + orjson.dumps(item[2:]) + b","
        data = head + busjson.stored_delivery_tail(delivery.app, delivery.recipients,
                                                   delivery.exclude, delivery.alias, "node-a",
                                                   ["node-b", "node-c"]) + b"]"
        decoded = busjson.decode(data)
        self.assertEqual(decoded, delivery)
        self.assertIs(type(decoded.item), Message)
        self.assertEqual(busjson.decode_stored(data), (delivery, "node-a", ["node-b", "node-c"]))
        # as a node of the version before wrote it: no origin, and no nodes told
        earlier = head + orjson.dumps((delivery.app, delivery.recipients, delivery.exclude,
                                       delivery.alias)) + b"]"
        self.assertEqual(busjson.decode_stored(earlier), (delivery, None, []))

    def test_only_bus_values_are_encoded(self):
        for value in (MESSAGE, event_of(model.USER_UPDATED), None, {"app": "x"}):
            self.assertRaises(TypeError, busjson.encode, value)


class MalformedTests(SynchronousTestCase):
    def assert_refused(self, data):
        error = self.assertRaises(JimError, busjson.decode, data)
        self.assertEqual(error.code, BAD_REQUEST, data)
        return error

    def test_examples(self):
        for data in [
            b"", b" ", b"delivery", b"delivery ", b"delivery {}", b"kick {}", b"invalidate []",
            b"invalidate [1]", b"invalidate {}", b"delivery []", b"delivery null", b"kick 1",
            b'delivery {"app":"a"}', b'delivery {"app":"a","to":[],"exclude":null,"alias":null}',
            b'delivery {"app":"a","to":[],"exclude":null,"alias":null,"message":[1]}',
            b'delivery {"app":"a","to":[],"exclude":null,"alias":null,"event":{}}',
            b'delivery {"app":"a","to":[],"exclude":null,"alias":null,"event":{"x":1}}',
            b"message {}", b"message []", b"message null", b'message ["a",[],null,null]',
            b'message ["a",[],null,null,' + b"1," * 14 + b"1]",
            b'message ["a","bob",null,null,' + orjson.dumps(list(MESSAGE))[1:],
            b'message ["a",[7],null,null,' + orjson.dumps(list(MESSAGE))[1:],
            b'message [1,[],null,null,' + orjson.dumps(list(MESSAGE))[1:],
            b'message ["a",[],null,null,' + orjson.dumps(list(MESSAGE))[1:-1] + b",1]",
            b"messages []", b"messages {}", b'messages ["a",[],null,null]',
            b'messages ["a",[],null,null,' + orjson.dumps(list(MESSAGE)) + b"]",  # one: no run
            b'messages ["a",[],null,null,' + orjson.dumps(list(MESSAGE)) + b",[1]]",
            b'messages ["a",[],null,null,' + orjson.dumps(list(MESSAGE)) + b',"x"]',
            b'messages ["a",[7],null,null,' + orjson.dumps([list(MESSAGE)] * 2)[1:],
            b'messages ["a",[],7,null,' + orjson.dumps([list(MESSAGE)] * 2)[1:],
            b'kick {"app":"a","user":"u","reason":"r","keep":null,"event":{"users":[[]]}}',
            b"unknown {}", b"Delivery {}", b"\xff\xfe", b'invalidate ["a","b","c","d"',
            b'invalidate ["a","b","c","d","e"]', b'invalidate ["a","b","c","d"] trailing',
            b"rates []", b'rates ["n"]', b'rates ["n",{}]', b'rates [1,[]]',
            b'rates ["n",[["user","a","b",0]]]', b'rates ["n",[["user","a","b",true]]]',
            b'rates ["n",[["group","a","b",1]]]', b'rates ["n",[["app","a",null,1]]]',
            b'rates ["n",[["app","a","",1.5]]]', b'rates ["n",[["app","a",""]]]',
        ]:  # fmt: skip
            self.assert_refused(data)

    def test_a_stored_form_of_another_shape_is_refused(self):
        fields = orjson.dumps(list(MESSAGE[2:])).decode()
        for body in ("{}", "[]", f'[41,{fields}]', f'[41,{fields},["app",[],null]]',
                     f'[41,"x",["app",[],null,null]]', f'["41",{fields},["app",[],null,null]]',
                     f'[41,{fields},["app","bob",null,null]]',
                     f'[41,[],["app",[],null,null]]',
                     f'[41,{fields},["app",[],null,null,"n"]]',
                     f'[41,{fields},["app",[],null,null,7,null]]',
                     f'[41,{fields},["app",[],null,null,null,[]]]',
                     f'[41,{fields},["app",["b"],null,null,"n",null]]',
                     f'[41,{fields},["app",["b"],null,null,"n",{{"b":["x"]}}]]',
                     f'[41,{fields},["app",["b"],null,null,"n",["x",1]]]',
                     # a six-value tail, every value but one as the model says
                     f'[41,{fields},["app",[7],null,null,"n",[]]]',
                     f'[41,{fields},[7,["b"],null,null,"n",[]]]',
                     f'[41,{fields},["app",["b"],7,null,"n",[]]]',
                     f'[41,{fields},["app",["b"],null,7,"n",[]]]',
                     f'[true,{fields},["app",["b"],null,null,"n",[]]]',
                     f'[41,{fields[:-1]},1],["app",["b"],null,null,"n",[]]]',
                     f'[41,[7{fields[fields.index(","):]},["app",["b"],null,null,"n",[]]]'):
            self.assert_refused(b"stored " + body.encode())
            error = self.assertRaises(JimError, busjson.decode_stored, b"stored " + body.encode())
            self.assertEqual(error.code, BAD_REQUEST)
        for data in (b"message []", b"stored", b"stored {", b"\xff"):
            error = self.assertRaises(JimError, busjson.decode_stored, data)
            self.assertEqual(error.code, BAD_REQUEST)

    def test_unknown_names_are_named(self):
        error = self.assert_refused(b'mystery ["a"]')
        self.assertIn("mystery", error.detail)

    @given(st.binary(max_size=64))
    def test_arbitrary_bytes(self, data):
        self.assert_refused(data)

    @given(st.sampled_from(NAMES), st.binary(max_size=64))
    def test_arbitrary_bytes_after_a_name(self, name, rest):
        self.assert_refused(name + b" " + rest)

    @given(st.binary(max_size=64))
    def test_arbitrary_bytes_as_a_stored_form(self, rest):
        error = self.assertRaises(JimError, busjson.decode_stored, b"stored " + rest)
        self.assertEqual(error.code, BAD_REQUEST)

    @given(bus_values, st.data())
    def test_every_proper_prefix_is_refused(self, value, data):
        encoded = busjson.encode(value)
        end = data.draw(st.integers(0, len(encoded) - 1))
        self.assert_refused(encoded[:end])

    @given(st.sampled_from(NAMES) | st.binary(max_size=8), json_values)
    def test_any_json_after_a_name(self, name, body):
        """Well-formed JSON of the wrong shape is refused too; what is accepted is a bus value
        whose fields have the model's types, so it encodes back to the same value."""
        try:
            value = busjson.decode(name + b" " + orjson.dumps(body))
        except JimError as e:
            self.assertEqual(e.code, BAD_REQUEST)
        else:
            self.assertIn(type(value), model.BUS_VALUES)
            self.assertEqual(busjson.decode(busjson.encode(value)), value)

    @given(bus_values, st.data())
    def test_a_field_of_the_wrong_type_is_refused(self, value, data):
        """Replace one field of an encoded value with a value of another JSON type."""
        name, _, rest = busjson.encode(value).partition(b" ")
        body = orjson.loads(rest)
        keys = list(range(len(body))) if type(body) is list else list(body)
        key = data.draw(st.sampled_from(keys))
        wrong = data.draw(st.sampled_from([12345, 1.5, True, {"x": [1]}, [["x"]]]))
        if key in ("message", "event") and wrong == [["x"]]:
            wrong = 12345
        body[key] = wrong
        self.assert_refused(name + b" " + orjson.dumps(body))

    @given(messages, st.integers(0, 14), st.sampled_from([12345, 1.5, True, {"x": 1}, [1], None]))
    def test_a_message_field_of_the_wrong_type_is_refused(self, message, index, wrong):
        fields = list(message)
        optional = Message._fields[index] in ("extras", "client_id", "target_app")
        if wrong is None and optional:
            return  # None is a right value there
        if type(fields[index]) is type(wrong):
            return
        fields[index] = wrong
        body = {"app": "a", "to": [], "exclude": None, "alias": None, "message": fields}
        self.assert_refused(b"delivery " + orjson.dumps(body))

    def test_a_misnamed_key_or_a_recipient_that_is_no_text(self):
        good = {"app": "a", "to": ["bob"], "exclude": None, "alias": None,
                "message": list(MESSAGE)}
        self.assertEqual(busjson.decode(b"delivery " + orjson.dumps(good)).recipients,
                         ("bob",))
        misnamed = {("mesage" if key == "message" else key): value
                    for key, value in good.items()}
        self.assert_refused(b"delivery " + orjson.dumps(misnamed))
        for to in (["bob", 7], [None], ["bob", ["x"]]):
            self.assert_refused(b"delivery " + orjson.dumps({**good, "to": to}))

    @given(texts)
    def test_a_text_where_the_recipients_go(self, text):
        body = {"app": "a", "to": text, "exclude": None, "alias": None,
                "message": list(MESSAGE)}
        self.assert_refused(b"delivery " + orjson.dumps(body))
