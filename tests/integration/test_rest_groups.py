"""``/v1/groups`` and the ``/v2`` member calls over HTTP (reference 2.3): answers, refusals
with their codes, and that a refused call changes nothing."""
from twisted.trial.unittest import TestCase

from tests.support.rest import Checks, start_rest

USERS = ("alice", "bobby", "carol", "dave1")
TIME = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"


async def _app(testcase, **limits):
    jim, rest = await start_rest(testcase, limits=limits)
    await rest.register(*USERS)
    return jim, rest


def _members(listed):
    return [(m["username"], m["flag"]) for m in listed]


class CreateTests(TestCase, Checks):
    timeout = 60

    async def test_create_answers_the_group(self):
        jim, rest = await _app(self)
        body = {"owner_username": "alice", "name": "team", "desc": "d", "avatar": "qiniu/x",
                "members_username": ["bobby", "carol", "alice", "bobby"], "flag": 2}
        created = self.assertJson(await rest.post("/v1/groups/", body), 201)
        self.assertIsInstance(created["gid"], int)
        self.assertGreater(created["gid"], 0)
        expected = {"owner_username": "alice", "name": "team", "desc": "d", "avatar": "qiniu/x",
                    "members_username": ["bobby", "carol"], "MaxMemberCount": 500, "flag": 2,
                    "appkey": rest.key}
        self.assertEqual({k: created[k] for k in expected}, expected)
        self.assertRegex(created["ctime"], TIME)
        group = self.assertJson(await rest.get(f"/v1/groups/{created['gid']}"))
        self.assertEqual({k: group[k] for k in expected if k != "members_username"},
                         {k: v for k, v in expected.items() if k != "members_username"})
        members = self.assertJson(await rest.get(f"/v1/groups/{created['gid']}/members/"))
        self.assertEqual(_members(members), [("alice", 1), ("bobby", 0), ("carol", 0)])

    async def test_metrics_count_a_call_under_the_status_it_was_answered_with(self):
        jim, rest = await _app(self)
        body = {"owner_username": "alice", "name": "g", "members_username": ["ghost"]}
        self.assertEqual((await rest.post("/v1/groups", body)).status, 400)  # the route's 400
        metrics = (await rest.get("/metrics")).body.decode()
        self.assertIn('jim_rest_requests_total{route="POST /v1/groups",status="400"} 1.0',
                      metrics)
        self.assertNotIn('route="POST /v1/groups",status="403"', metrics)

    async def test_flags_default_to_private_and_javas_0_is_private(self):
        jim, rest = await _app(self)
        for flag, expected in (("absent", 1), (None, 1), (0, 1), (1, 1), (2, 2)):
            body = {"owner_username": "alice", "name": "g"}
            if flag != "absent":
                body["flag"] = flag
            created = self.assertJson(await rest.post("/v1/groups", body), 201)
            self.assertEqual(created["flag"], expected, flag)
            self.assertEqual(created["members_username"], [])

    async def test_members_absent_or_null_are_none(self):
        jim, rest = await _app(self)
        for body in ({"owner_username": "alice", "name": "g"},
                     {"owner_username": "alice", "name": "g", "members_username": None}):
            created = self.assertJson(await rest.post("/v1/groups", body), 201)
            self.assertEqual(created["members_username"], [])
            members = self.assertJson(await rest.get(f"/v1/groups/{created['gid']}/members"))
            self.assertEqual(_members(members), [("alice", 1)])

    async def test_refused_creations_change_nothing(self):
        jim, rest = await _app(self, group_size=3, user_groups=2)
        await rest.group("dave1", name="one")
        await rest.group("dave1", name="two")
        owner = {"owner_username": "alice", "name": "g"}
        cases = [({**owner, "members_username": ["bobby", "ghost"]}, 400, 899002),
                 ({"owner_username": "ghost", "name": "g"}, 400, 899002),
                 ({**owner, "members_username": ["bobby", "carol", "dave1"]}, 403, 899012),
                 ({**owner, "members_username": ["dave1"]}, 403, 899015),
                 ({"owner_username": "alice"}, 400, 899003),
                 ({**owner, "name": ""}, 400, 899003),
                 ({**owner, "name": "n" * 65}, 400, 899003),
                 ({**owner, "name": "two\nlines"}, 400, 899003),
                 ({**owner, "desc": "d" * 251}, 400, 899003),
                 ({**owner, "flag": 3}, 400, 899003), ({**owner, "flag": "1"}, 400, 899003),
                 ({**owner, "flag": True}, 400, 899003), ({**owner, "flag": 2.0}, 400, 899003),
                 ({**owner, "members_username": "bobby"}, 400, 899003),
                 ({**owner, "members_username": [1]}, 400, 899003),
                 # a list of another type is no empty list
                 ({**owner, "members_username": 0}, 400, 899003),
                 ({**owner, "members_username": ""}, 400, 899003),
                 ({**owner, "members_username": False}, 400, 899003),
                 ({**owner, "members_username": {}}, 400, 899003),
                 ({"name": "g"}, 400, 899003), ([owner], 400, 899003), (None, 400, 899003)]
        for body, status, code in cases:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.post("/v1/groups/", body), status, code, USERS)
        response = await rest.post("/v1/groups/", {**owner, "members_username": {}})
        self.assertIn("members_username must be a JSON array",
                      response.json()["error"]["message"])
        # at the limits: a name of 64 bytes, three members
        body = {**owner, "name": "名" * 21, "members_username": ["bobby", "carol"]}
        self.assertJson(await rest.post("/v1/groups/", body), 201)


class ReadTests(TestCase, Checks):
    timeout = 60

    async def test_list_and_get(self):
        jim, rest = await _app(self)
        gids = [await rest.group("alice", name=f"g{i}") for i in range(3)]
        page = self.assertJson(await rest.get("/v1/groups/?start=1&count=5"))
        self.assertEqual((page["total"], page["start"], page["count"]), (3, 1, 2))
        self.assertEqual([g["gid"] for g in page["groups"]], gids[1:])
        group = self.assertJson(await rest.get(f"/v1/groups/{gids[0]}/"))
        self.assertEqual((group["gid"], group["name"]), (gids[0], "g0"))

    async def test_gids_that_are_not_groups(self):
        jim, rest = await _app(self)
        self.assertError(await rest.get("/v1/groups/99999999"), 403, 899006)
        self.assertError(await rest.get("/v1/groups/99999999/members"), 403, 899006)
        for gid in ("abc", "0", "-5", "1.5", "99999999999999999999", "%EF%BC%95", "0x10"):
            self.assertError(await rest.get(f"/v1/groups/{gid}"), 400, 899003, )
            self.assertError(await rest.get(f"/v1/groups/{gid}/members"), 400, 899003)

    async def test_members_carry_their_profiles_and_silences(self):
        jim, rest = await _app(self)
        await rest.put("/v1/users/bobby", {"nickname": "Bob", "gender": 1})
        gid = await rest.group("alice", ["bobby"])
        await rest.put(f"/v1/groups/messages/{gid}/silence?status=true", ["bobby"])
        members = self.assertJson(await rest.get(f"/v1/groups/{gid}/members"))
        self.assertEqual(members, [{"username": "alice", "flag": 1},
                                   {"username": "bobby", "nickname": "Bob", "gender": 1,
                                    "flag": 0, "silenced": True}])


class UpdateAndDissolveTests(TestCase, Checks):
    timeout = 60

    async def test_update_and_refusals(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"], name="old")
        self.assertEmpty(await rest.put(f"/v1/groups/{gid}", {"name": "new", "desc": "d"}))
        group = self.assertJson(await rest.get(f"/v1/groups/{gid}"))
        self.assertEqual((group["name"], group["desc"]), ("new", "d"))
        cases = [(gid, {}, 400, 899003), (gid, {"owner_username": "bobby"}, 400, 899003),
                 (gid, {"name": "x", "flag": 2}, 400, 899003),
                 (gid, {"name": "n" * 65}, 400, 899003), (gid, {"desc": "d" * 251}, 400, 899003),
                 (gid, {"name": 5}, 400, 899003), (gid, ["name"], 400, 899003),
                 (gid, None, 400, 899003), (99999999, {"name": "x"}, 403, 899006),
                 ("abc", {"name": "x"}, 400, 899003)]
        for target, body, status, code in cases:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.put(f"/v1/groups/{target}", body), status, code, USERS)

    async def test_dissolve(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        self.assertEmpty(await rest.delete(f"/v1/groups/{gid}"))
        self.assertError(await rest.get(f"/v1/groups/{gid}"), 403, 899006)
        self.assertEqual(self.assertJson(await rest.get("/v1/users/bobby/groups")), [])
        await self.assertRefusedChangesNothing(
            rest, lambda: rest.delete(f"/v1/groups/{gid}"), 403, 899006, USERS)
        self.assertError(await rest.delete("/v1/groups/abc"), 400, 899003)


class MemberTests(TestCase, Checks):
    timeout = 60

    async def test_add_and_remove_members(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        path = f"/v1/groups/{gid}/members"
        self.assertEmpty(await rest.post(path, {"add": ["carol", "dave1"]}))
        self.assertEmpty(await rest.post(path, {"remove": ["bobby"]}))
        self.assertEqual(_members(self.assertJson(await rest.get(path))),
                         [("alice", 1), ("carol", 0), ("dave1", 0)])
        self.assertEmpty(await rest.post(path + "/", {"add": ["bobby"], "remove": ["carol"]}))
        self.assertEqual(_members(self.assertJson(await rest.get(path))),
                         [("alice", 1), ("dave1", 0), ("bobby", 0)])

    async def test_refused_member_changes_change_nothing(self):
        jim, rest = await _app(self, group_size=3)
        gid = await rest.group("alice", ["bobby"])
        path = f"/v1/groups/{gid}/members"
        cases = [({"add": ["carol", "bobby"]}, 403, 899011),
                 ({"add": ["carol", "ghost"]}, 400, 899002),
                 ({"add": ["carol", "dave1"]}, 403, 899012),
                 ({"remove": ["bobby", "carol"]}, 403, 899014),
                 ({"remove": ["alice"]}, 403, 899003),
                 ({}, 400, 899003), ({"add": [], "remove": []}, 400, 899003),
                 ({"add": "carol"}, 400, 899003), (["carol"], 400, 899003), (None, 400, 899003),
                 # a list of another type is no empty list, even beside a good one
                 ({"add": ["carol"], "remove": 0}, 400, 899003),
                 ({"add": ["carol"], "remove": ""}, 400, 899003),
                 ({"add": ["carol"], "remove": False}, 400, 899003),
                 ({"remove": ["bobby"], "add": {}}, 400, 899003)]
        for body, status, code in cases:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.post(path, body), status, code, USERS)
        self.assertError(await rest.post("/v1/groups/99999999/members", {"add": ["carol"]}),
                         403, 899006)
        self.assertError(await rest.post("/v1/groups/99999999/members", {"remove": ["carol"]}),
                         403, 899006)

    async def test_adds_stand_when_a_remove_names_a_non_member(self):
        # reference 3.1: 899014 means "adds succeeded but some removes named users not in
        # the group": the one member call whose refusal keeps part of what it asked
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        path = f"/v1/groups/{gid}/members"
        response = await rest.post(path, {"add": ["carol"], "remove": ["bobby", "dave1"]})
        self.assertError(response, 403, 899014)
        self.assertEqual(_members(self.assertJson(await rest.get(path))),
                         [("alice", 1), ("bobby", 0), ("carol", 0)])

    async def test_the_v2_member_calls(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice")
        self.assertEmpty(await rest.post(f"/v2/groups/{gid}/addMembers", ["bobby", "carol"]))
        self.assertEmpty(await rest.post(f"/v2/groups/{gid}/delMembers/", ["bobby"]))
        self.assertEqual(_members(self.assertJson(await rest.get(f"/v1/groups/{gid}/members"))),
                         [("alice", 1), ("carol", 0)])
        cases = [("addMembers", ["carol"], 403, 899011), ("addMembers", ["ghost"], 400, 899002),
                 ("delMembers", ["bobby"], 403, 899014), ("addMembers", [], 400, 899003),
                 ("delMembers", {"remove": ["carol"]}, 400, 899003)]
        for call, body, status, code in cases:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.post(f"/v2/groups/{gid}/{call}", body), status, code)
        self.assertError(await rest.post("/v2/groups/99999999/addMembers", ["carol"]),
                         403, 899006)


class OwnerTests(TestCase, Checks):
    timeout = 60

    async def test_transfer_the_owner(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby", "carol"])
        self.assertEmpty(await rest.put(f"/v1/groups/owner/{gid}", {"username": "bobby"}))
        self.assertEqual(self.assertJson(await rest.get(f"/v1/groups/{gid}"))["owner_username"],
                         "bobby")
        members = self.assertJson(await rest.get(f"/v1/groups/{gid}/members"))
        self.assertEqual(_members(members), [("alice", 0), ("bobby", 1), ("carol", 0)])
        # Java's body names this app's key as appKey
        self.assertEmpty(await rest.put(f"/v1/groups/owner/{gid}",
                                        {"username": "carol", "appKey": rest.key}))
        self.assertEmpty(await rest.put(f"/v1/groups/owner/{gid}",
                                        {"username": "alice", "appkey": rest.key}))

    async def test_refused_transfers_change_nothing(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        path = f"/v1/groups/owner/{gid}"
        # Python's update_owner sends no body at all
        empty = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", "0")]
        await self.assertRefusedChangesNothing(
            rest, lambda: rest.put(path, body=b"", headers=empty, content_type=None), 400, 899003)
        cases = [({"username": "dave1"}, 403, 899014), ({"username": "ghost"}, 403, 899014),
                 ({"username": "bobby", "appkey": "X" * 24}, 403, 899021),
                 ({}, 400, 899003), ({"username": 5}, 400, 899003), (["bobby"], 400, 899003)]
        for body, status, code in cases:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.put(path, body), status, code, USERS)
        self.assertError(await rest.put("/v1/groups/owner/99999999", {"username": "bobby"}),
                         403, 899006)


class SilenceTests(TestCase, Checks):
    timeout = 60

    async def test_every_spelling_of_the_status(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        for value, silenced in (("True", True), ("False", False), ("true", True),
                                ("false", False), ("1", True), ("0", False)):
            path = f"/v1/groups/messages/{gid}/silence?status={value}"
            self.assertEmpty(await rest.put(path, ["bobby"]))
            members = self.assertJson(await rest.get(f"/v1/groups/{gid}/members"))
            self.assertEqual(members[1].get("silenced", False), silenced, value)

    async def test_refused_silences_change_nothing(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        base = f"/v1/groups/messages/{gid}/silence"
        cases = [("?status=true", ["bobby", "carol"], 403, 899014),
                 ("?status=true", ["ghost"], 403, 899014),
                 ("", ["bobby"], 400, 899003), ("?status=maybe", ["bobby"], 400, 899003),
                 ("?status=true", [], 400, 899003), ("?status=true", "bobby", 400, 899003),
                 ("?status=true", None, 400, 899003)]
        for query, body, status, code in cases:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.put(base + query, body), status, code, USERS)
        self.assertError(await rest.put("/v1/groups/messages/99999999/silence?status=true",
                                        ["bobby"]), 403, 899006)
