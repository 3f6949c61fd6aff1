"""A cluster on Redis behind Sentinels (one master, one replica, three Sentinels, all local)
whose master is killed (kill -9) mid-chat: the nodes follow the failover to the promoted
replica, and every message acknowledged to its sender reaches its receiver (but see below) and
is stored once.

What Redis may lose, and so what this test does not ask of jim: replication is asynchronous
and jim sends no WAIT (nor needs min-replicas), so a write the old master acknowledged in the
instant before it died may never have reached the replica; after the failover it is gone, though
its sender was told it was stored (docs/operations.md, "what each Redis persistence setting
guarantees"). The test rules that out before the kill: it pauses the master's writes (CLIENT
PAUSE WRITE: commands that would write wait, unexecuted) and waits until the replica has
everything the master executed, then kills it. Writes held by the pause die with the master
unexecuted: jim refuses those messages (J-IM 10002) and the clients send them again, with the
same client id, until they are acknowledged (10000 or 10001), as a client must.

A message whose commit went through but whose live delivery (a PUBLISH, held by the pause) died
with the master is in its receiver's inbox all the same (the message log is the inbox), so the
receiver's next offline fetch lists it: the test lets that fetch read every message of a
conversation (a J-IM device's fetch reads each conversation's latest
--inbox-per-conversation messages, and a push lost in the failover may be followed by more than
the default 100). A message whose commit went through but whose answer was lost is refused,
and delivered at its resend. So every acknowledged message reaches its receiver, live or
offline.
"""
import itertools

from twisted.internet import defer

from jim.errors import JimError
from tests.integration.test_cluster import KEY, SECRET, ClusterCase, quiet
from tests.support.inprocess import start_jim
from tests.support.redis_server import SentinelGroup
from tests.support.rest import Rest

#: seconds an acknowledgement may take while Redis fails over: a lookup and a write, each
#: refused after jim's Redis timeout (5 s)
ACK_TIMEOUT = 20
#: seconds of chat before the master is killed
BEFORE_KILL = 1.0
#: messages each sender has acknowledged after the failover before the chat stops
AFTER_FAILOVER = 20


def chat(to, text):
    return {"cmd": 11, "chatType": 2, "to": to, "content": text, "id": text}


class Sender:
    """One user sending to another, one message at a time, each (re)sent with its client id
    until it is acknowledged."""

    def __init__(self, client, name, to):
        self.client = client
        self.name = name
        self.to = to
        self.acknowledged = []  # client ids, in the order they were acknowledged
        self.refused = 0
        self.stopping = False

    async def run(self, pause=0.002):
        for n in itertools.count():
            if self.stopping:
                return
            text = f"{self.name}-{n}"
            while True:
                self.client.send(11, chat(self.to, text))
                ack = await self.client.expect(12, timeout=ACK_TIMEOUT)
                if ack["code"] in (10000, 10001):
                    self.acknowledged.append(text)
                    break
                assert ack["code"] == 10002, ack  # not stored: send it again
                self.refused += 1
                await quiet(0.2)
            await quiet(pause)


class SentinelFailoverTests(ClusterCase):
    timeout = 90

    async def test_a_master_killed_mid_chat_loses_nothing_acknowledged(self):
        group = SentinelGroup(down_after=1000, failover_timeout=3000).start()
        self.addCleanup(group.remove)
        url = group.url()
        # every message of the test stays offline-readable: a J-IM device's offline fetch
        # reads each conversation's latest --inbox-per-conversation messages (100 by
        # default), and a push lost in the failover may have hundreds after it
        limits = {"rest_rate": 0, "history_count": 1000, "inbox_per_conversation": 100_000}
        nodes = [await start_jim(self, store=url, app_key=KEY, master_secret=SECRET,
                                 limits=limits)
                 for _ in range(2)]
        a, b = nodes
        self.nodes = nodes  # what reached_once tells of a miss
        await Rest(a, KEY, SECRET).register("alice", "bobby", "carol", "dave")
        clients = {"alice": await self.tcp(a, "alice"), "carol": await self.tcp(a, "carol"),
                   "bobby": await self.tcp(b, "bobby"), "dave": await self.tcp(b, "dave")}
        rests = [Rest(node, KEY, SECRET) for node in nodes]
        for name in clients:
            await self.seen_online(rests, name)
        # each user on one node talks to one on the other, both ways
        senders = [Sender(clients[name], name, to) for name, to in
                   [("alice", "bobby"), ("bobby", "alice"), ("carol", "dave"),
                    ("dave", "carol")]]
        running = [defer.ensureDeferred(sender.run()) for sender in senders]

        await quiet(BEFORE_KILL)
        await self.acknowledged_by_all(senders, 1, running)
        old, new = group.master, group.replica
        await self.kill_in_sync(group)
        await self.failed_over(group, new)
        marks = [len(sender.acknowledged) for sender in senders]
        await self.acknowledged_by_all(senders, [m + AFTER_FAILOVER for m in marks], running)
        for sender in senders:
            sender.stopping = True
        await defer.gatherResults(running, consumeErrors=True)
        self.assertIsNone(old.process, "the old master is dead")
        await quiet(0.5)  # the last live deliveries

        for sender in senders:
            await self.reached_once(sender, clients[sender.to])
        self.assertEqual(self.flushLoggedErrors(JimError), [], "nothing went wrong")

    async def acknowledged_by_all(self, senders, counts, running):
        """Wait until each sender has that many messages acknowledged (a failed sender fails
        the test at once)."""
        if isinstance(counts, int):
            counts = [counts] * len(senders)
        for _ in range(int(ACK_TIMEOUT * 2 / 0.05)):
            for d in running:
                if d.called:
                    await d  # raises what stopped a sender
                    self.fail("a sender stopped")
            if all(len(s.acknowledged) >= c for s, c in zip(senders, counts)):
                return
            await quiet(0.05)
        self.fail(f"acknowledged: {[len(s.acknowledged) for s in senders]}, wanted {counts}")

    async def kill_in_sync(self, group):
        """Kill the master once the replica has every write it executed (see the module's
        docstring): what is lost then is what jim, not Redis, would lose."""
        master, replica = group.master, group.replica
        self.assertEqual(master.query("CLIENT", "PAUSE", "10000", "WRITE"), "OK")
        executed = int(master.info()["master_repl_offset"])
        for _ in range(400):
            if int(replica.info()["slave_repl_offset"]) >= executed:
                break
            await quiet(0.005)
        else:
            self.fail("the replica did not catch up with the paused master")
        master.kill()

    async def failed_over(self, group, new):
        """Wait until every Sentinel names the replica as the master."""
        for _ in range(300):
            try:
                if group.current_master() is new:
                    return
            except (AssertionError, OSError, KeyError, TypeError, ValueError):
                pass  # the Sentinels do not agree yet
            await quiet(0.05)
        self.fail("no failover:\n" + group.logs())

    async def reached_once(self, sender, receiver):
        """Every message C{sender} had acknowledged reached C{receiver} (live, or offline
        when its live delivery failed: fetched until it came, for a message whose append was
        in flight may reach the inbox a while later), as one message, and is in history once,
        in order."""
        live = [obj["data"] for cmd, obj in receiver.inbox.frames
                if cmd == 11 and obj["data"]["from"] == sender.name]
        offline = []
        for _ in range(40):
            reply = await receiver.request(19, {"cmd": 19, "type": 0, "userId": sender.to}, 20)
            offline += reply["data"]["friends"].get(sender.name, [])
            if {m["content"] for m in live + offline} >= set(sender.acknowledged):
                break
            await quiet(0.5)
        for kind, messages in (("live", live), ("offline", offline)):
            ids = [m["id"] for m in messages]
            self.assertEqual(len(ids), len(set(ids)), f"{kind}: a message came twice")
        ids_of = {}
        for message in live + offline:  # a message may come live and be kept offline too
            ids_of.setdefault(message["content"], set()).add(message["id"])
        self.assertEqual({text: ids for text, ids in ids_of.items() if len(ids) > 1}, {},
                         "one message stored as two")
        history = await receiver.request(19, {"cmd": 19, "type": 1, "userId": sender.to,
                                              "fromUserId": sender.name}, 20)
        stored = [m for m in history["data"]["friends"][sender.name]
                  if m["from"] == sender.name]  # the conversation: both ways
        self.assertEqual([m["content"] for m in stored], sender.acknowledged,
                         "each stored once, in order")
        missing = set(sender.acknowledged) - set(ids_of)
        detail = ""
        if missing:  # what the next look at a miss needs: its id, and the device's cursor
            kept = {m["content"]: m["id"] for m in stored}
            cursors = await self.nodes[0].store.inbox.cursors(KEY, sender.to)
            detail = (f"; missing {sorted((kept.get(t), t) for t in missing)}, live ids"
                      f" {sorted(int(m['id']) for m in live)[-5:]}..., cursors {cursors}")
        self.assertEqual(sorted(ids_of), sorted(sender.acknowledged),
                         f"{sender.name} to {sender.to}: every acknowledged message, and no"
                         f" other{detail}")
