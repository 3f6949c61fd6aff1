"""J-IM's HTTP API resources, driven without sockets."""
import base64
import io

import orjson
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
