"""The core as the front ends see it: one object holding the hub, the accounts and the limits,
and the sweeper that closes connections which never log in or fall silent."""
from twisted.internet.task import LoopingCall
from twisted.logger import Logger


class Core:
    """Everything a connection's L{jim.core.session.Session} needs, shared by all of them."""

    log = Logger()

    def __init__(self, hub, accounts, limits, clock, metrics, auto_join=()):
        self.hub = hub
        self.accounts = accounts
        self.limits = limits
        self.clock = clock
        self.metrics = metrics
        self.auto_join = tuple(auto_join)
        self.sessions = set()  # every live session, logged in or not
        self._sweeper = None

    def start(self):
        """Start sweeping for connections past their login or idle timeout."""
        interval = min(self.limits.login_timeout, self.limits.idle_timeout) / 4
        self._sweeper = LoopingCall(self.sweep)
        self._sweeper.clock = self.clock
        self._sweeper.start(max(interval, 0.5), now=False)

    def stop(self):
        if self._sweeper is not None and self._sweeper.running:
            self._sweeper.stop()
        self._sweeper = None

    def sweep(self):
        """Close sessions that did not log in in time, or sent nothing for too long.

        One periodic scan instead of a timer per connection: idle connections then cost no
        DelayedCall each, and a frame costs one float store instead of a timer reset.
        """
        now = self.clock.seconds()
        login_deadline = now - self.limits.login_timeout
        idle_deadline = now - self.limits.idle_timeout
        for session in list(self.sessions):
            if session.closed:
                continue
            if session.username is None:
                if session.connected_at < login_deadline:
                    self.log.info(
                        "closing {peer}: no login within {timeout} s",
                        peer=session.client.peer,
                        timeout=self.limits.login_timeout,
                    )
                    session.close("login timeout")
            elif session.last_seen < idle_deadline:
                self.log.info(
                    "closing {peer} ({user}): silent for {timeout} s",
                    peer=session.client.peer,
                    user=session.username,
                    timeout=self.limits.idle_timeout,
                )
                session.close("idle timeout")
