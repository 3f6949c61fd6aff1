# -*- test-case-name: tests.store_contract.test_words -*-
"""The sensitive-word area of L{jim.store.memory.MemoryStore}: a dict per app, in the order
the words were added."""
from zope.interface import implementer

from jim.interfaces import IWordStore
from jim.store import answered, check_page, no_such_word, too_many_words


@implementer(IWordStore)
class MemoryWords:
    def __init__(self):
        self._words = {}  # app -> {word: itime}, in the order added

    @answered
    def add_words(self, app, words, itime, most):
        mine = self._words.get(app, {})
        new = [word for word in dict.fromkeys(words) if word not in mine]
        if len(mine) + len(new) > most:
            raise too_many_words(most)
        mine = self._words.setdefault(app, mine)
        for word in new:
            mine[word] = itime
        return len(new)

    @answered
    def replace_word(self, app, old, new, itime):
        mine = self._words.get(app, {})
        if old not in mine:
            raise no_such_word(old)
        if new != old and new in mine:
            del mine[old]
        else:
            self._words[app] = {(new if word == old else word): (itime if word == old else t)
                                for word, t in mine.items()}

    @answered
    def remove_word(self, app, word):
        mine = self._words.get(app, {})
        if word not in mine:
            raise no_such_word(word)
        del mine[word]

    @answered
    def list_words(self, app, start, count):
        check_page(start, count)
        mine = list(self._words.get(app, {}).items())
        return len(mine), mine[start:start + count]

    @answered
    def all_words(self, app):
        return list(self._words.get(app, {}))

    @answered
    def forget_app(self, app):
        """Forget the app's words (L{jim.interfaces.IStore.forget_app})."""
        self._words.pop(app, None)
