"""Cross-app sends in the core: the permission (each app lists the other), the two copies of a
message, one in each app's log, delivered in the order of every delivery once kept, and what a
failed copy does; same-app sends never come here."""
import attr
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.core.accounts import secret_hash
from jim.errors import JimError
from jim.model import SINGLE, TEXT, App, Draft
from jim.store.memory import MemoryStore

from tests.support.fakes import APP_KEY, HoldingStore, make_core, send

OTHER = "otherapp0000000000000000"


def draft(target, content, **fields):
    return Draft(SINGLE, target, TEXT, {"text": content}, **fields)


def pushed(client):
    return [(body["data"]["from"], body["data"]["to"], body["data"]["content"])
            for command, body in client.take() if command == 11]


class CrossCase(SynchronousTestCase):
    def setUp(self, store=None):
        self.fx = make_core(store=store, users=("alice", "anna"))
        memory = self.fx.memory
        memory.apps.add_app(App(OTHER, secret_hash("othersecret0000000000000"), "other",
                                cross_apps=[APP_KEY]))
        self.allow(True)
        self.fx.add_user("bob", app=OTHER)
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.login_other("bob")

    def allow(self, allowed):
        d = self.fx.accounts.update_app(APP_KEY, {"cross_apps": [OTHER] if allowed else []})
        self.successResultOf(defer.ensureDeferred(d))

    def login_other(self, username):
        session, client = self.fx.connect()
        send(session, 5, {"cmd": 5, "userId": username, "password": "secret", "appKey": OTHER})
        assert client.take()[0][1]["code"] == 10007
        return session, client

    def send(self, target, content, sender="alice", app=APP_KEY, connection_id=None):
        return defer.ensureDeferred(self.fx.core.messages.send(app, sender,
                                                               draft(target, content),
                                                               connection_id))

    def history(self, app, user, peer):
        memory = self.fx.memory
        return self.successResultOf(memory.messages.private_history(app, user, peer))


class SendTests(CrossCase):
    def test_a_message_is_kept_in_each_app_and_reaches_the_receiver(self):
        stored, delivered = self.successResultOf(self.send(f"{OTHER}:bob", "hi"))
        self.assertTrue(delivered)
        self.assertEqual((stored.app, stored.sender, stored.target, stored.target_app),
                         (APP_KEY, "alice", f"{OTHER}:bob", OTHER))
        [mine] = self.history(APP_KEY, "alice", f"{OTHER}:bob")
        [theirs] = self.history(OTHER, "bob", f"{APP_KEY}:alice")
        self.assertEqual(mine, stored)
        self.assertEqual((theirs.app, theirs.sender, theirs.target, theirs.target_app,
                          theirs.body, theirs.created),
                         (OTHER, f"{APP_KEY}:alice", "bob", None, {"text": "hi"},
                          stored.created))
        self.assertEqual(pushed(self.bob_client), [(f"{APP_KEY}:alice", "bob", "hi")])
        self.assertEqual(pushed(self.alice_client), [("alice", f"{OTHER}:bob", "hi")],
                         "the sender's other connections get its copy")
        # the answer comes back the same way
        self.successResultOf(self.send(f"{APP_KEY}:alice", "hello", sender="bob", app=OTHER,
                                       connection_id=self.bob.id))
        self.assertEqual(pushed(self.alice_client), [(f"{OTHER}:bob", "alice", "hello")])
        self.assertEqual(pushed(self.bob_client), [])
        self.assertEqual(len(self.history(APP_KEY, "alice", f"{OTHER}:bob")), 2)

    def test_refusals_keep_and_deliver_nothing(self):
        self.allow(False)
        for target, code in ((f"{OTHER}:bob", errors.CROSS_APP_DENIED),
                             ("nosuchapp000000000000000:bob", errors.CROSS_APP_DENIED),
                             (f"{APP_KEY}:anna", errors.CROSS_APP_DENIED)):
            self.assertEqual(self.failureResultOf(self.send(target, "no"), JimError).value.code,
                             code, target)
        self.allow(True)
        self.assertEqual(self.failureResultOf(self.send(f"{OTHER}:anna", "no"), JimError)
                         .value.code, errors.NO_SUCH_USER, "anna is the first app's")
        self.fx.memory.relations.add_relations([model.Relation(
            OTHER, model.BLACKLIST, "bob", f"{APP_KEY}:alice")])
        self.assertEqual(self.failureResultOf(self.send(f"{OTHER}:bob", "no"), JimError)
                         .value.code, errors.BLACKLISTED)
        self.successResultOf(self.send(f"{OTHER}:bob", "admins pass", sender="anna"))
        self.assertEqual(self.history(APP_KEY, "alice", f"{OTHER}:bob"), [])
        self.assertEqual(self.history(OTHER, "bob", f"{APP_KEY}:alice"), [])
        self.assertEqual(pushed(self.bob_client), [(f"{APP_KEY}:anna", "bob", "admins pass")])

    def test_same_app_sends_never_take_the_cross_app_path(self):
        def refuse(*args):
            raise AssertionError("a same-app send came to the cross-app path")

        self.fx.core.messages.cross = attr.make_class("Refusing", {})()
        self.fx.core.messages.cross.send = refuse
        self.fx.add_user("bobby")
        self.successResultOf(self.send("bobby", "in the app"))
        self.successResultOf(self.send("anna", "in the app"))
        self.assertEqual(self.failureResultOf(self.send("ghost", "x"), JimError).value.code,
                         errors.NO_SUCH_USER)


class OrderTests(CrossCase):
    def setUp(self):
        super().setUp(store=HoldingStore(MemoryStore(), "add_message"))

    def test_deliveries_after_a_cross_app_message_wait_for_its_copies(self):
        first = self.send(f"{OTHER}:bob", "first")
        second = self.send(f"{OTHER}:bob", "second")
        self.assertNoResult(first)
        self.assertEqual(pushed(self.bob_client), [])
        self.fx.store.release()
        self.successResultOf(first)
        self.successResultOf(second)
        self.assertEqual([c for _, _, c in pushed(self.bob_client)], ["first", "second"])

    def test_a_failed_copy_fails_the_send_and_holds_nothing_back(self):
        memory = self.fx.memory
        kept = memory.messages.append_message_then  # what the held add_message runs

        def append_message_then(stored, then, *args):
            if stored.app == OTHER:
                then(Failure(JimError(errors.SERVER_ERROR, "the store failed")), *args)
            else:
                kept(stored, then, *args)

        memory.messages.append_message_then = append_message_then
        first = self.send(f"{OTHER}:bob", "lost")
        self.fx.store.release()
        self.assertEqual(self.failureResultOf(first, JimError).value.code, errors.SERVER_ERROR)
        memory.messages.append_message_then = kept
        later = self.send(f"{OTHER}:bob", "later")
        self.fx.store.release()
        self.successResultOf(later)
        self.assertEqual([c for _, _, c in pushed(self.bob_client)], ["later"])

    def test_a_resend_after_a_failed_senders_copy_keeps_the_receivers_once(self):
        """The receiver's copy is kept, then the sender's fails: the send fails; its resend
        (the same client id) keeps the sender's copy and finds the receiver's, which is
        neither kept nor pushed twice."""
        memory = self.fx.memory
        kept = memory.messages.append_message_then

        def append_message_then(stored, then, *args):
            if stored.app == APP_KEY:
                then(Failure(JimError(errors.SERVER_ERROR, "the store failed")), *args)
            else:
                kept(stored, then, *args)

        memory.messages.append_message_then = append_message_then
        once = draft(f"{OTHER}:bob", "once", client_id="c-1")
        first = defer.ensureDeferred(self.fx.core.messages.send(APP_KEY, "alice", once, None))
        self.fx.store.release()
        self.assertEqual(self.failureResultOf(first, JimError).value.code, errors.SERVER_ERROR)
        memory.messages.append_message_then = kept
        again = defer.ensureDeferred(self.fx.core.messages.send(APP_KEY, "alice", once, None))
        self.fx.store.release()
        stored, _ = self.successResultOf(again)
        self.assertEqual(stored.client_id, "c-1")
        self.assertEqual([c for _, _, c in pushed(self.bob_client)], ["once"])
        self.assertEqual([m.body["text"] for m in self.history(OTHER, "bob",
                                                                f"{APP_KEY}:alice")], ["once"])
        self.assertEqual([m.body["text"] for m in self.history(APP_KEY, "alice",
                                                                f"{OTHER}:bob")], ["once"])


class AppendOnceCrossTests(CrossCase):
    """On a store that checks client ids where it appends (as Redis), a send to another app's
    user still looks its client id up first: its copies are written with no such check."""

    def setUp(self):
        super().setUp()
        messages = self.fx.memory.messages
        messages.appends_once = True  # as the Redis store's
        messages.reserve_id = lambda: None

    def test_a_resend_to_another_apps_user_is_stored_once(self):
        once = draft(f"{OTHER}:bob", "once", client_id="c-1")
        first = self.successResultOf(self.fx.core.messages.send(APP_KEY, "alice", once))
        again = self.successResultOf(self.fx.core.messages.send(APP_KEY, "alice", once))
        self.assertEqual(again[0].id, first[0].id)
        self.assertEqual(len(self.history(APP_KEY, "alice", f"{OTHER}:bob")), 1)
        self.assertEqual(len(self.history(OTHER, "bob", f"{APP_KEY}:alice")), 1)
