# -*- test-case-name: tests.test_store_sqlite,tests.store_contract.test_messages -*-
"""History pages of L{jim.store.sqlite.SqliteStore}, and the conversation index that serves
them (docs/storage.md, "The conversation index").

Messages up to C{conversation_index_state.indexed_upto} are found through
C{conversation_index}, later ones by a scan of the short tail of C{messages} above it. A
retracted message is in neither: the index job leaves it out, retraction takes it out of the
index, and the tail scan skips it.
"""
from jim.model import MAX_INT64
from jim.store.sqlite_message_queries import MESSAGE_COLUMNS, message_from
from jim.store.sqlite_report_queries import index_reports

#: index the tail once this many messages were written since the last time
INDEX_EVERY = 1000
#: conversation_index_lows keeps a lower bound of created per block of 2**LOW_BLOCK_BITS
#: message ids (the 12 of migration 5 must stay this number)
LOW_BLOCK_BITS = 12


def select_history(db, app, conversation, begin, end, offset, count):
    """A page of a conversation's history in (created, id) order: the newest C{count}, or
    C{count} from C{offset} on. One statement: each one is a GIL hand-over for the reader
    thread."""
    where = ""
    bounds = []
    if begin is not None:
        where += " AND created >= ?"
        bounds.append(begin)
    if end is not None:
        where += " AND created <= ?"
        bounds.append(end)
    if offset is None:
        order, limit, limits = "created DESC, id DESC", "LIMIT ?", [count]
        wanted = count
    else:
        order, limit, limits = "created, id", "LIMIT ? OFFSET ?", [count, offset]
        wanted = min(count + offset, MAX_INT64)  # a LIMIT is a 64-bit integer
    query = (
        "WITH c(conv) AS (SELECT id FROM conversations WHERE app = ? AND key = ?)"
        f" SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ("
        f" SELECT id FROM ("
        f"  SELECT * FROM (SELECT created, id FROM conversation_index"
        f"   WHERE conv = (SELECT conv FROM c){where} ORDER BY {order} LIMIT ?)"
        f"  UNION ALL"
        f"  SELECT created, id FROM messages"
        f"   WHERE id > (SELECT indexed_upto FROM conversation_index_state)"
        f"   AND conv = (SELECT conv FROM c) AND retracted = 0{where}"
        f" ) ORDER BY {order} {limit}"
        f") ORDER BY {order}"
    )
    params = [app, conversation, *bounds, wanted, *bounds, *limits]
    messages = [message_from(row) for row in db.execute(query, params)]
    return messages[::-1] if offset is None else messages


def index_conversations(db):
    """Copy the messages written since the last call into conversation_index (one batch into
    a B-tree keyed by conversation touches each leaf page once, where a per-row index would
    rewrite one leaf per conversation at every commit), leaving retracted ones out, and lower
    the bound of their C{created} in conversation_index_lows (one row). Returns how many were
    indexed."""
    added = db.execute(
        "INSERT INTO conversation_index (conv, created, id) SELECT conv, created, id"
        " FROM messages WHERE id > (SELECT indexed_upto FROM conversation_index_state)"
        " AND retracted = 0"
    ).rowcount
    # the least created of what is indexed now (retracted messages too), in the row of the
    # newest one's block: the inbox's reads bound conversation_index's ranges by it
    db.execute(
        "INSERT INTO conversation_index_lows (block, low) SELECT block, low FROM ("
        f" SELECT MAX(id) >> {LOW_BLOCK_BITS} AS block, MIN(created) AS low FROM messages"
        " WHERE id > (SELECT indexed_upto FROM conversation_index_state)"
        ") WHERE block IS NOT NULL ON CONFLICT (block) DO UPDATE SET low = MIN(low, excluded.low)"
    )
    index_reports(db)
    db.execute("UPDATE conversation_index_state SET indexed_upto = (SELECT MAX(id) FROM messages)"
               " WHERE indexed_upto < (SELECT MAX(id) FROM messages)")
    return added
