"""Sensitive words and the SDK registration switch over HTTP (reference 2.7): the list, its
refusals (each changing nothing), the filter masking texts sent over J-IM TCP, WebSocket and
REST while it is on, the switch deciding whether a login registers; on a cluster, a word added
on one node masks a chat sent through another at once."""
from twisted.trial.unittest import TestCase

from tests.integration.test_cluster import ClusterCase
from tests.integration.test_rest_live import Clients
from tests.support.jimclient import tcp_client
from tests.support.rest import Checks, start_rest


async def _app(testcase, **config):
    jim, rest = await start_rest(testcase, **config)
    await rest.register("alice", "bobby")
    await rest.admin("admin1")
    return jim, rest


class WordListTests(TestCase, Checks):
    timeout = 60

    async def words(self, rest):
        listed = self.assertJson(await rest.get("/v1/sensitiveword/?start=0&count=2000"))
        return [w["name"] for w in listed["words"]]

    async def test_add_list_replace_remove(self):
        jim, rest = await _app(self)
        self.assertEqual(self.assertJson(await rest.get("/v1/sensitiveword?start=0&count=10")),
                         {"start": 0, "count": 0, "total": 0, "words": []})
        self.assertEmpty(await rest.post("/v1/sensitiveword/", ["fool", "坏蛋", "idiot"]))
        self.assertEmpty(await rest.post("/v1/sensitiveword", ["fool", "jerk"]))  # fool kept
        page = self.assertJson(await rest.get("/v1/sensitiveword?start=1&count=2"))
        self.assertEqual((page["start"], page["count"], page["total"]), (1, 2, 4))
        self.assertEqual([w["name"] for w in page["words"]], ["坏蛋", "idiot"])
        self.assertRegex(page["words"][0]["itime"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        self.assertEmpty(await rest.put("/v1/sensitiveword",
                                        {"old_word": "idiot", "new_word": "dolt"}))
        self.assertEmpty(await rest.delete("/v1/sensitiveword", {"word": "坏蛋"}))
        self.assertEqual(await self.words(rest), ["fool", "dolt", "jerk"])

    async def test_refusals_change_nothing(self):
        jim, rest = await _app(self, limits={"sensitive_words": 3})
        await rest.post("/v1/sensitiveword", ["fool", "jerk"])
        cases = [
            (lambda: rest.post("/v1/sensitiveword", ["a", "b"]), 403, 899013),  # 4 > 3
            (lambda: rest.post("/v1/sensitiveword", ["a", "b", "c", "d"]), 403, 899013),
            (lambda: rest.post("/v1/sensitiveword", ["elevenchars"]), 400, 899003),
            (lambda: rest.post("/v1/sensitiveword", [""]), 400, 899003),
            (lambda: rest.post("/v1/sensitiveword", ["  "]), 400, 899003),
            (lambda: rest.post("/v1/sensitiveword", ["a\nb"]), 400, 899003),
            (lambda: rest.post("/v1/sensitiveword", [7]), 400, 899003),
            (lambda: rest.post("/v1/sensitiveword", []), 400, 899003),
            (lambda: rest.post("/v1/sensitiveword", {"word": "x"}), 400, 899003),
            (lambda: rest.put("/v1/sensitiveword", {"old_word": "nope", "new_word": "x"}), 404,
             899003),
            (lambda: rest.put("/v1/sensitiveword", {"old_word": "fool"}), 400, 899003),
            (lambda: rest.put("/v1/sensitiveword", {"old_word": "fool", "new_word": "x",
                                                    "other": 1}), 400, 899003),
            (lambda: rest.delete("/v1/sensitiveword", {"word": "nope"}), 404, 899003),
            (lambda: rest.delete("/v1/sensitiveword", ["fool"]), 400, 899003),
            (lambda: rest.get("/v1/sensitiveword?start=0&count=2001"), 400, 899003),
            (lambda: rest.get("/v1/sensitiveword?start=-1&count=1"), 400, 899003),
            (lambda: rest.put("/v1/sensitiveword/status?status=maybe"), 400, 899003),
            (lambda: rest.put("/v1/sensitiveword/status"), 400, 899003),
            (lambda: rest.put("/v1/sdkregister/status?status=2"), 400, 899003),
        ]
        for call, status, code in cases:
            self.assertError(await call(), status, code)
        self.assertEqual(await self.words(rest), ["fool", "jerk"])
        self.assertEqual(self.assertJson(await rest.get("/v1/sensitiveword/status")),
                         {"status": 0})


class FilterTests(TestCase, Checks, Clients):
    timeout = 60

    async def test_words_are_masked_on_every_front_end_while_the_filter_is_on(self):
        jim, rest = await _app(self)
        alice = await self.tcp(jim, "alice")
        bobby = await self.ws(jim, "bobby")
        await rest.post("/v1/sensitiveword", ["fool", "坏蛋"])
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "you Fool"})
        self.assertEqual((await self.chat(bobby))["content"], "you Fool", "the filter is off")
        self.assertEmpty(await rest.put("/v1/sensitiveword/status?status=True"))
        self.assertEqual(self.assertJson(await rest.get("/v1/sensitiveword/status")),
                         {"status": 1})
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "you FOOL, 坏蛋!"})
        self.assertEqual((await self.chat(bobby))["content"], "you ****, **!")
        bobby.send(11, {"cmd": 11, "chatType": 2, "to": "alice", "content": "foolish"})
        self.assertEqual((await self.chat(alice))["content"], "****ish")
        await rest.send("admin1", "bobby", "a fool's errand")
        self.assertEqual((await self.chat(bobby))["content"], "a ****'s errand")
        # stored masked: history has what was delivered
        history = await self.fetch(bobby, "bobby", kind=1, fromUserId="alice")
        self.assertEqual(history["alice"], ["you Fool", "you ****, **!", "****ish"])
        # a word added now masks the next text; other message types are left as they are
        self.assertEmpty(await rest.post("/v1/sensitiveword", ["errand"]))
        await rest.send("admin1", "bobby", "errand")
        self.assertEqual((await self.chat(bobby))["content"], "******")
        self.assertEmpty(await rest.put("/v1/sensitiveword/status?status=0"))
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "fool again"})
        self.assertEqual((await self.chat(bobby))["content"], "fool again")


class RegistrationTests(TestCase, Checks):
    timeout = 60

    async def login(self, jim, name):
        client = await tcp_client(jim.port, testcase=self)
        return await client.request(5, {"cmd": 5, "userId": name, "password": "pw1234"}, 6)

    async def test_the_switch_decides_whether_a_login_registers(self):
        jim, rest = await _app(self, open_registration=False)
        self.assertEqual(self.assertJson(await rest.get("/v1/sdkregister/status")),
                         {"status": 0}, "the server's default")
        self.assertEqual((await self.login(jim, "newbie1"))["code"], 10008)
        self.assertEmpty(await rest.put("/v1/sdkregister/status?status=1"))
        self.assertEqual(self.assertJson(await rest.get("/v1/sdkregister/status")),
                         {"status": 1})
        self.assertEqual((await self.login(jim, "newbie1"))["code"], 10007)
        self.assertEqual((await rest.get("/v1/users/newbie1")).status, 200)
        self.assertEmpty(await rest.put("/v1/sdkregister/status?status=false"))
        self.assertEqual((await self.login(jim, "newbie2"))["code"], 10008)
        self.assertEqual((await rest.get("/v1/users/newbie2")).status, 403)


class ClusterWordTests(ClusterCase):
    async def test_a_word_added_on_one_node_masks_at_once_on_another(self):
        (a, b), rests = await self.cluster(2)
        await rests[0].register("alice", "bobby")
        alice = await self.tcp(b, "alice")
        bobby = await self.tcp(a, "bobby")
        self.assertEmpty(await rests[0].put("/v1/sensitiveword/status?status=1"))
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "hi fool"})
        self.assertEqual((await self.chat(bobby))["content"], "hi fool", "no words yet")
        self.assertEmpty(await rests[0].post("/v1/sensitiveword", ["fool"]))
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "hi fool"})
        self.assertEqual((await self.chat(bobby))["content"], "hi ****")
        self.assertEmpty(await rests[1].put("/v1/sensitiveword/status?status=0"))
        bobby.send(11, {"cmd": 11, "chatType": 2, "to": "alice", "content": "fool"})
        self.assertEqual((await self.chat(alice))["content"], "fool")
