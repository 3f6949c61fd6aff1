"""How the Redis store names its keys: one app's keys share one hash tag, and two different
keys never get the same name, whatever the app or the free text."""
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim.store.redis_keys import key

apps = st.text(min_size=1, max_size=12)
words = st.sampled_from(["user", "users", "offline", "history", "groups"])


def hash_tag(name):
    """What Redis Cluster hashes: the text between the first '{' and the next '}'."""
    start = name.find("{")
    end = name.find("}", start + 1)
    return None if start < 0 or end < 0 else name[start + 1:end]


class KeyTests(SynchronousTestCase):
    def test_readable_in_the_common_case(self):
        self.assertEqual(key("AppKey01", "user", "alice"), "jim:{AppKey01}:user:alice")
        self.assertEqual(key(None, "apps"), "jim:apps")

    @given(apps, words, st.text(max_size=12))
    def test_every_key_of_an_app_has_the_app_as_its_hash_tag(self, app, word, free):
        name = key(app, word, free)
        tag = hash_tag(name)
        self.assertTrue(tag)
        self.assertEqual(tag, hash_tag(key(app, "other")))
        self.assertNotIn("{", tag)

    @given(apps, apps, words, st.text(max_size=12), st.text(max_size=12))
    def test_different_keys_have_different_names(self, app1, app2, word, free1, free2):
        if (app1, free1) != (app2, free2):
            self.assertNotEqual(key(app1, word, free1), key(app2, word, free2))
