# -*- test-case-name: tests.test_core_words -*-
"""The Words service: each app's sensitive words and its two switches (JMessage's
``/v1/sensitiveword`` and ``/v1/sdkregister``), and the masking of text messages while an
app's filter is on.

A node keeps each app's words as one L{WordFilter} (an automaton, built once from the list)
and forgets it when the list changes anywhere (an L{Invalidate} of L{model.WORDS_AREA} on the
bus); the switches are fields of the app (L{jim.model.App}), kept by L{Accounts}.
"""
import unicodedata

from twisted.logger import Logger

from jim import errors, model
from jim.core.cache import SharedLoads
from jim.core.word_filter import WordFilter
from jim.errors import JimError
from jim.model import TEXT, Invalidate

#: the most characters of one sensitive word (JMessage's 10)
WORD_CHARACTERS = 10


def check_word(word, field="word"):
    """A sensitive word as JMessage allows one: 1 to 10 characters, none of them a control
    character, not only spaces."""
    if (type(word) is not str or not word.strip() or len(word) > WORD_CHARACTERS
            or any(unicodedata.category(c) in ("Cc", "Cs") for c in word)):
        raise JimError(errors.BAD_REQUEST, f"{field} must be 1 to {WORD_CHARACTERS} characters,"
                       " no control characters")
    return word


class Words:
    log = Logger()

    def __init__(self, store, accounts, bus, clock, most):
        self.store = store  # the L{jim.interfaces.IWordStore}
        self.accounts = accounts
        self.bus = bus
        self.clock = clock
        self.most = most  # the most words one app may have
        self._filters = {}  # app -> WordFilter of its words, as this node last read them
        self._changes = 0  # invalidations so far: a read older than one is not kept
        self._loads = SharedLoads()

    # -- the list ------------------------------------------------------------------------------

    async def list(self, app, start, count):
        """C{(total, [(word, itime), ...])}, in the order added."""
        return await self.store.list_words(app, start, count)

    async def add(self, app, words):
        """Add words (those the app has already stay as they are); how many were new."""
        if type(words) is not list or not words:
            raise JimError(errors.BAD_REQUEST, "the body must be a JSON array of words")
        if len(words) > self.most:
            raise JimError(errors.TOO_MANY, f"at most {self.most} words per call")
        added = await self.store.add_words(app, [check_word(w) for w in words], self._now(),
                                           self.most)
        self._changed(app, f"{added} word(s) added")
        return added

    async def replace(self, app, old, new):
        await self.store.replace_word(app, check_word(old, "old_word"),
                                      check_word(new, "new_word"), self._now())
        self._changed(app, "a word replaced")

    async def remove(self, app, word):
        await self.store.remove_word(app, check_word(word))
        self._changed(app, "a word removed")

    def _now(self):
        return int(self.clock.seconds() * 1000)

    def _changed(self, app, what):
        self._changes += 1
        self._filters.pop(app, None)
        self.bus.publish(Invalidate(model.WORDS_AREA, app, app, self.bus.node))
        self.log.info("sensitive words of app {app}: {what}", app=app, what=what)

    def on_bus(self, value):
        """Forget an app's words changed on another node (or every app's)."""
        if value.area == model.WORDS_AREA and value.origin != self.bus.node:
            self._changes += 1
            if value.app == model.EVERY_APP:
                self._filters.clear()
            else:
                self._filters.pop(value.app, None)

    # -- the switches --------------------------------------------------------------------------

    async def filter_on(self, app):
        return (await self._app(app)).word_filter

    async def set_filter(self, app, on):
        await self._app(app)
        await self.accounts.update_app(app, {"word_filter": bool(on)})

    async def registration_open(self, app):
        """Whether clients may register users by logging in (JMessage's SDK switch)."""
        return self.accounts.registers(await self._app(app))

    async def set_registration(self, app, on):
        await self._app(app)
        await self.accounts.update_app(app, {"sdk_register": bool(on)})

    async def _app(self, key):
        app = await self.accounts.app(key)
        if app is None:
            raise JimError(errors.NO_SUCH_APP, f"no app {key!r}")
        return app

    # -- masking -------------------------------------------------------------------------------

    def cached(self, app):
        """The app's L{WordFilter} if this node holds it, else None (see L{filter_of})."""
        return self._filters.get(app)

    async def filter_of(self, app):
        """The app's L{WordFilter}, read from the store when this node does not hold it; the
        callers that ask meanwhile share one read, and are answered in the order they asked
        (the messages waiting for it keep their order)."""
        found = self._filters.get(app)
        if found is None:
            found = await self._loads.load((app, self._changes), lambda: self._read(app))
        return found

    async def _read(self, app):
        changes = self._changes
        found = WordFilter(await self.store.all_words(app))
        if changes == self._changes:  # no change came meanwhile: it is current
            self._filters[app] = found
        return found


def masked(word_filter, draft):
    """C{draft} with the sensitive words of its text replaced by C{*}, or C{draft} itself (a
    message that is not a text, no word in it, or a filter without words)."""
    if draft.msg_type != TEXT or not word_filter:
        return draft
    text = draft.body.get("text")
    if type(text) is not str:
        return draft
    clean = word_filter.mask(text)
    if clean is text:
        return draft
    return draft._replace(body={**draft.body, "text": clean})
