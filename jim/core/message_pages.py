# -*- test-case-name: tests.test_core_message_pages -*-
"""History pages and offline fetches bounded in bytes as well as in count.

A front end hands a I{sink}: C{await sink.offer(message)} adds a message if it fits under the
front end's bound, in its own encoding (the first message always fits), and says whether it
did; C{sink.drop(ids)} leaves those out again; C{await sink.force(message)} adds one whatever its
size. The store is read a few messages at a time (about a bound's worth of the largest
messages), so a request never holds much more than its bound, whatever its count.

How the rest is fetched (the paging a J-IM client already does, see docs/wire-protocol.md
§6.10): a history page read from an C{offset} stops at a message and the rest is C{offset + n};
the latest page of a range keeps its newest messages and stops at a millisecond boundary, so
the rest is the latest page up to the millisecond before its oldest (when more than a bound's
worth of messages share one millisecond, the page takes them all, whatever its bound). Offline messages are
read from the device's cursor, and only those that fit are consumed: the rest stay for the next
fetch.
"""


def chunk_size(limits, count):
    """Messages read from the store at once: enough for the bound when every message has the
    largest size a message may have."""
    return max(1, min(count, limits.max_reply // max(1, limits.max_message) + 1))


def whole_millis(kept_created, next_created):
    """How many of the kept messages (their createTimes, newest first) a latest page keeps
    when the next older message, created at C{next_created}, did not fit: those of the
    millisecond it shares with them are left for the next page. 0 when they all share it."""
    kept = len(kept_created)
    while kept and kept_created[kept - 1] == next_created:
        kept -= 1
    return kept


def latest_rest(count, kept_created, next_created):
    """The request for the rest of a latest page (C{count} asked) that kept the messages
    created at C{kept_created} (newest first) and not the next one: (kept, endTime, count),
    or None when they all share the next one's millisecond (the page then takes the rest of
    that millisecond whatever the bound: no request could ask for exactly the rest)."""
    keep = whole_millis(kept_created, next_created)
    if keep:
        return keep, kept_created[keep - 1] - 1, count - keep
    return None


async def history_page(messages, app, username, sink, peer=None, gid=None, begin=None,
                       end=None, offset=None, count=None):
    """Fill C{sink} with a history page (see L{jim.core.messages.Messages.history}): the
    request for the rest (a dict of C{offset}, C{endTime}, C{count}), or None when the page
    is whole."""
    limits = messages.limits
    count = min(count or limits.history_count, limits.history_max)
    chunk = chunk_size(limits, count)

    async def read(first, upto, n):
        return await messages.history(app, username, peer=peer, gid=gid, begin=begin,
                                      end=upto, offset=first, count=n)

    if offset is not None:
        got = 0
        while got < count:
            n = min(chunk, count - got)
            page = await read(offset + got, end, n)
            for message in page:
                if not await sink.offer(message):
                    return {"offset": offset + got, "count": count - got}
                got += 1
            if len(page) < n:
                break
        return None
    kept_ids, kept_created = [], []
    upto, ties = end, 0
    finishing = None  # the millisecond taken whole (see latest_rest)
    while len(kept_ids) < count:
        n = min(chunk, count - len(kept_ids))
        page = await read(None, upto, n + ties)  # oldest first, ending with those kept
        fresh = page[: len(page) - ties] if ties else page
        for message in reversed(fresh):
            if finishing is not None:
                if message.created != finishing:
                    return {"endTime": finishing - 1, "count": count - len(kept_ids)}
                await sink.force(message)
            elif not await sink.offer(message):
                rest = latest_rest(count, kept_created, message.created)
                if rest is not None:
                    sink.drop(set(kept_ids[rest[0]:]))
                    return {"endTime": rest[1], "count": rest[2]}
                finishing = message.created
                await sink.force(message)
            kept_ids.append(message.id)
            kept_created.append(message.created)
            if len(kept_ids) == count:
                return None
        if len(page) < n + ties:
            break
        upto = kept_created[-1]
        ties = kept_created.count(upto)
    return None


async def offline_page(inbox, connection, sink, peer=None, gid=None):
    """Fill C{sink} with the connection's device's offline messages (its inbox after its
    cursor, see L{jim.core.inbox}: of the conversation with C{peer}, of group C{gid}, or all),
    oldest first, at most C{offline_max}; those it holds are consumed for a J-IM device (a
    device that acknowledges keeps them until its ack). Whether some were left because the
    bound was reached."""
    limits = inbox.limits
    chunk = chunk_size(limits, limits.offline_max)
    listed, after, full = 0, 0, False
    while listed < limits.offline_max:
        n = min(chunk, limits.offline_max - listed)
        waiting = await inbox.read(connection, after=after, peer=peer, gid=gid, limit=n)
        for message in waiting:
            if not await sink.offer(message):
                full = True
                break
            after = message.id
            listed += 1
        if full or len(waiting) < n:
            break
    else:  # cut by the count: whether more wait
        full = bool(await inbox.read(connection, after=after, peer=peer, gid=gid, limit=1))
    await inbox.consume(connection, after, peer=peer, gid=gid)
    return full
