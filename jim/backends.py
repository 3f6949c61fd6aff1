# -*- test-case-name: tests.test_tap,tests.integration.test_cluster -*-
"""What ``--store`` and ``--bus`` name: the store, the bus and presence a node runs on.

One node: a memory or SQLite store, and the bus and presence of one process. A cluster: the
Redis store and the Redis bus, every node pointed at the same Redis (docs/operations.md). The
Redis store also keeps what the nodes must agree on and would otherwise make each for itself:
the key that signs reconnect tokens, and the generated default app.
"""
import os

from jim.bus.local import LocalBus, LocalPresence
from jim.redis import address as redis_address

REDIS_SCHEMES = tuple(f"{scheme}://" for scheme in redis_address.SCHEMES)


def is_redis(spec):
    return spec is not None and spec.startswith(REDIS_SCHEMES)


def bus_shares_store(config):
    """Whether the bus is on the Redis of a Redis C{--store} (as it is by default): then
    L{make_bus} hands it the store's connection, and the store's append script may publish a
    message's deliveries itself, with its commit (docs/architecture.md, "Announced with the
    commit")."""
    if not is_redis(config.store) or config.bus == "local":
        return False
    return config.bus is None or (is_redis(config.bus) and redis_address.parse(config.bus)
                                  == redis_address.parse(config.store))


def check(store, bus):
    """Refuse a combination that cannot work, with a ValueError that says why and what to do."""
    if store != "memory" and store.partition(":")[0] != "sqlite" and not is_redis(store):
        raise ValueError("--store must be memory, sqlite, sqlite:PATH or a Redis URL"
                         " (redis://HOST:PORT/DB, rediss://..., redis+sentinel://...)")
    for spec in (store, bus):
        if is_redis(spec):
            redis_address.parse(spec)  # a JimError that names what is wrong
    if bus not in (None, "local") and not is_redis(bus):
        raise ValueError("--bus must be local or a Redis URL")
    if is_redis(bus) and not is_redis(store):
        raise ValueError("a Redis bus joins nodes that share one store: use --store with a"
                         " Redis URL too")
    if is_redis(store) and bus == "local":
        raise ValueError("nodes sharing a Redis store must share a bus too: leave --bus out"
                         " (it follows --store) or give a Redis URL")


def make_store(config, reactor, metrics):
    """The IStore named by ``--store``, and a name for it."""
    spec = config.store
    if spec == "memory":
        from jim.store.memory import MemoryStore

        return MemoryStore(), "memory"
    if is_redis(spec):
        from jim.store.redis import RedisStore

        # announcing only once a bus on its connection is made (make_bus)
        return RedisStore(redis_address.parse(spec), reactor, metrics=metrics), "redis"
    kind, _, path = spec.partition(":")
    if kind != "sqlite":
        raise ValueError(f"unknown store {spec!r}: use memory, sqlite or sqlite:PATH")
    from jim.store.sqlite import SqliteStore

    path = path or os.path.join(config.data, "jim.sqlite3")
    return SqliteStore(path, reactor, metrics=metrics, synchronous=config.sqlite_sync), "sqlite"


def make_bus(config, reactor, metrics, store=None):
    """The IBus and IPresence of ``--bus``: this process's, or the cluster's over Redis (by
    default the Redis of a Redis ``--store``). A bus on the Redis of C{store} (a started
    RedisStore) publishes on the store's connection, which the store's append scripts use
    too: what the bus publishes and what a script publishes with a commit then reach Redis in
    the order they were made (docs/architecture.md, "Announced with the commit"), and only
    then may the store's append script publish deliveries itself: it is decided here, once,
    for both (without C{store}, the bus has a connection of its own)."""
    spec = config.bus if config.bus not in (None, "local") else None
    if spec is None and is_redis(config.store):
        spec = config.store
    if spec is None:
        return LocalBus(metrics=metrics), LocalPresence()
    from jim.bus.redis import RedisBus

    shared = store is not None and bus_shares_store(config)
    bus = RedisBus(redis_address.parse(spec), reactor, metrics=metrics,
                   expiry=config.presence_expiry, client=store.client if shared else None)
    if shared:  # its append script publishes where this bus listens, on this connection
        store.bus_publishes_here()
    return bus, bus.presence
