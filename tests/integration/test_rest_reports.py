"""The Report API v2 over HTTP (reference 2.8): an app's messages by window, per user, group
and chat room, in pages a cursor continues; the statistics; every bad question refused with
899003; another app sees nothing of this one's."""
import datetime
import urllib.parse

from twisted.trial.unittest import TestCase

from tests.support.jimclient import tcp_client
from tests.support.rest import Checks, second_app, start_rest


def stamp(ms, form="%Y-%m-%d %H:%M:%S"):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime(form)


def window(begin_ms, end_ms, count, plus=False):
    """The query of a window, URL-encoded (C{plus}: a space as "+", as some clients send)."""
    query = urllib.parse.urlencode({"begin_time": stamp(begin_ms), "end_time": stamp(end_ms),
                                    "count": count})
    return query if plus else query.replace("+", "%20")


class ReportCase(TestCase, Checks):
    timeout = 60

    async def app(self):
        jim, rest = await start_rest(self)
        for name in ("alice", "bobby", "carol"):  # the REST API sends in an admin's name
            await rest.admin(name)
            self.assertEmpty(await rest.put(f"/v1/users/{name}", {"nickname": "Nick"}))
        self.now = int(jim.core.clock.seconds() * 1000)
        return jim, rest

    async def everything(self, rest, path, query):
        """Every page of a question, following its cursors: (total, messages)."""
        page = self.assertJson(await rest.get(f"{path}?{query}"))
        listed = list(page["messages"])
        total = page["total"]
        while "cursor" in page:
            self.assertEqual(page["count"], len(page["messages"]))
            page = self.assertJson(await rest.get(f"{path}?cursor={page['cursor']}"))
            self.assertEqual(page["total"], total)
            listed.extend(page["messages"])
        return total, listed


class MessageReportTests(ReportCase):
    async def test_the_apps_messages_in_pages_oldest_first(self):
        jim, rest = await self.app()
        gid = await rest.group("alice", ["bobby"], name="Team")
        ids = [(await rest.send("alice", "bobby", f"m{n}"))["msg_id"] for n in range(5)]
        ids.append((await rest.send("bobby", str(gid), "to the group",
                                    target_type="group"))["msg_id"])
        query = window(self.now - 60_000, self.now + 60_000, 2)
        total, listed = await self.everything(rest, "/v2/messages", query)
        self.assertEqual(total, 6)
        self.assertEqual([m["msgid"] for m in listed], ids)
        first = listed[0]
        self.assertEqual((first["from_id"], first["from_name"], first["target_id"],
                          first["target_name"], first["target_type"], first["msg_type"]),
                         ("alice", "Nick", "bobby", "Nick", "single", "text"))
        self.assertEqual(first["msg_body"], {"text": "m0"})
        self.assertEqual(first["from_appkey"], rest.key)
        self.assertEqual(first["create_time"], first["msg_ctime"] // 1000)
        self.assertEqual((listed[-1]["target_id"], listed[-1]["target_name"]), (str(gid), "Team"))
        # one page holding everything has no cursor; "+" for a space and "//" are taken
        page = self.assertJson(await rest.get(
            "//v2/messages?" + window(self.now - 60_000, self.now + 60_000, 1000, plus=True)))
        self.assertNotIn("cursor", page)
        self.assertEqual((page["total"], page["count"]), (6, 6))
        # a window before them has none
        empty = self.assertJson(await rest.get(
            "/v2/messages?" + window(self.now - 120_000, self.now - 61_000, 10)))
        self.assertEqual((empty["total"], empty["messages"]), (0, []))

    async def test_per_user_group_and_chat_room(self):
        jim, rest = await self.app()
        gid = await rest.group("alice", ["bobby", "carol"])
        room = self.assertJson(await rest.post("/v1/chatroom/", {
            "owner_username": "carol", "name": "lobby", "members_username": ["alice"]}),
            201)["chatroom_id"]
        await rest.send("alice", "bobby", "private")
        await rest.send("carol", "bobby", "not alice's")
        await rest.send("carol", str(gid), "group", target_type="group")
        await rest.send("alice", str(room), "room", target_type="chatroom")
        query = window(self.now - 60_000, self.now + 60_000, 100)

        async def texts(path):
            return [m["msg_body"]["text"] for m in (await self.everything(rest, path, query))[1]]

        self.assertEqual(await texts("/v2/users/alice/messages"), ["private", "room"])
        self.assertEqual(await texts("/v2/users/bobby/messages"), ["private", "not alice's"])
        self.assertEqual(await texts(f"/v2/groups/{gid}/messages"), ["group"])
        self.assertEqual(await texts(f"/v2/chatrooms/{room}/messages"), ["room"])
        self.assertEqual(await texts("/v2/users/nobody/messages"), [])
        # a name in a call is any text of at most 128 bytes (docs/rest-api.md, section 5)
        self.assertEqual(await texts("/v2/users/no%20such%20%E7%94%A8%E6%88%B7/messages"), [])
        self.assertError(await rest.get(f"/v2/users/{'x' * 129}/messages?{query}"), 400,
                         899003)

    async def test_bad_questions_are_refused(self):
        jim, rest = await self.app()
        await rest.send("alice", "bobby", "m")
        now = self.now
        bad = [
            "/v2/messages?count=10",
            "/v2/messages?begin_time=2026-01-01&end_time=2026-01-02&count=10",
            "/v2/messages?" + window(now, now - 1000, 10),
            "/v2/messages?" + window(now - 8 * 86_400_000, now, 10),
            "/v2/messages?" + window(now - 1000, now, 0),
            "/v2/messages?" + window(now - 1000, now, 1001),
            "/v2/messages?" + window(now - 1000, now, 10).replace("count=10", "count=ten"),
            "/v2/messages?cursor=not-a-cursor",
            "/v2/groups/abc/messages?" + window(now - 1000, now, 10),
            f"/v2/users/{'%C3%A9' * 65}/messages?" + window(now - 1000, now, 10),
            "/v2/statistic/users?time_unit=HOUR&start=2026-01-01&duration=1",
            "/v2/statistic/users?time_unit=DAY&start=2026-01-01&duration=61",
            "/v2/statistic/users?time_unit=DAY&start=2026-01-01&duration=0",
            "/v2/statistic/users?time_unit=DAY&start=01/01/2026&duration=1",
            "/v2/statistic/messages?time_unit=HOUR&start=2026-01-01%2020&duration=5",
            "/v2/statistic/messages?time_unit=MONTH&start=2026-01&duration=3",
            "/v2/statistic/groups?time_unit=WEEK&start=2026-01-01&duration=1",
            # leading zeros hide no larger number; a question past the year 9999
            "/v2/statistic/users?time_unit=DAY&start=2000-01-01&duration=00010000",
            "/v2/statistic/users?time_unit=DAY&start=2000-01-01&duration=060",
            "/v2/statistic/messages?time_unit=MONTH&start=2026-01&duration=0001000000",
            "/v2/statistic/messages?time_unit=MONTH&start=9999-12&duration=1",
            "/v2/statistic/groups?time_unit=DAY&start=9999-12-31&duration=2",
            "/v2/messages?" + window(now - 1000, now, 10).replace("count=10", "count=0010000"),
        ]
        for path in bad:
            self.assertError(await rest.get(path), 400, 899003)

    async def test_a_cursor_is_the_apps_own_and_lives_120_seconds(self):
        jim, rest = await self.app()
        for n in range(3):
            await rest.send("alice", "bobby", f"m{n}")
        page = self.assertJson(await rest.get(
            "/v2/messages?" + window(self.now - 60_000, self.now + 60_000, 1)))
        cursor = page["cursor"]
        other = await second_app(jim)
        self.assertError(await other.get(f"/v2/messages?cursor={cursor}"), 400, 899003)
        tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
        self.assertError(await rest.get(f"/v2/messages?cursor={tampered}"), 400, 899003)
        self.assertEqual(self.assertJson(await rest.get(f"/v2/messages?cursor={cursor}"))
                         ["messages"][0]["msg_body"], {"text": "m1"})
        # nothing of this app in the other's report
        self.assertEqual(self.assertJson(await other.get(
            "/v2/messages?" + window(self.now - 60_000, self.now + 60_000, 10)))["total"], 0)

    async def test_window_edges(self):
        jim, rest = await self.app()
        await rest.send("alice", "bobby", "m")
        week = 7 * 86_400_000
        for path in ("/v2/messages", "/v2/users/alice/messages"):
            # exactly 7 days: taken on every route; a second more: refused
            self.assertEqual(self.assertJson(await rest.get(
                f"{path}?" + window(self.now - week + 30_000, self.now + 30_000, 10)))
                ["total"], 1)
            self.assertError(await rest.get(
                f"{path}?" + window(self.now - week + 29_000, self.now + 30_000, 10)), 400,
                899003)
        # strictly between two times a second apart: nothing, not an error
        for gap in (0, 1000):
            page = self.assertJson(await rest.get(
                "/v2/users/alice/messages?" + window(self.now, self.now + gap, 10)))
            self.assertEqual((page["total"], page["messages"]), (0, []))
        self.assertNotIn("cursor", page)

    async def test_a_cursor_continues_its_own_route_only(self):
        jim, rest = await self.app()
        for n in range(3):
            await rest.send("alice", "bobby", f"m{n}")
        query = window(self.now - 60_000, self.now + 60_000, 1)
        cursor = self.assertJson(await rest.get(f"/v2/users/alice/messages?{query}"))["cursor"]
        for other in ("/v2/messages", "/v2/users/bobby/messages", "/v2/groups/1/messages"):
            self.assertError(await rest.get(f"{other}?cursor={cursor}"), 400, 899003)
        page = self.assertJson(await rest.get(f"/v2/users/alice/messages?cursor={cursor}"))
        self.assertEqual(page["messages"][0]["msg_body"], {"text": "m1"})

    async def test_an_expired_cursor_is_refused(self):
        jim, rest = await self.app()
        for n in range(2):
            await rest.send("alice", "bobby", f"m{n}")
        page = self.assertJson(await rest.get(
            "/v2/messages?" + window(self.now - 60_000, self.now + 60_000, 1)))
        reports = jim.core.reports
        real = reports.now_ms
        reports.now_ms = lambda: real() + 121_000
        self.addCleanup(setattr, reports, "now_ms", real)
        self.assertError(await rest.get(f"/v2/messages?cursor={page['cursor']}"), 400, 899003)


class StatisticsTests(ReportCase):
    async def test_users_messages_and_groups_of_today(self):
        jim, rest = await self.app()
        today = stamp(self.now, "%Y-%m-%d")
        gid = await rest.group("alice", ["bobby"])
        await rest.send("alice", "bobby", "one")
        await rest.send("alice", "bobby", "two")
        await rest.send("bobby", str(gid), "three", target_type="group")
        client = await tcp_client(jim.port)
        self.addCleanup(client.close)
        client.send(5, {"cmd": 5, "loginname": "carol", "password": "secret"})
        self.assertEqual((await client.expect(6))["code"], 10007)
        await jim.core.reports.flush()

        users = self.assertJson(await rest.get(
            f"/v2/statistic/users?time_unit=DAY&start={today}&duration=1"))
        self.assertEqual(users, [{"date": today, "active_users": 1, "total_users": 3,
                                  "send_msg_users": 2, "new_users": 3}])
        groups = self.assertJson(await rest.get(
            f"/v2/statistic/groups?time_unit=day&start={today}&duration=2"))
        self.assertEqual(groups[0], {"date": today, "active_group": 1, "total_group": 1,
                                     "new_group": 1})
        self.assertEqual(groups[1]["active_group"], 0)
        self.assertEqual(groups[1]["total_group"], 1)
        messages = self.assertJson(await rest.get(
            f"/v2/statistic/messages?time_unit=DAY&start={today}&duration=1"))
        self.assertEqual(messages["send_msg_stat"], [{"time": today, "group_send_msg": 1,
                                                      "single_send_msg": 2}])
        self.assertEqual(messages["single_msg_stat"], {"txt_msg": 2, "image_msg": 0,
                                                       "voice_msg": 0, "other_msg": 0})
        self.assertEqual(messages["group_msg_stat"]["txt_msg"], 1)
        hour = stamp(self.now - self.now % 3_600_000, "%Y-%m-%d %H")
        hourly = self.assertJson(await rest.get(
            "/v2/statistic/messages?" + urllib.parse.urlencode(
                {"time_unit": "HOUR", "start": hour, "duration": 1})))
        self.assertEqual(hourly["send_msg_stat"], [{"time": hour, "group_send_msg": 1,
                                                    "single_send_msg": 2}])
        month = stamp(self.now, "%Y-%m")
        monthly = self.assertJson(await rest.get(
            f"/v2/statistic/messages?time_unit=MONTH&start={month}&duration=1"))
        self.assertEqual(monthly["send_msg_stat"][0]["single_send_msg"], 2)
