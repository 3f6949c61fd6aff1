"""``/v1/cross/users/{username}/...`` (reference 2.10): blacklists, no-disturb settings and
friends about other apps' users, both ways between two apps that allow each other; each one
acting on cross-app chat as its in-app form acts on in-app chat; and every route refused,
changing nothing, while the apps do not allow each other."""
from tests.integration.test_cross_apps import ALPHA, BETA, GAMMA, CrossCase


def _names(listed):
    return [(entry["username"], entry["appkey"]) for entry in listed]


class CrossRelationCase(CrossCase):
    async def state(self, alpha, beta):
        """What the in-app read routes show of both apps' users' relations."""
        out = {}
        for rest, names in ((alpha, ("alice", "anna")), (beta, ("bobby", "bella"))):
            for name in names:
                for part in ("friends", "blacklist"):
                    response = await rest.get(f"/v1/users/{name}/{part}")
                    out[f"{rest.key} {name} {part}"] = (response.status, response.json())
        return out

    async def sends(self, jim, key, name, to):
        """The J-IM ack code of a chat from C{name} (of app C{key}) to C{to}."""
        client = await self.login(jim, key, name)
        ack = await client.request(11, self.chat_frame(to, "hi"), 12)
        await client.disconnect()
        return ack["code"]


class CrossRefusedTests(CrossRelationCase):
    async def test_every_route_is_refused_without_permission_and_changes_nothing(self):
        jim, admin, alpha, beta, gamma = await self.apps(allowed=False)
        await self.allow(admin, ALPHA, [BETA])  # only one side: not enough
        calls = []
        for rest, user, other, name in ((alpha, "alice", BETA, "bobby"),
                                        (beta, "bobby", ALPHA, "alice")):
            base = f"/v1/cross/users/{user}"
            calls += [
                (rest, "PUT", f"{base}/blacklist", [{"appkey": other, "usernames": [name]}]),
                (rest, "DELETE", f"{base}/blacklist", [{"appkey": other, "usernames": [name]}]),
                (rest, "GET", f"{base}/blacklist", None),
                (rest, "POST", f"{base}/nodisturb", [{"appkey": other, "single": {"add": [name]}}]),
                (rest, "POST", f"{base}/nodisturb",
                 [{"appkey": other, "single": {"remove": [name]}}]),
                (rest, "POST", f"{base}/friends", {"appkey": other, "users": [name]}),
                (rest, "DELETE", f"{base}/friends", {"appkey": other, "users": [name]}),
                (rest, "PUT", f"{base}/friends",
                 [{"appkey": other, "username": name, "note_name": "n"}]),
                # an app that does not exist, or one that allows nobody
                (rest, "PUT", f"{base}/blacklist",
                 [{"appkey": "NoSuchApp000000000000000", "usernames": [name]}]),
                (rest, "POST", f"{base}/friends", {"appkey": GAMMA, "users": ["gus1"]}),
            ]
        # one entry of an app that does not allow it refuses the whole call
        calls.append((alpha, "PUT", "/v1/cross/users/alice/blacklist",
                      [{"appkey": ALPHA, "usernames": ["anna"]},
                       {"appkey": BETA, "usernames": ["bobby"]}]))
        before = await self.state(alpha, beta)
        for rest, method, path, body in calls:
            response = await (rest.call(method, path) if body is None
                              else rest.call(method, path, body))
            self.assertError(response, 403, 899020)
            self.assertEqual(await self.state(alpha, beta), before, (method, path, body))

    async def test_bad_bodies(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        for method, path, body in [
                ("PUT", "blacklist", {"appkey": BETA, "usernames": ["bobby"]}),
                ("PUT", "blacklist", []), ("PUT", "blacklist", [{"usernames": ["bobby"]}]),
                ("PUT", "blacklist", [{"appkey": BETA, "usernames": "bobby"}]),
                ("PUT", "blacklist", [{"appkey": BETA, "usernames": ["bobby"], "x": 1}]),
                ("POST", "nodisturb", [{"appkey": BETA}]),
                ("POST", "nodisturb", [{"appkey": BETA, "single": {"on": ["bobby"]}}]),
                ("POST", "friends", [{"appkey": BETA, "users": ["bobby"]}]),
                ("POST", "friends", {"appkey": BETA, "users": []}),
                ("PUT", "friends", {"appkey": BETA, "username": "bobby"})]:
            self.assertError(await alpha.call(method, f"/v1/cross/users/alice/{path}", body),
                             400, 899003)
        self.assertError(await alpha.put("/v1/cross/users/alice/blacklist", [
            {"appkey": BETA, "usernames": [f"user{i}" for i in range(501)]}]), 403, 899013)
        # the in-app routes take no other app's users
        for method, path, body in [("PUT", "blacklist", [f"{BETA}:bobby"]),
                                   ("DELETE", "blacklist", [f"{BETA}:bobby"]),
                                   ("POST", "friends", [f"{BETA}:bobby"]),
                                   ("DELETE", "friends", [f"{BETA}:bobby"]),
                                   ("PUT", "friends", [{"username": f"{BETA}:bobby"}]),
                                   ("POST", "nodisturb", {"single": {"add": [f"{BETA}:bobby"]}})]:
            self.assertError(await alpha.call(method, f"/v1/users/alice/{path}", body), 403,
                             899021)
        # another app's group is the cross-app route's, never the in-app one's
        self.assertError(await alpha.post("/v1/users/alice/nodisturb",
                                          {"group": {"add": [f"{BETA}:10000000"]}}), 400,
                         899003)


class CrossBlacklistTests(CrossRelationCase):
    async def test_a_cross_app_blacklist_refuses_that_users_messages_both_ways(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        self.assertEqual(self.assertJson(await beta.get("/v1/cross/users/bobby/blacklist")),
                         [])
        self.assertEmpty(await beta.put("/v1/cross/users/bobby/blacklist", [
            {"appkey": ALPHA, "usernames": ["alice"]}, {"appkey": BETA, "usernames": ["bella"]}]))
        listed = self.assertJson(await beta.get("/v1/cross/users/bobby/blacklist"))
        self.assertEqual(_names(listed), [("alice", ALPHA), ("bella", BETA)])
        self.assertIn("ctime", listed[0])
        # the in-app list shows the app's own users only
        self.assertEqual([u["username"] for u in self.assertJson(
            await beta.get("/v1/users/bobby/blacklist"))], ["bella"])
        self.assertEqual(await self.sends(jim, ALPHA, "alice", f"{BETA}:bobby"), 10002)
        self.assertEqual(await self.sends(jim, ALPHA, "anna", f"{BETA}:bobby"), 10001)
        # the other direction: alice blacklists bobby
        self.assertEmpty(await alpha.put("/v1/cross/users/alice/blacklist", [
            {"appkey": BETA, "usernames": ["bobby"]}]))
        self.assertEqual(await self.sends(jim, BETA, "bobby", f"{ALPHA}:alice"), 10002)
        self.assertEqual(await self.sends(jim, BETA, "bella", f"{ALPHA}:alice"), 10001)
        # refusals, as in the app
        for body, code in (([{"appkey": ALPHA, "usernames": ["alice"]}], 899017),
                           ([{"appkey": ALPHA, "usernames": ["ghost"]}], 899002),
                           ([{"appkey": ALPHA, "usernames": ["aadmin"]}], 899018)):
            self.assertError(await beta.put("/v1/cross/users/bobby/blacklist", body), 403, code)
        self.assertError(await beta.delete("/v1/cross/users/bobby/blacklist", [
            {"appkey": ALPHA, "usernames": ["anna"]}]), 403, 899019)
        self.assertEmpty(await beta.delete("/v1/cross/users/bobby/blacklist", [
            {"appkey": ALPHA, "usernames": ["alice"]}]))
        self.assertEqual(_names(self.assertJson(
            await beta.get("/v1/cross/users/bobby/blacklist"))), [("bella", BETA)])
        self.assertEqual(await self.sends(jim, ALPHA, "alice", f"{BETA}:bobby"), 10001)


class CrossNodisturbTests(CrossRelationCase):
    async def test_cross_app_nodisturb_is_set_and_refused_as_in_the_app(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        alice = await self.login(jim, ALPHA, "alice")
        path = "/v1/cross/users/alice/nodisturb"
        self.assertEmpty(await alpha.post(path, [{"appkey": BETA, "single": {"add": ["bobby"]}},
                                                 {"appkey": ALPHA, "single": {"add": ["anna"]}}]))
        self.assertEqual((await self.event(alice, 37))["event_type"], 37)
        self.assertError(await alpha.post(path, [{"appkey": BETA, "single": {"add": ["bobby"]}}]),
                         403, 899043)
        self.assertError(await alpha.post(path, [{"appkey": BETA, "single": {"add": ["ghost"]}}]),
                         403, 899002)
        self.assertEmpty(await alpha.post(path, [
            {"appkey": BETA, "single": {"remove": ["bobby"]}}]))
        self.assertError(await alpha.post(path, [
            {"appkey": BETA, "single": {"remove": ["bobby"]}}]), 403, 899044)
        # the in-app setting it made is the in-app route's
        self.assertError(await alpha.post("/v1/users/alice/nodisturb",
                                          {"single": {"add": ["anna"]}}), 403, 899043)
        # the other direction, and groups of the caller's own app
        gid = await beta.group("bobby", ["bella"])
        self.assertEmpty(await beta.post("/v1/cross/users/bobby/nodisturb", [
            {"appkey": ALPHA, "single": {"add": ["alice"]}},
            {"appkey": BETA, "group": {"add": [gid]}}]))
        self.assertError(await beta.post("/v1/users/bobby/nodisturb", {"group": {"add": [gid]}}),
                         403, 899047)


class CrossFriendTests(CrossRelationCase):
    async def test_friends_across_apps_both_ways_with_notes(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        self.assertEmpty(await alpha.post("/v1/cross/users/alice/friends",
                                          {"appkey": BETA, "users": ["bobby", "bella"]}), 201)
        self.assertEqual(_names(self.assertJson(await alpha.get("/v1/users/alice/friends"))),
                         [("bobby", BETA), ("bella", BETA)])
        for name in ("bobby", "bella"):
            self.assertEqual(_names(self.assertJson(await beta.get(f"/v1/users/{name}/friends"))),
                             [("alice", ALPHA)])
        self.assertError(await alpha.post("/v1/cross/users/alice/friends",
                                          {"appkey": BETA, "users": ["bobby"]}), 403, 899070)
        self.assertError(await alpha.post("/v1/cross/users/alice/friends",
                                          {"appkey": BETA, "users": ["ghost"]}), 403, 899002)
        self.assertEmpty(await beta.put("/v1/cross/users/bobby/friends", [
            {"appkey": ALPHA, "username": "alice", "note_name": "Al", "others": "from alpha"}]))
        friends = self.assertJson(await beta.get("/v1/users/bobby/friends"))
        self.assertEqual([(f["username"], f["note_name"], f["others"]) for f in friends],
                         [("alice", "Al", "from alpha")])
        self.assertError(await beta.put("/v1/cross/users/bobby/friends", [
            {"appkey": ALPHA, "username": "anna", "note_name": "x"}]), 403, 899071)
        self.assertEmpty(await beta.delete("/v1/cross/users/bella/friends",
                                           {"appkey": ALPHA, "users": ["alice"]}))
        self.assertEqual(_names(self.assertJson(await alpha.get("/v1/users/alice/friends"))),
                         [("bobby", BETA)])
        self.assertEqual(self.assertJson(await beta.get("/v1/users/bella/friends")), [])
        self.assertError(await beta.delete("/v1/cross/users/bella/friends",
                                           {"appkey": ALPHA, "users": ["alice"]}), 403, 899071)

    async def test_both_sides_of_a_removal_are_told_with_the_others_card(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        self.assertEmpty(await alpha.put("/v1/users/alice", {"nickname": "Alice"}))
        self.assertEmpty(await beta.put("/v1/users/bella", {"nickname": "Bella"}))
        self.assertEmpty(await alpha.post("/v1/cross/users/alice/friends",
                                          {"appkey": BETA, "users": ["bella"]}), 201)
        alice = await self.login(jim, ALPHA, "alice")
        bella = await self.login(jim, BETA, "bella")
        self.assertEmpty(await alpha.delete("/v1/cross/users/alice/friends",
                                            {"appkey": BETA, "users": ["bella"]}))
        for client, seen in ((alice, [("bella", BETA, "Bella")]),
                             (bella, [("alice", ALPHA, "Alice")])):
            event = await self.event(client, 6)  # friend_removed
            self.assertEqual([(u["username"], u["appkey"], u.get("nickname"))
                              for u in event["to_usernames"]], seen)

    async def test_friend_mode_takes_cross_app_friendship(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        await admin.put(f"/admin/v1/apps/{BETA}", {"friend_mode": True})
        self.assertEqual(await self.sends(jim, ALPHA, "alice", f"{BETA}:bobby"), 10002)
        self.assertEqual(await self.sends(jim, BETA, "bobby", f"{ALPHA}:alice"), 10002,
                         "either app's friend mode binds the chat")
        await beta.post("/v1/cross/users/bobby/friends", {"appkey": ALPHA, "users": ["alice"]})
        self.assertEqual(await self.sends(jim, ALPHA, "alice", f"{BETA}:bobby"), 10001)
        self.assertEqual(await self.sends(jim, BETA, "bobby", f"{ALPHA}:alice"), 10001)
        self.assertEqual(await self.sends(jim, ALPHA, "anna", f"{BETA}:bobby"), 10002)

    async def test_a_deleted_user_leaves_nothing_to_a_new_user_of_its_name(self):
        jim, admin, alpha, beta, gamma = await self.apps()
        await alpha.post("/v1/cross/users/alice/friends", {"appkey": BETA, "users": ["bobby"]})
        await beta.put("/v1/cross/users/bella/blacklist", [
            {"appkey": ALPHA, "usernames": ["alice"]}])
        self.assertEmpty(await alpha.delete("/v1/users/alice"))
        await alpha.register("alice")
        self.assertEqual(self.assertJson(await beta.get("/v1/users/bobby/friends")), [])
        self.assertEqual(self.assertJson(await beta.get("/v1/cross/users/bella/blacklist")), [])
        self.assertEqual(await self.sends(jim, ALPHA, "alice", f"{BETA}:bella"), 10001)


class RevokedPermissionTests(CrossRelationCase):
    async def test_a_permission_taken_back_shows_nothing_and_entries_can_be_cleared(self):
        """Once an app stops allowing another, the other reads nothing more of its users
        (not even through the entries it kept), and may still clear those entries."""
        jim, admin, alpha, beta, gamma = await self.apps()
        self.assertEmpty(await beta.post("/v1/cross/users/bobby/friends",
                                         {"appkey": ALPHA, "users": ["alice"]}), 201)
        self.assertEmpty(await beta.put("/v1/cross/users/bobby/blacklist",
                                        [{"appkey": ALPHA, "usernames": ["anna"]}]), 204)
        friends = self.assertJson(await beta.get("/v1/users/bobby/friends"))
        self.assertEqual([(f["username"], f["appkey"]) for f in friends], [("alice", ALPHA)])
        await self.allow(admin, ALPHA, [])
        self.assertEmpty(await alpha.put("/v1/users/alice", {"nickname": "After"}))
        self.assertEqual(self.assertJson(await beta.get("/v1/users/bobby/friends")), [])
        # beta still allows gamma, so its cross blacklist can be read: alpha's anna is not shown
        await self.allow(admin, BETA, [ALPHA, GAMMA])
        await self.allow(admin, GAMMA, [BETA])
        self.assertEqual(self.assertJson(await beta.get("/v1/cross/users/bobby/blacklist")), [])
        # the owner clears its own entries without the permission; other names stay refused
        self.assertEmpty(await beta.delete("/v1/cross/users/bobby/blacklist",
                                           [{"appkey": ALPHA, "usernames": ["anna"]}]), 204)
        self.assertError(await beta.delete("/v1/cross/users/bobby/blacklist",
                                           [{"appkey": ALPHA, "usernames": ["alice"]}]),
                         403, 899020)
        self.assertEmpty(await beta.delete("/v1/cross/users/bobby/friends",
                                           {"appkey": ALPHA, "users": ["alice"]}), 204)
        await self.allow(admin, ALPHA, [BETA])  # allowed again: nothing of before is left
        self.assertEqual(self.assertJson(await beta.get("/v1/users/bobby/friends")), [])
        self.assertEqual(self.assertJson(await beta.get("/v1/cross/users/bobby/blacklist")), [])
        self.assertEqual(self.assertJson(await alpha.get("/v1/users/alice/friends")), [])

    async def test_an_app_deleted_leaves_no_entry_in_other_apps(self):
        """What other apps' users kept about a deleted app's users goes with it: an app made
        later under the same key, with users of the same names, inherits nothing."""
        jim, admin, alpha, beta, gamma = await self.apps()
        self.assertEmpty(await beta.post("/v1/cross/users/bobby/friends",
                                         {"appkey": ALPHA, "users": ["alice"]}), 201)
        self.assertEmpty(await beta.put("/v1/cross/users/bella/blacklist",
                                        [{"appkey": ALPHA, "usernames": ["anna"]}]), 204)
        await self.allow(admin, BETA, [])  # beta no longer lists alpha: its entries stay
        self.assertEmpty(await admin.delete(f"/admin/v1/apps/{ALPHA}"))
        again = await admin.create(name="Alpha again", appKey=ALPHA, cross_apps=[BETA])
        await again.register("alice", "anna")
        await self.allow(admin, BETA, [ALPHA])
        self.assertEqual(self.assertJson(await beta.get("/v1/users/bobby/friends")), [])
        self.assertEqual(self.assertJson(await beta.get("/v1/cross/users/bella/blacklist")),
                         [])
        self.assertEqual(await jim.store.relations.targets_with_prefix(BETA, f"{ALPHA}:"), [])
