# -*- test-case-name: tests.store_contract.test_relations -*-
"""The relations area of L{jim.store.sqlite.SqliteStore}: each call is one write job or one
read on the store's shared engine."""
from zope.interface import implementer

from jim.interfaces import IRelationStore
from jim.store import sqlite_relation_queries as q


@implementer(IRelationStore)
class SqliteRelations:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def add_relations(self, relations):
        return self._engine.write(q.insert_relations, list(relations))

    def update_relations(self, relations):
        return self._engine.write(q.update_relations, list(relations))

    def remove_relations(self, app, kind, owner, targets):
        return self._engine.write(q.delete_relations, app, kind, owner, list(targets))

    def relations_of(self, app, owner, kinds=None):
        return self._engine.read(q.select_relations_of, app, owner,
                                 None if kinds is None else list(kinds))

    def owners_of(self, app, kind, target):
        return self._engine.read(q.select_owners_of, app, kind, target)

    def remove_owned(self, app, owner):
        return self._engine.write(q.delete_owned, app, owner)

    def targets_with_prefix(self, app, prefix):
        return self._engine.read(q.select_targets_with_prefix, app, prefix)

    def remove_targeting(self, app, kinds, target):
        return self._engine.write(q.delete_targeting, app, list(kinds), target)
