"""The J-IM commands through sessions and recording clients: login, auth, close, get user and
get messages, with the exact replies J-IM clients expect (chat and join:
tests/test_protocols_jim_commands_chat.py)."""
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
        self.alice = self.fx.add_user("alice", "pw", nickname="Alice")

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
        claim = self.fx.tokens.check(token, self.fx.clock.seconds())
        self.assertEqual(claim[:2], (APP_KEY, "alice"))
        self.assertTrue(self.fx.core.presence.is_online(APP_KEY, "alice"))
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
        token = self.fx.accounts.token_for(self.alice)
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
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
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
        self.assertEqual(codes(client), [(6, 10007), (9, 10011), (100, None)])
        lobby = self.successResultOf(fx.memory.groups.group_by_alias(APP_KEY, "lobby"))
        members = self.successResultOf(fx.memory.groups.members(APP_KEY, lobby.gid))
        self.assertEqual([m.username for m in members], ["alice"])
        # the next login announces alice to the lobby once, not once more for the auto-join
        session, client = fx.connect()
        send(session, 5, {"userId": "alice", "password": "pw"})
        self.assertEqual(codes(client), [(6, 10007)])
        other, other_client = fx.connect()
        fx.add_user("bob", "pw")
        send(other, 5, {"userId": "bob", "password": "pw"})
        # bob joins the lobby; alice hears of it once
        self.assertEqual(codes(other_client), [(6, 10007), (9, 10011), (100, None)])
        self.assertEqual(codes(client), [(9, 10011), (100, None)])

    def test_a_full_auto_join_group_does_not_refuse_the_login(self):
        fx = make_core(auto_join=("lobby",), limits=Limits(group_size=1), users=("alice", "bob"))
        fx.login("alice")
        bob, bob_client = fx.connect()
        send(bob, 5, {"cmd": 5, "userId": "bob", "password": "secret"})
        self.assertEqual(codes(bob_client), [(6, 10007)])
        self.assertEqual(bob_client.closes, [])
        self.assertTrue(fx.core.presence.is_online(APP_KEY, "bob"))


class AuthTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob"))
        self.session, self.client = self.fx.login("alice")

    def token_for(self, username):
        user = self.successResultOf(self.fx.memory.users.get_user(APP_KEY, username))
        return self.fx.accounts.token_for(user)

    def test_own_token(self):
        token = self.token_for("alice")
        send(self.session, 3, {"cmd": 3, "token": token})
        self.assertEqual(
            self.client.take(),
            [(4, {"code": 10009, "command": 4, "msg": "ok 鉴权成功!", "data": {"token": token}})],
        )

    def test_refused(self):
        for token in [self.token_for("bob"), "校验码", None]:
            send(self.session, 3, {"cmd": 3, "token": token})
            [(command, body)] = self.client.take()
            self.assertEqual(
                (command, body["code"], body["msg"]), (4, 10010, "auth failed! 鉴权失败!")
            )
        self.assertEqual(self.client.closes, [])


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
