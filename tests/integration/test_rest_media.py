"""``/v1/resource`` and ``/media/...`` over real sockets with real files (reference 2.5):
uploads of each type, their refusals (nothing kept), links and their signatures, ranges, and
media ids carried in messages to J-IM clients."""
import hashlib
import json
import os
import re
import time
import zlib
from urllib.parse import quote, urlsplit

from twisted.trial.unittest import TestCase

from jim.service import token_key
from jim.wire import media_links
from tests.integration.test_hsts import send_tls
from tests.integration.test_rest_live import Clients
from tests.support.certs import write_pair
from tests.support.media import (
    AMR, image_bytes, kept_files, multipart, png_claiming, temporary_files,
)
from tests.support.rest import Checks, basic, build_request, second_app, send_raw, start_rest

IMAGE_ID = re.compile(r"qiniu/image/j/[0-9A-F]{32}\.(png|jpg|gif|bmp)")


class MediaCase(TestCase, Checks, Clients):
    timeout = 60

    async def start(self, **limits):
        self.jim, self.rest = await start_rest(self, limits=limits or None)
        self.folder = os.path.join(self.jim.config.data, "media")
        return self.rest

    async def upload(self, content, kind="image", rest=None, **parts):
        body, content_type = multipart(content, **parts)
        return await (rest or self.rest).post(f"/v1/resource?type={kind}", body=body,
                                               content_type=content_type)

    async def fetch(self, url, headers=(), port=None):
        """GET a link (a whole URL) on this server's port (or C{port})."""
        split = urlsplit(url)
        target = f"{split.path}?{split.query}"
        return await send_raw(port or self.jim.port, build_request("GET", target,
                                                                   headers=headers))

    async def link(self, media_id, rest=None):
        answer = self.assertJson(await (rest or self.rest).get(
            f"/v1/resource?mediaId={media_id}"))
        self.assertEqual(list(answer), ["url"])
        return answer["url"]

    def nothing_kept(self):
        self.assertEqual(kept_files(self.folder), [])
        self.assertEqual(temporary_files(self.folder), [])


class UploadTests(MediaCase):
    async def test_an_image_of_each_format(self):
        await self.start()
        for fmt, ext in (("PNG", "png"), ("JPEG", "jpg"), ("GIF", "gif"), ("BMP", "bmp")):
            content = image_bytes(fmt, (31, 17))
            answer = self.assertJson(await self.upload(content, filename=f"a.{ext}"))
            self.assertEqual(set(answer), {"media_id", "media_crc32", "width", "height",
                                           "format", "fsize", "hash"})
            self.assertRegex(answer["media_id"], IMAGE_ID)
            self.assertTrue(answer["media_id"].endswith(f".{ext}"))
            self.assertEqual((answer["width"], answer["height"], answer["format"]),
                             (31, 17, ext))
            self.assertEqual(answer["fsize"], len(content))
            self.assertEqual(answer["media_crc32"], zlib.crc32(content) & 0xFFFFFFFF)
            self.assertEqual(answer["hash"], hashlib.sha256(content).hexdigest())
            path = os.path.join(self.folder, answer["hash"][:2], answer["hash"][2:4],
                                answer["hash"])
            with open(path, "rb") as f:
                self.assertEqual(f.read(), content)
        self.assertEqual(len(kept_files(self.folder)), 4)
        self.assertEqual(temporary_files(self.folder), [])

    async def test_a_voice(self):
        await self.start()
        answer = self.assertJson(await self.upload(AMR, kind="voice", filename="v.bin"))
        self.assertEqual(set(answer), {"media_id", "media_crc32", "hash", "format", "fsize"})
        self.assertRegex(answer["media_id"], r"^qiniu/voice/j/[0-9A-F]{32}$")
        self.assertEqual((answer["format"], answer["fsize"]), ("amr", len(AMR)))
        # a format its first bytes do not show is its name's extension
        answer = self.assertJson(await self.upload(b"\0" * 50, kind="voice", filename="v.MP3"))
        self.assertEqual(answer["format"], "mp3")

    async def test_a_file_as_java_sends_it(self):
        """Java names the part after the type, puts the whole local path in its filename and
        writes its Content-Type without a space; the name shown is the path's last part."""
        await self.start()
        content = b"%PDF-1.4 not really" * 100
        answer = self.assertJson(await self.upload(
            content, kind="file", field="file", filename="C:\\Users\\ann\\report 2024.pdf",
            part_type="Content-Type:application/octet-stream",
            extra_fields=[("note", "a field before the file")]))
        self.assertEqual(set(answer), {"media_id", "media_crc32", "fname", "fsize", "hash"})
        self.assertRegex(answer["media_id"], r"^qiniu/file/j/[0-9A-F]{32}$")
        self.assertEqual((answer["fname"], answer["fsize"]), ("report 2024.pdf", len(content)))
        answer = self.assertJson(await self.upload(b"x", kind="file",
                                                   filename="/home/ann/../../etc/passwd"))
        self.assertEqual(answer["fname"], "passwd")
        self.assertEqual(sorted(kept_files(self.folder)),
                         sorted(hashlib.sha256(c).hexdigest() for c in (content, b"x")))

    async def test_the_same_upload_twice_is_kept_once(self):
        await self.start()
        content = image_bytes()
        first = self.assertJson(await self.upload(content))
        second = self.assertJson(await self.upload(content, filename="other.png"))
        self.assertEqual(first, second)
        # the same bytes as a file: another media id, the same file on disk
        as_file = self.assertJson(await self.upload(content, kind="file"))
        self.assertNotEqual(as_file["media_id"], first["media_id"])
        self.assertEqual(kept_files(self.folder), [first["hash"]])

    async def test_ids_differ_across_apps(self):
        rest = await self.start()
        other = await second_app(self.jim)
        content = image_bytes()
        mine = self.assertJson(await self.upload(content))
        theirs = self.assertJson(await self.upload(content, rest=other))
        self.assertNotEqual(mine["media_id"], theirs["media_id"])
        # another app's id is unknown here: answered as an id nobody has
        missing = mine["media_id"][:14] + "0" * 32 + ".png"
        for media_id in (theirs["media_id"], missing):
            self.assertError(await rest.get(f"/v1/resource?mediaId={media_id}"), 404, 899003)
        self.assertError(await other.get(f"/v1/resource?mediaId={mine['media_id']}"),
                         404, 899003)


class RefusalTests(MediaCase):
    async def test_a_file_over_the_limit_keeps_nothing(self):
        rest = await self.start(media_max_bytes=1000)
        self.assertJson(await self.upload(b"x" * 1000, kind="file"))  # the limit itself
        kept = kept_files(self.folder)
        # over the file limit, within the body's: refused while it is read
        response = await self.upload(b"y" * 1001, kind="file")
        self.assertError(response, 413, 899003)
        self.assertIn("1000 bytes", response.json()["error"]["message"])
        # a body over the route's limit is refused before it is read
        response = await rest.post("/v1/resource?type=file", body=b"",
                                   headers=[("Content-Length", str(1000 + 64 * 1024 + 1))],
                                   content_type="multipart/form-data; boundary=b")
        self.assertError(response, 413, 899003)
        self.assertEqual(kept_files(self.folder), kept)
        self.assertEqual(temporary_files(self.folder), [])

    async def test_an_upload_without_credentials_is_refused_before_its_body(self):
        rest = await self.start()
        head = [("Content-Length", str(8 * 1024 * 1024)),
                ("Content-Type", "multipart/form-data; boundary=b")]
        cases = [
            ([("Authorization", basic(rest.key, "wrong"))], 401, 899008),
            ([("Authorization", basic("nosuchapp", rest.secret))], 401, 899008),
            ([], 401, 899007),
            ([("Authorization", basic(rest.key, "wrong")), ("Expect", "100-continue")], 401,
             899008),
        ]
        for extra, status, code in cases:
            # only the head is sent: the answer cannot wait for the 8 MiB it announces
            response = await send_raw(self.jim.port, build_request(
                "POST", "/v1/resource?type=file", headers=head + extra))
            self.assertError(response, status, code)
        # a chunked body states no length: checked first too
        response = await send_raw(self.jim.port, build_request(
            "POST", "/v1/resource?type=file",
            headers=[("Transfer-Encoding", "chunked"),
                     ("Content-Type", "multipart/form-data; boundary=b"),
                     ("Authorization", basic(rest.key, "wrong"))]))
        self.assertError(response, 401, 899008)
        self.nothing_kept()
        # with its app's credentials the same route reads the body
        self.assertJson(await self.upload(b"x" * 1000, kind="file"))

    async def test_the_default_limit_is_8_mib(self):
        await self.start()
        self.assertError(await self.upload(b"z" * (8 * 1024 * 1024 + 1), kind="file"),
                         413, 899003)
        self.nothing_kept()

    async def test_bad_type(self):
        rest = await self.start()
        body, content_type = multipart(image_bytes())
        for query in ("?type=video", "?type=IMAGE", "?type=", ""):
            response = await rest.post(f"/v1/resource{query}", body=body,
                                       content_type=content_type)
            self.assertError(response, 400, 899003)
            self.assertIn("type", response.json()["error"]["message"])
        self.nothing_kept()

    async def test_what_is_no_image_is_refused_as_one(self):
        await self.start()
        for content in (b"plain text, not an image", image_bytes("TIFF"), image_bytes("PPM"),
                        image_bytes("PNG")[:20]):
            response = await self.upload(content)
            self.assertError(response, 400, 899003)
            self.assertIn("jpg, png, gif or bmp", response.json()["error"]["message"])
        self.nothing_kept()

    async def test_an_image_too_large_to_decode_is_refused(self):
        """Its header names 8000x8000 pixels (a few KB of PNG): refused without decoding."""
        await self.start()
        big = png_claiming(8000, 8000)
        response = await self.upload(big)
        self.assertError(response, 400, 899003)
        self.assertIn("pixels", response.json()["error"]["message"])
        self.nothing_kept()

    async def test_bad_multipart_bodies(self):
        rest = await self.start()
        png = image_bytes()
        cases = [
            multipart(png, close=False),  # cut before its closing boundary
            multipart(None, extra_fields=[("filename", "no file part")]),  # no file part
            multipart(b"", filename="empty.png"),  # an empty file
            (b"--b\r\nno headers end\r\n--b--\r\n", "multipart/form-data; boundary=b"),
            (png, "multipart/form-data"),  # no boundary
            (png, "image/png"),  # no multipart at all
            (b"", "multipart/form-data; boundary=b"),
        ]
        for body, content_type in cases:
            response = await rest.post("/v1/resource?type=image", body=body,
                                       content_type=content_type)
            self.assertError(response, 400, 899003)
        self.nothing_kept()


class DownloadTests(MediaCase):
    async def test_a_link_serves_the_file_with_its_headers(self):
        await self.start()
        content = image_bytes("PNG", (40, 40))
        media_id = self.assertJson(await self.upload(content))["media_id"]
        url = await self.link(media_id)
        self.assertTrue(url.startswith(f"http://127.0.0.1/media/"), url)  # the Host sent
        response = await self.fetch(url)
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.body, content)
        self.assertEqual(response.header("content-type"), "image/png")
        self.assertEqual(response.header("content-length"), str(len(content)))
        self.assertEqual(response.header("accept-ranges"), "bytes")
        etag = response.header("etag")
        self.assertEqual(etag, f'"{hashlib.sha256(content).hexdigest()}"')
        self.assertRegex(response.header("cache-control"), r"^private, max-age=3[56]\d\d$")
        self.assertEqual(response.header("x-content-type-options"), "nosniff")
        self.assertEqual(response.header("content-disposition"), "inline")

        partial = await self.fetch(url, [("Range", "bytes=10-19")])
        self.assertEqual(partial.status, 206)
        self.assertEqual(partial.body, content[10:20])
        self.assertEqual(partial.header("content-range"), f"bytes 10-19/{len(content)}")
        cached = await self.fetch(url, [("If-None-Match", etag)])
        self.assertEqual((cached.status, cached.body), (304, b""))

    async def test_media_ids_raw_or_encoded_and_the_host(self):
        rest = await self.start()
        media_id = self.assertJson(await self.upload(AMR, kind="voice"))["media_id"]
        raw = await self.link(media_id)
        encoded = await self.link(quote(media_id, safe=""))
        self.assertEqual(urlsplit(raw).path, urlsplit(encoded).path)
        self.assertEqual(urlsplit(raw).path, f"/media/{rest.key}/{media_id}")
        lower = await self.link(media_id.lower())  # hex digits in either case
        self.assertEqual(urlsplit(lower).path, urlsplit(raw).path)
        response = await send_raw(self.jim.port, build_request(
            "GET", f"/v1/resource?mediaId={media_id}",
            headers=[("Authorization", rest.auth)]).replace(
                b"Host: 127.0.0.1", b"Host: chat.example.com:8443"))
        self.assertTrue(response.json()["url"].startswith(
            "http://chat.example.com:8443/media/"), response)
        voice = await self.fetch(raw)
        self.assertEqual((voice.status, voice.body), (200, AMR))
        self.assertEqual(voice.header("content-type"), "audio/amr")

    async def test_links_of_apps_whose_keys_need_encoding(self):
        """A key with a "%", a non-ASCII or a reserved character: its link is decoded once."""
        await self.start()
        for key in ("Other%41pp0000000000001", "Oth\u00e9rApp000000000001", "a b+c/d?e"):
            other = await second_app(self.jim, key=key)
            media_id = self.assertJson(await self.upload(AMR, kind="voice", rest=other))[
                "media_id"]
            response = await self.fetch(await self.link(media_id, rest=other))
            self.assertEqual((response.status, response.body), (200, AMR), key)

    async def test_a_file_is_an_attachment_under_its_name(self):
        await self.start()
        upload = self.assertJson(await self.upload(b"<script>x</script>", kind="file",
                                                   filename="page \"1\" é.html"))
        response = await self.fetch(await self.link(upload["media_id"]))
        self.assertEqual(response.body, b"<script>x</script>")
        self.assertEqual(response.header("content-type"), "application/octet-stream")
        self.assertEqual(response.header("content-disposition"),
                         "attachment; filename=\"page _1_ _.html\"; "
                         "filename*=UTF-8''page%20%221%22%20%C3%A9.html")
        self.assertIn("sandbox", response.header("content-security-policy"))

    async def test_refused_links(self):
        rest = await self.start()
        media_id = self.assertJson(await self.upload(image_bytes()))["media_id"]
        url = await self.link(media_id)
        self.assertError(await self.fetch(url[:-1] + ("0" if url[-1] != "0" else "1")),
                         403, 899003)
        self.assertError(await self.fetch(url.replace("expires=", "expires=1")), 403, 899003)
        self.assertError(await self.fetch(url.split("?")[0]), 403, 899003)
        key = media_links.link_key(token_key(self.jim.config.data))
        expired = media_links.link(key, rest.key, media_id, int(time.time()) - 1)
        response = await self.fetch(expired)
        self.assertError(response, 403, 899003)
        self.assertIn("expired", response.json()["error"]["message"])
        unknown = media_id[:14] + "F" * 32 + ".png"
        self.assertError(await self.fetch(
            media_links.link(key, rest.key, unknown, int(time.time()) + 60)), 404, 899003)
        self.assertError(await self.fetch("http://x/media/nothing/here?expires=1"), 404, 899003)
        response = await send_raw(self.jim.port, build_request("POST", urlsplit(url).path,
                                                               body=b""))
        self.assertError(response, 405, 899405)

    async def test_a_file_missing_from_the_folder_is_a_404_nobody_keeps(self):
        """A node whose --media-dir is not the shared one: its 404 is not cached, nor tagged
        with the file's ETag (a revalidation would turn it into a 304 of the 404)."""
        await self.start()
        upload = self.assertJson(await self.upload(image_bytes()))
        url = await self.link(upload["media_id"])
        path = os.path.join(self.folder, upload["hash"][:2], upload["hash"][2:4],
                            upload["hash"])
        os.rename(path, path + ".away")
        response = await self.fetch(url)
        self.assertError(response, 404, 899003)
        self.assertIn("missing", response.json()["error"]["message"])
        self.assertEqual(response.header("cache-control"), "no-store")
        for name in ("etag", "content-disposition", "last-modified"):
            self.assertIsNone(response.header(name), name)
        os.rename(path + ".away", path)
        response = await self.fetch(url, [("If-None-Match", f'"{upload["hash"]}"')])
        self.assertEqual(response.status, 304)

    async def test_bad_media_ids(self):
        rest = await self.start()
        for query in ("", "?mediaId=", "?mediaId=qiniu/image/j/xyz.png",
                      "?mediaId=../../etc/passwd", "?mediaId=https://example.com/a.png"):
            self.assertError(await rest.get(f"/v1/resource{query}"), 400, 899003)


class MessageTests(MediaCase):
    async def test_uploads_go_back_as_message_bodies(self):
        """The Python client sends an image upload's answer as msg_body as it is; a file and
        a video carry their uploads' ids too; a J-IM client gets the ids."""
        rest = await self.start()
        await rest.register("alice")
        await rest.admin("admin1")
        alice = await self.tcp(self.jim, "alice")
        image = self.assertJson(await self.upload(image_bytes()))
        doc = self.assertJson(await self.upload(b"minutes", kind="file", filename="m.txt"))
        voice = self.assertJson(await self.upload(AMR, kind="voice"))
        bodies = [
            ("image", image),
            ("voice", {**voice, "duration": 3}),
            ("file", doc),
            ("video", {"video": doc, "duration": 12, "thumb": image}),
        ]
        for msg_type, body in bodies:
            response = await rest.post("/v1/messages", {
                "version": 1, "target_type": "single", "target_id": "alice",
                "from_type": "admin", "from_id": "admin1", "msg_type": msg_type,
                "msg_body": body})
            self.assertEqual(response.status, 201, response)
            chat = await self.chat(alice)
            self.assertEqual(json.loads(chat["content"]), body)
        # a J-IM image names an uploaded media id as its content
        alice.send(11, {"cmd": 11, "chatType": 2, "to": "alice", "msgType": 1,
                        "content": image["media_id"]})
        chat = await self.chat(alice)
        self.assertEqual((chat["msgType"], chat["content"]), (1, image["media_id"]))


class TlsTests(MediaCase):
    async def test_over_tls_the_link_is_https_and_works(self):
        cert, key = write_pair(self.mktemp())
        self.jim, self.rest = await start_rest(self, tls_cert=cert, tls_key=key)
        body, content_type = multipart(AMR)
        auth = [("Authorization", self.rest.auth)]
        response = await send_tls(self.jim.port, build_request(
            "POST", "/v1/resource?type=voice", body,
            auth + [("Content-Type", content_type)]))
        media_id = response.json()["media_id"]
        response = await send_tls(self.jim.port, build_request(
            "GET", f"/v1/resource?mediaId={media_id}", headers=auth))
        url = response.json()["url"]
        self.assertTrue(url.startswith("https://127.0.0.1/media/"), url)
        split = urlsplit(url)
        got = await send_tls(self.jim.port, build_request("GET", f"{split.path}?{split.query}"))
        self.assertEqual((got.status, got.body), (200, AMR))
