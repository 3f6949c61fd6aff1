"""A ProcessProtocol for child processes of the tests (twistd, chromium)."""
from twisted.internet import defer
from twisted.internet.protocol import ProcessProtocol


class TailProcess(ProcessProtocol):
    """Keeps the tail of what the process wrote to stdout/stderr and fires C{ended} (with the
    exit reason) when it is gone. Only the tail is ever shown: a chatty process must not grow
    this without bound."""

    def __init__(self, tail_chars):
        self.tail_chars = tail_chars
        self.output = bytearray()
        self.ended = defer.Deferred()
        self.exit_reason = None

    def outReceived(self, data):
        self._keep(data)

    def errReceived(self, data):
        self._keep(data)

    def _keep(self, data):
        self.output += data
        if len(self.output) > 4 * self.tail_chars:
            del self.output[: len(self.output) - self.tail_chars]

    def processEnded(self, reason):
        self.exit_reason = reason.value
        self.ended.callback(reason.value)

    def tail(self):
        return bytes(self.output[-self.tail_chars :]).decode("utf-8", "replace")
