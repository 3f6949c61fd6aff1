"""An upload's file read out of multipart bodies as each client writes them, in any read
size, through python-multipart; and every malformed body refused."""
import io

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.errors import JimError
from jim.web import multipart
from tests.support.media import multipart as build


def copied(body, content_type, read_bytes=multipart.READ_BYTES):
    out = []
    name = multipart.copy_file_part(io.BytesIO(body), content_type.encode(), out.append,
                                    read_bytes)
    return name, b"".join(out)


class CopyTests(SynchronousTestCase):
    def refused(self, body, content_type):
        with self.assertRaises(JimError) as caught:
            copied(body, content_type)
        self.assertEqual(caught.exception.code, errors.BAD_REQUEST)
        return caught.exception.detail

    def test_pythons_part(self):
        body, content_type = build(b"\x89PNG...", filename="a.png")
        self.assertEqual(copied(body, content_type), ("a.png", b"\x89PNG..."))

    def test_javas_part_and_fields_around_it(self):
        body, content_type = build(b"data", field="image", filename="/sdcard/DCIM/b.jpg",
                                   part_type="Content-Type:application/octet-stream",
                                   extra_fields=[("type", "image")])
        self.assertEqual(copied(body, content_type), ("b.jpg", b"data"))

    def test_only_the_first_file_part(self):
        boundary = "XyZ"
        first, _ = build(b"one", filename="1.txt", boundary=boundary, close=False)
        second, content_type = build(b"two", filename="2.txt", boundary=boundary)
        self.assertEqual(copied(first + second, content_type), ("1.txt", b"one"))

    def test_names_lose_their_folders_and_control_characters(self):
        for sent, shown in (("C:\\Users\\ann\\My Doc.pdf", "My Doc.pdf"),
                            ("../../etc/passwd", "passwd"), ("a\\b/c.txt", "c.txt"),
                            ("dir/", ""), ("tab\there.txt", "tabhere.txt"),
                            ("invoice\u202egpj.exe", "invoicegpj.exe"),
                            ("a\u2066b\u2069\u200f\x85.txt", "ab.txt"),
                            ("照片.png", "照片.png"), ("x" * 300, "x" * 255)):
            body, content_type = build(b"z", filename=sent)
            self.assertEqual(copied(body, content_type)[0], shown, sent)
        self.assertEqual(multipart.file_name("é".encode("latin-1")), "é")  # not UTF-8

    def test_malformed_bodies(self):
        good, content_type = build(b"data")
        self.assertIn("closing boundary", self.refused(*build(b"data", close=False)))
        self.assertIn("no file part", self.refused(*build(None, extra_fields=[("a", "b")])))
        self.assertIn("multipart/form-data", self.refused(good, "application/json"))
        self.assertIn("multipart/form-data", self.refused(good, "multipart/form-data"))
        self.assertIn("multipart/form-data", self.refused(good, ""))
        self.refused(b"--b\r\n" + b"X" * 10_000 + b"\r\n--b--\r\n",
                     "multipart/form-data; boundary=b")
        self.refused(good, content_type.replace("boundary=", "boundary=" + "b" * 300))

    @given(st.binary(max_size=3000), st.integers(1, 700),
           st.text("abcdefghijklmnopqrstuvwxyz0123456789'()+_,-./:=?", min_size=1,
                   max_size=70))
    def test_any_bytes_in_any_read_size(self, content, read_bytes, boundary):
        body, content_type = build(content, boundary=boundary)
        if b"--" + boundary.encode() in content:
            return  # a client picks a boundary its content does not hold
        self.assertEqual(copied(body, content_type, read_bytes), ("photo.png", content))
