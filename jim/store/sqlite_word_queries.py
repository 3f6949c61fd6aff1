# -*- test-case-name: tests.store_contract.test_words -*-
"""The SQL of the sensitive-word area of L{jim.store.sqlite.SqliteStore}: the table
C{sensitive_words}, its C{seq} the order the words were added (writes on the writer thread
inside a batch, reads on the reader thread)."""
from jim.store import no_such_word, too_many_words
from jim.store.sqlite_sql_helpers import counted_page


def insert_words(db, app, words, itime, most):
    """Add the words the app does not have, all or none; how many."""
    have = {word for (word,) in db.execute("SELECT word FROM sensitive_words WHERE app = ?",
                                           (app,))}
    new = [word for word in dict.fromkeys(words) if word not in have]
    if len(have) + len(new) > most:
        raise too_many_words(most)
    db.executemany("INSERT INTO sensitive_words (app, word, itime) VALUES (?, ?, ?)",
                   [(app, word, itime) for word in new])
    return len(new)


def replace_word(db, app, old, new, itime):
    if not db.execute("SELECT 1 FROM sensitive_words WHERE app = ? AND word = ?",
                      (app, old)).fetchone():
        raise no_such_word(old)
    if new != old and db.execute("SELECT 1 FROM sensitive_words WHERE app = ? AND word = ?",
                                 (app, new)).fetchone():
        db.execute("DELETE FROM sensitive_words WHERE app = ? AND word = ?", (app, old))
    else:
        db.execute("UPDATE sensitive_words SET word = ?, itime = ? WHERE app = ? AND word = ?",
                   (new, itime, app, old))


def delete_word(db, app, word):
    if not db.execute("DELETE FROM sensitive_words WHERE app = ? AND word = ?",
                      (app, word)).rowcount:
        raise no_such_word(word)


def select_words(db, app, start, count):
    return counted_page(db, "SELECT COUNT(*) FROM sensitive_words WHERE app = ?",
                        "SELECT word, itime FROM sensitive_words WHERE app = ? ORDER BY seq",
                        (app,), start, count, tuple)


def select_all_words(db, app):
    return [word for (word,) in db.execute(
        "SELECT word FROM sensitive_words WHERE app = ? ORDER BY seq", (app,))]
