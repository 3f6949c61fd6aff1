"""The writer's cache of conversation ids (L{jim.store.sqlite_message_queries.ConversationIds}):
a message finds its conversation's id whichever way it goes, and nothing survives a forget."""
import sqlite3
import unittest

from jim import model
from jim.store import migrations
from jim.store.sqlite_message_queries import ConversationIds


def message(sender, kind, target, app="app"):
    return model.Message._make((0, app, sender, kind, target, "text", {"text": "hi"}, None,
                                None, 0, "user", None, False, False, False))


class ConversationIdsTests(unittest.TestCase):
    def setUp(self):
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        migrations.migrate(self.db)
        self.ids = ConversationIds(limit=3)

    def test_both_directions_of_a_private_conversation_are_one(self):
        there = message("ann", "single", "bob")
        back = message("bob", "single", "ann")
        self.assertIsNone(self.ids.known_for(there), "not made yet")
        made = self.ids.id_for(self.db, there)
        self.assertEqual(self.ids.known_for(back), made)
        self.assertEqual(self.ids.id_for(self.db, back), made)
        self.assertNotEqual(self.ids.id_for(self.db, message("ann", "single", "cid")), made)
        self.assertNotEqual(self.ids.id_for(self.db, message("ann", "single", "bob", "app2")),
                            made, "another app's")

    def test_a_group_is_one_conversation_whoever_sends(self):
        made = self.ids.id_for(self.db, message("ann", "group", "7"))
        self.assertEqual(self.ids.id_for(self.db, message("bob", "group", "7")), made)
        self.assertNotEqual(self.ids.id_for(self.db, message("bob", "chatroom", "7")), made)

    def test_forgotten_ids_are_read_again_from_the_table(self):
        made = self.ids.id_for(self.db, message("ann", "single", "bob"))
        self.ids.forget()
        self.assertIsNone(self.ids.known_for(message("ann", "single", "bob")))
        self.assertEqual(self.ids.id_for(self.db, message("bob", "single", "ann")), made)

    def test_past_its_limit_the_cache_starts_over_and_still_answers(self):
        made = [self.ids.id_for(self.db, message("ann", "single", f"u{n}")) for n in range(10)]
        self.assertEqual([self.ids.id_for(self.db, message(f"u{n}", "single", "ann"))
                          for n in range(10)], made)
