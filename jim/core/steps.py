"""Cleanup steps that run one after the other, whatever became of the one before; and the
answer of a Deferred by a C{then} call."""
from twisted.python.failure import Failure


def step_name(step):
    """How the log names a step: its qualified name (Groups.user_deleted, say)."""
    return getattr(step, "__qualname__", None) or repr(step)


async def run_each(steps, args, log, failed_as, **fields):
    """Await C{step(*args)} for every step, in order: one that fails is logged (C{failed_as},
    a log format given C{fields} and C{step}, its name) and the others still run. Returns how
    many failed."""
    failed = 0
    for step in steps:
        try:
            await step(*args)
        except Exception:  # what is left of it is logged, not undone
            failed += 1
            log.failure(failed_as, step=step_name(step), **fields)
    return failed


def settle(outcome, done):
    """Fire the Deferred C{done} with C{outcome}, a value or a Failure (the C{then} of a call
    answered by a call, when a Deferred waits for it)."""
    if type(outcome) is Failure:
        done.errback(outcome)
    else:
        done.callback(outcome)
