"""What the inbox contract (tests/store_contract/test_inbox.py) cannot see of RedisStore's inbox
area: moves of one cursor from two nodes, a move that keeps losing its compare, sweeps and
reads larger than one script, and the keys the append script keeps for it."""
from twisted.internet import defer, reactor
from twisted.trial import unittest

from jim import errors
from jim.cursors import Cursor, canonical, private_conversation
from jim.errors import JimError
from jim.metrics import Metrics
from jim.redis.address import parse as parse_redis
from jim.store import redis_inbox
from jim.store.memory import MemoryStore
from jim.store.redis import RedisStore
from jim.store.redis_keys import key
from tests.store_contract.test_inbox import chat, group_chat
from tests.support.redis_server import empty_redis


class RedisInboxTests(unittest.TestCase):
    def setUp(self):
        self.url = empty_redis()
        return defer.ensureDeferred(self._open())

    async def _open(self):
        self.store = await self.node()

    async def node(self):
        """Another RedisStore on the same Redis: another node of the cluster."""
        store = RedisStore(parse_redis(self.url), reactor, metrics=Metrics())
        await store.start()
        self.addCleanup(store.stop)
        return store

    async def test_moves_from_two_nodes_lose_nothing(self):
        other = await self.node()
        nodes = [self.store, other]
        spans = [(10 * n, 10 * n + 5) for n in range(1, 17)]
        # both nodes read the cursor at once, one of them writes first: the other must not
        # write over it
        await defer.gatherResults([
            nodes[n % 2].inbox.move_cursor("a", "ann", "j:", Cursor(spans=(span,), seen=n))
            for n, span in enumerate(spans)])
        self.assertEqual(await self.store.inbox.cursors("a", "ann"),
                         {"j:": Cursor(0, spans=tuple(spans), seen=15)})
        self.assertEqual(await other.inbox.move_cursor("a", "ann", "j:", Cursor(3)),
                         Cursor(3, spans=tuple(spans), seen=15))

    async def test_a_move_that_never_compares_equal_fails(self):
        client = self.store.client
        run = client.run
        lost = []

        def losing(script, keys, args=()):
            if len(lost) == redis_inbox.MOVE_TRIES:
                return run(script, keys, args)
            lost.append(script)
            return defer.succeed(0)  # as if another node always wrote in between

        self.patch(client, "run", losing)
        moving = self.store.inbox.move_cursor("a", "ann", "j:", Cursor(3))
        waiting = self.store.inbox.move_cursor("a", "ann", "j:", Cursor(4))
        with self.assertRaises(JimError) as caught:
            await moving
        self.assertEqual(caught.exception.code, errors.SERVER_ERROR)
        self.assertEqual(len(lost), redis_inbox.MOVE_TRIES)
        # the move that waited for it goes next, on its own
        self.assertEqual(await waiting, Cursor(4))
        self.assertEqual(await self.store.inbox.cursors("a", "ann"), {"j:": Cursor(4)})

    async def test_a_sweep_of_several_scripts(self):
        self.patch(redis_inbox, "FORGET", 2)
        inbox = self.store.inbox
        for n in range(5):
            await inbox.move_cursor("a", f"u{n}", "j:", Cursor(1, seen=100 + n))
            await inbox.move_cursor("b", "ann", f"d{n}", Cursor(1, seen=100 + n))
        await inbox.move_cursor("a", "u0", "j:new", Cursor(1, seen=500))
        self.assertEqual(await inbox.forget_cursors(104), 8)
        self.assertEqual(await inbox.cursors("a", "u0"), {"j:new": Cursor(1, seen=500)})
        self.assertEqual(await inbox.cursors("b", "ann"), {"d4": Cursor(1, seen=104)})
        self.assertEqual(await self.store.client.call("ZCARD", redis_inbox.SEEN), 3)
        self.assertEqual(await inbox.forget_cursors(1000), 3)
        self.assertEqual(await self.store.client.call("ZCARD", redis_inbox.SEEN), 0)

    async def test_reads_larger_than_a_script_and_a_fetch(self):
        """Many conversations, read in scripts of two and fetched two at a time: the same as
        the reference store."""
        self.patch(redis_inbox, "READ_KEYS", 2)
        self.patch(redis_inbox, "FETCH", 2)
        memory = MemoryStore()
        sent = []
        for n in range(30):
            if n % 4 == 3:
                message = group_chat("a", f"p{n % 5}", n % 3, f"m{n}")
            else:
                message = chat("a", f"p{n % 7}", "ann", f"m{n}", created=1000 + n,
                               no_offline=n % 11 == 0)
            sent.append(await self.store.messages.add_message(message))
            await memory.messages.add_message(message)
        await self.store.messages.retract_message("a", sent[5].id)
        await memory.messages.retract_message("a", sent[5].id)
        cursors = [
            Cursor(sent[2].id, ((private_conversation("ann", "p1"), sent[22].id),),
                   ((sent[9].id, sent[12].id),)),
            # a span reaching down to a conversation's entry leaves out what it covers there
            canonical(0, ((private_conversation("ann", "p2"), sent[15].id),),
                      ((sent[14].id, sent[25].id),)),
        ]
        for cursor in cursors:
            for arguments in ({}, {"limit": 5}, {"since": 1010}, {"per_conversation": 2},
                              {"after": sent[20].id}, {"peer": "p3"}, {"gid": 1}):
                got = await self.store.inbox.read("a", "ann", [0, 1, 2], cursor, **arguments)
                expected = await memory.inbox.read("a", "ann", [0, 1, 2], cursor, **arguments)
                self.assertEqual([m.id for m in got], [m.id for m in expected], arguments)
                self.assertEqual(got, expected, arguments)

    async def test_the_append_script_keeps_the_conversations(self):
        sent = await defer.gatherResults([self.store.messages.add_message(m) for m in [
            chat("a", "ann", "bob", "1"), chat("a", "bob", "ann", "2"),
            chat("a", "ann", "ann", "to herself"), group_chat("a", "cid", 7, "g"),
            chat("a", "cid", "bob", "3", retracted=True),
        ]])
        [later] = await defer.gatherResults([self.store.messages.add_message(
            chat("a", "bob", "ann", "4"))])
        call = self.store.client.call
        members = await call("SMEMBERS", key("a", "private", "ann"))
        self.assertEqual(sorted(members), sorted([private_conversation("ann", "bob"),
                                                  private_conversation("ann", "ann")]))
        self.assertEqual(sorted(await call("SMEMBERS", key("a", "private", "bob"))),
                         sorted([private_conversation("ann", "bob"),
                                 private_conversation("bob", "cid")]))
        self.assertEqual(await call("SMEMBERS", key("a", "private", "cid")),
                         [private_conversation("bob", "cid")])
        ids = await call("LRANGE", key("a", "message-ids", private_conversation("ann", "bob")),
                         0, -1)
        self.assertEqual(ids, [str(sent[0].id), str(sent[1].id), str(later.id)])
        # a group's conversation enters no one's set; a retracted message is in its list
        self.assertEqual(await call("LRANGE", key("a", "message-ids", "g:7"), 0, -1),
                         [str(sent[3].id)])
        self.assertEqual(await call("LRANGE", key("a", "message-ids",
                                                  private_conversation("bob", "cid")), 0, -1),
                         [str(sent[4].id)])
        self.assertEqual(await self.store.inbox.last_message_id("a"), later.id)
