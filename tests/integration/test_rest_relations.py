"""Friends, blacklists, group shields and no-disturb over HTTP (reference 2.2): answers,
refusals with their codes, and that a refused call changes nothing."""
from twisted.trial.unittest import TestCase

from tests.support.rest import Checks, start_rest

USERS = ("alice", "bobby", "carol", "dave1")


async def _app(testcase):
    jim, rest = await start_rest(testcase)
    await rest.register(*USERS)
    return jim, rest


def _names(listed):
    return [entry["username"] for entry in listed]


class FriendTests(TestCase, Checks):
    timeout = 60

    async def test_friends_are_made_both_ways_and_listed_with_notes(self):
        jim, rest = await _app(self)
        self.assertEqual(self.assertJson(await rest.get("/v1/users/alice/friends")), [])
        self.assertEmpty(await rest.post("/v1/users/alice/friends", ["bobby", "carol"]), 201)
        friends = self.assertJson(await rest.get("/v1/users/alice/friends"))
        self.assertEqual(_names(friends), ["bobby", "carol"])
        self.assertEqual({(f["note_name"], f["others"], f["appkey"]) for f in friends},
                         {("", "", rest.key)})
        self.assertIn("ctime", friends[0])
        self.assertEqual(_names(self.assertJson(await rest.get("/v1/users/bobby/friends"))),
                         ["alice"])

    async def test_refused_friend_additions_change_nothing(self):
        jim, rest = await _app(self)
        await rest.post("/v1/users/alice/friends", ["bobby"])
        cases = [("alice", ["carol", "ghost"], 403, 899002),
                 ("ghost", ["carol"], 403, 899002),
                 ("alice", ["carol", "bobby"], 403, 899070),
                 ("alice", ["alice"], 400, 899003),
                 ("alice", ["carol", "carol"], 400, 899003),
                 ("alice", [], 400, 899003), ("alice", "carol", 400, 899003),
                 ("alice", {"username": "carol"}, 400, 899003), ("alice", [7], 400, 899003),
                 ("alice", [f"user{i}" for i in range(501)], 403, 899013)]
        for owner, body, status, code in cases:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.post(f"/v1/users/{owner}/friends", body), status, code,
                USERS)

    async def test_notes_on_friends(self):
        jim, rest = await _app(self)
        await rest.post("/v1/users/alice/friends", ["bobby", "carol"])
        notes = [{"username": "bobby", "note_name": "B" * 64, "others": "o" * 250},
                 {"username": "carol", "note_name": "C"}]
        self.assertEmpty(await rest.put("/v1/users/alice/friends", notes))
        friends = self.assertJson(await rest.get("/v1/users/alice/friends"))
        self.assertEqual([(f["note_name"], f["others"]) for f in friends],
                         [("B" * 64, "o" * 250), ("C", "")])
        # only the owner's notes changed
        self.assertEqual(self.assertJson(await rest.get("/v1/users/bobby/friends"))[0]
                         ["note_name"], "")

    async def test_refused_note_changes_change_nothing(self):
        jim, rest = await _app(self)
        await rest.post("/v1/users/alice/friends", ["bobby"])
        await rest.put("/v1/users/alice/friends", [{"username": "bobby", "note_name": "B"}])
        cases = [([{"username": "bobby", "note_name": "x"}, {"username": "carol"}], 403, 899071),
                 ([{"username": "bobby", "note_name": "two\nlines"}], 400, 899003),
                 ([{"username": "bobby", "note_name": "n" * 65}], 400, 899003),
                 ([{"username": "bobby", "others": "o" * 251}], 400, 899003),
                 ([{"username": "bobby", "note_name": 5}], 400, 899003),
                 ([{"note_name": "x"}], 400, 899003), (["bobby"], 400, 899003),
                 ([], 400, 899003), ({"username": "bobby"}, 400, 899003),
                 ([{"username": "bobby"}] * 501, 403, 899013)]
        for body, status, code in cases:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.put("/v1/users/alice/friends", body), status, code, USERS)
        self.assertError(await rest.put("/v1/users/ghost/friends", [{"username": "bobby"}]),
                         403, 899002)

    async def test_friends_are_removed_by_a_delete_with_a_body(self):
        jim, rest = await _app(self)
        await rest.post("/v1/users/alice/friends", ["bobby", "carol"])
        self.assertEmpty(await rest.delete("/v1/users/alice/friends", ["bobby"]))
        self.assertEqual(_names(self.assertJson(await rest.get("/v1/users/alice/friends"))),
                         ["carol"])
        self.assertEqual(self.assertJson(await rest.get("/v1/users/bobby/friends")), [])
        cases = [("alice", ["carol", "bobby"], 403, 899071), ("ghost", ["carol"], 403, 899002),
                 ("alice", [], 400, 899003), ("alice", None, 400, 899003)]
        for owner, body, status, code in cases:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.delete(f"/v1/users/{owner}/friends", body), status, code,
                USERS)


class BlacklistTests(TestCase, Checks):
    timeout = 60

    async def test_blacklist_add_list_remove(self):
        jim, rest = await _app(self)
        self.assertEqual(self.assertJson(await rest.get("/v1/users/alice/blacklist")), [])
        self.assertEmpty(await rest.put("/v1/users/alice/blacklist", ["bobby", "carol"]))
        listed = self.assertJson(await rest.get("/v1/users/alice/blacklist/"))
        self.assertEqual(_names(listed), ["bobby", "carol"])
        self.assertIn("mtime", listed[0])
        self.assertEmpty(await rest.delete("/v1/users/alice/blacklist", ["bobby"]))
        self.assertEqual(_names(self.assertJson(await rest.get("/v1/users/alice/blacklist"))),
                         ["carol"])
        self.assertError(await rest.get("/v1/users/ghost/blacklist"), 403, 899002)

    async def test_refused_blacklist_changes_change_nothing(self):
        jim, rest = await _app(self)
        await rest.admin("admin1")
        await rest.put("/v1/users/alice/blacklist", ["bobby"])
        puts = [(["carol", "bobby"], 403, 899017), (["carol", "admin1"], 403, 899018),
                (["carol", "ghost"], 403, 899002), ([], 400, 899003), ("carol", 400, 899003),
                ([f"user{i}" for i in range(501)], 403, 899013)]
        for body, status, code in puts:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.put("/v1/users/alice/blacklist", body), status, code, USERS)
        deletes = [(["bobby", "carol"], 403, 899019), ([], 400, 899003)]
        for body, status, code in deletes:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.delete("/v1/users/alice/blacklist", body), status, code,
                USERS)
        self.assertError(await rest.put("/v1/users/ghost/blacklist", ["bobby"]), 403, 899002)
        self.assertError(await rest.delete("/v1/users/ghost/blacklist", ["bobby"]), 403, 899002)


class ShieldTests(TestCase, Checks):
    timeout = 60

    async def test_shield_on_and_off(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        path = "/v1/users/bobby/groupsShield"
        self.assertEmpty(await rest.post(path, {"add": [gid]}))
        self.assertError(await rest.post(path, {"add": [gid]}), 403, 899052)
        self.assertEmpty(await rest.post(path, {"remove": [str(gid)]}))  # a gid as text too
        self.assertError(await rest.post(path, {"remove": [gid]}), 403, 899053)

    async def test_refused_shield_changes_change_nothing(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        other = await rest.group("carol", ["bobby"])
        path = "/v1/users/bobby/groupsShield"
        cases = [({"add": [gid, 99999999]}, 403, 899051), ({"add": [gid, other, gid]}, 400, 899003),
                 ({"remove": [99999999]}, 403, 899051), ({}, 400, 899003),
                 ({"add": []}, 400, 899003), ({"add": gid}, 400, 899003),
                 ({"add": ["abc"]}, 400, 899003), ({"add": [0]}, 400, 899003),
                 ({"add": [True]}, 400, 899003), ([gid], 400, 899003),
                 # another key, even beside a good one: a typo is no change
                 ({"add": [gid], "bogus": []}, 400, 899003), ({"Add": [gid]}, 400, 899003),
                 # a list of another type is no empty list, even beside a good one
                 ({"add": [gid], "remove": 0}, 400, 899003),
                 ({"add": [gid], "remove": ""}, 400, 899003),
                 ({"add": [gid], "remove": False}, 400, 899003),
                 ({"add": [gid], "remove": {}}, 400, 899003),
                 ({"add": "x", "remove": [other]}, 400, 899003)]
        for body, status, code in cases:
            self.assertError(await rest.post(path, body), status, code)
        self.assertError(await rest.post("/v1/users/dave1/groupsShield", {"add": [gid]}),
                         403, 899046)
        self.assertError(await rest.post("/v1/users/ghost/groupsShield", {"add": [gid]}),
                         403, 899002)
        # nothing was shielded by the refusals: each one can still be turned on
        self.assertEmpty(await rest.post(path, {"add": [gid, other]}))

    async def test_a_refusal_names_what_was_wrong(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        path = "/v1/users/bobby/groupsShield"
        response = await rest.post(path, {"add": [gid], "bogus": []})
        self.assertError(response, 400, 899003)
        self.assertIn("bogus", response.json()["error"]["message"])
        response = await rest.post(path, {"add": [gid], "remove": 0})
        self.assertError(response, 400, 899003)
        self.assertIn("remove must be a JSON array", response.json()["error"]["message"])

    async def test_a_null_list_counts_as_absent(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        path = "/v1/users/bobby/groupsShield"
        self.assertEmpty(await rest.post(path, {"add": [gid], "remove": None}))
        self.assertError(await rest.post(path, {"add": [gid]}), 403, 899052)
        self.assertError(await rest.post(path, {"add": None, "remove": None}), 400, 899003)


class NoDisturbTests(TestCase, Checks):
    timeout = 60

    async def test_each_setting_on_and_off_with_its_own_refusals(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        path = "/v1/users/bobby/nodisturb"
        steps = [({"single": {"add": ["carol"]}}, None), ({"single": {"add": ["carol"]}}, 899043),
                 ({"single": {"remove": ["carol"]}}, None),
                 ({"single": {"remove": ["carol"]}}, 899044),
                 ({"group": {"add": [gid]}}, None), ({"group": {"add": [gid]}}, 899047),
                 ({"group": {"remove": [gid]}}, None), ({"group": {"remove": [gid]}}, 899049),
                 ({"global": 1}, None), ({"global": 1}, 899048),
                 ({"global": 0}, None), ({"global": 0}, 899050)]
        for body, code in steps:
            response = await rest.post(path, body)
            if code is None:
                self.assertEmpty(response)
            else:
                self.assertError(response, 403, code)

    async def test_settings_combine_and_a_refused_combination_changes_nothing(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        path = "/v1/users/bobby/nodisturb"
        refused = [({"single": {"add": ["carol"]}, "global": 0}, 403, 899050),
                   ({"single": {"add": ["carol", "ghost"]}}, 403, 899002),
                   ({"group": {"add": [99999999]}, "global": 1}, 403, 899045),
                   ({"single": {"add": ["carol"]}, "group": {"add": [gid, gid]}}, 400, 899003),
                   ({"single": {"add": ["dave1"], "remove": ["dave1"]}}, 400, 899003),
                   ({"global": 2}, 400, 899003), ({"global": True}, 400, 899003),
                   ({"global": "1"}, 400, 899003), ({"other": 1}, 400, 899003),
                   ({}, 400, 899003), ({"single": ["carol"]}, 400, 899003),
                   ({"group": {"add": ["x"]}}, 400, 899003), (None, 400, 899003),
                   # nothing to change
                   ({"single": {}}, 400, 899003), ({"single": {}, "group": {}}, 400, 899003),
                   ({"single": {"add": [], "remove": None}}, 400, 899003),
                   # another key in single or group, even beside a good one
                   ({"single": {"bogus": []}}, 400, 899003),
                   ({"single": {"add": ["carol"], "bogus": []}}, 400, 899003),
                   ({"group": {"add": [gid], "Remove": [gid]}}, 400, 899003),
                   # a list of another type is no empty list, even beside a good one
                   ({"single": {"add": ["carol"], "remove": 0}}, 400, 899003),
                   ({"single": {"add": ["carol"], "remove": ""}}, 400, 899003),
                   ({"single": {"add": ["carol"], "remove": {}}}, 400, 899003),
                   ({"single": {"add": False}, "global": 1}, 400, 899003),
                   ({"group": {"add": [gid], "remove": False}}, 400, 899003),
                   ({"group": {"add": 0}, "global": 1}, 400, 899003),
                   ({"group": {"add": {}}, "single": {"add": ["carol"]}}, 400, 899003),
                   ({"group": None, "global": 1}, 400, 899003)]
        for body, status, code in refused:
            self.assertError(await rest.post(path, body), status, code)
        self.assertError(await rest.post("/v1/users/dave1/nodisturb",
                                         {"group": {"add": [gid]}}), 403, 899046)
        self.assertError(await rest.post("/v1/users/ghost/nodisturb", {"global": 1}),
                         403, 899002)
        # none of it was set: all of it can be turned on now, in one call
        self.assertEmpty(await rest.post(path, {"single": {"add": ["carol"]},
                                                "group": {"add": [gid]}, "global": 1}))
        self.assertError(await rest.post(path, {"global": 1}), 403, 899048)

    async def test_a_refusal_names_what_was_wrong(self):
        jim, rest = await _app(self)
        path = "/v1/users/bobby/nodisturb"
        for body, words in (({"single": {"bogus": []}}, "single takes add and remove, not bogus"),
                            ({"single": {}}, "nothing to change"),
                            ({"single": {"add": ["carol"], "remove": 0}},
                             "single.remove must be a JSON array"),
                            ({"group": {"add": {}}}, "group.add must be a JSON array")):
            response = await rest.post(path, body)
            self.assertError(response, 400, 899003)
            self.assertIn(words, response.json()["error"]["message"])

    async def test_a_null_list_counts_as_absent(self):
        jim, rest = await _app(self)
        path = "/v1/users/bobby/nodisturb"
        self.assertEmpty(await rest.post(path, {"single": {"add": ["carol"], "remove": None}}))
        self.assertError(await rest.post(path, {"single": {"add": ["carol"]}}), 403, 899043)
