# -*- test-case-name: tests.store_contract.test_forget_app -*-
"""Forgetting an app in the Redis store (L{jim.interfaces.IStore.forget_app}).

Every key of an app's data starts with its hash tag, C{jim:{APP}:} (L{jim.store.redis_keys.key}),
whatever its area, one added later included: a C{SCAN} over that prefix finds them all, and
they are unlinked a thousand at a time. An area that keeps the app in a key of every app's
(a member of a set, say) gives itself a C{forget_app(app)}, which is called next. Then goes the
app's record, C{jim:app:<key>}, with its member of C{jim:apps} (L{jim.store.redis_apps}), last:
an app whose sweep failed half way is still listed, and forgetting it again finishes the job.

The two indexes of every app's data keep the app's members: C{jim:cursors:seen}
(L{jim.store.redis_inbox}) and C{jim:events:created} (L{jim.store.redis_events}). Finding them
would mean reading every app's. Their sweeps drop such a member when its time comes and count
nothing for it, since the hash it names no longer holds its cursor or event; a cursor or event
of a new app of the same key, with the same member, gives that member its own score.

Not one atomic write: a write to the app that races with the sweep (a message sent meanwhile)
may survive it. The caller stops the app's traffic first.
"""
from jim.store.redis_apps import DELETE as DELETE_APP
from jim.store.redis_keys import SCAN_COUNT, key, starting_with


#: KEYS: the app's record, the list of apps; ARGV: the app key. Both at once.
def app_keys_pattern(app):
    """The SCAN MATCH pattern of every key of C{app}'s data: its prefix, glob characters
    escaped, then anything."""
    return starting_with(key(app))


async def forget_app(client, app, areas=()):
    """Delete every key of the app, call the C{forget_app} of each of the C{areas} that has
    one, then delete the app's record (see the module docstring)."""
    pattern = app_keys_pattern(app)
    cursor = "0"
    while True:
        cursor, names = await client.call("SCAN", cursor, "MATCH", pattern,
                                          "COUNT", SCAN_COUNT)
        if names:
            await client.call("UNLINK", *names)
        if str(cursor) == "0":
            break
    for area in areas:
        forget = getattr(area, "forget_app", None)
        if forget is not None:
            await forget(app)
    await client.run(DELETE_APP, [key(None, "app", app), key(None, "apps")], [app])
