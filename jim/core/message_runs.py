# -*- test-case-name: tests.test_protocols_jim_chat_runs,tests.test_core_messages -*-
"""Runs: the chats of one read from one sender to one user, sent together (docs/architecture.md,
"How a chat travels"). A mixin of L{jim.core.messages.Messages}: it takes the same steps as
that class's send of one private message, once a run, and shares its queue of deliveries that
wait for a commit (C{_waiting} and its counts), so that a run's delivery keeps its place among
every other message's."""
from twisted.python.failure import Failure

from jim.cursors import conversation_of
from jim.core.words import masked
from jim.model import SINGLE, Delivery, Message

#: the kinds of the deliveries waiting in Messages._waiting (see there; the mixin queues
#: into it too): one published after a commit before it (or an event's), and one whose parts
#: for other nodes go with its commit
PLAIN, MARKED = "plain", "marked"


class RunSends:
    def send_run_then(self, app, sender, drafts, connection_id, then, *args):
        """Send several private drafts of C{sender} to one user, none with a client id, in
        order: the chats of one read, the hot path under load. C{then(answers, *args)} is
        called once or more, each time with a list of C{(draft, outcome or Failure)}, until
        every draft was answered once (a refusal at once, the rest after their commit).

        When everything the send needs is in memory, the run costs one lookup of the users
        and the policy's memory, one publish (a L{Delivery} whose item is the tuple of the
        messages) and one commit callback; its messages are built, stored and delivered as
        L{jim.core.messages.Messages.send_then}'s would be. Otherwise each draft goes by
        that."""
        target = drafts[0].target
        settings = self.accounts.known.get(app)
        users = self.users.known
        me = users.get((app, sender))
        receiver = users.get((app, target))
        theirs = self.relations.known.get((app, target))
        route = (app, sender, SINGLE, target)
        if (settings is None or me is None or receiver is None or theirs is None
                or route in self._loading_turns or self._once.holds(route)):
            self._send_each(app, sender, drafts, connection_id, then, args)
            return
        word_filter = None
        if settings.word_filter:
            word_filter = self.words.cached(app)
            if word_filter is None:
                self._send_each(app, sender, drafts, connection_id, then, args)
                return
        policy = self.policy
        allowed = []  # (draft, what is sent: its text masked) since the last refusal
        for draft in drafts:
            final = draft if word_filter is None else masked(word_filter, draft)
            refusal = policy.private(settings, me, receiver, theirs, final)
            if refusal is None:
                allowed.append((draft, final))
                continue
            if allowed:  # those before it go first, as they would alone
                self._send_allowed(app, sender, target, allowed, connection_id, then, args)
                allowed = []
            then([(draft, Failure(refusal))], *args)
        if allowed:
            self._send_allowed(app, sender, target, allowed, connection_id, then, args)

    def _send_allowed(self, app, sender, target, allowed, connection_id, then, args):
        """The part of a run the policy let go (L{send_run_then}), with ids the store reserves
        now: published at once and stored, or, behind a delivery that waits for its commit,
        queued after it, as one message's would be (L{jim.core.messages.Messages.
        _store_and_deliver}); past the ids the store can promise, stored first
        (L{_store_run_late})."""
        store = self.store
        created = int(self._clock.seconds() * 1000)
        run = []
        for _, final in allowed:
            message_id = store.reserve_id()
            if not message_id:
                break
            run.append(private_message(message_id, app, sender, target, final, created))
        audience, exclude = private_route(sender, target, connection_id)
        if run:
            delivered = self.presence.is_online(app, target)
            recipients = audience if delivered else (sender,)
            delivery = Delivery._make((app, _item_of(run), recipients, exclude, None))
            drafts = [draft for draft, _ in allowed[: len(run)]]
            if self._waiting:
                # [delivered]: a receiver who leaves before the queued delivery goes out
                # does not get it (Messages._publish_queued)
                outcome = [delivered]
                self._waiting.append([True, self._publish_queued,
                                      (delivery, (target,) if delivered else (), True, outcome),
                                      PLAIN])
                self._plain += 1
                store.append_run_then(run, self._queued_run_committed, drafts, outcome, then,
                                      args)
            else:
                self.bus.publish(delivery)
                store.append_run_then(run, self._run_committed, drafts, delivered, then, args)
            allowed = allowed[len(run):]
        if allowed:
            self._store_run_late(
                [private_message(0, app, sender, target, final, created)
                 for _, final in allowed],
                [draft for draft, _ in allowed], audience, exclude, then, args)

    def _store_run_late(self, run, drafts, audience, exclude, then, args):
        """L{_store_and_deliver} of a run without ids (a private one, to one target): stored
        first, published after its commit, in the order of the deliveries, as one; its parts
        for other nodes announced with its commit when they may be (the same parts for each
        message: a run's deliveries differ only in their messages)."""
        first = run[0]
        online = self.presence.is_online(first.app, first.target)
        entry, parts, announced = self._wait_for_commit(
            (first.app, conversation_of(first)), first,
            audience if online else (first.sender,), exclude, None)
        late = (audience, exclude, drafts, then, args)
        if parts:
            self.store.add_announced_run_then(run, parts, self._run_stored, entry,
                                              (*late, announced))
            return
        self.store.add_run_then(run, self._run_stored, entry, (*late, None))

    def _run_stored(self, results, entry, rest):
        """The commit of a run that waited for it (L{_store_run_late}): its delivery is
        ready."""
        entry[0], entry[1], entry[2] = True, self._deliver_run_late, (results, *rest)
        self._drain()

    def _deliver_run_late(self, results, audience, exclude, drafts, then, args, announced):
        """L{_deliver_late} of a run: what of it was stored goes to those of its audience
        online now, as one delivery; then its sender hears, once."""
        kept = [stored for stored in results if type(stored) is not Failure]
        answers = []
        delivered = False
        if kept:
            app, target = kept[0].app, kept[0].target
            self.metrics.messages_in += len(kept)
            if self.callbacks is not None:
                for stored in kept:
                    self.callbacks.accepted(stored)
            recipients = tuple(self.presence.online_among(app, audience))
            delivery = Delivery._make((app, _item_of(kept), recipients, exclude, None))
            if announced is None:
                self.bus.publish(delivery)
            else:
                self.bus.publish_announced(delivery, announced)
            delivered = self.presence.is_online(app, target)
        for draft, stored in zip(drafts, results):
            answers.append((draft, stored if type(stored) is Failure else (stored, delivered)))
        then(answers, *args)

    def _send_each(self, app, sender, drafts, connection_id, then, args):
        for draft in drafts:
            self.send_then(app, sender, draft, connection_id, answer_one, draft, then, args)

    def _queued_run_committed(self, results, drafts, outcome, then, args):
        self._run_committed(results, drafts, outcome[0], then, args)

    def _run_committed(self, results, drafts, delivered, then, args):
        """The commit of a run (L{send_run_then}): its sender hears once."""
        answers = []
        kept = 0
        callbacks = self.callbacks
        for draft, stored in zip(drafts, results):
            if type(stored) is Failure:  # its recipients have it, but it is not stored
                answers.append((draft, stored))
                continue
            kept += 1
            if callbacks is not None:
                callbacks.accepted(stored)
            answers.append((draft, (stored, delivered)))
        self.metrics.messages_in += kept
        then(answers, *args)


def private_message(message_id, app, sender, target, draft, created):
    """The message of a private draft (one's, or each of a run's: L{RunSends.send_run_then}).
    C{_make} with every field: a NamedTuple's own constructor costs twice as much."""
    return Message._make((message_id, app, sender, SINGLE, target, draft.msg_type, draft.body,
                          draft.extras, draft.client_id, created, draft.from_type,
                          draft.target_app, draft.no_offline, draft.no_notification, False))


def private_route(sender, target, connection_id):
    """C{(audience, exclude)} of a private message: both users, and the sending connection
    left out, but of a message to oneself, which reaches every connection, the sending one
    too."""
    if target == sender:
        return (target,), None
    return (target, sender), connection_id


def _item_of(run):
    """The item of the delivery of a run's messages (a list): the tuple of them, or the one
    message of a run of one."""
    return run[0] if len(run) == 1 else tuple(run)


def answer_one(outcome, draft, then, args):
    """A draft of a run (L{RunSends.send_run_then}) sent on its own: its answer, as a run's."""
    then([(draft, outcome)], *args)
