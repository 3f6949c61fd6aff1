"""Write to a SqliteStore without pause and print one line per acknowledged write.

Usage: python crash_writer.py DATABASE_PATH

tests/test_store_sqlite.py runs this, reads its lines, kills it with SIGKILL in the middle of
the stream and checks that everything printed here is in the store. A line is printed only
from the write's Deferred callback, that is after its commit returned:

    ready                    the store is open
    user APP NAME            add_user acknowledged
    group APP GID            create_group acknowledged (with its first member)
    member APP GID NAME      create_group or add_members acknowledged with NAME a member
    message APP ID SENDER CLIENT_ID TARGET
                             add_message (client id c...) or append_message_then (e...)
                             acknowledged
    prepared APP ID          reserve_id gave this id (printed before its commit, as a
                             recipient would get it): no other message may ever have it
"""
import sys

from twisted.internet import defer, task

from jim.model import SINGLE, TEXT, Group, Member, Message, User
from jim.store.sqlite import SqliteStore
from tests.support.fakes import with_reserved_id

APP = "crash"
#: writes issued but not yet acknowledged before the writer waits for some to finish
MAX_OUTSTANDING = 2000


def say(*words):
    sys.stdout.write(" ".join(str(word) for word in words) + "\n")
    sys.stdout.flush()


def chat(sender, target, text, client_id, created):
    return Message(0, APP, sender, SINGLE, target, TEXT, {"text": text}, None, client_id, created)


async def write_forever(reactor, path):
    store = SqliteStore(path, reactor)
    await store.start()
    say("ready")
    outstanding = []

    def message_acknowledged(stored):
        say("message", APP, stored.id, stored.sender, stored.client_id, stored.target)

    for turn in range(10**9):
        name, previous, gid = f"u{turn}", f"u{turn - 1}", turn // 10 + 1
        outstanding.append(
            store.users.add_user(User(APP, name, "hash")).addCallback(
                lambda _, n=name: say("user", APP, n))
        )
        if turn % 10 == 0:  # a new group, with its first member, in one write
            outstanding.append(
                store.groups.create_group(Group(APP, gid, owner=name), [Member(name)]).addCallback(
                    lambda _, g=gid, n=name: (say("group", APP, g), say("member", APP, g, n)))
            )
        else:
            outstanding.append(
                store.groups.add_members(APP, gid, [Member(name)]).addCallback(
                    lambda _, g=gid, n=name: say("member", APP, g, n))
            )
        message = chat(name, previous, f"text {turn}", f"c{turn}", turn)
        outstanding.append(
            store.messages.add_message(message).addCallback(message_acknowledged)
        )
        early = with_reserved_id(store.messages,
                                 chat(name, previous, f"early {turn}", f"e{turn}", turn))
        if early is not None:
            say("prepared", APP, early.id)
            pushed = defer.Deferred()
            store.messages.append_message_then(early, pushed.callback)
            outstanding.append(pushed.addCallback(message_acknowledged))
        if len(outstanding) > MAX_OUTSTANDING:
            await defer.gatherResults(outstanding)
            outstanding = []
        await task.deferLater(reactor, 0, lambda: None)


if __name__ == "__main__":
    task.react(lambda reactor: defer.ensureDeferred(write_forever(reactor, sys.argv[1])))
