"""Media ids: JMessage's shape, made from an upload and read back, whatever a client sends."""
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import model
from jim.wire import media_ids
from jim.wire.media_ids import IMAGE_FORMATS, MediaRef

HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
digits = st.text("0123456789ABCDEF", min_size=32, max_size=32)
refs = st.one_of(
    st.builds(MediaRef, st.just(model.IMAGE), digits, st.sampled_from(IMAGE_FORMATS)),
    st.builds(MediaRef, st.sampled_from([model.VOICE, model.FILE]), digits),
)


class ShapeTests(SynchronousTestCase):
    def test_each_kind_has_jmessages_shape(self):
        d = "0123456789ABCDEF0123456789ABCDEF"
        self.assertEqual(media_ids.media_id("image", d, "png"), f"qiniu/image/j/{d}.png")
        self.assertEqual(media_ids.media_id("voice", d), f"qiniu/voice/j/{d}")
        self.assertEqual(media_ids.media_id("file", d), f"qiniu/file/j/{d}")

    def test_a_kind_and_format_that_do_not_go_together_are_a_bug(self):
        d = "0" * 32
        for kind, fmt in (("image", ""), ("image", "tif"), ("voice", "mp3"), ("text", ""),
                          ("file", "png")):
            self.assertRaises(ValueError, media_ids.media_id, kind, d, fmt)
        self.assertRaises(ValueError, media_ids.media_id, "file", "0" * 31)
        self.assertRaises(ValueError, media_ids.media_id, "file", "a" * 32)  # upper case only

    def test_digits_depend_on_app_kind_bytes_and_a_files_name(self):
        base = media_ids.digits_of("app1", "file", HASH, "a.txt")
        self.assertRegex(base, "^[0-9A-F]{32}$")
        self.assertEqual(media_ids.digits_of("app1", "file", HASH, "a.txt"), base)
        others = {media_ids.digits_of("app2", "file", HASH, "a.txt"),
                  media_ids.digits_of("app1", "voice", HASH, "a.txt"),
                  media_ids.digits_of("app1", "file", HASH[::-1], "a.txt"),
                  media_ids.digits_of("app1", "file", HASH, "b.txt")}
        self.assertNotIn(base, others)
        self.assertEqual(len(others), 4)
        # an image's or a voice's name is not part of it: the same bytes are the same image
        self.assertEqual(media_ids.digits_of("app1", "image", HASH, "a.png"),
                         media_ids.digits_of("app1", "image", HASH, "b.png"))
        # the parts cannot run into one another
        self.assertNotEqual(media_ids.digits_of("ab", "file", "c", ""),
                            media_ids.digits_of("a", "file", "bc", ""))

    def test_parse_takes_either_case_and_gives_the_canonical_id(self):
        ref = media_ids.parse("qiniu/image/j/0123456789abcdef0123456789ABCDEF.PNG")
        self.assertEqual(ref, MediaRef("image", "0123456789ABCDEF0123456789ABCDEF", "png"))
        self.assertEqual(str(ref), "qiniu/image/j/0123456789ABCDEF0123456789ABCDEF.png")

    def test_parse_refuses_what_is_no_media_id(self):
        d = "0123456789ABCDEF0123456789ABCDEF"
        for text in ("", d, f"qiniu/image/j/{d}", f"qiniu/image/j/{d}.tif",
                     f"qiniu/voice/j/{d}.mp3", f"qiniu/file/j/{d}.png", f"qiniu/text/j/{d}",
                     f"/qiniu/file/j/{d}", f"qiniu/file/j/{d}/", f"qiniu/file/j/{d[:-1]}",
                     f"qiniu/file/j/../{d}", f"qiniu/file/j/{d}\n", None, 7, b"qiniu"):
            self.assertIsNone(media_ids.parse(text), text)

    @given(refs)
    def test_an_id_reads_back_as_itself(self, ref):
        self.assertEqual(media_ids.parse(str(ref)), ref)

    @given(st.text(max_size=60) | st.from_regex(
        r"qiniu/(image|voice|file)/j/[0-9A-Fa-f]{32}(\.[A-Za-z]{3})?", fullmatch=True))
    def test_what_parses_is_one_canonical_id(self, text):
        ref = media_ids.parse(text)
        if ref is not None:
            self.assertEqual(str(ref).lower(), text.lower())
            self.assertEqual(media_ids.parse(str(ref)), ref)
