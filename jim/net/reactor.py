"""jim's reactor: Twisted's epoll reactor without the legacy log context around each event.

L{twisted.internet.epollreactor.EPollReactor} wraps the handling of every ready descriptor in
C{twisted.python.log.callWithLogger}: it asks the connection for its C{logPrefix()} and pushes
a context dictionary, so that a message logged through the I{legacy} C{twisted.python.log} API
while that connection is being served gets the connection as its C{system}. That costs a few
microseconds per event, which is a measurable share of the work when every event is one small
chat (docs/benchmarks.md, latency-tcp). jim logs through C{twisted.logger} with its own
namespaces and names peers in its messages, so it has no use for that context.

L{JimReactor} is that reactor with the context left out. It keeps the wrapper's other job:
an exception that escapes the handling of one event (a protocol's C{connectionLost} that
raises, say) is logged and the poll's other events are still handled. What a read, write,
hang-up or exception does to a connection is the stock C{_doReadOrWrite}. The one visible
difference: errors logged from inside an event handler have the system C{-} instead of the
connection's prefix.

C{twistd jim} installs it when no reactor has been chosen (L{install_if_unchosen}, called from
L{jim.tap.makeService}); C{twistd -r epoll jim} (or any other C{-r}) keeps Twisted's. It is
also a Twisted reactor plugin named C{jim} (C{twistd --help-reactors}). Where there is no epoll
(not Linux), twistd's default reactor serves instead.
"""
import errno
import sys

from twisted.logger import Logger

log = Logger()

try:
    from twisted.internet.epollreactor import EPollReactor
except ImportError:  # no epoll on this system
    EPollReactor = None


if EPollReactor is not None:

    class JimReactor(EPollReactor):
        """L{EPollReactor} whose events are dispatched without C{callWithLogger}."""

        def doPoll(self, timeout):
            if timeout is None:
                timeout = -1  # wait until something happens
            try:
                events = self._poller.poll(timeout, len(self._selectables))
            except OSError as err:
                if err.errno == errno.EINTR:
                    return
                raise
            selectables = self._selectables
            handle = self._doReadOrWrite
            for fd, event in events:
                selectable = selectables.get(fd)
                if selectable is None:  # removed by an earlier event of this same poll
                    continue
                try:
                    handle(selectable, fd, event)
                except KeyboardInterrupt:
                    raise
                except BaseException:  # as callWithLogger: log it, go on with the others
                    log.failure("handling event {event} of descriptor {fd} failed",
                                event=event, fd=fd)

        doIteration = doPoll


def install():
    """Install L{JimReactor} as the global reactor (C{twistd -r jim}). Raises ImportError
    where there is no epoll, as Twisted's own reactors do when they cannot run."""
    if EPollReactor is None:
        raise ImportError("the jim reactor needs epoll (Linux)")
    from twisted.internet.main import installReactor

    reactor = JimReactor()
    installReactor(reactor)
    return reactor


def install_if_unchosen():
    """Install L{JimReactor} unless a reactor is already installed (chosen with C{twistd -r},
    or imported by someone) or there is no epoll. True if it was installed here."""
    if EPollReactor is None or "twisted.internet.reactor" in sys.modules:
        return False
    install()
    return True
