# -*- test-case-name: tests.test_store_sqlite -*-
"""The threads of L{jim.store.sqlite.SqliteStore}: each runs submitted functions in order and
answers on the reactor thread."""
import os
import queue
import threading

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from jim import errors
from jim.errors import JimError


class SerialThread:
    """One thread that runs submitted functions one after another, in submission order, and
    hands each result back to the reactor thread as the firing of a Deferred.

    @param batch: run the thread as background work (L{as_batch_work}): its wake-ups do not
        take the core from the reactor thread in the middle of a turn.
    """

    log = Logger()

    def __init__(self, reactor, name, batch=False):
        self._reactor = reactor
        self._batch = batch
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._exited = defer.Deferred()
        self._stopped = False

    def start(self):
        self._thread.start()

    def submit(self, function, *args):
        if self._stopped:
            return defer.fail(server_error(f"{self._thread.name} has stopped"))
        done = defer.Deferred()
        self._queue.put((function, args, done))
        return done

    def stop(self):
        """Let the work already submitted finish, then end the thread."""
        if self._stopped:
            return observe(self._exited)
        self._stopped = True
        if not self._thread.is_alive():
            self._exited.callback(None)
        else:
            self._queue.put(None)
            self._exited.addCallback(lambda _: self._thread.join())
        return observe(self._exited)

    def _loop(self):
        if self._batch:
            try:
                as_batch_work()
            except OSError as e:  # a kernel or sandbox that refuses it: the default is kept
                self.log.info("{thread} runs at the default scheduling policy: {error}",
                              thread=self._thread.name, error=e)
        while True:
            item = self._queue.get()
            if item is None:
                self._reactor.callFromThread(self._exited.callback, None)
                return
            function, args, done = item
            try:
                result = function(*args)
            except BaseException:
                self._reactor.callFromThread(done.errback, Failure())
            else:
                self._reactor.callFromThread(done.callback, result)


def as_batch_work():
    """Give the calling thread Linux's C{SCHED_BATCH} policy where there is one: the same share
    of the CPU as before (its nice value is kept), but the scheduler no longer lets its wake-ups
    preempt a running thread. Needs no privilege. Raises OSError if refused."""
    if hasattr(os, "SCHED_BATCH") and hasattr(os, "sched_setscheduler"):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def server_error(detail):
    """The L{JimError} of a store failure that is not the caller's fault."""
    return JimError(errors.SERVER_ERROR, detail)


def settle(result, done):
    """Fire the Deferred C{done} with C{result}, a value or a Failure (the C{then} of a store
    write that answers a Deferred)."""
    if type(result) is Failure:
        done.errback(result)
    else:
        done.callback(result)


def observe(deferred):
    """A new Deferred that fires None when C{deferred} fires, leaving its result alone."""
    observer = defer.Deferred()

    def relay(result):
        observer.callback(None)
        return result

    deferred.addBoth(relay)
    return observer
