"""The Web SDK's signed configuration over real sockets (docs/web-sdk.md): a page's signature,
made as an app server makes it, configures a WebSocket or TCP connection for its app; a wrong,
old or replayed one is refused with the SDK's own code and changes nothing; an app the
administrator creates can be signed for at once; on a cluster a random string is used once
whichever node sees it."""
import hashlib
import time

from twisted.trial.unittest import TestCase

from tests.integration.test_admin_apps import ADMIN, Admin
from tests.integration.test_cluster import ClusterCase, KEY, SECRET
from tests.support.inprocess import start_jim
from tests.support.jimclient import tcp_client, ws_client
from tests.support.rest import default_credentials


def signed(app, secret, random, ms=None, form="v2"):
    """A configuration as an app server signs it (the seed's Java sample, JMessage's v2)."""
    ms = int(time.time() * 1000) if ms is None else ms
    if form == "v1":
        seconds = ms // 1000
        text = f"appKey={app}&timestamp={seconds}&randomStr={random}&masterSecrect={secret}"
        return {"cmd": 109, "appKey": app, "timestamp": str(seconds), "randomStr": random,
                "signature": hashlib.md5(text.encode()).hexdigest().upper()}
    text = f"appkey={app}&timestamp={ms}&random_str={random}&key={secret}"
    return {"cmd": 109, "appkey": app, "timestamp": str(ms), "random_str": random,
            "signature": hashlib.md5(text.encode()).hexdigest()}


class ConfigTests(TestCase):
    timeout = 60

    async def configure(self, client, config):
        return await client.request(109, config, 110)

    async def test_a_signed_page_logs_in_to_its_app(self):
        jim = await start_jim(self, open_registration=True)
        key, secret = default_credentials(jim)
        page = await ws_client(jim.port, testcase=self)
        reply = await self.configure(page, signed(key, secret, "random-0123456789ab"))
        self.assertEqual((reply["code"], reply["data"]), (10000, {"appKey": key, "form": "v2"}))
        login = await page.request(5, {"cmd": 5, "userId": "alice", "password": "secret"}, 6)
        self.assertEqual(login["code"], 10007)
        # the v1 form, over TCP
        old = await tcp_client(jim.port, testcase=self)
        reply = await self.configure(old, signed(key, secret, "uuid-0123456789", form="v1"))
        self.assertEqual((reply["code"], reply["data"]["form"]), (10000, "v1"))

    async def test_refusals_carry_the_sdks_codes_and_change_nothing(self):
        jim = await start_jim(self, open_registration=True)
        key, secret = default_credentials(jim)
        page = await ws_client(jim.port, testcase=self)
        now = int(time.time() * 1000)
        cases = [
            (signed(key, "wrong-secret", "random-0123456789ab"), 880102),
            (signed(key, secret, "random-0123456789ac", ms=now - 11 * 60 * 1000), 880106),
            (signed(key, "wrong-secret", "uuid-0123456789", form="v1"), 872004),
            (signed(key, secret, "uuid-0123456780", ms=now - 11 * 60 * 1000, form="v1"),
             872005),
            (signed("NoSuchApp000000000000001", secret, "random-0123456789ad"), 880102),
            ({"cmd": 109, "appkey": key}, 880102),
        ]
        for config, code in cases:
            reply = await self.configure(page, config)
            self.assertEqual((reply["code"], reply["data"]["code"]), (10020, code), config)
            self.assertIn("detail", reply)
        # the connection stays usable, unconfigured: a good signature still works on it
        good = signed(key, secret, "random-0123456789ae")
        self.assertEqual((await self.configure(page, good))["code"], 10000)
        # and is used once: another connection replaying it is refused
        other = await ws_client(jim.port, testcase=self)
        replay = await self.configure(other, good)
        self.assertEqual((replay["code"], replay["data"]["code"]), (10020, 880102))
        self.assertIn("used already", replay["detail"])

    async def test_a_configured_connection_logs_in_to_that_app_only(self):
        jim = await start_jim(self, admin_secret=ADMIN, open_registration=True)
        admin = Admin(jim)
        shop = await admin.create(name="Shop", sdk_register=True)
        page = await ws_client(jim.port, testcase=self)
        reply = await self.configure(page, signed(shop.key, shop.secret, "random-0123456789af"))
        self.assertEqual(reply["code"], 10000, "a new app's secret is kept sealed at once")
        key, _ = default_credentials(jim)
        refused = await page.request(5, {"cmd": 5, "userId": "alice", "password": "secret",
                                         "appKey": key}, 6)
        self.assertEqual(refused["code"], 10008)
        again = await ws_client(jim.port, testcase=self)
        await self.configure(again, signed(shop.key, shop.secret, "random-0123456789ag"))
        login = await again.request(5, {"cmd": 5, "userId": "alice", "password": "secret"}, 6)
        self.assertEqual(login["code"], 10007)
        users = (await shop.get("/v1/users?start=0&count=10")).json()["users"]
        self.assertEqual([u["username"] for u in users], ["alice"], "registered in the shop")
        # a rotated secret: the old one signs nothing any more
        late = await self.configure(again, signed(shop.key, shop.secret, "random-0123456789aj"))
        self.assertEqual(late["code"], 10020, "a configuration comes before the login")
        rotated = (await admin.post(f"/admin/v1/apps/{shop.key}/secret", {})).json()
        stale = await self.configure(await ws_client(jim.port, testcase=self),
                                     signed(shop.key, shop.secret, "random-0123456789ah"))
        self.assertEqual(stale["data"]["code"], 880102)
        fresh = await ws_client(jim.port, testcase=self)
        ok = await self.configure(fresh, signed(shop.key, rotated["masterSecret"],
                                                "random-0123456789ai"))
        self.assertEqual(ok["code"], 10000)


class SealedSecretTests(TestCase):
    timeout = 60

    async def test_a_default_app_from_before_is_sealed_at_the_next_start(self):
        jim = await start_jim(self)
        key, secret = default_credentials(jim)
        data = jim.config.data
        await jim.store.apps.update_app(key, {"secret_box": None})  # as an older jim kept it
        refused = await (await ws_client(jim.port, testcase=self)).request(
            109, signed(key, secret, "random-0123456789ba"), 110)
        self.assertEqual(refused["data"]["code"], 880102)
        await jim.stopService()
        again = await start_jim(self, data=data)
        reply = await (await ws_client(again.port, testcase=self)).request(
            109, signed(key, secret, "random-0123456789bb"), 110)
        self.assertEqual(reply["code"], 10000)
        kept = await again.store.apps.get_app(key)
        self.assertNotIn(secret, kept.secret_box)


class ClusterConfigTests(ClusterCase):
    timeout = 90

    async def test_a_random_string_is_used_once_across_nodes(self):
        nodes, _ = await self.cluster(2)
        config = signed(KEY, SECRET, "random-0123456789zz")
        first = await ws_client(nodes[0].port, testcase=self)
        self.assertEqual((await first.request(109, config, 110))["code"], 10000)
        second = await ws_client(nodes[1].port, testcase=self)
        replay = await second.request(109, config, 110)
        self.assertEqual((replay["code"], replay["data"]["code"]), (10020, 880102))
