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
looked at first and only those that fit are taken: the rest stay for the next fetch.
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


async def offline_page(messages, app, username, sink, peer=None, gid=None):
    """Fill C{sink} with the user's offline messages (see
    L{jim.core.messages.Messages.take_offline}), taking only those it holds: whether some
    were left because the bound was reached."""
    limits, store = messages.limits, messages.store
    chunk = chunk_size(limits, limits.offline_max)
    since = (await messages.users.get(app, username)).ctime
    taken_count = 0
    while taken_count < limits.offline_max:
        n = min(chunk, limits.offline_max - taken_count)
        waiting = await store.peek_offline(app, username, peer=peer, gid=gid, limit=n)
        fitting, full = [], False
        for message in waiting:
            # a predecessor's (a user deleted and registered again): taken, never shown
            if message.created >= since and not await sink.offer(message):
                full = True
                break
            fitting.append(message)
        if fitting:
            taken = await store.take_offline(app, username, peer=peer, gid=gid,
                                             limit=len(fitting), upto=fitting[-1].id)
            taken_count += len(taken)
            await _settle(sink, fitting, [m for m in taken if m.created >= since], since)
        if full or len(waiting) < n:
            return full
    return False


async def _settle(sink, offered, taken, since):
    """The sink holds what was offered; another fetch of the same user may have taken some of
    those meanwhile, or an older message may have been marked: it must hold what was taken."""
    offered_ids = {m.id for m in offered if m.created >= since}
    taken_ids = {m.id for m in taken}
    if taken_ids == offered_ids:
        return
    sink.drop(offered_ids - taken_ids)
    for message in taken:
        if message.id not in offered_ids:
            await sink.force(message)
