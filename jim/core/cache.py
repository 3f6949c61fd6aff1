"""Two small tools every service's cache uses: a dict bounded in size, and loads shared by
everyone who asks for the same key while it is being read."""
from twisted.internet import defer
from twisted.python.failure import Failure


class Bounded(dict):
    """A dict that forgets its oldest entries once it holds more than C{size}.

    Services cache what the store holds (users, relations, groups) so that the chat hot path
    looks things up in memory; this bounds what a long-running node keeps of idle ones.
    """

    __slots__ = ("size",)

    def __init__(self, size):
        super().__init__()
        self.size = size

    def __setitem__(self, key, value):
        if len(self) >= self.size and key not in self:
            del self[next(iter(self))]
        super().__setitem__(key, value)


class SharedLoads:
    """Concurrent loads of one key share one read: the first caller starts it, and every caller
    (the first one included) is answered in the order it asked, with the value or the failure.

    A caller puts in the key what a change bumps (a generation, a change counter): a caller
    who asks after a change then starts a read of its own instead of joining one that began
    before the change and may answer with what the store held then."""

    def __init__(self):
        self._waiting = {}  # key -> [Deferred, ...] while a read of it runs

    def busy(self, key):
        """Whether a read of C{key} runs now."""
        return key in self._waiting

    async def load(self, key, read):
        """C{await read()} once for everyone asking for C{key} meanwhile."""
        waiting = self._waiting.get(key)
        mine = defer.Deferred()
        if waiting is not None:
            waiting.append(mine)
            return await mine
        waiting = self._waiting[key] = [mine]
        defer.ensureDeferred(read()).addBoth(self._answer, key)
        return await mine

    def _answer(self, result, key):
        waiting = self._waiting.pop(key)
        for d in waiting:
            if isinstance(result, Failure):
                d.errback(result)
            else:
                d.callback(result)
        if isinstance(result, Failure):
            return None  # handed to every waiter: not an unhandled error here
        return result
