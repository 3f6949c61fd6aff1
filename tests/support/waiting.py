"""Waiting on the real reactor for something to come true."""
from twisted.internet import reactor, task


async def until(check, timeout=10.0):
    """Wait (turning the reactor) until C{check()} is true; AssertionError after C{timeout}
    seconds."""
    waited = 0.0
    while not check():
        if waited > timeout:
            raise AssertionError(f"still not true after {timeout} s: {check}")
        await task.deferLater(reactor, 0.01, lambda: None)
        waited += 0.01
