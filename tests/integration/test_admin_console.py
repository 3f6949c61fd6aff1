"""GET /admin: the admin console's page, served beside the administrator's API, whose routes
answer as before; the page's scripts and style under /static/admin/."""
import os
import re

from twisted.trial.unittest import TestCase

from jim.web.admin_api import CONSOLE_PAGE
from tests.integration.test_admin_apps import ADMIN, Admin
from tests.support.inprocess import start_jim
from tests.support.rest import Checks

STATIC_ADMIN = os.path.dirname(CONSOLE_PAGE)


class AdminConsolePageTests(TestCase, Checks):
    timeout = 30

    async def start(self, **config):
        jim = await start_jim(self, admin_secret=ADMIN, limits={"rest_rate": 0}, **config)
        return jim, Admin(jim)

    async def test_the_console_page_is_served_at_admin_with_or_without_the_slash(self):
        jim, admin = await self.start()
        with open(CONSOLE_PAGE, "rb") as page:
            html = page.read()
        for path in ("/admin", "/admin/", "//admin"):
            response = await admin.get(path, auth=False)
            self.assertEqual(response.status, 200, path)
            self.assertEqual(response.header("content-type"), "text/html; charset=utf-8")
            self.assertEqual(response.body, html)
            self.assertEqual(response.header("cache-control"), "no-store")
            self.assertEqual(response.header("x-frame-options"), "DENY")
            self.assertIn("frame-ancestors 'none'", response.header("content-security-policy"))
            self.assertEqual(response.header("x-content-type-options"), "nosniff")
        self.assertIn(b'<script type="module" src="/static/admin/main.js">', html)
        # the same page, and the chat page, as files: no other site may frame them either
        for path in ("/static/admin/index.html", "/", "/static/admin/main.js"):
            response = await admin.get(path, auth=False)
            self.assertEqual(response.status, 200, path)
            self.assertEqual(response.header("x-frame-options"), "DENY", path)
            self.assertIn("frame-ancestors 'none'", response.header("content-security-policy"))
            self.assertEqual(response.header("x-content-type-options"), "nosniff")
            self.assertEqual(response.header("referrer-policy"), "no-referrer")
        head = await admin.call("HEAD", "/admin", auth=False)
        self.assertEqual(head.status, 200)
        # only GET and HEAD: the page is not a route of the API
        self.assertError(await admin.post("/admin", {}, auth=False), 404, 899404)

    async def test_the_api_routes_answer_as_before(self):
        jim, admin = await self.start()
        self.assertError(await admin.get("/admin/v1/apps?count=10", auth=False), 401, 899007)
        self.assertError(await admin.get("/admin/v1/apps?count=10", auth="Bearer nope"), 401,
                         899008)
        listed = await admin.get("/admin/v1/apps?count=10")
        self.assertEqual(listed.status, 200)
        self.assertEqual(listed.json()["total"], 1)
        shop = await admin.create(name="Shop")
        self.assertEqual((await shop.get("/v1/users?count=1")).status, 200)
        self.assertError(await admin.get("/admin/v1/nothing", auth=False), 404, 899404)
        self.assertError(await admin.get("/admin/v1/nothing"), 404, 899404)

    async def test_the_consoles_modules_and_style_are_served_with_their_types(self):
        jim, admin = await self.start()
        names = sorted(os.listdir(STATIC_ADMIN))
        self.assertIn("main.js", names)
        for name in names:
            response = await admin.get(f"/static/admin/{name}", auth=False)
            self.assertEqual(response.status, 200, name)
            kind = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}[
                os.path.splitext(name)[1]]
            self.assertEqual(response.header("content-type"), f"{kind}; charset=utf-8", name)


class ConsoleModulesTests(TestCase):
    """The console's modules import only each other, without a cycle, each is used, and none
    is long; no secret goes into storage that outlives the tab."""

    def imports(self, name):
        with open(os.path.join(STATIC_ADMIN, name), encoding="utf-8") as source:
            text = source.read()
        found = re.findall(r'^import .* from "\./(.*)";$', text, re.M)
        self.assertEqual(len(found), len(re.findall(r"^import ", text, re.M)), name)
        return found, text

    def test_imports_form_no_cycle_and_every_module_is_used(self):
        modules = sorted(n for n in os.listdir(STATIC_ADMIN) if n.endswith(".js"))
        graph = {}
        for name in modules:
            graph[name], text = self.imports(name)
            self.assertLessEqual(len(text.splitlines()), 300, name)
            self.assertIsNone(re.search(r"\blocalStorage\s*[.[]", text), name)
            self.assertIsNone(re.search(r"\.(inner|outer|insertAdjacent)HTML\b", text), name)
            self.assertLessEqual(set(graph[name]), set(modules), name)
        done, path = set(), []

        def visit(module):
            self.assertNotIn(module, path, f"import cycle: {path}")
            if module not in done:
                path.append(module)
                for imported in graph[module]:
                    visit(imported)
                path.pop()
                done.add(module)

        visit("main.js")
        self.assertEqual(done, set(modules))
