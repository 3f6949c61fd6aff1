"""J-IM's chat (cmd 11) and join (cmd 7) through sessions and recording clients, with the
exact pushes, acknowledgements, notices and refusals J-IM clients expect
(tests/test_protocols_jim_commands.py: the other commands)."""
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.config import Limits
from jim.errors import JimError
from jim.model import PRIVATE
from jim.store.memory import MemoryStore

from tests.support.fakes import APP_KEY, HoldingStore, codes, make_core, send


def private(to, content, **extra):
    return dict({"cmd": 11, "chatType": 2, "to": to, "msgType": 0, "content": content}, **extra)


def group(group_id, content, **extra):
    return dict({"cmd": 11, "chatType": 1, "groupId": group_id, "content": content}, **extra)


def member_names(test, fx, group_id):
    """The members of the group J-IM calls C{group_id}, as the store has them."""
    groups = fx.memory.groups
    record = test.successResultOf(groups.group_by_alias(APP_KEY, group_id))
    return [member.username
            for member in test.successResultOf(groups.members(APP_KEY, record.gid))]


class PrivateChatTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")

    def test_online(self):
        self.fx.clock.advance(1.5)
        send(self.alice, 11, private("bob", "hi", id="c1"))
        [(command, reply)] = self.alice_client.take()
        self.assertEqual(
            (command, reply),
            (12, {"code": 10000, "command": 12, "msg": "ok 发送成功",
                  "data": {"id": reply["data"]["id"], "createTime": 1500, "clientId": "c1"}}),
        )  # fmt: skip
        [(command, push)] = self.bob_client.take()
        self.assertEqual(
            (command, push),
            (11, {"command": 11,
                  "data": {"id": reply["data"]["id"], "cmd": 11, "from": "alice", "to": "bob",
                           "chatType": 2, "msgType": 0, "content": "hi", "createTime": 1500,
                           "clientId": "c1"}}),
        )  # fmt: skip
        self.assertEqual(self.fx.metrics.messages_in, 1)

    def test_other_msg_types_and_extras_come_back_unchanged(self):
        send(self.alice, 11, private("bob", "pic.png", msgType=1, extras={"w": 2}))
        send(self.alice, 11, private("bob", "tune", msgType=4))
        pushes = [body["data"] for _, body in self.bob_client.take()]
        self.assertEqual([(p["msgType"], p["content"], p.get("extras")) for p in pushes],
                         [(1, "pic.png", {"w": 2}), (4, "tune", None)])

    def test_from_is_the_sender(self):
        send(self.alice, 11, private("bob", "it was carol", **{"from": "carol"}))
        [(_, push)] = self.bob_client.take()
        self.assertEqual(push["data"]["from"], "alice")
        stored = self.successResultOf(
            self.fx.memory.messages.private_history(APP_KEY, "alice", "bob"))
        self.assertEqual([m.sender for m in stored], ["alice"])

    def test_sender_other_connections(self):
        other, other_client = self.fx.login("alice")
        bob2, bob2_client = self.fx.login("bob")
        send(self.alice, 11, private("bob", "hi"))
        self.assertEqual(codes(self.alice_client), [(12, 10000)])
        self.assertEqual(codes(other_client), [(11, None)])
        self.assertEqual(codes(self.bob_client), [(11, None)])
        self.assertEqual(codes(bob2_client), [(11, None)])

    def test_offline_then_fetched_once(self):
        send(self.alice, 11, private("carol", "later"))
        [(command, reply)] = self.alice_client.take()
        self.assertEqual(
            (command, reply["code"], reply["msg"]), (12, 10001, "offline 用户不在线")
        )
        carol, carol_client = self.fx.login("carol")
        self.assertEqual(carol_client.sent, [])  # no push on login: J-IM clients ask with cmd 19
        send(carol, 19, {"cmd": 19, "type": 0, "userId": "carol"})
        [(command, body)] = carol_client.take()
        self.assertEqual((command, body["code"]), (20, 10016))
        self.assertEqual(body["msg"], "get user message ok! 获取离线消息成功!")
        self.assertEqual(list(body["data"]["friends"]), ["alice"])
        [message] = body["data"]["friends"]["alice"]
        self.assertEqual(
            (message["from"], message["to"], message["content"]), ("alice", "carol", "later")
        )
        self.assertEqual(body["data"]["groups"], {})
        send(carol, 19, {"cmd": 19, "type": "0", "userId": "carol"})
        [(_, again)] = carol_client.take()
        self.assertEqual(again["data"], {"userId": "carol", "friends": {}, "groups": {}})

    def test_no_such_user(self):
        send(self.alice, 11, private("nobody", "hello?"))
        [(command, reply)] = self.alice_client.take()
        self.assertEqual((command, reply["code"], reply["command"]), (12, 10002, 12))
        self.assertEqual(self.fx.metrics.messages_in, 0)

    def test_a_refusal_names_its_chat_by_client_id(self):
        send(self.alice, 11, private("nobody", "hello?", id="c-1"))  # refused by the core
        send(self.alice, 11, private("bob", "hi", id=7, msgType=999))  # refused by the parser
        send(self.alice, 11, private("nobody", "hello?"))  # no id: nothing to name it by
        send(self.alice, 11, private("nobody", "hello?", id=["c-2"]))  # an unusable id
        replies = [reply for _, reply in self.alice_client.take()]
        self.assertEqual([reply["code"] for reply in replies], [10002] * 4)
        self.assertEqual([reply.get("data") for reply in replies],
                         [{"clientId": "c-1"}, {"clientId": "7"}, None, None])
        self.assertIn("nobody", replies[0]["detail"])

    def test_bad_chat(self):
        for body in [{"chatType": 2}, {"chatType": 5, "to": "bob"}, {"chatType": 1}]:
            send(self.alice, 11, body)
            self.assertEqual(codes(self.alice_client), [(12, 10002)])
        self.assertEqual(self.bob_client.sent, [])

    def test_repeated_client_id(self):
        send(self.alice, 11, private("bob", "once", id="c7"))
        send(self.alice, 11, private("bob", "once", id="c7"))
        first, second = self.alice_client.take()
        self.assertEqual(first, second)
        self.assertEqual(first[1]["code"], 10000)
        self.assertEqual(len(self.bob_client.take()), 1)

    def test_a_resend_with_another_text_is_told_the_text_kept(self):
        """The same client id again, another text: the first message is the one kept, and
        the acknowledgement says its text (as a masked one's does); the same text, nothing."""
        send(self.alice, 11, private("bob", "first words", id="c8"))
        send(self.alice, 11, private("bob", "second thoughts", id="c8"))
        send(self.alice, 11, private("bob", "first words", id="c8"))
        first, second, third = [body["data"] for _, body in self.alice_client.take()]
        self.assertNotIn("content", first)
        self.assertEqual(second, {**first, "content": "first words"})
        self.assertEqual(third, first)
        self.assertEqual([body["data"]["content"] for _, body in self.bob_client.take()],
                         ["first words"])


class GroupChatTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol", "dave"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")
        self.dave, self.dave_client = self.fx.login("dave")

    def test_group_chat(self):
        self.fx.add_group("g", "alice", "bob", "carol")
        send(self.alice, 11, group("g", "hello all"))
        sent = self.alice_client.take()
        self.assertEqual([(c, b.get("code")) for c, b in sent], [(11, None), (12, 10000)])
        push = sent[0][1]["data"]
        self.assertEqual(
            (push["from"], push["groupId"], push["chatType"], push["content"]),
            ("alice", "g", 1, "hello all"),
        )
        self.assertNotIn("to", push)
        self.assertEqual(self.bob_client.take(), [sent[0]])
        self.assertEqual(self.dave_client.sent, [])
        carol, carol_client = self.fx.login("carol")
        send(carol, 19, {"type": 0})
        [(_, body)] = carol_client.take()
        self.assertEqual(body["code"], 10016)
        self.assertEqual(body["data"]["friends"], {})
        self.assertEqual(body["data"]["groups"], {"g": [push]})
        send(carol, 19, {"type": 0})
        self.assertEqual(carol_client.take()[0][1]["data"]["groups"], {})

    def test_a_numeric_group_id_is_the_gid(self):
        self.fx.add_group("100", "alice", "bob")
        send(self.alice, 11, group("100", "by number"))
        [(command, push)] = self.bob_client.take()
        self.assertEqual((command, push["data"]["groupId"]), (11, "100"))

    def test_group_chat_2x_spelling(self):
        self.fx.add_group("g", "alice", "bob")
        send(self.alice, 11, {"chatType": "1", "group_id": "g", "content": "x"})
        self.assertEqual(codes(self.alice_client), [(11, None), (12, 10000)])

    def test_non_member(self):
        gid = self.fx.add_group("g", "alice", "bob").gid
        send(self.dave, 11, group("g", "let me in"))
        send(self.dave, 19, {"type": 1, "groupId": "g"})
        refusals = [(command, reply["code"], reply["detail"])
                    for command, reply in self.dave_client.take()]
        # named by the groupId the client knows, and by the gid the REST API knows
        detail = f"'dave' is not a member of group {gid} ('g')"
        self.assertEqual(refusals, [(12, 10002, detail), (20, 10015, detail)])
        self.assertEqual(self.alice_client.sent, [])

    def test_a_group_that_does_not_exist(self):
        for group_id in ("nosuchgroup", "123"):
            send(self.dave, 11, group(group_id, "anyone?", id="q"))
            [(command, reply)] = self.dave_client.take()
            self.assertEqual((command, reply["code"], reply["command"], reply["data"]),
                             (12, 10002, 12, {"clientId": "q"}))
            self.assertIn(group_id, reply["detail"])

    def test_unknown_groups_are_not_remembered_as_missing(self):
        for i in range(3):
            send(self.alice, 11, group(f"g{i}", "x"))
            send(self.alice, 19, {"type": 1, "groupId": f"g{i}"})
        self.assertEqual(codes(self.alice_client), [(12, 10002), (20, 10015)] * 3)
        send(self.bob, 7, {"groupId": "g0"})  # it exists now
        send(self.alice, 7, {"groupId": "g0"})
        self.alice_client.take()
        send(self.alice, 11, group("g0", "found"))
        self.assertEqual(codes(self.alice_client), [(11, None), (12, 10000)])

    def test_repeated_client_id(self):
        self.fx.add_group("g", "alice", "bob")
        send(self.alice, 11, group("g", "once", id="x1"))
        send(self.alice, 11, group("g", "once", id="x1"))
        self.assertEqual(codes(self.alice_client), [(11, None), (12, 10000), (12, 10000)])
        self.assertEqual(codes(self.bob_client), [(11, None)])


class JoinTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol", "dave"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")
        self.dave, self.dave_client = self.fx.login("dave")

    def join(self, session, gid, **extra):
        send(session, 7, dict({"cmd": 7, "groupId": gid}, **extra))

    def test_join_creates_group(self):
        self.fx.clock.advance(2)
        self.join(self.alice, "g1", name="Readers")
        group = self.successResultOf(self.fx.memory.groups.group_by_alias(APP_KEY, "g1"))
        self.assertEqual((group.owner, group.name, group.ctime), ("alice", "Readers", 2000))
        [(command, body), (event_command, event)] = self.alice_client.take()
        self.assertEqual(
            (command, body),
            (9, {"code": 10011, "command": 9, "msg": "join group ok! 加入群组成功!", "group": "g1",
                 "user": {"userId": "alice", "nick": "alice", "avatar": "", "status": "online",
                          "terminal": "tcp"}}),
        )  # fmt: skip
        self.assertEqual(event_command, 100)
        self.assertIsInstance(event["data"].pop("event_id"), int)
        self.assertEqual(
            event,
            {"command": 100,
             "data": {"event_type": 10, "kind": "members_added", "from_username": "alice",
                      "from_appkey": APP_KEY,
                      "to_usernames": [{"username": "alice", "appkey": APP_KEY,
                                        "nickname": ""}],
                      "ctime_ms": 2000, "gid": group.gid, "groupId": "g1",
                      "group_name": "Readers"}},
        )  # fmt: skip

    def test_join_notifies_online_members(self):
        self.join(self.alice, "g1")
        self.alice_client.take()
        self.join(self.bob, "g1", group_id="ignored")
        for client in (self.alice_client, self.bob_client):
            [(command, body), (event_command, event)] = client.take()
            self.assertEqual((command, body["group"], body["user"]["userId"]), (9, "g1", "bob"))
            self.assertEqual((event_command, event["data"]["kind"], event["data"]["groupId"],
                              event["data"]["to_usernames"][0]["username"]),
                             (100, "members_added", "g1", "bob"))
        self.assertEqual(self.dave_client.sent, [])
        group = self.successResultOf(self.fx.memory.groups.group_by_alias(APP_KEY, "g1"))
        self.assertEqual(group.owner, "alice")

    def test_join_again(self):
        self.join(self.alice, "g1")
        self.join(self.bob, "g1")
        self.alice_client.take()
        self.bob_client.take()
        self.join(self.bob, "g1")
        self.assertEqual(codes(self.bob_client), [(9, 10011)])  # its confirmation only
        self.assertEqual(self.alice_client.sent, [])
        self.assertEqual(member_names(self, self.fx, "g1"), ["alice", "bob"])

    def test_join_2x_spelling(self):
        send(self.alice, 7, {"group_id": "g2"})
        self.assertEqual(codes(self.alice_client), [(9, 10011), (100, None)])

    def test_join_without_group(self):
        send(self.alice, 7, {"name": "x"})
        [(command, body)] = self.alice_client.take()
        self.assertEqual((command, body["code"], body["command"]), (8, 10012, 8))

    def test_join_another_apps_group(self):
        self.join(self.alice, "other-app:10000001")
        [(command, body)] = self.alice_client.take()
        self.assertEqual((command, body["code"], body["command"]), (8, 10012, 8))
        self.assertIn("another app", body["detail"])
        self.assertIsNone(self.successResultOf(
            self.fx.memory.groups.group_by_alias(APP_KEY, "other-app:10000001")))

    def test_join_a_private_group(self):
        self.fx.add_group("closed", "bob", flag=PRIVATE)
        self.join(self.alice, "closed")
        [(command, body)] = self.alice_client.take()
        self.assertEqual((command, body["code"], body["command"]), (8, 10012, 8))
        self.assertEqual(member_names(self, self.fx, "closed"), ["bob"])

    def test_join_a_full_group(self):
        fx = make_core(limits=Limits(group_size=2), users=("alice", "bob", "carol"))
        sessions = [fx.login(name) for name in ("alice", "bob", "carol")]
        for session, _ in sessions:
            send(session, 7, {"groupId": "g"})
        [(command, body)] = sessions[2][1].take()
        self.assertEqual(
            (command, body["code"], body["command"], body["result"]), (8, 10012, 8, 3)
        )
        self.assertEqual(member_names(self, fx, "g"), ["alice", "bob"])

    def test_two_joins_in_flight_cannot_overfill_a_group(self):
        store = HoldingStore(MemoryStore())
        fx = make_core(store=store, limits=Limits(group_size=2), users=("alice", "bob", "carol"))
        alice, _ = fx.login("alice")
        send(alice, 7, {"groupId": "g"})  # creates it, with room for one more
        bob, bob_client = fx.login("bob")
        carol, carol_client = fx.login("carol")
        store.held.add("add_members")
        send(bob, 7, {"groupId": "g"})
        send(carol, 7, {"groupId": "g"})  # while bob's join is being written
        store.release()
        self.assertEqual(codes(carol_client), [(8, 10012)])
        self.assertEqual(codes(bob_client), [(9, 10011), (100, None)])
        self.assertEqual(member_names(self, fx, "g"), ["alice", "bob"])

    def test_a_failed_write_leaves_the_place_free(self):
        store = HoldingStore(MemoryStore())
        fx = make_core(store=store, limits=Limits(group_size=2), users=("alice", "bob", "carol"))
        alice, _ = fx.login("alice")
        send(alice, 7, {"groupId": "g"})
        bob, bob_client = fx.login("bob")
        carol, carol_client = fx.login("carol")
        store.held.add("add_members")
        send(bob, 7, {"groupId": "g"})
        _, d = store.take_only()
        d.errback(JimError(errors.SERVER_ERROR, "the disk is full"))
        self.assertEqual(codes(bob_client), [(8, 10012)])
        store.held.clear()
        send(carol, 7, {"groupId": "g"})
        self.assertEqual(codes(carol_client), [(9, 10011), (100, None)])


class RefusalNamingTests(SynchronousTestCase):
    """A chat's refusal carries its own client id and no other command's reply does."""

    def setUp(self):
        self.store = HoldingStore(MemoryStore(), "members")
        self.fx = make_core(store=self.store, users=("alice", "bob", "carol", "xavier"))
        self.fx.add_group("g", "xavier")  # its only member is offline: members not loaded yet
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")
        self.carol, self.carol_client = self.fx.login("carol")

    def fail_pending(self, error):
        _, d = self.store.take_only()
        d.errback(error)

    def test_one_failure_answering_several_callers_names_each_by_its_own_id(self):
        send(self.bob, 11, group("g", "no id"))  # loads the members...
        # ...which these wait for, answered in this order before bob: naming alice's refusal
        # must not name the others'
        send(self.alice, 11, group("g", "with an id", id="a-1"))
        send(self.carol, 7, {"cmd": 7, "groupId": "g"})
        self.fail_pending(JimError(errors.SERVER_ERROR, "the store could not answer this read"))
        [(_, bob_reply)] = self.bob_client.take()
        [(_, alice_reply)] = self.alice_client.take()
        [(command, carol_reply)] = self.carol_client.take()
        self.assertEqual((alice_reply["code"], alice_reply["data"]), (10002, {"clientId": "a-1"}))
        self.assertEqual((bob_reply["code"], bob_reply.get("data")), (10002, None))
        self.assertEqual((command, carol_reply["code"], carol_reply.get("data")), (8, 10012, None))

    def test_a_failure_of_jims_own_still_names_the_chat(self):
        self.store.held = {"add_message"}
        send(self.alice, 11, private("bob", "x", id="c-7"))
        self.fail_pending(RuntimeError("a bug"))
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        [(command, reply)] = self.alice_client.take()
        self.assertEqual((command, reply["code"], reply["detail"]), (12, 10002, "internal error"))
        self.assertEqual(reply["data"], {"clientId": "c-7"})
        self.assertEqual(self.fx.metrics.bad_input, 0)  # jim's fault, not the client's
