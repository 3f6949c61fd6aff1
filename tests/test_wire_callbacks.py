"""What jim POSTs to app servers: JMessage's message object of every message the core can
make, status objects, bodies that are the items joined as they were kept, and a signature an
app server can check with its master secret alone."""
import base64
import hashlib

import orjson
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import model
from jim.core.accounts import secret_hash
from jim.model import Message
from jim.wire import callbacks
from tests.support.model_strategies import json_objects, messages, texts

SECRET = "mastersecret000000000000"


def expected_object(message, from_name, target_name):
    """The message object as docs/callbacks.md describes it, field by field."""
    body = dict(message.body)
    if message.extras is not None and "extras" not in body:
        body["extras"] = orjson.loads(message.extras)
    # another app's user is named <appkey>:<username> (jim.model.qualified)
    from_app, sender = message.app, message.sender
    if ":" in sender:
        from_app, sender = sender.rsplit(":", 1)
    target_app, target = message.app, message.target
    if message.target_type == model.SINGLE and ":" in target:
        target_app, target = target.rsplit(":", 1)
    return {
        "msgid": message.id, "msg_ctime": message.created,
        "create_time": message.created // 1000, "version": 1,
        "msg_level": 0 if target_app == from_app else 1,
        "target_type": message.target_type, "target_id": target,
        "target_name": target_name, "target_appkey": target_app,
        "from_type": message.from_type, "from_id": sender, "from_name": from_name,
        "from_appkey": from_app, "msg_type": message.msg_type, "msg_body": body,
        "no_offline": message.no_offline, "no_notification": message.no_notification,
    }


class MessageObjectTests(SynchronousTestCase):
    @given(messages, texts, texts)
    def test_every_message_is_jmessages_object(self, message, from_name, target_name):
        text = callbacks.item(callbacks.message_object(message, from_name, target_name))
        self.assertIsInstance(text, str)
        self.assertEqual(orjson.loads(text), expected_object(message, from_name, target_name))

    def test_a_jim_message(self):
        message = Message(41, "app", "alice", model.GROUP, "10000000", model.TEXT,
                          {"text": "你好"}, extras='{"k":1}', created=1_700_000_000_123)
        self.assertEqual(orjson.loads(callbacks.item(callbacks.message_object(
            message, "Alice", "team"))), {
            "msgid": 41, "msg_ctime": 1_700_000_000_123, "create_time": 1_700_000_000,
            "version": 1, "msg_level": 0, "target_type": "group", "target_id": "10000000",
            "target_name": "team", "target_appkey": "app", "from_type": "user",
            "from_id": "alice", "from_name": "Alice", "from_appkey": "app",
            "msg_type": "text", "msg_body": {"text": "你好", "extras": {"k": 1}},
            "no_offline": False, "no_notification": False})

    def test_both_copies_of_a_cross_app_message(self):
        sent = Message(7, "A", "alice", model.SINGLE, "B:bob", model.TEXT, {"text": "hi"},
                       target_app="B", from_type=model.FROM_ADMIN)
        kept = sent._replace(id=3, app="B", sender="A:alice", target="bob", target_app=None)
        for message in (sent, kept):
            obj = callbacks.message_object(message)
            self.assertEqual((obj["msgid"], obj["msg_level"], obj["from_appkey"], obj["from_id"],
                              obj["target_appkey"], obj["target_id"]),
                             (message.id, 1, "A", "alice", "B", "bob"))

    def test_a_bodys_own_extras_are_kept(self):
        message = Message(1, "app", "a", model.SINGLE, "b", model.TEXT,
                          {"text": "x", "extras": {"mine": True}}, extras='{"k":1}')
        self.assertEqual(callbacks.message_object(message)["msg_body"],
                         {"text": "x", "extras": {"mine": True}})


class BodyTests(SynchronousTestCase):
    @given(st.sampled_from(sorted(callbacks.LISTS)), st.lists(json_objects, max_size=5))
    def test_a_body_is_its_items_in_order(self, kind, objects):
        data = callbacks.body(kind, [callbacks.item(obj) for obj in objects])
        self.assertEqual(orjson.loads(data),
                         {"total": len(objects), callbacks.LISTS[kind]: objects})

    def test_status_body(self):
        item = callbacks.item(callbacks.status_object("app", "bob", True, 1234))
        self.assertEqual(callbacks.body("status", [item]),
                         b'{"total":1,"statuses":[{"username":"bob","appkey":"app",'
                         b'"online":true,"time":1234}]}')


class SignatureTests(SynchronousTestCase):
    key = secret_hash(SECRET)
    data = b'{"total":0,"messages":[]}'

    def test_the_key_is_the_hex_sha256_of_the_master_secret(self):
        self.assertEqual(self.key, hashlib.sha256(SECRET.encode()).hexdigest())
        # computed once with another HMAC implementation
        self.assertEqual(callbacks.signature(self.key, 1_700_000_000_123, self.data),
                         "sha256=c8b57e5bfad84dba904653525d9631da6c906a1dc35bd0d8349e09a2f80a5b59")

    @given(st.binary(max_size=64), st.integers(0, 2**45))
    def test_a_signature_holds_for_its_body_and_time_only(self, data, timestamp):
        header = callbacks.signature(self.key, timestamp, data)
        self.assertTrue(callbacks.verify(self.key, timestamp, data, header))
        self.assertFalse(callbacks.verify(self.key, timestamp + 1, data, header))
        self.assertFalse(callbacks.verify(self.key, timestamp, data + b" ", header))
        self.assertFalse(callbacks.verify(secret_hash("another"), timestamp, data, header))

    def test_headers(self):
        headers = callbacks.headers("appkey1", self.key, 5, self.data)
        self.assertEqual(headers["Content-Type"], "application/json; charset=utf-8")
        scheme, _, token = headers["Authorization"].partition(" ")
        self.assertEqual((scheme, base64.b64decode(token)), ("Basic", b"appkey1:"))
        self.assertEqual(headers["X-Jim-Timestamp"], "5")
        self.assertTrue(callbacks.verify(self.key, 5, self.data, headers["X-Jim-Signature"]))
