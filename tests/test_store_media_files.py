"""The media files: each content kept once under its hash, whole or not at all, never past
its limit, and nothing left in the temporary folder."""
import hashlib
import os
import zlib

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from jim import errors
from jim.errors import JimError
from jim.interfaces import IMediaFiles, ISpool
from jim.store.media_files import STALE_SECONDS, MediaFiles


class MediaFilesTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1_000_000)
        self.root = self.mktemp()
        self.files = MediaFiles(self.root, self.clock)
        self.files.start()

    def temporary(self):
        return os.listdir(os.path.join(self.root, "tmp"))

    def kept(self):
        return sorted(name for folder, _, names in os.walk(self.root)
                      if os.path.basename(folder) != "tmp" for name in names)

    def upload(self, *chunks, max_bytes=100):
        with self.files.spool(max_bytes) as spool:
            for chunk in chunks:
                spool.write(chunk)
            return spool.keep()

    def test_provides_the_interfaces(self):
        self.assertTrue(verifyObject(IMediaFiles, self.files))
        with self.files.spool(10) as spool:
            self.assertTrue(verifyObject(ISpool, spool))

    def test_an_upload_is_kept_under_its_hash(self):
        content_hash, crc32, size = self.upload(b"hello ", b"world")
        self.assertEqual(content_hash, hashlib.sha256(b"hello world").hexdigest())
        self.assertEqual((crc32, size), (zlib.crc32(b"hello world"), 11))
        path = self.files.path_of(content_hash)
        self.assertEqual(path, os.path.join(self.root, content_hash[:2], content_hash[2:4],
                                            content_hash))
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"hello world")
        self.assertEqual(self.temporary(), [])

    def test_the_crc_is_unsigned(self):
        data = b"\xff" * 7
        self.assertGreater(zlib.crc32(data), 2**31)  # one whose signed form is negative
        _, crc32, _ = self.upload(data)
        self.assertEqual(crc32, zlib.crc32(data) & 0xFFFFFFFF)

    def test_the_same_bytes_are_kept_once(self):
        first = self.upload(b"same")
        self.assertEqual(self.upload(b"sa", b"me"), first)
        self.assertEqual(self.kept(), [first[0]])
        self.assertEqual(self.temporary(), [])

    def test_head_keeps_the_first_bytes(self):
        with self.files.spool(1000) as spool:
            spool.write(b"#!AMR\n")
            spool.write(b"x" * 100)
            self.assertEqual(spool.head, b"#!AMR\n" + b"x" * 58)
            self.assertEqual(spool.size, 106)

    def test_past_the_limit_nothing_is_kept(self):
        with self.files.spool(10) as spool:
            spool.write(b"x" * 10)  # the limit itself is taken
            with self.assertRaises(JimError) as caught:
                spool.write(b"y")
        self.assertEqual(caught.exception.code, errors.BODY_TOO_LARGE)
        self.assertIn("10 bytes", caught.exception.detail)
        self.assertEqual((self.kept(), self.temporary()), ([], []))

    def test_an_upload_not_kept_leaves_nothing(self):
        with self.files.spool(10) as spool:
            spool.write(b"abc")
            self.assertEqual(len(self.temporary()), 1)
        self.assertEqual((self.kept(), self.temporary()), ([], []))
        with self.assertRaises(ZeroDivisionError):
            with self.files.spool(10) as spool:
                spool.write(b"abc")
                1 / 0
        self.assertEqual((self.kept(), self.temporary()), ([], []))

    def test_only_a_hash_is_a_path(self):
        for text in ("", "../etc/passwd", "A" * 64, "a" * 63, "a" * 65, None,
                     "a" * 62 + "/x"):
            self.assertRaises(ValueError, self.files.path_of, text)

    def test_a_start_removes_stale_temporary_files_only(self):
        folder = os.path.join(self.root, "tmp")
        for name, age in (("upload-old", STALE_SECONDS + 1), ("upload-young", 60)):
            path = os.path.join(folder, name)
            open(path, "wb").close()
            when = self.clock.seconds() - age
            os.utime(path, (when, when))
        MediaFiles(self.root, self.clock).start()
        self.assertEqual(self.temporary(), ["upload-young"])

    def age(self, content_hash, when):
        os.utime(self.files.path_of(content_hash), (when, when))

    def test_a_sealed_upload_is_not_kept_until_it_is(self):
        with self.files.spool(100) as spool:
            spool.write(b"sealed")
            sealed = spool.seal()
            self.assertEqual(sealed, (hashlib.sha256(b"sealed").hexdigest(),
                                      zlib.crc32(b"sealed"), 6))
            self.assertEqual(spool.seal(), sealed)
            self.assertEqual((self.kept(), len(self.temporary())), ([], 1))
        self.assertEqual((self.kept(), self.temporary()), ([], []), "discarded, never kept")
        with self.files.spool(100) as spool:
            spool.write(b"sealed")
            spool.seal()
            self.assertEqual(spool.keep(), sealed)
        self.assertEqual((self.kept(), self.temporary()), ([sealed[0]], []))

    def test_keeping_the_same_bytes_again_touches_them(self):
        content_hash, _, _ = self.upload(b"again")
        self.age(content_hash, 1000)
        self.upload(b"again")
        self.assertGreater(os.stat(self.files.path_of(content_hash)).st_mtime, 1000)
        self.assertEqual(self.temporary(), [])

    def test_old_files_are_the_kept_files_modified_before(self):
        old, _, _ = self.upload(b"old")
        young, _, _ = self.upload(b"young")
        self.age(old, 5000)
        self.age(young, 6000)
        # what this class did not keep is never listed
        stray = os.path.join(os.path.dirname(self.files.path_of(old)), "notes.txt")
        open(stray, "wb").close()
        os.utime(stray, (1, 1))
        misplaced = os.path.join(self.root, "00", "00", young)
        os.makedirs(os.path.dirname(misplaced))
        open(misplaced, "wb").close()
        os.utime(misplaced, (1, 1))
        open(os.path.join(self.root, "tmp", "upload-x"), "wb").close()
        self.assertEqual(list(self.files.old_files(5000)), [])
        self.assertEqual(list(self.files.old_files(5001)), [old])
        self.assertEqual(sorted(self.files.old_files(6001)), sorted([old, young]))

    def test_a_file_goes_unless_it_was_kept_again_since(self):
        gone, _, _ = self.upload(b"gone")
        touched, _, _ = self.upload(b"touched")
        self.age(gone, 5000)
        self.age(touched, 7000)  # kept again after the sweep's cutoff
        missing = hashlib.sha256(b"never kept").hexdigest()
        self.assertEqual(self.files.remove_old([gone, touched, missing], 6000), 1)
        self.assertEqual(self.kept(), [touched])
        self.assertEqual(self.temporary(), [])
        with open(self.files.path_of(touched), "rb") as f:
            self.assertEqual(f.read(), b"touched")
        self.assertEqual(self.upload(b"gone")[0], gone, "the same bytes can come back")
        self.assertEqual(sorted(self.kept()), sorted([gone, touched]))
