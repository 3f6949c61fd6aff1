"""The store refusing writes, as a full disk does: senders are told (10002), nothing
acknowledged is lost, and the server goes on by itself once there is room again.

SQLite's own limit on the file's size (``PRAGMA max_page_count`` on the writer's connection)
makes every write that needs a new page fail with SQLITE_FULL, "database or disk is full",
exactly the error a full disk gives."""
from twisted.trial.unittest import TestCase

from tests.support.inprocess import start_jim
from tests.support.jimclient import tcp_client

#: SQLite's largest page count: no limit
NO_LIMIT = 4294967294


def cap_pages(extra):
    """A writer job: the file may grow by C{extra} pages at most (0: not at all)."""

    def job(db):
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages + extra if extra is not None else NO_LIMIT}")

    return job


class DiskFullTests(TestCase):
    timeout = 60

    async def test_senders_are_told_nothing_acknowledged_is_lost_and_it_recovers(self):
        jim = await start_jim(self, limits=dict(rate=0, user_rate=0))
        alice = await tcp_client(jim.port, testcase=self)
        await alice.login("alice")
        bob = await tcp_client(jim.port, testcase=self)
        await bob.login("bob", platform="w", deviceId="desk", acks=True)
        acked = []

        async def chat_many(tag, count):
            for i in range(count):
                alice.send(11, {"cmd": 11, "chatType": 2, "to": "bob",
                                "content": f"{tag}{i} " + "x" * 2000, "id": f"{tag}{i}"})
            answers = [await alice.expect(12) for _ in range(count)]
            for answer in answers:
                if answer["code"] == 10000:
                    acked.append(int(answer["data"]["id"]))
            return [a["code"] for a in answers]

        self.assertEqual(set(await chat_many("before", 20)), {10000})
        await jim.store.write(cap_pages(0))  # the disk is full from now on
        codes = await chat_many("full", 50)
        self.assertIn(10002, codes, "senders are told their chats were not stored")
        refused = codes.count(10002)
        await jim.store.write(cap_pages(None))  # room again
        self.assertEqual(set(await chat_many("after", 20)), {10000}, "it recovered by itself")

        # nothing acknowledged is lost: all in history and in bob's inbox, each once
        history = await alice.request(19, {"cmd": 19, "type": 1, "fromUserId": "bob",
                                           "count": 1000}, 20)
        stored = [int(m["id"]) for m in history["data"]["friends"]["bob"]]
        self.assertTrue(set(acked) <= set(stored))
        self.assertEqual(len(stored), len(set(stored)))
        self.assertEqual(len(stored), 40 + 50 - refused)
        await bob.disconnect()
        bob = await tcp_client(jim.port, testcase=self)
        await bob.login("bob", platform="w", deviceId="desk", acks=True)
        listed = await bob.sync_all()
        self.assertTrue(set(acked) <= set(listed))
        self.assertEqual(sorted(listed), sorted(stored))
