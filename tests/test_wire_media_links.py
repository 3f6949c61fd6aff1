"""Signed download links: a link made by one key is taken by the same key until it expires,
and nothing else is taken: another key, app, id or expiry, a changed signature."""
from urllib.parse import parse_qs, unquote, urlsplit

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.errors import JimError
from jim.wire import media_links
from tests.test_wire_media_ids import refs

KEY = media_links.link_key(b"k" * 32)
REF = "qiniu/file/j/" + "C" * 32


def parts(link):
    """(segments after /media, expires, signature) of a link, as the web side reads them:
    each segment percent-decoded (Twisted's postpath)."""
    split = urlsplit(link)
    segments = [unquote(segment, errors="strict") for segment in split.path.split("/")[1:]]
    assert segments[0] == media_links.MOUNT
    query = parse_qs(split.query)
    return segments[1:], query["expires"][0], query["signature"][0]


class LinkTests(SynchronousTestCase):
    def refused(self, code, *args):
        with self.assertRaises(JimError) as caught:
            media_links.check(*args)
        self.assertEqual(caught.exception.code, code)
        return caught.exception

    def test_shape(self):
        link = media_links.link(KEY, "app/1", "qiniu/file/j/" + "A" * 32, 1000)
        self.assertTrue(link.startswith(f"/media/app%2F1/qiniu/file/j/{'A' * 32}?expires=1000"
                                        "&signature="), link)
        self.assertRegex(link, "signature=[0-9a-f]{64}$")

    def test_segments_are_taken_as_decoded_once(self):
        for app in ("a%41", "%ff", "\u00e9", "a/b"):
            segments, expires, signature = parts(media_links.link(KEY, app, REF, 10))
            self.assertEqual(segments[0], app)
            self.assertEqual(media_links.check(KEY, segments, expires, signature, 0), (app, REF))

    def test_the_key_is_derived_not_the_tokens(self):
        self.assertNotEqual(media_links.link_key(b"k" * 32), b"k" * 32)
        self.assertNotEqual(media_links.link_key(b"j" * 32), KEY)
        self.assertEqual(len(KEY), 32)

    @given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20), refs,
           st.integers(0, 2**40), st.integers(0, 2**40))
    def test_a_link_is_taken_until_it_expires(self, app, ref, expiry, now):
        segments, expires, signature = parts(media_links.link(KEY, app, str(ref), expiry))
        if now <= expiry:
            self.assertEqual(media_links.check(KEY, segments, expires, signature, now),
                             (app, str(ref)))
        else:
            error = self.refused(errors.NOT_ALLOWED, KEY, segments, expires, signature, now)
            self.assertIn("expired", error.detail)

    @given(refs, st.integers(0, 2**40), st.data())
    def test_any_change_is_refused(self, ref, expiry, data):
        segments, expires, signature = parts(media_links.link(KEY, "app", str(ref), expiry))
        position = data.draw(st.integers(0, len(signature) - 1))
        digit = data.draw(st.sampled_from("0123456789abcdef").filter(
            lambda d: d != signature[position]))
        changed = signature[:position] + digit + signature[position + 1:]
        self.refused(errors.NOT_ALLOWED, KEY, segments, expires, changed, 0)
        self.refused(errors.NOT_ALLOWED, media_links.link_key(b"other"), segments, expires,
                     signature, 0)
        self.refused(errors.NOT_ALLOWED, KEY, ["other"] + segments[1:], expires, signature, 0)
        self.refused(errors.NOT_ALLOWED, KEY, segments, str(expiry + 1), signature, 0)

    def test_malformed_links(self):
        ref = "qiniu/file/j/" + "B" * 32
        segments, expires, signature = parts(media_links.link(KEY, "app", ref, 50))
        self.assertEqual(media_links.check(KEY, segments, expires, signature.upper(), 0),
                         ("app", ref))
        for bad in ([], ["app"], ["app", "qiniu", "file"], ["app", "x"],
                    ["app", "qiniu", "file", "j", "B" * 31]):
            self.refused(errors.NO_SUCH_MEDIA, KEY, bad, expires, signature, 0)
        for expires_, signature_ in ((None, signature), ("", signature), ("-1", signature),
                                     ("1e3", signature), ("９", signature), ("1" * 19, signature),
                                     (expires, None), (expires, ""), (expires, "é" * 64)):
            self.refused(errors.NOT_ALLOWED, KEY, segments, expires_, signature_, 0)
