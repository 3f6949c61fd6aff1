# -*- test-case-name: tests.store_contract.test_silences -*-
"""The silence area of L{jim.store.memory.MemoryStore}: per app, the users whose silence is
kept in each place (L{jim.interfaces.ISilenceStore})."""
from zope.interface import implementer

from jim.interfaces import ISilenceStore
from jim.store import answered


@implementer(ISilenceStore)
class MemorySilences:
    def __init__(self):
        self._kept = {}  # app -> {place: {username, ...}}

    @answered
    def keep_silences(self, app, place, usernames):
        self.keep(app, place, usernames)

    def keep(self, app, place, usernames):
        """L{keep_silences} at once (for the other areas' removals of members)."""
        if usernames:
            self._kept.setdefault(app, {}).setdefault(place, set()).update(usernames)

    @answered
    def silenced_among(self, app, place, usernames):
        kept = self._kept.get(app, {}).get(place, ())
        return [name for name in usernames if name in kept]

    @answered
    def release_silences(self, app, place, usernames):
        places = self._kept.get(app, {})
        kept = places.get(place)
        if kept is not None:
            kept.difference_update(usernames)
            if not kept:
                del places[place]

    @answered
    def forget_place(self, app, place):
        self._kept.get(app, {}).pop(place, None)

    @answered
    def forget_user_silences(self, app, username):
        places = self._kept.get(app, {})
        for place in list(places):
            places[place].discard(username)
            if not places[place]:
                del places[place]

    @answered
    def forget_users_with_prefix(self, app, prefix):
        places = self._kept.get(app, {})
        for place in list(places):
            places[place] = {name for name in places[place] if not name.startswith(prefix)}
            if not places[place]:
                del places[place]

    @answered
    def forget_app(self, app):
        """Forget the app's kept silences (L{jim.interfaces.IStore.forget_app})."""
        self._kept.pop(app, None)
