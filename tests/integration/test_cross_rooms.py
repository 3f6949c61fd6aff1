"""Cross-app chat rooms: another app's users brought into a room (``/v1/cross/chatroom``) get
its messages live and send to it by ``<appKey>:<room id>``, from J-IM sockets and REST; every
refusal when the apps do not allow each other changes nothing."""
from tests.integration.test_cross_apps import ALPHA, BETA, GAMMA, CrossCase
from tests.support.rest import text_message


class CrossRoomTests(CrossCase):
    async def room(self, rest, owner, members=()):
        made = await rest.post("/v1/chatroom/", {"owner_username": owner, "name": "hall",
                                                 "members_username": list(members)})
        return self.assertJson(made, 201)["chatroom_id"]

    def room_frame(self, room, content):
        return {"cmd": 11, "chatType": 3, "roomId": room, "content": content}

    async def test_each_apps_report_names_the_room_of_its_copy(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        room = await self.room(alpha, "alice", members=("aadmin",))
        path = f"/v1/cross/chatroom/{room}/members"
        self.assertEmpty(await alpha.post(path, [{"appkey": BETA, "usernames": ["bobby"]}]))
        await alpha.send("aadmin", room, "reported", target_type="chatroom")
        await self.assert_reported_in(jim, (alpha, beta), "chatroom", room, "hall")
        # once alpha no longer lists beta, beta keeps its copy but no longer sees the name
        await self.allow(admin, ALPHA, [])
        await self.assert_reported_in(jim, (alpha,), "chatroom", room, "hall")
        await self.assert_reported_in(jim, (beta,), "chatroom", room, "")

    async def test_a_member_of_another_app_that_allows_it_is_silenced_and_freed(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        room = await self.room(alpha, "alice")
        path = f"/v1/cross/chatroom/{room}/members"
        self.assertEmpty(await alpha.post(path, [{"appkey": BETA, "usernames": ["bobby"]}]))
        forbidden = f"/v1/chatroom/{room}/forbidden/{BETA}%3Abobby?status="

        async def flags():
            listed = self.assertJson(await alpha.get(f"/v1/chatroom/{room}/members"
                                                     "?start=0&count=10"))
            return {u["username"]: u["flag"] for u in listed["users"]}
        self.assertEmpty(await alpha.put(forbidden + "1"))
        self.assertEqual(await flags(), {"alice": 0, f"{BETA}:bobby": 1})
        self.assertEmpty(await alpha.put(forbidden + "0"))
        self.assertEqual(await flags(), {"alice": 0, f"{BETA}:bobby": 0})

    async def test_members_of_another_app_chat_in_a_room_live(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        room = await self.room(alpha, "alice")
        qualified = f"{ALPHA}:{room}"
        path = f"/v1/cross/chatroom/{room}/members"
        self.assertEmpty(await alpha.post(path, [{"appkey": BETA, "usernames": ["bobby"]}]))
        members = self.assertJson(await alpha.get(f"/v1/chatroom/{room}/members?start=0&count=10"))
        self.assertEqual([u["username"] for u in members["users"]], ["alice",
                                                                     f"{BETA}:bobby"])
        alice = await self.login(jim, ALPHA, "alice")
        bobby = [await self.login(jim, BETA, "bobby"), await self.login(jim, BETA, "bobby",
                                                                        ws=True)]
        bella = await self.login(jim, BETA, "bella")
        ack = await alice.request(11, self.room_frame(room, "hi hall"), 12)
        self.assertEqual(ack["code"], 10000, ack)
        self.assertEqual((await self.chat(alice))["roomId"], room)
        for client in bobby:
            chat = await self.chat(client)
            self.assertEqual((chat["from"], chat["roomId"], chat["content"]),
                             (f"{ALPHA}:alice", qualified, "hi hall"))
        # the other app's member answers by the room's qualified name
        ack = await bobby[0].request(11, self.room_frame(qualified, "hi from beta"), 12)
        self.assertEqual(ack["code"], 10000, ack)
        chat = await self.chat(alice)
        self.assertEqual((chat["from"], chat["roomId"], chat["content"]),
                         (f"{BETA}:bobby", room, "hi from beta"))
        for client in bobby:
            self.assertEqual((await self.chat(client))["from"], "bobby")
        # the app server of the member's app sends in a member admin's name
        self.assertEmpty(await alpha.post(path, [{"appkey": BETA, "usernames": ["badmin"]}]))
        await beta.send("badmin", str(room), "from beta's server", target_type="chatroom",
                        target_appkey=ALPHA)
        self.assertEqual((await self.chat(alice))["content"], "from beta's server")
        # no member, no message: bella is in no room of alpha's
        ack = await bella.request(11, self.room_frame(qualified, "let me in"), 12)
        self.assertEqual(ack["code"], 10002, ack)
        self.assertError(await beta.post("/v1/messages", text_message(
            "badmin", "10999999", "x", target_type="chatroom", target_appkey=ALPHA)), 403, 899081)
        # a message of a room with members of other apps is not retracted
        sent = await alpha.send("aadmin", room, "kept", target_type="chatroom")
        self.assertError(await alpha.post(f"/v1/messages/aadmin/{sent['msg_id']}/retract"),
                         403, 899021)
        # taken out, it gets nothing more
        self.assertEmpty(await alpha.delete(path, [{"appkey": BETA, "usernames": ["bobby"]}]))
        self.assertEqual((await self.chat(alice))["content"], "kept")
        ack = await alice.request(11, self.room_frame(room, "after"), 12)
        self.assertEqual((await self.chat(alice))["content"], "after")
        ack = await bobby[0].request(11, self.room_frame(qualified, "no more"), 12)
        self.assertEqual(ack["code"], 10002, ack)
        for client in bobby:
            self.assertEqual([c["content"] for c in await self.chats_so_far(client)],
                             ["from beta's server", "kept"])

    async def chats_so_far(self, client):
        """The chats (cmd 11) pushed to C{client} that nobody read yet."""
        await self.fetch(client, "bobby", 1, fromUserId="nobody")  # a round trip: every push
        found = [obj["data"] for cmd, obj in client.inbox.frames if cmd == 11]  # came before
        client.inbox.frames[:] = [f for f in client.inbox.frames if f[0] != 11]
        return found

    async def test_refusals_change_nothing(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        room = await self.room(alpha, "alice")
        path = f"/v1/cross/chatroom/{room}/members"
        for body, status, code in (
                ([{"appkey": GAMMA, "usernames": ["gus1"]}], 403, 899020),
                ([{"appkey": BETA, "usernames": ["bobby"]},
                  {"appkey": GAMMA, "usernames": ["gus1"]}], 403, 899020),
                ([{"appkey": BETA, "usernames": ["ghost"]}], 403, 851002),
                ([{"appkey": BETA}], 400, 899003),
                ({"appkey": BETA, "usernames": ["bobby"]}, 400, 899003)):
            self.assertError(await alpha.post(path, body), status, code)
        self.assertError(await alpha.post("/v1/cross/chatroom/10999999/members",
                                          [{"appkey": BETA, "usernames": ["bobby"]}]),
                         403, 851004)
        members = self.assertJson(await alpha.get(f"/v1/chatroom/{room}/members?start=0&count=10"))
        self.assertEqual([u["username"] for u in members["users"]], ["alice"])
        # a permission taken back: the member of the other app neither gets nor sends
        self.assertEmpty(await alpha.post(path, [{"appkey": BETA, "usernames": ["bobby"]}]))
        await self.allow(admin, BETA, [])
        bobby = await self.login(jim, BETA, "bobby")
        ack = await bobby.request(11, self.room_frame(f"{ALPHA}:{room}", "x"), 12)
        self.assertEqual(ack["code"], 10002, ack)
        alice = await self.login(jim, ALPHA, "alice")
        ack = await alice.request(11, self.room_frame(room, "alpha only"), 12)
        self.assertEqual(ack["code"], 10000, ack)
        self.assertEqual((await self.chat(alice))["content"], "alpha only")
        self.assertEqual(await self.chats_so_far(bobby), [])
        # nor may alpha silence it, but it may let it speak again
        forbidden = f"/v1/chatroom/{room}/forbidden/{BETA}%3Abobby?status="
        self.assertError(await alpha.put(forbidden + "1"), 403, 899020)
        self.assertEmpty(await alpha.put(forbidden + "0"))
        # and alpha may still take it out
        self.assertEmpty(await alpha.delete(path, [{"appkey": BETA, "usernames": ["bobby"]}]))

    async def members(self, rest, room):
        """C{[(username, flag)]} of a room's members (flag 1: silenced)."""
        members = self.assertJson(await rest.get(f"/v1/chatroom/{room}/members?start=0&count=10"))
        return [(u["username"], u["flag"]) for u in members["users"]]

    async def test_a_deleted_user_leaves_the_rooms_of_other_apps_and_its_silence_goes(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        room = await self.room(alpha, "alice")
        path = f"/v1/cross/chatroom/{room}/members"
        self.assertEmpty(await alpha.post(path, [{"appkey": BETA, "usernames": ["bobby"]}]))
        self.assertEmpty(await alpha.put(f"/v1/chatroom/{room}/forbidden/{BETA}%3Abobby"
                                         "?status=1"))
        self.assertEqual(await self.members(alpha, room), [("alice", 0), (f"{BETA}:bobby", 1)])
        self.assertEmpty(await beta.delete("/v1/users/bobby"))
        self.assertEqual(await self.members(alpha, room), [("alice", 0)])
        # a user made later under the name is another: in no room, silenced nowhere
        await beta.register("bobby")
        self.assertEmpty(await alpha.post(path, [{"appkey": BETA, "usernames": ["bobby"]}]))
        self.assertEqual(await self.members(alpha, room), [("alice", 0), (f"{BETA}:bobby", 0)])

    async def test_a_deleted_apps_users_leave_the_rooms_of_other_apps(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        room = await self.room(alpha, "alice", ["anna"])
        other = await self.room(alpha, "anna")
        self.assertEmpty(await alpha.post(f"/v1/cross/chatroom/{room}/members",
                                          [{"appkey": BETA, "usernames": ["bobby", "bella"]}]))
        self.assertEmpty(await alpha.put(f"/v1/chatroom/{room}/forbidden/{BETA}%3Abella"
                                         "?status=1"))
        self.assertEmpty(await alpha.post(f"/v1/cross/chatroom/{other}/members",
                                          [{"appkey": BETA, "usernames": ["bella"]}]))
        alice = await self.login(jim, ALPHA, "alice")
        bobby = await self.login(jim, BETA, "bobby")
        ack = await bobby.request(11, self.room_frame(f"{ALPHA}:{room}", "before"), 12)
        self.assertEqual(ack["code"], 10000, ack)
        self.assertEqual((await self.chat(alice))["content"], "before")  # the room's members
        self.assertEmpty(await admin.delete(f"/admin/v1/apps/{BETA}"))  # are in memory now
        for room_id, left in ((room, ["alice", "anna"]), (other, ["anna"])):
            members = self.assertJson(await alpha.get(
                f"/v1/chatroom/{room_id}/members?start=0&count=10"))
            self.assertEqual([u["username"] for u in members["users"]], left)
        # an app made again under the key is in no room of alpha's: its users send nothing
        again = await admin.create(name="Beta again", appKey=BETA, cross_apps=[ALPHA])
        await again.register("bobby")
        bobby = await self.login(jim, BETA, "bobby")
        ack = await bobby.request(11, self.room_frame(f"{ALPHA}:{room}", "still in?"), 12)
        self.assertEqual(ack["code"], 10002, ack)
        ack = await alice.request(11, self.room_frame(room, "alpha's own"), 12)
        self.assertEqual(ack["code"], 10000, ack)
        self.assertEqual((await self.chat(alice))["content"], "alpha's own")
        self.assertEqual(await self.chats_so_far(bobby), [])
        # nor is the silence of the deleted app's bella kept for the new app's
        await again.register("bella")
        self.assertEmpty(await alpha.post(f"/v1/cross/chatroom/{room}/members",
                                          [{"appkey": BETA, "usernames": ["bella"]}]))
        self.assertEqual(await self.members(alpha, room),
                         [("alice", 0), ("anna", 0), (f"{BETA}:bella", 0)])
