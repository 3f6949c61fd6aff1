"""``/v1/users`` and ``/v1/admins`` over HTTP (reference 2.1): every route's answer, every
refusal the reference names with its code and status, and that a refusal changes nothing."""
from twisted.trial.unittest import TestCase

from tests.support.jimclient import tcp_client, ws_client
from tests.support.rest import Checks, start_rest

TIME = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"


def entry(name, password="secret", **profile):
    return {"username": name, "password": password, **profile}


class RegisterTests(TestCase, Checks):
    timeout = 60

    async def test_register_answers_each_entry_in_order(self):
        jim, rest = await start_rest(self)
        response = await rest.post("/v1/users/", [entry("alice"), entry("bobby")])
        self.assertEqual(self.assertJson(response, 201),
                         [{"username": "alice"}, {"username": "bobby"}])
        # a mix: 201, and each failed entry carries its own error
        response = await rest.post("/v1/users/", [entry("carol"), entry("alice"), entry("x"),
                                                  entry("dave1", password="pw"), "notanobject"])
        answers = self.assertJson(response, 201)
        self.assertEqual(answers[0], {"username": "carol"})
        self.assertEqual(answers[1], {"username": "alice",
                                      "error": {"code": 899001, "message": "user exist"}})
        self.assertEqual((answers[2]["username"], answers[2]["error"]["code"]), ("x", 899003))
        self.assertEqual((answers[3]["username"], answers[3]["error"]["code"]), ("dave1", 899003))
        self.assertEqual(answers[4]["error"]["code"], 899003)
        self.assertEqual(len(answers), 5)
        listed = self.assertJson(await rest.get("/v1/users/?start=0&count=10"))
        self.assertEqual([u["username"] for u in listed["users"]], ["alice", "bobby", "carol"])

    async def test_register_where_every_entry_fails_is_a_403_with_the_array(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        response = await rest.post("/v1/users/", [entry("alice"), entry("_bad")])
        answers = self.assertJson(response, 403)
        self.assertEqual([a["error"]["code"] for a in answers], [899001, 899003])

    async def test_register_keeps_the_profile(self):
        jim, rest = await start_rest(self)
        profile = dict(nickname="Alice", avatar="qiniu/image/j/A.jpg", birthday="1990-02-03",
                       signature="hi", gender=2, region="Paris", address="1 rue",
                       extras={"vip": True, "n": 1})
        await rest.register("alice", **profile)
        found = self.assertJson(await rest.get("/v1/users/alice"))
        self.assertRegex(found.pop("ctime"), TIME)
        self.assertRegex(found.pop("mtime"), TIME)
        self.assertEqual(found, {"username": "alice", **profile,
                                 "birthday": "1990-02-03 00:00:00"})
        # unset fields are left out
        await rest.register("bobby")
        self.assertEqual(sorted(self.assertJson(await rest.get("/v1/users/bobby"))),
                         ["ctime", "mtime", "username"])

    async def test_a_name_in_the_path_over_128_bytes_is_refused_not_echoed(self):
        jim, rest = await start_rest(self)
        for path in (f"/v1/users/{'x' * 5000}", f"/v1/users/{'%C3%A9' * 65}/groups",
                     f"/v1/users/{'x' * 129}/friends"):
            response = await rest.get(path)
            self.assertError(response, 400, 899003)
            self.assertLess(len(response.body), 200, "the name is not echoed")
        self.assertError(await rest.get(f"/v1/users/{'x' * 128}"), 403, 899002)

    async def test_usernames_and_passwords_at_their_limits(self):
        jim, rest = await start_rest(self)
        good = ["abcd", "a" * 128, "0abc", "a_b.c-d@e", "Zz09"]
        bad = ["abc", "a" * 129, "_abc", ".abc", "-abc", "@abc", "ab cd", "用户名字", "abc\n",
               "", 1234, None]
        response = await rest.post("/v1/users/", [entry(n) for n in good + bad])
        answers = self.assertJson(response, 201)
        self.assertEqual(answers[:len(good)], [{"username": n} for n in good])
        for answer in answers[len(good):]:
            self.assertEqual(answer["error"]["code"], 899003, answer)
        passwords = {"pass4": "abcd", "pass128": "p" * 128, "passcjk": "密码",
                     "pass3": "abc", "pass129": "p" * 129, "passnone": None, "passnum": 1234}
        response = await rest.post("/v1/users/", [entry(n, p) for n, p in passwords.items()])
        codes = [a.get("error", {}).get("code") for a in self.assertJson(response, 201)]
        self.assertEqual(codes, [None, None, None, 899003, 899003, 899003, 899003])
        listed = self.assertJson(await rest.get("/v1/users?count=500"))
        self.assertEqual(listed["total"], len(good) + 3)

    async def test_a_bad_profile_field_refuses_that_entry_only(self):
        jim, rest = await start_rest(self)
        bad_profiles = [dict(gender=3), dict(gender="1"), dict(birthday="1990-13-01"),
                        dict(birthday="03/02/1990"), dict(nickname="n" * 65),
                        dict(nickname="two\nlines"), dict(signature="s" * 251),
                        dict(extras=[1]), dict(extras={"k": "v" * 600})]
        entries = [entry(f"user{i}", **p) for i, p in enumerate(bad_profiles)]
        response = await rest.post("/v1/users/", entries + [entry("okay", nickname="n" * 64)])
        answers = self.assertJson(response, 201)
        self.assertEqual([a.get("error", {}).get("code") for a in answers],
                         [899003] * len(bad_profiles) + [None])
        self.assertEqual(self.assertJson(await rest.get("/v1/users?count=50"))["total"], 1)

    async def test_register_batch_limits_and_shapes(self):
        jim, rest = await start_rest(self)
        response = await rest.post("/v1/users/", [entry(f"user{i:03}") for i in range(501)])
        self.assertError(response, 403, 899013)
        self.assertEqual(self.assertJson(await rest.get("/v1/users?count=5"))["total"], 0)
        for body in ([], {}, entry("alice"), "alice", None):
            self.assertError(await rest.post("/v1/users/", body), 400, 899003)
        self.assertError(await rest.post("/v1/users/", body=b""), 400, 899003)
        self.assertEqual(self.assertJson(await rest.get("/v1/users?count=5"))["total"], 0)
        response = await rest.post("/v1/users/", [entry(f"user{i:03}", "pw12") for i in range(500)])
        self.assertEqual(len(self.assertJson(response, 201)), 500)


class AdminTests(TestCase, Checks):
    timeout = 60

    async def test_an_admin_registers_from_an_object_or_from_pythons_array(self):
        jim, rest = await start_rest(self)
        self.assertEmpty(await rest.post("/v1/admins/", entry("admin1")), 201)
        response = await rest.post("/v1/admins/", [entry("admin2")])
        self.assertEqual(self.assertJson(response, 201), [{"username": "admin2"}])
        admins = self.assertJson(await rest.get("/v1/admins/?start=0&count=10"))
        self.assertEqual((admins["total"], admins["start"], admins["count"]), (2, 0, 2))
        self.assertEqual([a["username"] for a in admins["users"]], ["admin1", "admin2"])
        # admins are not listed among users
        self.assertEqual(self.assertJson(await rest.get("/v1/users/?count=10"))["total"], 0)
        self.assertJson(await rest.get("/v1/users/admin1"))

    async def test_admin_refusals(self):
        jim, rest = await start_rest(self)
        await rest.admin("admin1")
        await rest.register("alice")
        cases = [(entry("admin1"), 403, 899001), (entry("alice"), 403, 899001),
                 (entry("ab"), 400, 899003), (entry("admin3", "abc"), 400, 899003),
                 ("admin3", 400, 899003), (None, 400, 899003)]
        for body, status, code in cases:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.post("/v1/admins/", body), status, code)
        response = await rest.post("/v1/admins/", [entry("admin1"), entry("alice")])
        self.assertEqual([a["error"]["code"] for a in self.assertJson(response, 403)],
                         [899001, 899001])
        self.assertError(await rest.post("/v1/admins/", []), 400, 899003)
        too_many = [entry(f"admin{i:03}") for i in range(501)]
        await self.assertRefusedChangesNothing(
            rest, lambda: rest.post("/v1/admins/", too_many), 403, 899013)


class ListTests(TestCase, Checks):
    timeout = 60

    async def test_pages_of_users(self):
        jim, rest = await start_rest(self)
        await rest.register("user1", "user2", "user3")
        page = self.assertJson(await rest.get("/v1/users/?start=1&count=1"))
        self.assertEqual((page["total"], page["start"], page["count"]), (3, 1, 1))
        self.assertEqual([u["username"] for u in page["users"]], ["user2"])
        self.assertRegex(page["users"][0]["ctime"], TIME)
        page = self.assertJson(await rest.get("/v1/users?start=3&count=500"))
        self.assertEqual((page["total"], page["start"], page["count"], page["users"]),
                         (3, 3, 0, []))
        page = self.assertJson(await rest.get("/v1/users?count=2"))  # start defaults to 0
        self.assertEqual(page["start"], 0)

    async def test_bad_pages_are_400(self):
        jim, rest = await start_rest(self)
        for query in ("", "?start=0", "?count=0", "?count=501", "?start=-1&count=5",
                      "?count=abc", "?count=5.0", "?count=%EF%BC%95", "?start=--1&count=5",
                      "?count=99999999999999999999", "?start=9999999999999999999&count=5"):
            for path in ("/v1/users", "/v1/admins", "/v1/groups"):
                self.assertError(await rest.get(path + query), 400, 899003)


class ProfileTests(TestCase, Checks):
    timeout = 60

    async def test_get_and_update_a_profile(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        self.assertEmpty(await rest.put("/v1/users/alice", {"nickname": "Al", "gender": 1,
                                                             "extras": {"a": 1}}))
        found = self.assertJson(await rest.get("/v1/users/alice"))
        self.assertEqual((found["nickname"], found["gender"], found["extras"]),
                         ("Al", 1, {"a": 1}))
        self.assertEmpty(await rest.put("/v1/users/alice/", {"signature": "new"}))
        found = self.assertJson(await rest.get("/v1/users/alice"))
        self.assertEqual((found["nickname"], found["signature"]), ("Al", "new"))

    async def test_update_refusals_change_nothing(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", nickname="Al")
        cases = [({"password": "newpass"}, 400, 899003), ({"username": "other"}, 400, 899003),
                 ({"nickname": "n" * 65}, 400, 899003), ({"gender": 7}, 400, 899003),
                 ({"nickname": "ok", "gender": 7}, 400, 899003), (["nickname"], 400, 899003),
                 (None, 400, 899003), ({}, 400, 899003),
                 ({"nickname": "ok", "bogus": 1}, 400, 899003)]
        for body, status, code in cases:
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.put("/v1/users/alice", body), status, code, ["alice"])
        await self.assertRefusedChangesNothing(
            rest, lambda: rest.put("/v1/users/nobody", {"nickname": "x"}), 403, 899002,
            ["alice"])
        self.assertError(await rest.get("/v1/users/nobody"), 403, 899002)

    async def test_an_update_refusal_says_what_was_wrong_before_the_user_is_looked_up(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        for name in ("alice", "nobody"):
            response = await rest.put(f"/v1/users/{name}", {"password": "newpass"})
            self.assertError(response, 400, 899003)
            self.assertIn("password is not a profile field",
                          response.json()["error"]["message"])
            response = await rest.put(f"/v1/users/{name}", {})
            self.assertError(response, 400, 899003)
            self.assertIn("name the profile fields to change",
                          response.json()["error"]["message"])


class DeleteTests(TestCase, Checks):
    timeout = 60

    async def test_delete_one_user(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", "bobby")
        gid = await rest.group("alice", ["bobby"])
        self.assertEmpty(await rest.post("/v1/users/alice/friends", ["bobby"]), 201)
        self.assertEmpty(await rest.delete("/v1/users/bobby"))
        self.assertError(await rest.get("/v1/users/bobby"), 403, 899002)
        self.assertEqual(self.assertJson(await rest.get("/v1/users/alice/friends")), [])
        members = self.assertJson(await rest.get(f"/v1/groups/{gid}/members"))
        self.assertEqual([m["username"] for m in members], ["alice"])
        await self.assertRefusedChangesNothing(
            rest, lambda: rest.delete("/v1/users/bobby"), 403, 899002, ["alice"])

    async def test_delete_users_in_a_batch(self):
        jim, rest = await start_rest(self)
        await rest.register("user1", "user2", "user3")
        # a DELETE with a JSON body (Java, PHP, C#); unknown names are skipped
        self.assertEmpty(await rest.delete("/v1/users/", ["user1", "ghost", "user2"]))
        listed = self.assertJson(await rest.get("/v1/users?count=10"))
        self.assertEqual([u["username"] for u in listed["users"]], ["user3"])
        too_many = [f"user{i}" for i in range(101)]
        await self.assertRefusedChangesNothing(
            rest, lambda: rest.delete("/v1/users", too_many), 403, 899013)
        for body in ({"users": ["user3"]}, [], [3], None):
            await self.assertRefusedChangesNothing(
                rest, lambda: rest.delete("/v1/users", body), 400, 899003)


class PasswordTests(TestCase, Checks):
    timeout = 60

    async def _login_code(self, jim, name, password):
        client = await tcp_client(jim.port, testcase=self)
        reply = await client.request(5, {"cmd": 5, "userId": name, "password": password}, 6)
        return reply["code"]

    async def test_a_new_password_replaces_the_old(self):
        jim, rest = await start_rest(self, open_registration=False)
        await rest.register("alice", password="oldpass")
        self.assertEmpty(await rest.put("/v1/users/alice/password", {"new_password": "newpass"}))
        self.assertEqual(await self._login_code(jim, "alice", "newpass"), 10007)
        self.assertEqual(await self._login_code(jim, "alice", "oldpass"), 10008)

    async def test_refused_password_changes_keep_the_old_password(self):
        jim, rest = await start_rest(self, open_registration=False)
        await rest.register("alice", password="oldpass")
        cases = [("alice", {"new_password": "abc"}, 400, 899003),
                 ("alice", {"new_password": "p" * 129}, 400, 899003),
                 ("alice", {"password": "newpass"}, 400, 899003),
                 ("alice", {"new_password": 12345}, 400, 899003),
                 ("alice", None, 400, 899003),
                 ("nobody", {"new_password": "newpass"}, 403, 899002)]
        for name, body, status, code in cases:
            response = await rest.put(f"/v1/users/{name}/password", body)
            self.assertError(response, status, code)
        self.assertEqual(await self._login_code(jim, "alice", "oldpass"), 10007)


class StateTests(TestCase, Checks):
    timeout = 60

    async def test_userstat_of_one_user(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        self.assertEqual(self.assertJson(await rest.get("/v1/users/alice/userstat")),
                         {"login": False, "online": False})
        client = await tcp_client(jim.port, testcase=self)
        await client.login("alice")
        self.assertEqual(self.assertJson(await rest.get("/v1/users/alice/userstat")),
                         {"login": True, "online": True})
        self.assertError(await rest.get("/v1/users/nobody/userstat"), 403, 899002)

    async def test_userstat_of_several_users_lists_their_devices(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", "bobby")
        tcp = await tcp_client(jim.port, testcase=self)
        await tcp.login("alice")
        ws = await ws_client(jim.port, testcase=self)
        await ws.login("alice")
        states = self.assertJson(await rest.post("/v1/users/userstat", ["alice", "bobby"]))
        self.assertEqual([s["username"] for s in states], ["alice", "bobby"])
        self.assertEqual(sorted(d["platform"] for d in states[0]["devices"]), ["j", "w"])
        self.assertTrue(all(d["online"] and d["login"] for d in states[0]["devices"]))
        self.assertEqual(states[1]["devices"], [])
        self.assertError(await rest.post("/v1/users/userstat", ["alice", "nobody"]), 403, 899002)
        for body in ({"users": ["alice"]}, [], None, [1]):
            self.assertError(await rest.post("/v1/users/userstat", body), 400, 899003)

    async def test_a_users_groups(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", "bobby")
        self.assertEqual(self.assertJson(await rest.get("/v1/users/alice/groups/")), [])
        gid = await rest.group("bobby", ["alice"], name="g1")
        groups = self.assertJson(await rest.get("/v1/users/alice/groups"))
        self.assertEqual([(g["gid"], g["name"], g["owner_username"]) for g in groups],
                         [(gid, "g1", "bobby")])
        self.assertError(await rest.get("/v1/users/nobody/groups"), 403, 899002)


class ForbiddenTests(TestCase, Checks):
    timeout = 60

    async def _login_code(self, jim, name):
        client = await tcp_client(jim.port, testcase=self)
        reply = await client.request(5, {"cmd": 5, "userId": name, "password": "secret"}, 6)
        return reply["code"]

    async def test_every_spelling_of_the_flag(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        spellings = [("True", 10008), ("False", 10007), ("true", 10008), ("false", 10007),
                     ("1", 10008), ("0", 10007), ("TRUE", 10008), ("FALSE", 10007)]
        for value, login in spellings:
            self.assertEmpty(await rest.put(f"/v1/users/alice/forbidden?disable={value}"))
            self.assertEqual(await self._login_code(jim, "alice"), login, value)

    async def test_bad_flags_and_unknown_users_change_nothing(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        for query in ("", "?disable=", "?disable=yes", "?disable=2", "?status=true",
                      "?disable=%FF"):
            response = await rest.put(f"/v1/users/alice/forbidden{query}")
            self.assertError(response, 400, 899003)
        self.assertEqual(await self._login_code(jim, "alice"), 10007)
        self.assertError(await rest.put("/v1/users/nobody/forbidden?disable=true"), 403, 899002)


class AnswerTests(TestCase, Checks):
    timeout = 60

    async def test_every_answer_may_not_be_cached(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        answers = [await rest.get("/v1/users/alice"),
                   await rest.post("/v1/admins", entry("admin1")),
                   await rest.put("/v1/users/alice", {"nickname": "Al"}),
                   await rest.put("/v1/users/alice", {}),
                   await rest.get("/v1/users/nobody"),
                   await rest.get("/v1/users/alice", auth=False),
                   await rest.get("/v1/nothing/here")]
        self.assertEqual([a.status for a in answers], [200, 201, 204, 400, 403, 401, 404])
        for answer in answers:
            self.assertEqual(answer.headers.get("cache-control"), ["no-store"], answer)

    async def test_an_unexpected_failure_is_a_500_and_jim_keeps_serving(self):
        jim, rest = await start_rest(self)
        await rest.register("alice")
        store = jim.core.users.store
        working = store.list_users
        failed = []

        def failing_once(*args, **kwargs):
            if not failed:
                failed.append(args)
                raise RuntimeError("the store broke (simulated)")
            return working(*args, **kwargs)

        self.patch(store, "list_users", failing_once)
        response = await rest.get("/v1/users?count=10")
        self.assertError(response, 500, 899000)
        self.assertNotIn("simulated", response.json()["error"]["message"])  # no internals
        self.assertEqual(response.headers.get("cache-control"), ["no-store"])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)  # logged, traceback too
        # the same call and the others are served again
        listed = self.assertJson(await rest.get("/v1/users?count=10"))
        self.assertEqual([u["username"] for u in listed["users"]], ["alice"])
        self.assertEmpty(await rest.put("/v1/users/alice", {"nickname": "Al"}))
        self.assertEqual(self.assertJson(await rest.get("/v1/users/alice"))["nickname"], "Al")
