# -*- test-case-name: tests.integration.test_rest_words -*-
"""Sensitive words and the SDK self-registration switch (reference section 2.7)."""
from jim.web.rest_v1 import params, shapes
from jim.web.rest_v1.router import route

#: the largest page of the word list (JMessage's 2000)
WORDS_PAGE_MAX = 2000


@route("GET", "/v1/sensitiveword")
async def words(call):
    """A page of the app's sensitive words, in the order added."""
    start, count = params.page(call, WORDS_PAGE_MAX)
    total, page = await call.core.words.list(call.app.key, start, count)
    return 200, {"start": start, "count": len(page), "total": total,
                 "words": [{"name": word, "itime": shapes.clock_time(itime)}
                           for word, itime in page]}


@route("POST", "/v1/sensitiveword")
async def add_words(call):
    """Add words: a JSON array of 1 to 100 (C{--sensitive-words}) words of 1 to 10
    characters. Words the app has already stay as they are."""
    await call.core.words.add(call.app.key, call.json())
    return 204, None


@route("PUT", "/v1/sensitiveword")
async def change_word(call):
    """Put C{new_word} in the place of C{old_word}."""
    body = params.only(params.obj(call.json()), ("new_word", "old_word"))
    await call.core.words.replace(call.app.key, params.text(body, "old_word", required=True),
                                  params.text(body, "new_word", required=True))
    return 204, None


@route("DELETE", "/v1/sensitiveword")
async def remove_word(call):
    """Take a word off the list: C{{"word": ...}}."""
    body = params.only(params.obj(call.json()), ("word",))
    await call.core.words.remove(call.app.key, params.text(body, "word", required=True))
    return 204, None


@route("GET", "/v1/sensitiveword/status")
async def filter_status(call):
    """C{{"status": 1}} while the app's texts are filtered, else 0."""
    return 200, {"status": int(await call.core.words.filter_on(call.app.key))}


@route("PUT", "/v1/sensitiveword/status")
async def set_filter_status(call):
    """C{?status=1} masks the app's sensitive words in text messages from now on; 0 stops."""
    await call.core.words.set_filter(call.app.key,
                                     params.boolean(call.query("status"), "status"))
    return 204, None


@route("GET", "/v1/sdkregister/status")
async def registration_status(call):
    """C{{"status": 1}} while clients may register users by logging in, else 0."""
    return 200, {"status": int(await call.core.words.registration_open(call.app.key))}


@route("PUT", "/v1/sdkregister/status")
async def set_registration_status(call):
    """C{?status=1} lets clients register users by logging in; 0 stops it."""
    await call.core.words.set_registration(call.app.key,
                                           params.boolean(call.query("status"), "status"))
    return 204, None
