# -*- test-case-name: tests.store_contract.test_words -*-
"""The sensitive-word area of L{jim.store.sqlite.SqliteStore}: each call is one write job or
one read. Its SQL is in L{jim.store.sqlite_word_queries}."""
from zope.interface import implementer

from jim.interfaces import IWordStore
from jim.store import sqlite_word_queries as q


@implementer(IWordStore)
class SqliteWords:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL."""

    def __init__(self, engine):
        self._engine = engine

    def add_words(self, app, words, itime, most):
        return self._engine.write(q.insert_words, app, list(words), itime, most)

    def replace_word(self, app, old, new, itime):
        return self._engine.write(q.replace_word, app, old, new, itime)

    def remove_word(self, app, word):
        return self._engine.write(q.delete_word, app, word)

    def list_words(self, app, start, count):
        return self._engine.read_page(q.select_words, app, start, count)

    def all_words(self, app):
        return self._engine.read(q.select_all_words, app)
