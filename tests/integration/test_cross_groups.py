"""Cross-app groups and retraction over every front end: another app's users made members of
a group (``/v1/cross/groups``), chatting in it from REST and from J-IM sockets both ways, live
and offline and in history, told of the group's events in their own app; every refusal when
the apps do not allow each other, which changes and shows nothing; and the retraction of a
cross-app message, private or group, in every app that keeps a copy of it."""
from tests.integration.test_cross_apps import ALPHA, BETA, GAMMA, CrossCase
from tests.support.rest import text_message


class CrossGroupCase(CrossCase):
    async def cross_group(self, alpha, members=("anna",), foreign=("bobby",)):
        """A group of alpha's alice with alpha's C{members} and beta's C{foreign} users."""
        gid = await alpha.group("alice", list(members))
        if foreign:
            self.assertEmpty(await alpha.post(f"/v1/cross/groups/{gid}/members",
                                              [{"appkey": BETA, "add": list(foreign)}]))
        return gid

    def group_frame(self, group_id, content, **fields):
        return {"cmd": 11, "chatType": 1, "groupId": group_id, "content": content, **fields}


class CrossGroupNoDisturbTests(CrossGroupCase):
    async def test_a_member_sets_no_disturb_for_another_apps_group(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha, foreign=("bobby",))
        path = "/v1/cross/users/bobby/nodisturb"
        self.assertEmpty(await beta.post(path, [{"appkey": ALPHA, "group": {"add": [gid]}}]))
        self.assertError(await beta.post(path, [{"appkey": ALPHA, "group": {"add": [gid]}}]),
                         403, 899047)
        self.assertEmpty(await beta.post(path, [{"appkey": ALPHA, "group": {"remove": [gid]}}]))
        self.assertError(await beta.post(path, [{"appkey": ALPHA, "group": {"remove": [gid]}}]),
                         403, 899049)

    async def test_another_apps_group_takes_membership_and_permission(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha, foreign=("bobby",))
        path = "/v1/cross/users/bella/nodisturb"
        # bella is no member of it; there is no such group; gamma's users may not chat with
        # alpha's, and learn nothing of its groups
        self.assertError(await beta.post(path, [{"appkey": ALPHA, "group": {"add": [gid]}}]),
                         403, 899046)
        self.assertError(await beta.post(path, [{"appkey": ALPHA,
                                                 "group": {"add": [gid + 1000]}}]), 403, 899045)
        for number in (gid, gid + 1000):  # whether the group exists or not: nothing shows
            self.assertError(await gamma.post("/v1/cross/users/gus1/nodisturb", [
                {"appkey": ALPHA, "group": {"add": [number]}}]), 403, 899020)


class CrossGroupMemberTests(CrossGroupCase):
    async def test_members_of_another_app_are_listed_with_their_appkey(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        self.assertEmpty(await beta.put("/v1/users/bobby", {"nickname": "Bob"}))
        gid = await self.cross_group(alpha, foreign=("bobby", "bella"))
        listed = self.assertJson(await alpha.get(f"/v1/cross/groups/{gid}/members/"))
        self.assertEqual([(m["username"], m["appkey"], m["flag"]) for m in listed],
                         [("alice", ALPHA, 1), ("anna", ALPHA, 0), ("bobby", BETA, 0),
                          ("bella", BETA, 0)])
        self.assertEqual(listed[2]["nickname"], "Bob", "a profile of an app that allows this one")
        # the in-app list names them as the group's app keeps them
        inapp = self.assertJson(await alpha.get(f"/v1/groups/{gid}/members"))
        self.assertEqual([m["username"] for m in inapp][2:], [f"{BETA}:bobby", f"{BETA}:bella"])
        # a member of another app lists the group among its groups, with its appkey
        groups = self.assertJson(await beta.get("/v1/cross/users/bobby/groups"))
        self.assertEqual([(g["gid"], g["appkey"], g["max_member_count"]) for g in groups],
                         [(gid, ALPHA, 500)])
        mine = await beta.group("bobby", [])
        groups = self.assertJson(await beta.get("/v1/cross/users/bobby/groups"))
        self.assertEqual([(g["gid"], g["appkey"]) for g in groups], [(mine, BETA), (gid, ALPHA)])
        # removal, then the lists again
        self.assertEmpty(await alpha.post(f"/v1/cross/groups/{gid}/members",
                                          [{"appkey": BETA, "remove": ["bella"]},
                                           {"appkey": ALPHA, "add": ["aadmin"]}]))
        listed = self.assertJson(await alpha.get(f"/v1/cross/groups/{gid}/members"))
        self.assertEqual([(m["username"], m["appkey"]) for m in listed],
                         [("alice", ALPHA), ("anna", ALPHA), ("bobby", BETA),
                          ("aadmin", ALPHA)])
        self.assertEqual(self.assertJson(await beta.get("/v1/cross/users/bella/groups")), [])

    async def test_refusals_change_nothing(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha)
        path = f"/v1/cross/groups/{gid}/members"
        before = self.assertJson(await alpha.get(path))
        for body, status, code in (
                ([{"appkey": GAMMA, "add": ["gus1"]}], 403, 899020),
                ([{"appkey": "NoSuchApp000000000000000", "add": ["x1234"]}], 403, 899020),
                ([{"appkey": BETA, "add": ["ghost"]}], 400, 899002),
                ([{"appkey": BETA, "add": ["bella"]}, {"appkey": GAMMA, "add": ["gus1"]}],
                 403, 899020),
                ([{"appkey": BETA, "add": ["bobby"]}], 403, 899011),
                ([{"appkey": BETA, "remove": ["bella"]}], 403, 899014),
                ([{"appkey": BETA}], 400, 899003),
                ([{"add": ["bobby"]}], 400, 899003),
                ({"appkey": BETA, "add": ["bella"]}, 400, 899003),
                ([{"appkey": BETA, "add": [f"{ALPHA}:alice"]}], 400, 899002)):
            self.assertError(await alpha.post(path, body), status, code)
        self.assertError(await alpha.post("/v1/cross/groups/10999999/members",
                                          [{"appkey": BETA, "add": ["bella"]}]), 403, 899006)
        self.assertEqual(self.assertJson(await alpha.get(path)), before)
        self.assertEqual(self.assertJson(await beta.get("/v1/cross/users/bella/groups")), [])
        self.assertError(await beta.get("/v1/cross/users/ghost/groups"), 403, 899002)

    async def test_a_permission_taken_back_hides_the_group_and_its_profiles(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        self.assertEmpty(await beta.put("/v1/users/bobby", {"nickname": "Bob"}))
        gid = await self.cross_group(alpha)
        await self.allow(admin, BETA, [])
        # beta's users see alpha's group no more, and alpha sees no profile of beta's users
        self.assertEqual(self.assertJson(await beta.get("/v1/cross/users/bobby/groups")), [])
        listed = self.assertJson(await alpha.get(f"/v1/cross/groups/{gid}/members"))
        self.assertEqual(listed[-1], {"username": "bobby", "appkey": BETA, "flag": 0})
        self.assertError(await alpha.post(f"/v1/cross/groups/{gid}/members",
                                          [{"appkey": BETA, "add": ["bella"]}]), 403, 899020)
        # nor messages: sends are refused, and alpha's messages are kept in alpha only
        self.assertError(await beta.post("/v1/messages", text_message(
            "badmin", str(gid), "no", target_type="group", target_appkey=ALPHA)), 403, 899020)
        await alpha.send("aadmin", gid, "alpha only", target_type="group")
        bobby = await self.login(jim, BETA, "bobby")
        self.assertEqual(await self.fetch(bobby, "bobby"), {})
        # nor anything else that names them, but letting them speak again
        silence = f"/v1/groups/messages/{gid}/silence?status="
        self.assertError(await alpha.put(silence + "true", [f"{BETA}:bobby"]), 403, 899020)
        self.assertEmpty(await alpha.put(silence + "false", [f"{BETA}:bobby"]))
        # alpha may still clear what it keeps
        self.assertEmpty(await alpha.post(f"/v1/cross/groups/{gid}/members",
                                          [{"appkey": BETA, "remove": ["bobby"]}]))
        self.assertEqual(len(self.assertJson(await alpha.get(f"/v1/groups/{gid}/members"))), 2)

    async def test_a_member_of_another_app_that_allows_it_is_silenced_and_freed(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha)
        silence = f"/v1/groups/messages/{gid}/silence?status="

        async def silenced():
            listed = self.assertJson(await alpha.get(f"/v1/cross/groups/{gid}/members"))
            return [m["username"] for m in listed if m.get("silenced")]
        self.assertEmpty(await alpha.put(silence + "true", [f"{BETA}:bobby"]))
        self.assertEqual(await silenced(), ["bobby"])
        self.assertEmpty(await alpha.put(silence + "false", [f"{BETA}:bobby"]))
        self.assertEqual(await silenced(), [])

    async def test_a_member_of_another_app_is_never_made_the_owner(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha)
        for body in ({"username": f"{BETA}:bobby"}, {"username": "bobby", "appkey": BETA}):
            self.assertError(await alpha.put(f"/v1/groups/owner/{gid}", body), 403, 899021)
        group = self.assertJson(await alpha.get(f"/v1/groups/{gid}"))
        self.assertEqual(group["owner_username"], "alice")

    async def test_a_member_of_another_app_counts_against_the_limits(self):
        jim, admin, alpha, beta, gamma = await self.apps(group_size=3, user_groups=2)
        gid = await alpha.group("alice", ["anna"])
        path = f"/v1/cross/groups/{gid}/members"
        self.assertError(await alpha.post(path, [{"appkey": BETA, "add": ["bobby", "bella"]}]),
                         403, 899012)
        self.assertEmpty(await alpha.post(path, [{"appkey": BETA, "add": ["bobby"]}]))
        self.assertError(await alpha.post(path, [{"appkey": BETA, "add": ["bella"]}]), 403,
                         899012)
        # bobby's groups: one of alpha's, one of its own app's; a third is past its quota
        await beta.group("bobby", [])
        other = await alpha.group("alice", [])
        self.assertError(await alpha.post(f"/v1/cross/groups/{other}/members",
                                          [{"appkey": BETA, "add": ["bobby"]}]), 403, 899015)
        self.assertEqual(len(self.assertJson(await alpha.get(path))), 3)


class CrossGroupChatTests(CrossGroupCase):
    async def test_messages_reach_members_of_both_apps_live(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha)
        qualified = f"{ALPHA}:{gid}"
        alice = await self.login(jim, ALPHA, "alice")
        bobby = [await self.login(jim, BETA, "bobby"), await self.login(jim, BETA, "bobby",
                                                                        ws=True)]
        await alpha.send("aadmin", gid, "from alpha's server", target_type="group")
        self.assertEqual(((await self.chat(alice))["groupId"]), str(gid))
        for client in bobby:
            chat = await self.chat(client)
            self.assertEqual((chat["from"], chat["groupId"], chat["content"]),
                             (f"{ALPHA}:aadmin", qualified, "from alpha's server"))
        # a socket of the other app sends to the group by its qualified name
        ack = await bobby[0].request(11, self.group_frame(qualified, "hi from beta"), 12)
        self.assertEqual(ack["code"], 10000, ack)
        chat = await self.chat(alice)
        self.assertEqual((chat["from"], chat["groupId"], chat["content"]),
                         (f"{BETA}:bobby", str(gid), "hi from beta"))
        for client in bobby:
            chat = await self.chat(client)
            self.assertEqual((chat["from"], chat["groupId"]), ("bobby", qualified))
        # a native member's socket reaches the other app's member
        ack = await alice.request(11, self.group_frame(str(gid), "hi from alpha"), 12)
        self.assertEqual(ack["code"], 10000, ack)
        self.assertEqual((await self.chat(alice))["content"], "hi from alpha")
        for client in bobby:
            chat = await self.chat(client)
            self.assertEqual((chat["from"], chat["content"]), (f"{ALPHA}:alice",
                                                                "hi from alpha"))
        # the other app's server sends in its admin's name, a member
        self.assertEmpty(await alpha.post(f"/v1/cross/groups/{gid}/members",
                                          [{"appkey": BETA, "add": ["badmin"]}]))
        await self.event(alice, 10)  # members added
        sent = await beta.send("badmin", str(gid), "from beta's server", target_type="group",
                               target_appkey=ALPHA)
        self.assertIsInstance(sent["msg_id"], int)
        chat = await self.chat(alice)
        self.assertEqual((chat["from"], chat["content"]), (f"{BETA}:badmin",
                                                           "from beta's server"))
        # both sides' histories hold the whole conversation
        expected = ["from alpha's server", "hi from beta", "hi from alpha",
                    "from beta's server"]
        self.assertEqual(await self.fetch(alice, "alice", 1, groupId=str(gid)),
                         {str(gid): expected})
        self.assertEqual(await self.fetch(bobby[1], "bobby", 1, groupId=qualified),
                         {qualified: expected})

    async def test_each_apps_report_names_the_group_of_its_copy(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha)
        await alpha.send("aadmin", gid, "reported", target_type="group")
        await self.assert_reported_in(jim, (alpha, beta), "group", gid, "team")
        # once beta no longer lists alpha, beta keeps its copy but no longer sees the name
        await self.allow(admin, BETA, [])
        await self.assert_reported_in(jim, (alpha,), "group", gid, "team")
        await self.assert_reported_in(jim, (beta,), "group", gid, "")

    async def test_offline_members_of_the_other_app_get_it_at_their_next_login(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha)
        qualified = f"{ALPHA}:{gid}"
        await alpha.send("aadmin", gid, "one", target_type="group")
        alice = await self.login(jim, ALPHA, "alice")
        ack = await alice.request(11, self.group_frame(str(gid), "two"), 12)
        self.assertEqual(ack["code"], 10000)
        await alpha.send("aadmin", gid, "not kept", target_type="group", no_offline=True)
        bobby = await self.login(jim, BETA, "bobby", ws=True)
        self.assertEqual(await self.fetch(bobby, "bobby"), {qualified: ["one", "two"]})
        await bobby.disconnect()
        anna = await self.login(jim, ALPHA, "anna")
        self.assertEqual(await self.fetch(anna, "anna"), {str(gid): ["one", "two"]})
        bobby = await self.login(jim, BETA, "bobby")
        self.assertEqual(await self.fetch(bobby, "bobby"), {}, "fetched already")

    async def test_sends_the_group_refuses(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha)
        # bella is no member; a group that does not exist; gamma allows nobody
        self.assertEqual((await self.login(jim, BETA, "bella")).inbox.frames, [])
        bella = await self.login(jim, BETA, "bella")
        ack = await bella.request(11, self.group_frame(f"{ALPHA}:{gid}", "x"), 12)
        self.assertEqual(ack["code"], 10002, ack)
        self.assertError(await beta.post("/v1/messages", text_message(
            "badmin", str(gid), "x", target_type="group", target_appkey=ALPHA)), 403, 899014)
        self.assertError(await beta.post("/v1/messages", text_message(
            "badmin", "10999999", "x", target_type="group", target_appkey=ALPHA)), 403, 899006)
        gus = await self.login(jim, GAMMA, "gus1")
        ack = await gus.request(11, self.group_frame(f"{ALPHA}:{gid}", "x"), 12)
        self.assertEqual(ack["code"], 10002, ack)
        # nothing reached or was kept for anyone
        alice = await self.login(jim, ALPHA, "alice")
        self.assertEqual(await self.fetch(alice, "alice", 1, groupId=str(gid)), {})
        # gamma's user cannot read alpha's group's history either
        reply = await gus.request(19, {"cmd": 19, "type": 1, "userId": "gus1",
                                       "groupId": f"{ALPHA}:{gid}"}, 20)
        self.assertNotEqual(reply["code"], 10000, reply)

    async def test_events_of_the_group_reach_its_members_in_their_app(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        bobby = await self.login(jim, BETA, "bobby")
        bella = await self.login(jim, BETA, "bella", ws=True)
        gid = await self.cross_group(alpha, foreign=("bobby",))
        qualified = f"{ALPHA}:{gid}"
        event = await self.event(bobby, 10)
        self.assertEqual((event["groupId"], event["gid"], event["group_appkey"],
                          [(u["username"], u["appkey"]) for u in event["to_usernames"]]),
                         (qualified, gid, ALPHA, [("bobby", BETA)]))
        self.assertEmpty(await alpha.post(f"/v1/cross/groups/{gid}/members",
                                          [{"appkey": BETA, "add": ["bella"]}]))
        for client in (bobby, bella):
            event = await self.event(client, 10)
            self.assertEqual(event["groupId"], qualified)
        await bella.disconnect()
        self.assertEmpty(await alpha.put(f"/v1/groups/{gid}", {"name": "renamed"}))
        event = await self.event(bobby, 12)  # group info updated
        self.assertEqual((event["groupId"], event["group_name"]), (qualified, "renamed"))
        # an offline member finds the event at its next sync, naming the group alike
        bella = await self.login(jim, BETA, "bella", ws=True)
        synced = (await bella.request(101, {"cmd": 101}, 102))["data"]
        [kept] = [e for e in synced["events"] if e["event_type"] == 12]
        self.assertEqual((kept["groupId"], kept["gid"], kept["group_appkey"]),
                         (qualified, gid, ALPHA))
        self.assertEmpty(await alpha.post(f"/v1/cross/groups/{gid}/members",
                                          [{"appkey": BETA, "remove": ["bella"]}]))
        for client in (bobby, bella):
            event = await self.event(client, 11)
            self.assertEqual([u["username"] for u in event["to_usernames"]], ["bella"])
        self.assertEmpty(await alpha.delete(f"/v1/groups/{gid}"))
        event = await self.event(bobby, 9)
        self.assertEqual(event["groupId"], qualified)
        self.assertEqual(self.assertJson(await beta.get("/v1/cross/users/bobby/groups")), [])


class CrossRetractionTests(CrossGroupCase):
    async def test_a_private_message_is_retracted_in_both_apps(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        alice = await self.login(jim, ALPHA, "alice")
        bobby = await self.login(jim, BETA, "bobby")
        sent = await alpha.send("aadmin", "bobby", "oops", target_appkey=BETA)
        theirs = await self.chat(bobby)
        later = await alpha.send("aadmin", "bella", "oops too", target_appkey=BETA)
        self.assertEmpty(await alpha.post(f"/v1/messages/aadmin/{sent['msg_id']}/retract"))
        event = await self.event(bobby, 55)
        self.assertEqual((event["msgid_list"], event["from_username"], event["from_appkey"]),
                         ([int(theirs["id"])], "aadmin", ALPHA))
        self.assertEqual(await self.fetch(bobby, "bobby", 1, fromUserId=f"{ALPHA}:aadmin"),
                         {})
        self.assertEmpty(await alpha.post(f"/v1/messages/aadmin/{later['msg_id']}/retract"))
        bella = await self.login(jim, BETA, "bella")
        self.assertEqual(await self.fetch(bella, "bella"), {})
        # a socket's retraction of its cross-app message
        ack = await alice.request(11, self.chat_frame(f"{BETA}:bobby", "take back"), 12)
        chat = await self.chat(bobby)
        self.assertEqual(chat["content"], "take back")
        self.assertEmpty(await alpha.post(
            f"/v1/messages/alice/{ack['data']['id']}/retract"))
        event = await self.event(bobby, 55)
        self.assertEqual(event["msgid_list"], [int(chat["id"])])
        self.assertEqual(await self.fetch(bobby, "bobby", 1, fromUserId=f"{ALPHA}:alice"), {})
        self.assertEqual(await self.fetch(alice, "alice", 1, fromUserId=f"{BETA}:bobby"), {})

    async def test_a_group_message_is_retracted_in_every_app(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha)
        qualified = f"{ALPHA}:{gid}"
        alice = await self.login(jim, ALPHA, "alice")
        bobby = await self.login(jim, BETA, "bobby")
        sent = await alpha.send("aadmin", gid, "oops", target_type="group")
        mine, theirs = await self.chat(alice), await self.chat(bobby)
        self.assertEmpty(await alpha.post(f"/v1/messages/aadmin/{sent['msg_id']}/retract"))
        event = await self.event(alice, 55)
        self.assertEqual((event["msgid_list"], event["from_gid"]), ([int(mine["id"])], gid))
        event = await self.event(bobby, 55)
        self.assertEqual((event["msgid_list"], event["from_gid"], event["groupId"]),
                         ([int(theirs["id"])], gid, qualified))
        for client, name, group_id in ((alice, "alice", str(gid)), (bobby, "bobby", qualified)):
            self.assertEqual(await self.fetch(client, name, 1, groupId=group_id), {}, name)
        # the other app's member retracts its own message, in both apps
        ack = await bobby.request(11, self.group_frame(qualified, "mine, then not"), 12)
        mine, theirs = await self.chat(alice), await self.chat(bobby)
        self.assertEmpty(await beta.post(f"/v1/messages/bobby/{theirs['id']}/retract"))
        self.assertEqual((await self.event(alice, 55))["msgid_list"], [int(mine["id"])])
        self.assertEqual((await self.event(bobby, 55))["msgid_list"], [int(theirs["id"])])
        for client, name, group_id in ((alice, "alice", str(gid)), (bobby, "bobby", qualified)):
            self.assertEqual(await self.fetch(client, name, 1, groupId=group_id), {}, name)
        self.assertEqual(ack["code"], 10000)

    async def test_a_copy_of_another_apps_message_is_not_retracted_by_its_keeper(self):
        """Beta keeps a copy of alice's group message, its sender alpha's alice: beta's server
        naming her cannot retract it, in beta or anywhere (899021), and nobody is told."""
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha)
        alice = await self.login(jim, ALPHA, "alice")
        bobby = await self.login(jim, BETA, "bobby")
        ack = await alice.request(11, self.group_frame(str(gid), "alice's"), 12)
        self.assertEqual(ack["code"], 10000)
        mine, theirs = await self.chat(alice), await self.chat(bobby)
        refused = await beta.post(f"/v1/messages/{ALPHA}%3Aalice/{theirs['id']}/retract")
        self.assertError(refused, 403, 899021)
        for client, name, group_id in ((alice, "alice", str(gid)),
                                       (bobby, "bobby", f"{ALPHA}:{gid}")):
            history = await self.fetch(client, name, 1, groupId=group_id)
            self.assertEqual(list(history.values()), [["alice's"]], name)


class CrossGroupLifeTests(CrossGroupCase):
    async def test_a_resend_with_the_same_client_id_is_kept_once_in_each_app(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha)
        qualified = f"{ALPHA}:{gid}"
        bobby = await self.login(jim, BETA, "bobby")
        first = await bobby.request(11, self.group_frame(qualified, "once", id="c-1"), 12)
        again = await bobby.request(11, self.group_frame(qualified, "once", id="c-1"), 12)
        self.assertEqual((first["code"], again["code"]), (10000, 10000))
        self.assertEqual(first["data"]["id"], again["data"]["id"])
        alice = await self.login(jim, ALPHA, "alice")
        self.assertEqual(await self.fetch(alice, "alice", 1, groupId=str(gid)),
                         {str(gid): ["once"]})
        self.assertEqual(await self.fetch(bobby, "bobby", 1, groupId=qualified),
                         {qualified: ["once"]})

    async def test_a_deleted_user_leaves_the_groups_of_other_apps(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha, foreign=("bobby", "bella"))
        self.assertEmpty(await alpha.put(f"/v1/groups/messages/{gid}/silence?status=true",
                                          [f"{BETA}:bobby"]))
        silenced = self.assertJson(await alpha.get(f"/v1/groups/{gid}/members"))
        self.assertEqual([m["username"] for m in silenced if m.get("silenced")],
                         [f"{BETA}:bobby"])
        alice = await self.login(jim, ALPHA, "alice")
        self.assertEmpty(await beta.delete("/v1/users/bobby"))
        event = await self.event(alice, 9)  # bobby left
        self.assertEqual([(u["username"], u["appkey"]) for u in event["to_usernames"]],
                         [("bobby", BETA)])
        listed = self.assertJson(await alpha.get(f"/v1/cross/groups/{gid}/members"))
        self.assertEqual([(m["username"], m["appkey"]) for m in listed],
                         [("alice", ALPHA), ("anna", ALPHA), ("bella", BETA)])
        # a user made later under the name is another: it comes in unsilenced
        await beta.register("bobby")
        self.assertEmpty(await alpha.post(f"/v1/cross/groups/{gid}/members",
                                          [{"appkey": BETA, "add": ["bobby"]}]))
        members = self.assertJson(await alpha.get(f"/v1/groups/{gid}/members"))
        self.assertEqual([m["username"] for m in members if m.get("silenced")], [])


class CrossGroupOwnerTests(CrossGroupCase):
    async def exit(self, client, gid):
        """A user's own exit of a group (cmd 111)."""
        reply = await client.request(111, {"cmd": 111, "seq": 1, "op": "exit", "gid": gid}, 112)
        self.assertEqual(reply["code"], 10000, reply)

    async def owner(self, rest, gid):
        return self.assertJson(await rest.get(f"/v1/groups/{gid}"))["owner_username"]

    async def test_an_owner_who_leaves_hands_the_group_to_its_own_app_first(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha, members=(), foreign=("bobby",))
        self.assertEmpty(await alpha.post(f"/v1/cross/groups/{gid}/members",
                                          [{"appkey": ALPHA, "add": ["anna"]}]))
        await self.exit(await self.login(jim, ALPHA, "alice"), gid)
        self.assertEqual(await self.owner(alpha, gid), "anna", "not beta's, who joined first")
        await self.exit(await self.login(jim, ALPHA, "anna"), gid)
        self.assertEqual(await self.owner(alpha, gid), f"{BETA}:bobby", "none of alpha's is left")

    async def test_an_app_made_again_under_a_deleted_apps_key_inherits_no_silence(self):
        """bella, silenced in alpha's group, was taken out before her app was deleted: her
        kept silence goes with the app, and the new app's bella comes in free."""
        jim, admin, alpha, beta, gamma = await self.apps()
        gid = await self.cross_group(alpha, foreign=("bella",))
        members = f"/v1/cross/groups/{gid}/members"
        self.assertEmpty(await alpha.put(f"/v1/groups/messages/{gid}/silence?status=true",
                                         [f"{BETA}:bella"]))
        self.assertEmpty(await alpha.post(members, [{"appkey": BETA, "remove": ["bella"]}]))
        self.assertEmpty(await admin.delete(f"/admin/v1/apps/{BETA}"))
        again = await admin.create(name="Beta again", appKey=BETA, cross_apps=[ALPHA])
        await again.register("bella")
        self.assertEmpty(await alpha.post(members, [{"appkey": BETA, "add": ["bella"]}]))
        listed = self.assertJson(await alpha.get(f"/v1/groups/{gid}/members"))
        self.assertEqual([m["username"] for m in listed if m.get("silenced")], [])

    async def test_a_deleted_apps_users_leave_the_groups_of_other_apps(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        alice = await self.login(jim, ALPHA, "alice")
        mixed = await self.cross_group(alpha, members=("anna",), foreign=("bobby", "bella"))
        # a group beta's bobby owns (alice left it to him), and one of beta's bella alone
        owned = await self.cross_group(alpha, members=(), foreign=("bobby",))
        await self.exit(alice, owned)
        self.assertEmpty(await alpha.post(f"/v1/cross/groups/{owned}/members",
                                          [{"appkey": ALPHA, "add": ["anna"]}]))
        alone = await self.cross_group(alpha, members=(), foreign=("bella",))
        await self.exit(alice, alone)
        self.assertEqual(await self.owner(alpha, owned), f"{BETA}:bobby")
        anna = await self.login(jim, ALPHA, "anna")
        for client, name in ((alice, "alice"), (anna, "anna")):  # what they heard so far
            await self.fetch(client, name, 1, fromUserId="nobody")  # (a round trip: all of it)
            client.inbox.frames.clear()
        self.assertEmpty(await admin.delete(f"/admin/v1/apps/{BETA}"))
        # the members who stay are told, each group's once; the owner's group has a new owner
        for client in (alice, anna):
            event = await self.event(client, 11)
            self.assertEqual((event["gid"], sorted((u["username"], u["appkey"])
                                                   for u in event["to_usernames"])),
                             (mixed, [("bella", BETA), ("bobby", BETA)]))
        event = await self.event(anna, 82)
        self.assertEqual((event["gid"], event["new_owner"]), (owned, "anna"))
        event = await self.event(anna, 11)
        self.assertEqual((event["gid"], [u["username"] for u in event["to_usernames"]]),
                         (owned, ["bobby"]))
        for gid, left in ((mixed, ["alice", "anna"]), (owned, ["anna"])):
            listed = self.assertJson(await alpha.get(f"/v1/cross/groups/{gid}/members"))
            self.assertEqual([(m["username"], m["appkey"]) for m in listed],
                             [(name, ALPHA) for name in left])
        self.assertEqual(await self.owner(alpha, owned), "anna")
        self.assertError(await alpha.get(f"/v1/groups/{alone}"), 403, 899006)  # none stayed
        # an app made again under the key is in no group of alpha's
        again = await admin.create(name="Beta again", appKey=BETA, cross_apps=[ALPHA])
        await again.register("bobby", "bella")
        for name in ("bobby", "bella"):
            self.assertEqual(self.assertJson(await again.get(f"/v1/cross/users/{name}/groups")),
                             [])
        bobby = await self.login(jim, BETA, "bobby")
        ack = await bobby.request(11, self.group_frame(f"{ALPHA}:{mixed}", "still in?"), 12)
        self.assertEqual(ack["code"], 10002, ack)
