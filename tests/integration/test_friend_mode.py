"""--friend-mode: the default app's private messages go only between friends, over J-IM and
over REST alike; friendships made over REST take effect at once."""
from twisted.trial.unittest import TestCase

from tests.support.jimclient import tcp_client
from tests.support.rest import Checks, start_rest


class FriendModeTests(TestCase, Checks):
    timeout = 60

    async def _clients(self, jim, *names):
        clients = []
        for name in names:
            client = await tcp_client(jim.port, testcase=self)
            await client.login(name)
            clients.append(client)
        return clients

    async def test_strangers_cannot_write_to_each_other_friends_can(self):
        jim, rest = await start_rest(self, friend_mode=True)
        await rest.register("alice", "bobby")
        alice, bobby = await self._clients(jim, "alice", "bobby")
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "hi", "id": "c1"})
        refused = await alice.expect(12)
        self.assertEqual((refused["code"], refused["data"]), (10002, {"clientId": "c1"}))
        self.assertIn("not friends", refused["detail"])
        self.assertEqual((await rest.post("/v1/users/alice/friends", ["bobby"])).status, 201)
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "now", "id": "c2"})
        self.assertEqual((await alice.expect(12))["code"], 10000)
        self.assertEqual((await bobby.expect(11))["data"]["content"], "now")
        # ended over REST: refused again at once
        self.assertEqual((await rest.delete("/v1/users/bobby/friends", ["alice"])).status, 204)
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "again"})
        self.assertEqual((await alice.expect(12))["code"], 10002)

    async def test_off_by_default(self):
        jim, rest = await start_rest(self)
        await rest.register("alice", "bobby")
        alice, bobby = await self._clients(jim, "alice", "bobby")
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "bobby", "content": "hi"})
        self.assertEqual((await alice.expect(12))["code"], 10000)

    async def test_the_setting_is_kept_with_the_app_and_follows_the_option(self):
        jim, rest = await start_rest(self, friend_mode=True)
        app = await jim.store.apps.get_app(jim.core.accounts.default_app)
        self.assertTrue(app.friend_mode)
        data = jim.config.data
        await jim.stopService()
        again, _ = await start_rest(self, data=data)
        app = await again.store.apps.get_app(again.core.accounts.default_app)
        self.assertFalse(app.friend_mode)
