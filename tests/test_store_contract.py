"""One contract, every store: the same cases run against MemoryStore and SqliteStore.

The SQLite runs use a real file and real threads, hence trial's real-reactor TestCase. The
Hypothesis properties run in a worker thread and drive the store through
C{blockingCallFromThread}, so the reactor keeps turning while an example waits for its commit.
"""
import itertools

import attr
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer, reactor, threads
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim import errors
from jim.errors import JimError
from jim.interfaces import IStore
from jim.metrics import Metrics
from jim.model import GROUP, SINGLE, App, Group, Message, User
from jim.store.memory import MemoryStore
from jim.store.sqlite import SqliteStore

USERS = ("ann", "bob", "cid")
GIDS = ("g1", "g2")


def chat(app, sender, target, content="hi", created=0, client_id=None, extras=None):
    return Message(0, app, sender, SINGLE, target, 0, content, extras, client_id, created)


def group_chat(app, sender, gid, content="hi", created=0):
    return Message(0, app, sender, GROUP, gid, 0, content, None, None, created)


class StoreContract:
    """The cases; a subclass provides C{open_store()} and C{property_examples}."""

    property_examples = 50
    _apps = itertools.count(1)

    def setUp(self):
        return defer.ensureDeferred(self._set_up())

    async def _set_up(self):
        self.store = await self.open_store()
        self.addCleanup(self.store.stop)

    async def assert_refused(self, pending, code):
        with self.assertRaises(JimError) as caught:
            await pending
        self.assertEqual(caught.exception.code, code)
        return caught.exception

    def fresh_app(self):
        """An app key no earlier example used: per-app isolation makes it a clean store."""
        return f"app{next(self._apps)}"

    def test_provides_istore(self):
        self.assertTrue(verifyObject(IStore, self.store))

    # apps and users

    async def test_apps(self):
        app = App("k1", "f00d", "first", 5)
        self.assertIsNone(await self.store.add_app(app))
        self.assertEqual(await self.store.get_app("k1"), app)
        self.assertIsNone(await self.store.get_app("k2"))
        await self.assert_refused(self.store.add_app(App("k1", "beef")), errors.BAD_PARAMETER)
        self.assertEqual(await self.store.get_app("k1"), app)

    async def test_users(self):
        ann = User("a", "ann", "hash1", "Ann", "pic", "hello", 7)
        await self.store.add_user(ann)
        self.assertEqual(await self.store.get_user("a", "ann"), ann)
        self.assertIsNone(await self.store.get_user("a", "bob"))
        refusal = await self.assert_refused(
            self.store.add_user(User("a", "ann", "other")), errors.USER_EXISTS
        )
        self.assertEqual(refusal.http_status, 403)
        self.assertEqual((await self.store.get_user("a", "ann")).password, "hash1")

    async def test_get_users(self):
        for name in ("ann", "bob", "cid"):
            await self.store.add_user(User("a", name, "h"))
        found = await self.store.get_users("a", ["bob", "zed", "ann", "bob"])
        self.assertEqual(sorted(user.username for user in found), ["ann", "bob"])
        self.assertEqual(await self.store.get_users("a", []), [])
        many = [f"u{i}" for i in range(1200)] + ["cid"]
        self.assertEqual([u.username for u in await self.store.get_users("a", many)], ["cid"])

    async def test_set_password(self):
        await self.store.add_user(User("a", "ann", "old", "Ann"))
        await self.store.set_password("a", "ann", "new")
        self.assertEqual(await self.store.get_user("a", "ann"), User("a", "ann", "new", "Ann"))
        await self.assert_refused(self.store.set_password("a", "bob", "x"), errors.NO_SUCH_USER)
        await self.assert_refused(self.store.set_password("b", "ann", "x"), errors.NO_SUCH_USER)

    async def test_users_are_per_app(self):
        await self.store.add_user(User("a", "ann", "in-a"))
        await self.store.add_user(User("b", "ann", "in-b"))
        self.assertEqual((await self.store.get_user("b", "ann")).password, "in-b")
        self.assertIsNone(await self.store.get_user("c", "ann"))
        self.assertEqual([u.password for u in await self.store.get_users("a", ["ann"])], ["in-a"])

    # groups

    async def test_groups(self):
        group = Group("a", "g1", "Friends", "ann", "pic", 3)
        self.assertIs(await self.store.add_group(group), True)
        self.assertIs(await self.store.add_group(attr.evolve(group, name="Other")), False)
        self.assertEqual(await self.store.get_group("a", "g1"), group)
        self.assertIsNone(await self.store.get_group("a", "g2"))
        self.assertIsNone(await self.store.get_group("b", "g1"))

    async def test_members_in_joining_order(self):
        await self.store.add_group(Group("a", "g1"))
        await self.store.add_group(Group("a", "g0"))
        for name in ("zed", "ann", "mia"):
            self.assertIs(await self.store.add_member("a", "g1", name), True)
        self.assertIs(await self.store.add_member("a", "g1", "ann"), False)
        self.assertIs(await self.store.add_member("a", "g0", "ann"), True)
        self.assertEqual(await self.store.group_members("a", "g1"), ["zed", "ann", "mia"])
        self.assertEqual(await self.store.group_members("a", "nope"), [])
        groups = await self.store.user_groups("a", "ann")
        self.assertEqual(groups, [Group("a", "g1"), Group("a", "g0")])
        self.assertEqual(await self.store.user_groups("a", "bob"), [])

    async def test_member_of_unknown_group_refused(self):
        await self.assert_refused(self.store.add_member("a", "ghost", "ann"), errors.BAD_PARAMETER)
        await self.store.add_group(Group("b", "ghost"))
        await self.assert_refused(self.store.add_member("a", "ghost", "ann"), errors.BAD_PARAMETER)
        self.assertEqual(await self.store.group_members("a", "ghost"), [])

    async def test_groups_are_per_app(self):
        await self.store.add_group(Group("a", "g1", "in-a"))
        self.assertIs(await self.store.add_group(Group("b", "g1", "in-b")), True)
        await self.store.add_member("a", "g1", "ann")
        await self.store.add_member("b", "g1", "bob")
        self.assertEqual(await self.store.group_members("a", "g1"), ["ann"])
        self.assertEqual(await self.store.user_groups("b", "ann"), [])
        self.assertEqual([g.name for g in await self.store.user_groups("b", "bob")], ["in-b"])

    async def test_results_are_copies(self):
        await self.store.add_group(Group("a", "g1"))
        await self.store.add_member("a", "g1", "ann")
        (await self.store.group_members("a", "g1")).append("intruder")
        (await self.store.user_groups("a", "ann")).clear()
        self.assertEqual(await self.store.group_members("a", "g1"), ["ann"])
        self.assertEqual(len(await self.store.user_groups("a", "ann")), 1)

    # messages and offline

    async def test_add_message_assigns_increasing_ids(self):
        sent = chat("a", "ann", "bob", "one", 10, client_id="c1", extras='{"k":1}')
        first = await self.store.add_message(sent)
        self.assertGreater(first.id, 0)
        self.assertEqual(first, sent._replace(id=first.id))
        second = await self.store.add_message(chat("a", "bob", "ann", created=20))
        self.assertGreater(second.id, first.id)
        self.assertEqual(await self.store.private_history("a", "ann", "bob"), [first, second])

    async def test_add_message_then_reports_by_a_call(self):
        calls = []
        done = defer.Deferred()

        def then(result, *args):
            calls.append((result, args))
            done.callback(None)

        self.store.add_message_then(chat("a", "ann", "bob", "by call"), ["bob"], then, 1, "x")
        await done
        [(stored, args)] = calls
        self.assertEqual(args, (1, "x"))
        self.assertGreater(stored.id, 0)
        self.assertEqual(stored.content, "by call")
        self.assertEqual(await self.store.private_history("a", "ann", "bob"), [stored])
        self.assertEqual(await self.store.take_offline("a", "bob"), [stored])

    async def test_add_message_then_contains_a_caller_that_raises(self):
        def broken(result):
            raise RuntimeError("a bug in a caller")

        self.store.add_message_then(chat("a", "ann", "bob", "one"), (), broken)
        second = await self.store.add_message(chat("a", "ann", "bob", "two"))
        self.assertEqual([m.content for m in await self.store.private_history("a", "ann", "bob")],
                         ["one", "two"])
        self.assertEqual(second.content, "two")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    async def test_offline_taken_once_oldest_first(self):
        one = await self.store.add_message(chat("a", "ann", "bob", "1"), offline_for=["bob"])
        two = await self.store.add_message(chat("a", "cid", "bob", "2"), offline_for=("bob",))
        await self.store.add_message(chat("a", "ann", "cid", "3"))
        self.assertEqual(await self.store.take_offline("a", "bob"), [one, two])
        self.assertEqual(await self.store.take_offline("a", "bob"), [])
        self.assertEqual(await self.store.take_offline("a", "cid"), [])

    async def test_offline_by_peer_and_group(self):
        await self.store.add_group(Group("a", "g1"))
        from_ann = await self.store.add_message(chat("a", "ann", "bob"), offline_for=["bob"])
        from_cid = await self.store.add_message(chat("a", "cid", "bob"), offline_for=["bob"])
        in_g1 = await self.store.add_message(group_chat("a", "ann", "g1"), offline_for=["bob"])
        in_g2 = await self.store.add_message(group_chat("a", "ann", "g2"), offline_for=["bob"])
        self.assertEqual(await self.store.take_offline("a", "bob", peer="ann"), [from_ann])
        self.assertEqual(await self.store.take_offline("a", "bob", gid="g1"), [in_g1])
        self.assertEqual(await self.store.take_offline("a", "bob", peer="ann"), [])
        self.assertEqual(await self.store.take_offline("a", "bob"), [from_cid, in_g2])

    async def test_add_offline(self):
        message = await self.store.add_message(chat("a", "ann", "bob"))
        self.assertEqual(await self.store.take_offline("a", "bob"), [])
        await self.store.add_offline("a", message.id, ["bob", "cid"])
        await self.store.add_offline("a", message.id, ["bob"])
        self.assertEqual(await self.store.take_offline("a", "bob"), [message])
        self.assertEqual(await self.store.take_offline("a", "cid"), [message])
        await self.assert_refused(self.store.add_offline("a", message.id + 99, ["bob"]),
                                  errors.BAD_PARAMETER)
        await self.assert_refused(self.store.add_offline("b", message.id, ["bob"]),
                                  errors.BAD_PARAMETER)

    async def test_offline_is_per_app(self):
        message = await self.store.add_message(chat("a", "ann", "bob"), offline_for=["bob"])
        self.assertEqual(await self.store.take_offline("b", "bob"), [])
        self.assertEqual(await self.store.take_offline("a", "bob"), [message])

    async def test_message_by_client_id(self):
        first = await self.store.add_message(chat("a", "ann", "bob", client_id="x1"))
        await self.store.add_message(chat("a", "ann", "bob", client_id="x1"))
        to_cid = await self.store.add_message(chat("a", "ann", "cid", client_id="x1"))
        numeric = await self.store.add_message(chat("a", "ann", "bob", client_id=7))
        find = self.store.message_by_client_id
        self.assertEqual(await find("a", "ann", "x1", SINGLE, "bob"), first)
        self.assertEqual(await find("a", "ann", "x1", SINGLE, "cid"), to_cid)
        self.assertIsNone(await find("a", "ann", "x1", GROUP, "bob"))
        self.assertEqual(await find("a", "ann", 7, SINGLE, "bob"), numeric)
        self.assertIsNone(await find("a", "ann", "7", SINGLE, "bob"))
        self.assertIsNone(await find("a", "bob", "x1", SINGLE, "ann"))
        self.assertIsNone(await find("b", "ann", "x1", SINGLE, "bob"))

    # history

    async def test_private_history_both_directions_only(self):
        wanted = [
            await self.store.add_message(chat("a", "ann", "bob", "1", 1)),
            await self.store.add_message(chat("a", "bob", "ann", "2", 2)),
        ]
        await self.store.add_message(chat("a", "ann", "cid", "3", 3))
        await self.store.add_message(chat("a", "bob", "bob", "4", 4))
        await self.store.add_message(group_chat("a", "ann", "bob", "5", 5))
        await self.store.add_message(chat("b", "ann", "bob", "6", 6))
        self.assertEqual(await self.store.private_history("a", "ann", "bob"), wanted)
        self.assertEqual(await self.store.private_history("a", "bob", "ann"), wanted)

    async def test_group_history_only_that_group(self):
        await self.store.add_message(group_chat("a", "ann", "g1", "1", 1))
        await self.store.add_message(chat("a", "ann", "g2", "2", 2))
        wanted = await self.store.add_message(group_chat("a", "ann", "g2", "3", 3))
        await self.store.add_message(group_chat("b", "ann", "g2", "4", 4))
        self.assertEqual(await self.store.group_history("a", "g2"), [wanted])

    async def test_history_paging(self):
        stored = []
        for created in (10, 20, 20, 30, 40, 50):
            stored.append(await self.store.add_message(group_chat("a", "ann", "g", "m", created)))
        history = self.store.group_history
        self.assertEqual(await history("a", "g", count=2), stored[4:])
        self.assertEqual(await history("a", "g", offset=0, count=2), stored[:2])
        self.assertEqual(await history("a", "g", offset=5, count=2), stored[5:])
        self.assertEqual(await history("a", "g", offset=9, count=2), [])
        self.assertEqual(await history("a", "g", begin=20, end=40), stored[1:5])
        self.assertEqual(await history("a", "g", begin=20, end=40, count=2), stored[3:5])
        self.assertEqual(await history("a", "g", begin=20, offset=1, count=2), stored[2:4])
        self.assertEqual(await history("a", "g", count=0), [])
        await self.assert_refused(history("a", "g", count=-1), errors.BAD_PARAMETER)
        await self.assert_refused(history("a", "g", offset=-1), errors.BAD_PARAMETER)
        # numbers wider than 64 bits: SQLite cannot bind them, so no store takes them
        self.assertEqual(await history("a", "g", offset=2**63 - 1, count=2**63 - 1), [])
        self.assertEqual(await history("a", "g", begin=-(2**63), end=2**63 - 1), stored)
        for wide in ({"count": 2**63}, {"offset": 2**63}, {"begin": 2**63}, {"end": -(2**63) - 1}):
            await self.assert_refused(history("a", "g", **wide), errors.BAD_PARAMETER)

    async def test_history_orders_by_created_then_id(self):
        late = await self.store.add_message(chat("a", "ann", "bob", "late", 200))
        early = await self.store.add_message(chat("a", "bob", "ann", "early", 100))
        tie = await self.store.add_message(chat("a", "ann", "bob", "tie", 200))
        self.assertEqual(await self.store.private_history("a", "ann", "bob"), [early, late, tie])
        self.assertEqual(await self.store.private_history("a", "ann", "bob", count=1), [tie])

    # properties

    def blocking(self, method, *args, **kwargs):
        """From a worker thread: call a store method in the reactor and wait for its result."""
        return threads.blockingCallFromThread(reactor, method, *args, **kwargs)

    async def test_offline_matches_model(self):
        user = st.sampled_from(USERS)
        operation = st.one_of(
            st.tuples(st.just("chat"), user, user, st.lists(user, max_size=3)),
            st.tuples(st.just("group"), user, st.sampled_from(GIDS), st.lists(user, max_size=3)),
            st.tuples(st.just("take"), user, st.sampled_from((None, "peer", "gid")), user,
                      st.sampled_from(GIDS)),
        )

        @settings(max_examples=self.property_examples)
        @given(st.lists(operation, max_size=10))
        def check(operations):
            app = self.fresh_app()
            waiting = {name: [] for name in USERS}  # the model: each user's offline messages
            for op in operations:
                if op[0] == "take":
                    _, name, kind, peer, gid = op
                    if kind == "peer":
                        taken = self.blocking(self.store.take_offline, app, name, peer=peer)
                        wanted = [m for m in waiting[name] if m.target_type == SINGLE
                                  and m.sender == peer and m.target == name]
                    elif kind == "gid":
                        taken = self.blocking(self.store.take_offline, app, name, gid=gid)
                        wanted = [m for m in waiting[name]
                                  if m.target_type == GROUP and m.target == gid]
                    else:
                        taken = self.blocking(self.store.take_offline, app, name)
                        wanted = list(waiting[name])
                    self.assertEqual(taken, wanted)
                    waiting[name] = [m for m in waiting[name] if m not in wanted]
                    continue
                kind, sender, target, offline_for = op
                message = chat(app, sender, target) if kind == "chat" else group_chat(
                    app, sender, target)
                stored = self.blocking(self.store.add_message, message, offline_for)
                for name in dict.fromkeys(offline_for):
                    waiting[name].append(stored)
            for name in USERS:
                self.assertEqual(self.blocking(self.store.take_offline, app, name), waiting[name])

        await threads.deferToThread(check)

    async def test_history_matches_model(self):
        message = st.tuples(st.booleans(), st.integers(0, 5))  # (ann sends?, created)
        query = st.tuples(
            st.one_of(st.none(), st.integers(0, 5)),
            st.one_of(st.none(), st.integers(0, 5)),
            st.one_of(st.none(), st.integers(0, 12)),
            st.integers(0, 12),
        )

        @settings(max_examples=self.property_examples)
        @given(st.lists(message, max_size=12), st.lists(query, min_size=1, max_size=4))
        def check(messages, queries):
            app = self.fresh_app()
            sent = [chat(app, *(("ann", "bob") if by_ann else ("bob", "ann")), "m", created)
                    for by_ann, created in messages]
            # Noise that must never show up: another conversation, another app.
            noise = [chat(app, "ann", "cid", "x", 1), chat(app + "-other", "ann", "bob", "x", 1)]
            stored = self.blocking(self._add_all, sent + noise)[: len(sent)]
            ordered = sorted(stored, key=lambda m: (m.created, m.id))
            for begin, end, offset, count in queries:
                in_range = [m for m in ordered if (begin is None or m.created >= begin)
                            and (end is None or m.created <= end)]
                if offset is None:
                    wanted = in_range[max(0, len(in_range) - count):] if count else []
                else:
                    wanted = in_range[offset : offset + count]
                got = self.blocking(self.store.private_history, app, "bob", "ann",
                                    begin=begin, end=end, offset=offset, count=count)
                self.assertEqual(got, wanted)

        await threads.deferToThread(check)

    def _add_all(self, messages):
        """Issue every add_message in one reactor turn (one SQLite commit)."""
        return defer.gatherResults([self.store.add_message(m) for m in messages])


class MemoryStoreContractTests(StoreContract, unittest.TestCase):
    async def open_store(self):
        store = MemoryStore()
        await store.start()
        return store


class SqliteStoreContractTests(StoreContract, unittest.TestCase):
    property_examples = 12

    async def open_store(self):
        store = SqliteStore(self.mktemp() + "/jim.db", reactor, metrics=Metrics())
        await store.start()
        return store


class SqliteStoreIndexTailContractTests(SqliteStoreContractTests):
    """The same cases with the conversation index brought up to date every three messages, so
    that histories mix indexed messages with the not yet indexed tail."""

    async def open_store(self):
        store = SqliteStore(self.mktemp() + "/jim.db", reactor, metrics=Metrics(), index_every=3)
        await store.start()
        return store
