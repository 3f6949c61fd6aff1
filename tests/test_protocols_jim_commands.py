"""The J-IM commands through sessions and recording clients: login, auth, chat, join, close,
get user and get messages, with the exact replies J-IM clients expect."""
from twisted.trial.unittest import SynchronousTestCase

from jim.config import Limits
from tests.support.fakes import APP_KEY, codes, make_core, send

LOGIN_FAILED = "login failed ! 登录失败!"


def private(to, content, **extra):
    return dict({"cmd": 11, "chatType": 2, "to": to, "msgType": 0, "content": content}, **extra)


def group(gid, content, **extra):
    return dict({"cmd": 11, "chatType": 1, "groupId": gid, "content": content}, **extra)


class LoginTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core()
        self.fx.add_user("alice", "pw", nickname="Alice")

    def test_reply(self):
        session, client = self.fx.connect()
        send(session, 5, {"cmd": 5, "userId": "alice", "password": "pw"})
        [(command, body)] = client.take()
        self.assertEqual(command, 6)
        token = body.pop("token")
        self.assertEqual(
            body,
            {"code": 10007, "command": 6, "msg": "ok 登录成功!",
             "user": {"userId": "alice", "nick": "Alice", "avatar": "", "status": "online",
                      "terminal": "tcp"},
             "maxBody": self.fx.core.limits.max_body},
        )  # fmt: skip
        self.assertEqual(self.fx.tokens.check(token, self.fx.clock.seconds()), (APP_KEY, "alice"))
        self.assertTrue(self.fx.hub.is_online(APP_KEY, "alice"))
        self.assertEqual(self.fx.metrics.logins, 1)

    def test_reply_tells_the_largest_body_this_server_takes(self):
        fx = make_core(limits=Limits(max_body=2048))
        fx.add_user("alice", "pw")
        session, client = fx.connect()
        send(session, 5, {"cmd": 5, "userId": "alice", "password": "pw"})
        [(_, body)] = client.take()
        self.assertEqual(body["maxBody"], 2048)

    def test_token_reconnect(self):
        _, client = self.fx.login("alice", "pw")
        token = self.fx.accounts.token_for(APP_KEY, "alice")
        session, client = self.fx.connect()
        send(session, 5, {"token": token})
        self.assertEqual(codes(client), [(6, 10007)])
        self.assertEqual(session.username, "alice")

    def test_2x_loginname(self):
        session, client = self.fx.connect()
        send(session, 5, {"loginname": "alice", "password": "pw"})
        self.assertEqual(codes(client), [(6, 10007)])

    def test_failed(self):
        for body in [
            {"userId": "alice", "password": "px"},
            {"userId": "nobody", "password": "pw"},
            {"userId": ["alice"], "password": "pw"},
            {"userId": "alice"},
        ]:
            session, client = self.fx.connect()
            send(session, 5, body)
            [(command, reply)] = client.take()
            self.assertEqual(
                (command, reply["code"], reply["command"], reply["msg"]),
                (6, 10008, 6, LOGIN_FAILED),
                body,
            )
            self.assertNotIn("user", reply)
            self.assertNotIn("token", reply)
            self.assertEqual(len(client.closes), 1)
            self.assertIsNone(session.username)
        self.assertFalse(self.fx.hub.is_online(APP_KEY, "alice"))
        self.assertEqual(self.fx.metrics.login_failures, 4)

    def test_same_user_again(self):
        session, client = self.fx.login("alice", "pw")
        send(session, 5, {"userId": "alice", "password": "whatever"})
        self.assertEqual(codes(client), [(6, 10007)])
        self.assertEqual(client.closes, [])

    def test_other_user_on_same_connection(self):
        self.fx.add_user("bob", "pw")
        session, client = self.fx.login("alice", "pw")
        send(session, 5, {"userId": "bob", "password": "pw"})
        self.assertEqual(codes(client), [(6, 10008)])
        self.assertEqual(len(client.closes), 1)
        self.assertEqual(session.username, "alice")

    def test_open_registration(self):
        fx = make_core(open_registration=True)
        session, client = fx.connect()
        send(session, 5, {"userId": "newbie", "password": "pw"})
        self.assertEqual(codes(client), [(6, 10007)])
        session, client = fx.connect()
        send(session, 5, {"userId": "newbie", "password": "other"})
        self.assertEqual(codes(client), [(6, 10008)])

    def test_auto_join(self):
        fx = make_core(auto_join=("lobby",))
        fx.add_user("alice", "pw")
        session, client = fx.connect()
        send(session, 5, {"userId": "alice", "password": "pw"})
        self.assertEqual(codes(client), [(6, 10007), (9, 10011)])
        self.assertIn("alice", self.successResultOf(fx.memory.group_members(APP_KEY, "lobby")))
        # the next login announces alice to the lobby once, not once more for the auto-join
        session, client = fx.connect()
        send(session, 5, {"userId": "alice", "password": "pw"})
        self.assertEqual(codes(client), [(6, 10007)])
        other, other_client = fx.connect()
        fx.add_user("bob", "pw")
        send(other, 5, {"userId": "bob", "password": "pw"})
        self.assertEqual(codes(other_client), [(6, 10007), (9, 10011)])  # bob joins the lobby
        self.assertEqual(codes(client), [(9, 10011)])  # alice hears of bob, once


class AuthTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob"))
        self.session, self.client = self.fx.login("alice")

    def test_own_token(self):
        token = self.fx.accounts.token_for(APP_KEY, "alice")
        send(self.session, 3, {"cmd": 3, "token": token})
        self.assertEqual(
            self.client.take(),
            [(4, {"code": 10009, "command": 4, "msg": "ok 鉴权成功!", "data": {"token": token}})],
        )

    def test_refused(self):
        for token in [self.fx.accounts.token_for(APP_KEY, "bob"), "校验码", None]:
            send(self.session, 3, {"cmd": 3, "token": token})
            [(command, body)] = self.client.take()
            self.assertEqual(
                (command, body["code"], body["msg"]), (4, 10010, "auth failed! 鉴权失败!")
            )
        self.assertEqual(self.client.closes, [])


class PrivateChatTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core()
        for name in ("alice", "bob", "carol"):
            self.fx.add_user(name)
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

    def test_from_is_the_sender(self):
        send(self.alice, 11, private("bob", "it was carol", **{"from": "carol"}))
        [(_, push)] = self.bob_client.take()
        self.assertEqual(push["data"]["from"], "alice")
        stored = self.successResultOf(self.fx.memory.private_history(APP_KEY, "alice", "bob"))
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
        send(self.alice, 11, private("nobody", "hello?", id="c-1"))  # refused by the hub
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
        # another sender may use the same client id
        send(self.bob, 11, private("alice", "mine", id="c7"))
        self.assertNotEqual(self.bob_client.take()[0][1]["data"]["id"], first[1]["data"]["id"])


class GroupTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core()
        for name in ("alice", "bob", "carol", "dave"):
            self.fx.add_user(name)
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")
        self.dave, self.dave_client = self.fx.login("dave")

    def join(self, session, gid, **extra):
        send(session, 7, dict({"cmd": 7, "groupId": gid}, **extra))

    def test_join_creates_group(self):
        self.fx.clock.advance(2)
        self.join(self.alice, "g1", name="Readers")
        group = self.successResultOf(self.fx.memory.get_group(APP_KEY, "g1"))
        self.assertEqual((group.owner, group.name, group.created), ("alice", "Readers", 2000))
        [(command, body)] = self.alice_client.take()
        self.assertEqual(
            (command, body),
            (9, {"code": 10011, "command": 9, "msg": "join group ok! 加入群组成功!", "group": "g1",
                 "user": {"userId": "alice", "nick": "alice", "avatar": "", "status": "online",
                          "terminal": "tcp"}}),
        )  # fmt: skip

    def test_join_notifies_online_members(self):
        self.join(self.alice, "g1")
        self.alice_client.take()
        self.join(self.bob, "g1", group_id="ignored")
        for client in (self.alice_client, self.bob_client):
            [(command, body)] = client.take()
            self.assertEqual((command, body["group"], body["user"]["userId"]), (9, "g1", "bob"))
        self.assertEqual(self.dave_client.sent, [])
        group = self.successResultOf(self.fx.memory.get_group(APP_KEY, "g1"))
        self.assertEqual(group.owner, "alice")

    def test_join_again(self):
        self.join(self.alice, "g1")
        self.join(self.bob, "g1")
        self.alice_client.take()
        self.bob_client.take()
        self.join(self.bob, "g1")
        self.assertEqual(codes(self.bob_client), [(9, 10011)])
        self.assertEqual(self.alice_client.sent, [])
        members = self.successResultOf(self.fx.memory.group_members(APP_KEY, "g1"))
        self.assertEqual(members, ["alice", "bob"])

    def test_join_2x_spelling(self):
        send(self.alice, 7, {"group_id": "g2"})
        self.assertEqual(codes(self.alice_client), [(9, 10011)])

    def test_join_without_group(self):
        send(self.alice, 7, {"name": "x"})
        [(command, body)] = self.alice_client.take()
        self.assertEqual((command, body["code"], body["command"]), (8, 10012, 8))

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

    def test_group_chat_2x_spelling(self):
        self.fx.add_group("g", "alice", "bob")
        send(self.alice, 11, {"chatType": "1", "group_id": "g", "content": "x"})
        self.assertEqual(codes(self.alice_client), [(11, None), (12, 10000)])

    def test_non_member(self):
        self.fx.add_group("g", "alice", "bob")
        send(self.dave, 11, group("g", "let me in"))
        self.assertEqual(codes(self.dave_client), [(12, 10002)])
        self.assertEqual(self.alice_client.sent, [])
        send(self.dave, 11, group("nosuchgroup", "anyone?"))
        self.assertEqual(codes(self.dave_client), [(12, 10002)])

    def test_repeated_client_id(self):
        self.fx.add_group("g", "alice", "bob")
        send(self.alice, 11, group("g", "once", id="x1"))
        send(self.alice, 11, group("g", "once", id="x1"))
        self.assertEqual(codes(self.alice_client), [(11, None), (12, 10000), (12, 10000)])
        self.assertEqual(codes(self.bob_client), [(11, None)])

    def test_last_connection_leaving(self):
        self.fx.add_group("g", "alice", "carol")
        carol, carol_client = self.fx.login("carol")
        carol2, carol2_client = self.fx.login("carol")
        self.alice_client.take()
        carol.connection_lost()
        self.assertEqual(self.alice_client.sent, [])
        carol2.connection_lost()
        self.assertEqual(
            self.alice_client.take(),
            [(10, {"command": 10,
                   "data": {"group": "g",
                            "user": {"userId": "carol", "nick": "carol", "avatar": "",
                                     "status": "offline", "terminal": "tcp"}}})],
        )  # fmt: skip
        self.assertEqual(self.dave_client.sent, [])
        self.assertEqual(carol2_client.sent, [])

    def test_login_announces(self):
        self.fx.add_group("g", "alice", "carol")
        carol, carol_client = self.fx.connect()
        send(carol, 5, {"userId": "carol", "password": "secret"})
        self.assertEqual(codes(carol_client), [(6, 10007), (9, 10011)])
        [(command, body)] = self.alice_client.take()
        self.assertEqual((command, body["group"], body["user"]["userId"]), (9, "g", "carol"))
        self.fx.login("carol")  # a second connection is no news
        self.assertEqual(self.alice_client.sent, [])


class CloseTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.alice2, self.alice2_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")

    def test_this_connection(self):
        send(self.alice, 14, {"cmd": 14})
        self.assertEqual(
            self.alice_client.take(),
            [(14, {"code": 10021, "command": 14, "msg": "close ok! 关闭成功"})],
        )
        self.assertEqual(len(self.alice_client.closes), 1)
        self.assertEqual(self.alice2_client.closes, [])

    def test_own_user(self):
        send(self.alice, 14, {"userId": "alice"})
        self.assertEqual(codes(self.alice_client), [(14, 10021)])
        self.assertEqual(len(self.alice_client.closes), 1)
        self.assertEqual(len(self.alice2_client.closes), 1)
        self.assertEqual(self.bob_client.closes, [])

    def test_other_user(self):
        send(self.alice, 14, {"userId": "bob"})
        [(command, body)] = self.alice_client.take()
        self.assertEqual(
            (command, body["code"], body["msg"]), (14, 10020, "Invalid verification! 不合法校验")
        )
        for client in (self.alice_client, self.alice2_client, self.bob_client):
            self.assertEqual(client.closes, [])

    def test_bad_json(self):
        self.alice.frame_received(14, b"{")
        self.assertEqual(codes(self.alice_client), [(14, 10020)])
        self.assertEqual(self.alice_client.closes, [])


class GetUserTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core()
        for name in ("alice", "bob", "carol"):
            self.fx.add_user(name, nickname=name.title())
        self.fx.add_group("g", "alice", "bob", "carol")
        self.fx.add_group("h", "alice")
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")
        self.alice_client.take()

    def get(self, **body):
        send(self.alice, 17, dict({"cmd": 17}, **body))
        [(command, reply)] = self.alice_client.take()
        self.assertEqual(command, 18)
        return reply

    def members(self, reply):
        return {
            g["groupId"]: [(u["userId"], u["status"]) for u in g["users"]]
            for g in reply["data"]["groups"]
        }

    def test_online(self):
        reply = self.get(type="0", userId="alice")
        self.assertEqual(
            (reply["code"], reply["msg"]), (10005, "ok 获取所有在线用户信息成功!")
        )
        self.assertEqual(
            self.members(reply),
            {"g": [("alice", "online"), ("bob", "online")], "h": [("alice", "online")]},
        )
        data = reply["data"]
        self.assertEqual(
            (data["userId"], data["nick"], data["status"]), ("alice", "Alice", "online")
        )
        self.assertEqual(data["friends"], [])
        self.assertEqual([g["online"] for g in data["groups"]], [2, 1])
        self.assertEqual(data["groups"][0]["name"], "g")

    def test_offline(self):
        reply = self.get(type=1)
        self.assertEqual(reply["code"], 10006)
        self.assertEqual(self.members(reply), {"g": [("carol", "offline")], "h": []})

    def test_all(self):
        reply = self.get(type=2)
        self.assertEqual(reply["code"], 10003)
        self.assertEqual(
            self.members(reply),
            {"g": [("alice", "online"), ("bob", "online"), ("carol", "offline")],
             "h": [("alice", "online")]},
        )  # fmt: skip
        self.assertEqual(self.get()["code"], 10003)  # type defaults to all

    def test_other_user(self):
        reply = self.get(type=0, userId="bob")
        self.assertEqual(
            reply,
            {"code": 10003, "command": 18, "msg": "ok 获取用户信息成功!",
             "data": {"userId": "bob", "nick": "Bob", "avatar": "", "status": "online"}},
        )  # fmt: skip
        self.assertEqual(self.get(type=0, userid="carol")["data"]["status"], "offline")

    def test_unknown_user(self):
        reply = self.get(type=0, userId="nobody")
        self.assertEqual(
            (reply["code"], reply["msg"]), (10004, "get user failed ! 获取用户信息失败!")
        )

    def test_bad_type(self):
        self.assertEqual(self.get(type=3)["code"], 10004)


class GetMessagesTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core()
        for name in ("alice", "bob", "carol"):
            self.fx.add_user(name)
        self.fx.add_group("g", "alice", "bob")
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")
        self.carol, self.carol_client = self.fx.login("carol")
        for sender, body in [
            (self.alice, private("bob", "a1")),
            (self.bob, private("alice", "b1")),
            (self.carol, private("alice", "c1")),
            (self.alice, group("g", "g1")),
            (self.bob, group("g", "g2")),
        ]:
            self.fx.clock.advance(1)
            send(sender, 11, body)
        for client in (self.alice_client, self.bob_client, self.carol_client):
            client.take()

    def history(self, session, client, **body):
        send(session, 19, dict({"cmd": 19, "type": "1"}, **body))
        [(command, reply)] = client.take()
        self.assertEqual(command, 20)
        return reply

    def test_peer(self):
        reply = self.history(self.alice, self.alice_client, fromUserId="bob", userId="alice")
        self.assertEqual(
            (reply["code"], reply["msg"]), (10018, "get user message ok! 获取历史消息成功!")
        )
        self.assertEqual(list(reply["data"]["friends"]), ["bob"])
        self.assertEqual(
            [(m["from"], m["content"]) for m in reply["data"]["friends"]["bob"]],
            [("alice", "a1"), ("bob", "b1")],
        )
        self.assertEqual(reply["data"]["groups"], {})
        self.assertEqual(reply["data"]["userId"], "alice")

    def test_peer_paging(self):
        reply = self.history(self.alice, self.alice_client, fromUserId="bob", count="1")
        self.assertEqual([m["content"] for m in reply["data"]["friends"]["bob"]], ["b1"])
        reply = self.history(
            self.alice, self.alice_client, fromUserId="bob", beginTime=0, endTime=1000.0
        )
        self.assertEqual([m["content"] for m in reply["data"]["friends"]["bob"]], ["a1"])

    def test_group(self):
        reply = self.history(self.bob, self.bob_client, groupId="g")
        self.assertEqual(reply["code"], 10018)
        self.assertEqual([m["content"] for m in reply["data"]["groups"]["g"]], ["g1", "g2"])
        self.assertEqual(reply["data"]["friends"], {})

    def test_group_non_member(self):
        reply = self.history(self.carol, self.carol_client, groupId="g")
        self.assertEqual(
            (reply["code"], reply["msg"]), (10015, "get user message failed! 获取用户消息失败!")
        )
        self.assertNotIn("data", reply)

    def test_other_users_messages(self):
        reply = self.history(self.carol, self.carol_client, userId="alice", fromUserId="bob")
        self.assertEqual(reply["code"], 10015)
        send(self.carol, 19, {"type": 0, "userId": "alice"})
        self.assertEqual(codes(self.carol_client), [(20, 10015)])

    def test_history_needs_a_peer_or_group(self):
        self.assertEqual(self.history(self.alice, self.alice_client)["code"], 10015)

    def test_bad_requests(self):
        for body in [{}, {"type": 2}, {"type": 1, "offset": -1}]:
            send(self.alice, 19, body)
            self.assertEqual(codes(self.alice_client), [(20, 10015)])


class AutoJoinFullGroupTests(SynchronousTestCase):
    def test_a_full_auto_join_group_does_not_refuse_the_login(self):
        fx = make_core(auto_join=("lobby",), limits=Limits(group_size=1), users=("alice", "bob"))
        fx.login("alice")
        bob, bob_client = fx.connect()
        send(bob, 5, {"cmd": 5, "userId": "bob", "password": "secret"})
        self.assertEqual(codes(bob_client), [(6, 10007)])
        self.assertEqual(bob_client.closes, [])
        self.assertTrue(fx.hub.is_online(APP_KEY, "bob"))


class RefusalNamingTests(SynchronousTestCase):
    """A chat's refusal carries its own client id and no other command's reply does."""

    def setUp(self):
        from jim.store.memory import MemoryStore
        from tests.support.fakes import HoldingStore

        self.store = HoldingStore(MemoryStore(), "group_members", "add_message")
        self.fx = make_core(store=self.store, users=("alice", "bob", "carol", "xavier"))
        self.fx.add_group("g", "xavier")  # its only member is offline: members not loaded yet
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")
        self.carol, self.carol_client = self.fx.login("carol")

    def fail_pending(self, error):
        [(_, d, _, _)] = self.store.pending
        self.store.pending = []
        d.errback(error)

    def test_one_failure_answering_several_callers_names_each_by_its_own_id(self):
        from jim.errors import JimError

        send(self.bob, 11, group("g", "no id"))  # loads the members...
        # ...which these wait for, answered in this order before bob: naming alice's refusal
        # must not name the others'
        send(self.alice, 11, group("g", "with an id", id="a-1"))
        send(self.carol, 7, {"cmd": 7, "groupId": "g"})
        self.fail_pending(JimError(10002, "the store could not answer this read", 500))
        [(_, bob_reply)] = self.bob_client.take()
        [(_, alice_reply)] = self.alice_client.take()
        [(command, carol_reply)] = self.carol_client.take()
        self.assertEqual((alice_reply["code"], alice_reply["data"]), (10002, {"clientId": "a-1"}))
        self.assertEqual((bob_reply["code"], bob_reply.get("data")), (10002, None))
        self.assertEqual((command, carol_reply["code"], carol_reply.get("data")), (8, 10002, None))

    def test_a_failure_of_jims_own_still_names_the_chat(self):
        send(self.alice, 11, private("bob", "x", id="c-7"))
        self.fail_pending(RuntimeError("a bug"))
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        [(command, reply)] = self.alice_client.take()
        self.assertEqual((command, reply["code"], reply["detail"]), (12, 10002, "internal error"))
        self.assertEqual(reply["data"], {"clientId": "c-7"})
        self.assertEqual(self.fx.metrics.bad_input, 0)  # jim's fault, not the client's
