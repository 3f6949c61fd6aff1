# -*- test-case-name: tests.test_core_messages -*-
"""Sends with a client id: a resend (the same id from the same sender to the same target) is
acknowledged with the first message, never stored or delivered twice.

Whether an id was sent before is a question for the store, but most ids are new, and the store
says from memory which it cannot hold (L{jim.interfaces.IMessageStore.may_hold_client_id}): only
the others read it. A store that checks where it writes (C{appends_once}: Redis, whose script
answers a resend with the first message, see L{jim.core.messages.Messages}) is never read first,
but for a send to another app's user (whose copies, jim.core.cross_apps, are written with no
such check), and after a refusal (the policy may refuse now what it allowed the first time).
A send that reads must not be overtaken by a later one to the same target that does not, so
the sends of a sender to a target wait in one queue while any of them reads: each takes its
id (L{jim.core.messages.Messages}' own send) in the order it came, and a send without a client
id waits behind them too (L{OnceSends.behind_reads}).
"""
from collections import deque

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from jim import errors
from jim.core.cache import Bounded, SharedLoads
from jim.core.steps import settle
from jim.errors import JimError
from jim.model import QUALIFIER


class OnceSends:
    """@param store: the message area (L{jim.interfaces.IMessageStore}).
    @param send: C{send(app, sender, draft, connection_id, then, args)}, the send of a message
        with no resend check (it gets its id at once when what it needs is in memory).
    @param deliver_again: C{async deliver_again(stored, connection_id)}, for a message the store
        kept though its send failed (see L{send_then})."""

    log = Logger()

    def __init__(self, store, send, deliver_again):
        self._store = store
        self._send = send
        self._deliver_again = deliver_again
        self._reads = SharedLoads()  # resends of an id while its first send reads: one read
        # key -> [(then, args), ...]: first sends on their way (no read: the store never held
        # the id), with the resends that came meanwhile
        self._first = {}
        # (app, sender, target type, target) -> deque of [ready, (send, args) or None]: the
        # sends to it, in the order they came, while one of them reads
        self._routes = {}
        # sends that failed with a server error: the store may have kept them (a lost answer),
        # and then their resend delivers them (bounded: the oldest go first)
        self._unsure = Bounded(10_000)

    def send_then(self, app, sender, draft, connection_id, then, args):
        """Send C{draft} (which has a client id) unless it is a resend; C{then(outcome or
        Failure, *args)} as L{jim.core.messages.Messages.send_then} answers. A resend is
        answered C{(first message, True)}; one that comes while the first is on its way, with
        the first's outcome."""
        key = (app, sender, draft.client_id, draft.target_type, draft.target)
        first = self._first.get(key)
        if first is not None:
            first.append((then, args))
            return
        if self._reads.busy(key):
            d = defer.ensureDeferred(self._reads.load(key, None))
            d.addBoth(then, *args)
            return
        route = (app, sender, draft.target_type, draft.target)
        queue = self._routes.get(route)
        if self._must_read(key, draft):
            if queue is None:
                queue = self._routes[route] = deque()
            entry = [False, None]
            queue.append(entry)
            d = defer.ensureDeferred(self._reads.load(key, lambda: self._first_or_earlier(
                key, route, entry, draft, connection_id)))
            d.addBoth(then, *args)
            return
        self._first[key] = []
        send = (app, sender, draft, connection_id, self._first_sent, (key, then, args))
        if queue is None:
            self._go(send)
        else:  # behind a send to the same target that reads: after it
            queue.append([True, send])

    def holds(self, route):
        """Whether sends of C{route}, C{(app, sender, target type, target)}, wait here for
        reads of the store: a send without a client id must then queue behind them
        (L{behind_reads})."""
        return bool(self._routes) and route in self._routes

    def behind_reads(self, app, sender, draft, connection_id, then, args):
        """Queue a send without a client id behind the sends of its sender to its target that
        read the store, if there are any (True), so that it does not overtake them."""
        if not self._routes:
            return False
        queue = self._routes.get((app, sender, draft.target_type, draft.target))
        if queue is None:
            return False
        queue.append([True, (app, sender, draft, connection_id, then, args)])
        return True

    def _must_read(self, key, draft):
        """Whether a send must read the store before it is sent: its id may be a resend and
        the append does not check (a store that gives ids before its commit), it failed with
        a server error before, or it goes to another app, whose send (jim.core.cross_apps)
        writes its copies with no such check."""
        store = self._store
        if key in self._unsure or QUALIFIER in draft.target:
            return True
        return not store.appends_once and store.may_hold_client_id(key[0], key[1], key[2])

    def _first_sent(self, outcome, key, then, args):
        """The outcome of a first send: its sender and the resends that waited hear it. A
        refusal of a store that checks where it appends may be a resend's: the policy
        refused what it allowed the first time (a blacklist since), so the first is looked
        for, and answered if it is there."""
        if type(outcome) is Failure and self._store.appends_once and _refusal(outcome):
            d = defer.ensureDeferred(self._earlier_or(outcome, key))
            d.addBoth(self._answer_first, key, then, args)
            return
        self._answer_first(outcome, key, then, args)

    async def _earlier_or(self, refusal, key):
        earlier = await self._store.message_by_client_id(*key)
        if earlier is None:
            return refusal
        return earlier, True

    def _answer_first(self, outcome, key, then, args):
        waiting = self._first.pop(key)
        if type(outcome) is Failure and _server_error(outcome):
            self._unsure[key] = True  # the store may have kept it all the same
        then(outcome, *args)
        for then, args in waiting:
            then(outcome, *args)

    def _go(self, send):
        """Send (C{send}: the arguments of L{_send}); a send that raises (a bug) is answered
        with its failure, and keeps nothing behind it waiting."""
        try:
            self._send(*send)
        except Exception:
            self.log.failure("a send with a client id failed")
            then, args = send[4], send[5]
            then(Failure(JimError(errors.SERVER_ERROR, "internal error")), *args)

    async def _first_or_earlier(self, key, route, entry, draft, connection_id):
        """A send whose id the store may hold: the first message with it, or this one sent in
        its turn (C{entry} of its route's queue)."""
        try:
            earlier = await self._store.message_by_client_id(*key)
        except BaseException:
            self._ready(route, entry, None)
            raise
        if earlier is not None:
            self._ready(route, entry, None)
            if self._unsure.pop(key, None) is not None:
                await self._deliver_again(earlier, connection_id)
            return earlier, True
        sent = defer.Deferred()
        self._ready(route, entry, (key[0], key[1], draft, connection_id, settle, (sent,)))
        try:
            return await sent
        except JimError as e:
            if e.code == errors.SERVER_ERROR:  # the store may have kept it all the same
                self._unsure[key] = True
            raise

    def _ready(self, route, entry, send):
        """C{entry} may go (C{send}: the arguments of its send, or None for none): it and the
        ready ones behind it go, up to the next that still reads."""
        entry[0], entry[1] = True, send
        queue = self._routes[route]
        while queue and queue[0][0]:
            _, send = queue.popleft()
            if send is not None:
                self._go(send)
        if not queue and self._routes.get(route) is queue:  # (a send may have emptied it)
            del self._routes[route]


def _refusal(failure):
    """Whether a send was refused (the policy's or the store's own refusal), not failed."""
    return failure.check(JimError) is not None and failure.value.code != errors.SERVER_ERROR


def _server_error(failure):
    """Whether a send failed with jim's own error (the store may have kept the message)."""
    return failure.check(JimError) is not None and failure.value.code == errors.SERVER_ERROR

