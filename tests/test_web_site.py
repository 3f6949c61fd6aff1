"""/metrics: open to loopback clients, the default app's Basic credentials (or the server
administrator's secret) for anyone else.
/static: the web chat page's files, with the types a browser needs to run its ES modules."""
import base64
import os
import re

from twisted.internet.address import IPv4Address
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import getChildForRequest
from twisted.web.test.requesthelper import DummyRequest

from jim.core.accounts import secret_hash
from jim.model import App
from jim.web.site import STATIC, Metrics, Root, Static
from tests.support.fakes import APP_KEY, APP_SECRET, make_core


def render(resource, host, auth=None, site=None):
    request = DummyRequest([b""])
    request.client = IPv4Address("TCP", host, 40000)
    if site is not None:
        request.requestHeaders.addRawHeader(b"sec-fetch-site", site)
    if auth is not None:
        value = base64.b64encode(f"{auth[0]}:{auth[1]}".encode())
        request.requestHeaders.addRawHeader(b"authorization", b"Basic " + value)
    resource.render(request)
    return request.responseCode or 200, b"".join(request.written)


class MetricsAccessTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core()
        self.metrics = Metrics(self.fx.core)

    def test_credentials_another_site_made_a_browser_send_are_refused(self):
        code, body = render(self.metrics, "10.1.2.3", (APP_KEY, APP_SECRET), b"cross-site")
        self.assertEqual(code, 403)
        self.assertIn(b"899403", body)
        code, _ = render(self.metrics, "10.1.2.3", (APP_KEY, APP_SECRET), b"same-origin")
        self.assertEqual(code, 200)

    def test_loopback_needs_no_credentials(self):
        code, body = render(self.metrics, "127.0.0.1")
        self.assertEqual(code, 200)
        self.assertIn(b"jim_logins_total 0", body)

    def test_other_clients_need_the_default_apps_credentials(self):
        self.assertEqual(render(self.metrics, "10.1.2.3")[0], 401)
        self.assertEqual(render(self.metrics, "10.1.2.3", (APP_KEY, "x" * 24))[0], 401)
        self.assertEqual(render(self.metrics, "10.1.2.3", ("other" + "0" * 19, APP_SECRET))[0], 401)
        code, body = render(self.metrics, "10.1.2.3", (APP_KEY, APP_SECRET))
        self.assertEqual(code, 200)
        self.assertIn(b"jim_connections", body)

    def test_other_clients_may_bring_the_administrators_secret(self):
        metrics = Metrics(self.fx.core, admin_secret="A" * 32)

        def with_bearer(secret, site=None):
            request = DummyRequest([b""])
            request.client = IPv4Address("TCP", "10.1.2.3", 40000)
            request.requestHeaders.addRawHeader(b"authorization", b"Bearer " + secret)
            if site is not None:
                request.requestHeaders.addRawHeader(b"sec-fetch-site", site)
            metrics.render(request)
            return request.responseCode or 200, b"".join(request.written)

        code, body = with_bearer(b"A" * 32)
        self.assertEqual(code, 200)
        self.assertIn(b"jim_connections", body)
        self.assertEqual(with_bearer(b"B" * 32)[0], 401)
        self.assertEqual(with_bearer(b"A" * 32, b"cross-site")[0], 403)
        self.assertEqual(render(self.metrics, "10.1.2.3")[0], 401, "no secret: none taken")

    def test_an_unknown_key_another_apps_and_a_wrong_secret_look_alike(self):
        self.fx.memory.apps.add_app(App("other" + "1" * 19, secret_hash("s" * 24)))
        answers = {render(self.metrics, "10.1.2.3", auth)
                   for auth in ((APP_KEY, "x" * 24), ("other" + "0" * 19, APP_SECRET),
                                ("other" + "1" * 19, "s" * 24))}
        [(code, body)] = answers
        self.assertEqual(code, 401)
        self.assertIn(b"899008", body)


def static_get(name):
    """(status, content type) of C{GET /static/<name>}."""
    request = DummyRequest([name.encode()])
    getChildForRequest(Static(STATIC), request).render(request)
    (content_type,) = request.responseHeaders.getRawHeaders(b"content-type")
    return request.responseCode or 200, content_type.decode()


def static_files(extension):
    return sorted(name for name in os.listdir(STATIC) if name.endswith(extension))


def relative_imports(module):
    """The files the ES module C{module} imports (each import is "./name.js")."""
    with open(os.path.join(STATIC, module), encoding="utf-8") as source:
        text = source.read()
    imports = re.findall(r'^import .* from "(.*)";$', text, re.M)
    assert len(imports) == len(re.findall(r"^import ", text, re.M)), module
    assert all(name.startswith("./") for name in imports), imports
    return [name[2:] for name in imports]


class StaticFilesTests(SynchronousTestCase):
    def test_scripts_are_javascript_whatever_the_hosts_mime_types_say(self):
        # a module script served with any other type is not run
        modules = static_files(".js")
        self.assertIn("main.js", modules)
        for name in modules:
            self.assertEqual(static_get(name), (200, "text/javascript; charset=utf-8"), name)
        self.assertEqual(static_get("app.css"), (200, "text/css; charset=utf-8"))
        self.assertEqual(static_get("index.html"), (200, "text/html; charset=utf-8"))
        self.assertEqual(static_get("missing.js")[0], 404)

    def test_the_chat_page_at_the_root_says_its_charset(self):
        request = DummyRequest([b""])
        getChildForRequest(Root(os.path.join(STATIC, "index.html")), request).render(request)
        self.assertEqual(request.responseHeaders.getRawHeaders(b"content-type"),
                         [b"text/html; charset=utf-8"])

    def test_the_page_loads_the_sdk_then_main_as_a_module_and_preloads_every_module(self):
        with open(os.path.join(STATIC, "index.html"), encoding="utf-8") as page:
            html = page.read()
        self.assertEqual(
            re.findall(r"<script[^>]*>", html),
            ['<script src="/sdk/jmessage.js">', '<script type="module" src="/static/main.js">'],
        )
        preloaded = re.findall(r'<link rel="modulepreload" href="/static/([^"]+)">', html)
        self.assertEqual(sorted(preloaded), [m for m in static_files(".js") if m != "main.js"])

    def test_modules_import_only_modules_of_the_page_and_no_cycle(self):
        modules = static_files(".js")
        imports = {module: relative_imports(module) for module in modules}
        for module, names in imports.items():
            self.assertLessEqual(set(names), set(modules), module)
        done, path = set(), []

        def visit(module):
            self.assertNotIn(module, path, f"import cycle: {path}")
            if module in done:
                return
            path.append(module)
            for name in imports[module]:
                visit(name)
            path.pop()
            done.add(module)

        visit("main.js")
        self.assertEqual(done, set(modules))  # every module is used

    def test_the_page_speaks_to_the_server_only_through_the_sdk(self):
        # the protocol is the SDK's (static/sdk/): no page module opens a socket or names a
        # J-IM command, and only sdk.js names JMessage
        for module in static_files(".js"):
            with open(os.path.join(STATIC, module), encoding="utf-8") as source:
                text = source.read()
            self.assertNotIn("WebSocket", text, module)
            self.assertNotIn("fetch(", text, module)
            self.assertIsNone(re.search(r"\bcmd\b|command", text), module)
            if module != "sdk.js":
                self.assertNotIn("JMessage", re.sub(r"^//.*$", "", text, flags=re.M), module)
