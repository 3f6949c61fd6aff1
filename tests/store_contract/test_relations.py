"""The contract of the relations area (IRelationStore), for every store."""
import attr
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from jim.model import BLACKLIST, FRIEND, NODISTURB_ALL, NODISTURB_GROUP, SHIELD, Relation
from tests.store_contract.base import ContractCase, OnMemory, OnRedis, OnSqlite


def friend(owner, target, note_name="", others="", app="a", ctime=0):
    return Relation(app, FRIEND, owner, target, note_name, others, ctime)


def blocked(owner, target, app="a"):
    return Relation(app, BLACKLIST, owner, target)


class RelationsContract(ContractCase):
    async def test_add_returns_only_what_was_added(self):
        relations = self.store.relations
        first = [friend("ann", "bob", "Bobby", "met at work", ctime=3), friend("ann", "cid")]
        self.assertEqual(await relations.add_relations(first), first)
        again = [friend("ann", "dan"), friend("ann", "bob", "other note"), friend("ann", "dan"),
                 blocked("ann", "bob"), friend("bob", "ann")]
        self.assertEqual(await relations.add_relations(again),
                         [again[0], again[3], again[4]])  # not a kept one, nor one twice
        self.assertEqual(await relations.relations_of("a", "ann"),
                         first + [again[0], again[3]])  # the kept notes were not replaced
        self.assertEqual(await relations.add_relations([]), [])

    async def test_relations_of_oldest_first_by_kind(self):
        relations = self.store.relations
        kept = [friend("ann", "zed"), Relation("a", NODISTURB_ALL, "ann", ""),
                blocked("ann", "bob"), friend("ann", "bob"), Relation("a", SHIELD, "ann", "100"),
                Relation("a", NODISTURB_GROUP, "ann", "100")]
        for relation in kept:  # one write each: the age is the order of the writes
            await relations.add_relations([relation])
        self.assertEqual(await relations.relations_of("a", "ann"), kept)
        self.assertEqual(await relations.relations_of("a", "ann", [FRIEND]), [kept[0], kept[3]])
        self.assertEqual(await relations.relations_of("a", "ann", (SHIELD, BLACKLIST)),
                         [kept[2], kept[4]])
        self.assertEqual(await relations.relations_of("a", "ann", []), [])
        self.assertEqual(await relations.relations_of("a", "bob"), [])

    async def test_update_changes_only_the_notes_of_kept_relations(self):
        relations = self.store.relations
        await relations.add_relations([friend("ann", "bob", "B", "x", ctime=5),
                                       friend("ann", "cid")])
        updated = await relations.update_relations([
            friend("ann", "cid", "Cid", "neighbour", ctime=99),
            friend("ann", "dan", "Dan"),  # not kept: not made either
            friend("ann", "bob", "", ""),
            blocked("ann", "bob"),  # no blacklist relation is kept
        ])
        # the stored relations with their new notes, in the given order; the age is kept
        self.assertEqual(updated, [friend("ann", "cid", "Cid", "neighbour"),
                                   friend("ann", "bob", ctime=5)])
        self.assertEqual(await relations.relations_of("a", "ann"),
                         [friend("ann", "bob", ctime=5), friend("ann", "cid", "Cid", "neighbour")])
        self.assertEqual(await relations.update_relations([]), [])

    async def test_remove_returns_what_was_kept(self):
        relations = self.store.relations
        await relations.add_relations([friend("ann", t) for t in ("bob", "cid", "dan")]
                                      + [blocked("ann", "cid")])
        removed = await relations.remove_relations("a", FRIEND, "ann", ["dan", "zed", "bob", "dan"])
        self.assertEqual(removed, ["dan", "bob"])
        self.assertEqual(await relations.relations_of("a", "ann"),
                         [friend("ann", "cid"), blocked("ann", "cid")])
        self.assertEqual(await relations.remove_relations("a", FRIEND, "ann", ["bob"]), [])
        self.assertEqual(await relations.remove_relations("a", FRIEND, "ann", []), [])
        # added again, it is the newest
        await relations.add_relations([friend("ann", "bob")])
        self.assertEqual(await relations.relations_of("a", "ann"),
                         [friend("ann", "cid"), blocked("ann", "cid"), friend("ann", "bob")])

    async def test_owners_of_oldest_first(self):
        relations = self.store.relations
        for owner in ("zed", "ann", "mia"):
            await relations.add_relations([blocked(owner, "bob")])
        await relations.add_relations([friend("kim", "bob"), blocked("kim", "cid")])
        self.assertEqual(await relations.owners_of("a", BLACKLIST, "bob"), ["zed", "ann", "mia"])
        self.assertEqual(await relations.owners_of("a", FRIEND, "bob"), ["kim"])
        self.assertEqual(await relations.owners_of("a", FRIEND, "cid"), [])
        await relations.remove_relations("a", BLACKLIST, "zed", ["bob"])
        await relations.add_relations([blocked("zed", "bob")])
        self.assertEqual(await relations.owners_of("a", BLACKLIST, "bob"), ["ann", "mia", "zed"])

    async def test_remove_owned(self):
        relations = self.store.relations
        await relations.add_relations([friend("ann", "bob"), blocked("ann", "cid"),
                                       friend("bob", "ann"), friend("ann", "bob", app="b")])
        self.assertIsNone(await relations.remove_owned("a", "ann"))
        self.assertEqual(await relations.relations_of("a", "ann"), [])
        self.assertEqual(await relations.relations_of("a", "bob"), [friend("bob", "ann")])
        self.assertEqual(await relations.relations_of("b", "ann"), [friend("ann", "bob", app="b")])
        await relations.remove_owned("a", "nobody")

    async def test_targets_with_a_prefix(self):
        """Another app's users an app's users keep: found by the other app's key."""
        relations = self.store.relations
        await relations.add_relations([
            friend("ann", "K1:bob"), blocked("cid", "K1:bob"), blocked("ann", "K1:eve"),
            friend("ann", "K10:zed"), friend("ann", "K1"), friend("ann", "bob"),
            friend("dan", "K1:amy", app="b"), friend("ann", "K1:[x]*?"),
        ])
        self.assertEqual(await relations.targets_with_prefix("a", "K1:"),
                         ["K1:[x]*?", "K1:bob", "K1:eve"])
        self.assertEqual(await relations.targets_with_prefix("b", "K1:"), ["K1:amy"])
        self.assertEqual(await relations.targets_with_prefix("a", "K2:"), [])
        await relations.remove_targeting("a", [FRIEND, BLACKLIST], "K1:bob")
        self.assertEqual(await relations.targets_with_prefix("a", "K1:"), ["K1:[x]*?", "K1:eve"])

    async def test_remove_targeting_only_those_kinds(self):
        relations = self.store.relations
        await relations.add_relations([
            friend("ann", "bob"), blocked("cid", "bob"), Relation("a", SHIELD, "ann", "bob"),
            friend("ann", "cid"), friend("dan", "bob", app="b"),
        ])
        self.assertIsNone(await relations.remove_targeting("a", [FRIEND, BLACKLIST], "bob"))
        self.assertEqual(await relations.relations_of("a", "ann"),
                         [Relation("a", SHIELD, "ann", "bob"), friend("ann", "cid")])
        self.assertEqual(await relations.relations_of("a", "cid"), [])
        self.assertEqual(await relations.relations_of("b", "dan"), [friend("dan", "bob", app="b")])
        await relations.remove_targeting("a", (SHIELD,), "bob")
        self.assertEqual(await relations.relations_of("a", "ann"), [friend("ann", "cid")])
        await relations.remove_targeting("a", [], "cid")
        self.assertEqual(await relations.relations_of("a", "ann"), [friend("ann", "cid")])

    async def test_relations_are_per_app(self):
        relations = self.store.relations
        await relations.add_relations([friend("ann", "bob", "in a")])
        self.assertEqual(await relations.add_relations([friend("ann", "bob", "in b", app="b")]),
                         [friend("ann", "bob", "in b", app="b")])
        self.assertEqual(await relations.relations_of("c", "ann"), [])
        self.assertEqual(await relations.owners_of("c", FRIEND, "bob"), [])
        self.assertEqual(await relations.update_relations([friend("ann", "bob", "x", app="c")]), [])
        self.assertEqual(await relations.remove_relations("c", FRIEND, "ann", ["bob"]), [])
        await relations.remove_targeting("c", [FRIEND], "bob")
        await relations.remove_owned("c", "ann")
        await relations.update_relations([friend("ann", "bob", "changed in b", app="b")])
        self.assertEqual(await relations.relations_of("a", "ann"), [friend("ann", "bob", "in a")])
        self.assertEqual(await relations.owners_of("b", FRIEND, "bob"), ["ann"])

    async def test_results_are_values_or_copies(self):
        relations = self.store.relations
        await relations.add_relations([friend("ann", "bob")])
        kept = await relations.relations_of("a", "ann")
        with self.assertRaises(attr.exceptions.FrozenInstanceError):
            kept[0].note_name = "changed"
        kept.append(friend("ann", "intruder"))
        (await relations.owners_of("a", FRIEND, "bob")).append("intruder")
        self.assertEqual(await relations.relations_of("a", "ann"), [friend("ann", "bob")])
        self.assertEqual(await relations.owners_of("a", FRIEND, "bob"), ["ann"])

    async def test_relations_behave_as_a_model_set(self):
        name = st.sampled_from(("ann", "bob", "cid"))
        kinds = st.sampled_from((FRIEND, BLACKLIST))
        note = st.sampled_from(("", "n1", "n2"))
        operation = st.one_of(
            st.tuples(st.just("add"), st.lists(st.tuples(kinds, name, name, note), max_size=3)),
            st.tuples(st.just("update"), st.lists(st.tuples(kinds, name, name, note), max_size=3)),
            st.tuples(st.just("remove"), kinds, name, st.lists(name, max_size=3)),
            st.tuples(st.just("remove_owned"), name),
            st.tuples(st.just("remove_targeting"), st.lists(kinds, max_size=2), name),
        )

        @settings(max_examples=self.property_examples)
        @given(st.lists(operation, max_size=8))
        def check(operations):
            app = self.fresh_app()
            store = self.store.relations
            kept = {}  # the model: (kind, owner, target) -> Relation, oldest first
            for op in operations:
                if op[0] in ("add", "update"):
                    given_ = [Relation(app, k, o, t, n) for k, o, t, n in op[1]]
                    if op[0] == "add":
                        wanted = []
                        for relation in given_:
                            key = (relation.kind, relation.owner, relation.target)
                            if key not in kept:
                                kept[key] = relation
                                wanted.append(relation)
                        self.assertEqual(self.blocking(store.add_relations, given_), wanted)
                    else:
                        wanted = []
                        for relation in given_:
                            key = (relation.kind, relation.owner, relation.target)
                            if key in kept:
                                kept[key] = attr.evolve(kept[key], note_name=relation.note_name)
                                wanted.append(kept[key])
                        self.assertEqual(self.blocking(store.update_relations, given_), wanted)
                elif op[0] == "remove":
                    _, kind, owner, targets = op
                    wanted = [t for t in dict.fromkeys(targets) if (kind, owner, t) in kept]
                    for target in wanted:
                        del kept[(kind, owner, target)]
                    self.assertEqual(self.blocking(store.remove_relations, app, kind, owner,
                                                   targets), wanted)
                elif op[0] == "remove_owned":
                    kept = {key: r for key, r in kept.items() if key[1] != op[1]}
                    self.blocking(store.remove_owned, app, op[1])
                else:
                    _, kinds_, target = op
                    kept = {key: r for key, r in kept.items()
                            if not (key[0] in kinds_ and key[2] == target)}
                    self.blocking(store.remove_targeting, app, kinds_, target)
            for owner in ("ann", "bob", "cid"):
                self.assertEqual(self.blocking(store.relations_of, app, owner),
                                 [r for r in kept.values() if r.owner == owner])
                for kind in (FRIEND, BLACKLIST):
                    self.assertEqual(self.blocking(store.owners_of, app, kind, owner),
                                     [r.owner for r in kept.values()
                                      if r.kind == kind and r.target == owner])

        await self.run_property(check)


class MemoryRelationsTests(RelationsContract, OnMemory, unittest.TestCase):
    pass


class SqliteRelationsTests(RelationsContract, OnSqlite, unittest.TestCase):
    pass


class RedisRelationsTests(RelationsContract, OnRedis, unittest.TestCase):
    async def test_names_are_any_text(self):
        """Apps, owners and targets with the characters Redis key names are built with never
        share a key, nor an index entry."""
        relations = self.store.relations
        odd = [Relation("a:b", FRIEND, "c", "d:e"), Relation("a", FRIEND, "b:c", "d"),
               Relation("{a}", FRIEND, 'c"\\n', "[\"d\", \"e\"]"),
               Relation("a}:{b", BLACKLIST, "\u2728:of:x", ""),
               Relation("a", BLACKLIST, "of:x", "\n"), Relation("%7Ba%7D", FRIEND, "c", "d:e")]
        self.assertEqual(await relations.add_relations(odd), odd)
        for relation in odd:
            self.assertEqual(await relations.relations_of(relation.app, relation.owner),
                             [relation])
            self.assertEqual(await relations.owners_of(relation.app, relation.kind,
                                                       relation.target), [relation.owner])
        await relations.remove_targeting("a:b", [FRIEND], "d:e")
        await relations.remove_owned("a", "b:c")
        self.assertEqual(await relations.relations_of("a:b", "c"), [])
        self.assertEqual(await relations.relations_of("%7Ba%7D", "c"), [odd[5]])
        self.assertEqual(await relations.owners_of("a", FRIEND, "d"), [])
        self.assertEqual(await relations.relations_of("a", "of:x"), [odd[4]])

    async def test_a_big_ctime_round_trips(self):
        relation = friend("ann", "bob", "\u2728", "x" * 250, ctime=2**63 - 1)
        await self.store.relations.add_relations([relation])
        self.assertEqual(await self.store.relations.relations_of("a", "ann"), [relation])

    async def test_removals_racing_with_adds_leave_both_indexes_alike(self):
        """Whichever lands first, what owners keep and who keeps something about a target
        agree."""
        relations = self.store.relations
        owners = [f"u{i}" for i in range(8)]
        await relations.add_relations([friend(owner, "bob") for owner in owners[:4]])
        await self.in_one_turn(
            [(relations.add_relations, [friend(owner, "bob"), blocked(owner, "cid")])
             for owner in owners[4:]]
            + [(relations.remove_targeting, "a", [FRIEND], "bob"),
               (relations.remove_owned, "a", "u5"), (relations.remove_owned, "a", "u0")])
        for kind, target in ((FRIEND, "bob"), (BLACKLIST, "cid")):
            owning = [o for o in owners if any(r.kind == kind and r.target == target
                                               for r in await relations.relations_of("a", o))]
            self.assertEqual(sorted(await relations.owners_of("a", kind, target)), owning)
