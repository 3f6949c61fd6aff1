"""``/sdk/``: the bearer token of a request (any header is a token or a 401 refusal), the upload's
body limit, and the SDK's files served by name (a missing one, a folder, a hidden file or a
deeper path is a 404)."""
import os

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource, getChildForRequest
from twisted.web.test.requesthelper import DummyRequest

from jim import errors
from jim.errors import JimError
from jim.web.rest_v1.resources import upload_body_limit
from jim.web.sdk import Sdk, bearer_token, upload_limit
from jim.web.site import Static
from tests.support.fakes import make_core


def with_authorization(value):
    request = DummyRequest([b"resource"])
    if value is not None:
        request.requestHeaders.addRawHeader(b"authorization", value)
    return request


class BearerTokenTests(SynchronousTestCase):
    def test_the_token(self):
        for header, token in [(b"Bearer abc.def", "abc.def"), (b"bearer  abc ", "abc"),
                              (b"BEARER x", "x")]:
            self.assertEqual(bearer_token(with_authorization(header)), token)

    def test_none_is_refused_as_a_bad_one(self):
        for header in (None, b"", b"Bearer", b"Bearer   ", b"Basic YTpi", b"abc.def",
                       b"Bearerabc"):
            error = self.assertRaises(JimError, bearer_token, with_authorization(header))
            self.assertEqual(error.code, errors.AUTH_FAILED, header)

    @given(st.binary(max_size=40))
    def test_any_header_is_a_token_or_refused(self, header):
        """An independent rule: "bearer" in any case, spaces, then the token (its first word
        and whatever follows it, trimmed)."""
        text = header.decode("latin-1").strip()
        scheme, _, rest = text.partition(" ")
        expected = rest.strip() if scheme.lower() == "bearer" and rest.strip() else None
        try:
            token = bearer_token(with_authorization(header))
        except JimError as e:
            self.assertEqual(e.code, errors.AUTH_FAILED)
            self.assertIsNone(expected, header)
            return
        self.assertEqual(token, expected)


class UploadLimitTests(SynchronousTestCase):
    def test_the_upload_has_v1_resources_limit(self):
        core = make_core().core
        limit = upload_body_limit(core.limits)
        for path in (b"/sdk/resource", b"/sdk/resource/", b"//sdk//resource"):
            self.assertEqual(upload_limit(core, b"POST", path), limit, path)
        for method, path in ((b"GET", b"/sdk/resource"), (b"POST", b"/sdk/jmessage.js"),
                             (b"POST", b"/v1/resource"), (b"PUT", b"/sdk/resource")):
            self.assertIsNone(upload_limit(core, method, path))


class SdkFilesTests(SynchronousTestCase):
    def setUp(self):
        self.folder = self.mktemp()
        os.makedirs(os.path.join(self.folder, "inner"))
        for name in ("jmessage.js", ".hidden", os.path.join("inner", "x.js")):
            with open(os.path.join(self.folder, name), "w") as f:
                f.write("export const x = 1;\n")
        self.media = Resource()
        self.media.isLeaf = True  # as the media route is
        self.sdk = Sdk(self.media, Static(self.folder))

    def get(self, *segments):
        request = DummyRequest([segment.encode() for segment in segments])
        found = getChildForRequest(self.sdk, request)
        if found is self.media:
            return "media", None
        found.render(request)
        types = request.responseHeaders.getRawHeaders(b"content-type") or [b""]
        return request.responseCode or 200, types[0].decode(), b"".join(request.written)

    def test_a_file_is_served_as_javascript(self):
        self.assertEqual(self.get("jmessage.js"),
                         (200, "text/javascript; charset=utf-8", b"export const x = 1;\n"))

    def test_resource_is_the_media_route(self):
        self.assertEqual(self.get("resource"), ("media", None))
        self.assertEqual(self.get("resource", ""), ("media", None))

    def test_anything_else_is_a_json_404(self):
        for segments in (("missing.js",), ("inner",), ("inner", "x.js"), (".hidden",), ("",),
                         ("..",), ("resource", "x"), ("jmessage.js", "x")):
            code, content_type, body = self.get(*segments)
            self.assertEqual((code, content_type), (404, "application/json; charset=utf-8"),
                             segments)
            self.assertIn(b"899404", body)
