"""J-IM's HTTP API resources, driven without sockets."""
import base64
import io

import orjson
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.test.requesthelper import DummyRequest

from jim import errors
from jim.errors import JimError
from jim.store.memory import MemoryStore
from jim.web.jim_api import SendMessage
from jim.wire import status

from tests.support.fakes import APP_KEY, APP_SECRET, HoldingStore, codes, make_core, send


def send_request(body):
    request = DummyRequest([b"api", b"message", b"send"])
    request.method = b"POST"
    request.content = io.BytesIO(orjson.dumps(body))
    token = base64.b64encode(f"{APP_KEY}:{APP_SECRET}".encode())
    request.requestHeaders.addRawHeader(b"authorization", b"Basic " + token)
    return request


class SendMessageTests(SynchronousTestCase):
    def test_a_refusal_shared_with_a_connection_keeps_that_connections_command(self):
        """One failed read answers everybody waiting on it: the HTTP send's cmd 12 must not
        turn a J-IM client's join refusal (cmd 8) into a cmd 12."""
        store = HoldingStore(MemoryStore(), "members")
        fx = make_core(store=store, users=("alice", "carol"))
        fx.add_group("g", "alice")
        carol, carol_client = fx.login("carol")
        send(carol, 7, {"cmd": 7, "groupId": "g"})  # waits on g's members
        request = send_request({"from": "alice", "chatType": 1, "groupId": "g", "content": "x"})
        SendMessage(fx.core).render(request)  # waits on the same read
        [(_, _, read, _, _)] = store.pending
        read.errback(JimError(errors.SERVER_ERROR, "the read failed"))
        self.assertEqual(codes(carol_client), [(8, status.JOIN_FAILED)])
        reply = orjson.loads(b"".join(request.written))
        self.assertEqual((reply["command"], reply["code"]), (12, status.SEND_FAILED))

    def test_a_chat_to_a_group_that_does_not_exist_is_refused_and_changes_nothing(self):
        """Whichever way J-IM names the group (an alias, a gid REST would hand out, one of
        J-IM's numbered groups), the send is J-IM's chat refusal naming the group; no group is
        made, nothing is stored or delivered."""
        fx = make_core(users=("alice", "bobby"))
        fx.add_group("team", "alice", "bobby")
        _, bobby_client = fx.login("bobby")
        for group_id in ("nosuch", "10000005", "100"):
            request = send_request({"from": "alice", "chatType": 1, "groupId": group_id,
                                    "content": "x", "id": "c-1"})
            SendMessage(fx.core).render(request)
            reply = orjson.loads(b"".join(request.written))
            self.assertEqual((reply["command"], reply["code"], reply["data"]),
                             (12, status.SEND_FAILED, {"clientId": "c-1"}), group_id)
            self.assertIn(f"no group {group_id}", reply["detail"].replace("'", ""))
            self.assertEqual(request.responseCode, 200)
        self.assertEqual(fx.metrics.messages_in, 0)
        self.assertEqual(fx.metrics.bad_input, 3)  # the caller's fault, as on the J-IM wire
        self.assertEqual(bobby_client.take(), [])
        total, groups = self.successResultOf(defer.ensureDeferred(
            fx.core.groups.list(APP_KEY, 0, 10)))
        self.assertEqual([g.alias for g in groups], ["team"])
