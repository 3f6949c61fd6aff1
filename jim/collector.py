# -*- test-case-name: tests.test_collector -*-
"""CPython's cyclic garbage collector, tuned for a long-running server.

With CPython's default thresholds (700, 10, 10) the collector runs a young-generation pass every
700 net allocations of container objects and now and then a full pass over every object the
process holds, including everything Twisted, autobahn and jim loaded at startup. A busy jim
allocates a few dozen containers per chat (parsed JSON, Deferreds, replies) that mostly die
young, so on the benchmark machine the collector took about a third of the reactor thread's
CPU, and its full passes were the largest pauses seen by clients.

Two remedies, both standard for servers (see C{docs/architecture.md}, "Garbage collection"):

 - L{freeze} once startup is over: what exists then (modules, classes, configuration) is moved
   to a permanent generation that later passes never scan again.
 - L{tune} raises the thresholds, so young passes are rarer and see more objects that have
   already died (which cost nothing to collect). Cycles are still found, just later.
"""
import gc

#: (young pass every N net container allocations, middle pass every N young ones, full pass
#: every N middle ones); CPython's defaults are (700, 10, 10)
THRESHOLDS = (50_000, 20, 20)


def tune(thresholds=THRESHOLDS):
    """Set the collector's thresholds (call once, when the server process starts)."""
    gc.set_threshold(*thresholds)


def freeze():
    """Collect what startup left behind, then exempt every object alive now from future
    passes. Call it once the server is listening."""
    gc.collect()
    gc.freeze()


def stats():
    """C{[(generation, collections, collected), ...]} since the process started."""
    return [
        (generation, entry["collections"], entry["collected"])
        for generation, entry in enumerate(gc.get_stats())
    ]


def frozen():
    """How many objects L{freeze} exempted."""
    return gc.get_freeze_count()
