"""What an upload is: an image's format and size from its header, never decoded; a voice's
format from its first bytes or name."""
import os

from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.errors import JimError
from jim.web import media_probe
from tests.support.media import AMR, image_bytes, png_claiming


class ImageTests(SynchronousTestCase):
    def probe(self, content):
        path = os.path.join(self.mktemp())
        with open(path, "wb") as f:
            f.write(content)
        return media_probe.image(path)

    def refused(self, content):
        with self.assertRaises(JimError) as caught:
            self.probe(content)
        self.assertEqual(caught.exception.code, errors.BAD_REQUEST)
        return caught.exception.detail

    def test_each_format_and_its_size(self):
        for fmt, name in (("PNG", "png"), ("JPEG", "jpg"), ("GIF", "gif"), ("BMP", "bmp")):
            self.assertEqual(self.probe(image_bytes(fmt, (12, 34))), (name, 12, 34))

    def test_other_formats_and_non_images(self):
        for content in (image_bytes("TIFF"), image_bytes("WEBP"), b"", b"GIF89a",
                        b"<svg xmlns='http://www.w3.org/2000/svg'/>", AMR):
            self.assertIn("jpg, png, gif or bmp", self.refused(content))

    def test_a_decompression_bomb_is_refused_from_its_header(self):
        self.assertIn("pixels", self.refused(png_claiming(7000, 7000)))
        # past Pillow's own limits too (it warns past 89 million pixels, refuses past twice)
        self.assertIn("pixels", self.refused(png_claiming(10000, 10000)))
        self.assertIn("pixels", self.refused(png_claiming(50000, 50000)))
        self.assertEqual(self.probe(png_claiming(6000, 6000)), ("png", 6000, 6000))


class VoiceTests(SynchronousTestCase):
    def test_first_bytes_then_the_name(self):
        cases = [(AMR, "amr"), (b"#!SILK_V3", "silk"), (b"\x02#!SILK_V3", "silk"),
                 (b"OggS\0\2", "ogg"), (b"RIFF\0\0\0\0WAVEfmt ", "wav"),
                 (b"\0\0\0\x20ftypM4A ", "m4a"), (b"ID3\4\0", "mp3"), (b"\xff\xfb\x90", "mp3"),
                 (b"\xff\xf1\x50", "aac")]
        for head, fmt in cases:
            self.assertEqual(media_probe.voice(head, "x.wav" if fmt != "wav" else "x"), fmt)
        self.assertEqual(media_probe.voice(b"\0\0", "memo.OPUS"), "opus")
        self.assertEqual(media_probe.voice(b"\0\0", "memo"), "")
        self.assertEqual(media_probe.voice(b"\0\0", "memo.tar/../x"), "")

    def test_extension(self):
        for name, ext in (("a.PDF", "pdf"), ("a.tar.gz", "gz"), ("noext", ""), (".bashrc",
                          "bashrc"), ("a.", ""), ("a.toolongextension", ""), ("a.b c", "")):
            self.assertEqual(media_probe.extension(name), ext, name)
