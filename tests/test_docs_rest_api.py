"""docs/rest-api.md and docs/openapi.yaml agree with the REST API's router.

The conventions of docs/rest-api.md these tests rely on:

- every route has a heading ``### METHOD /path`` (the path as the router's pattern, with its
  ``{parameters}``), and a row ``| `METHOD /path` | success | body limit | ... |`` in the
  routes table, whose header is ``| route | success | body limit | what it does |``;
- anywhere else, a route is named as a code span ``METHOD /path`` (a query after ``?`` is
  allowed); paths that are not routes (what is not served) are named without a method;
- the code table has rows ``| 899003 | 400, 403, 413 | meaning |``: the JMessage code, then
  every HTTP status it comes with;
- a fenced ``json`` block holds one JSON value, or one JSON value per line; a fenced ``http``
  block is a request or response head, and its body, after a blank line, is JSON;
- ``(#anchor)`` and ``(file.md#anchor)`` links lead to headings.

docs/openapi.yaml must have exactly the router's routes, each with the same path parameters,
and be a well-formed OpenAPI 3.1 document with Basic auth.
"""
import os
import re

import orjson
import yaml
from twisted.trial.unittest import SynchronousTestCase

from jim.config import Limits
from jim.errors import JimError
from jim.web.errors import JMESSAGE, jmessage_error
from jim.web.rest_v1 import ROUTES

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")
REST_DOC = os.path.join(DOCS, "rest-api.md")
OPENAPI = os.path.join(DOCS, "openapi.yaml")

_METHODS = "GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS"
_HEADING = re.compile(rf"^#{{2,4}} +({_METHODS}) +(/\S*) *$", re.M)
_ROUTE_SPAN = re.compile(rf"`({_METHODS}) (/[^`\s]*)`")
_ROUTES_TABLE_HEADER = "| route | success | body limit | what it does |"
_ROUTES_TABLE_ROW = re.compile(rf"^\| `({_METHODS}) (/[^`\s]*)` \| ([^|]*) \| ([^|]*) \|")
_CODE_ROW = re.compile(r"^\| (\d{6}) \| ([0-9, ]+) \|", re.M)
_FENCE = re.compile(r"^ *```(?P<info>[^\n`]*)\n(?P<body>.*?)^ *```$", re.M | re.S)
_LINK = re.compile(r"\]\(([^)\s]*)\)")
_PARAMETER = re.compile(r"\{([a-z_]+)\}")
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _router_routes():
    """{(METHOD, pattern): Route} of every route the router serves."""
    return {(r.method.decode(), r.pattern): r for r in ROUTES}


def _matchers():
    """[(METHOD, regex)] of the routes: a pattern's {parameter} takes any one path segment,
    so that a request's path (``PUT /v1/users/carol01/forbidden``) names its route too."""
    return [(r.method.decode(), re.compile(_PARAMETER.sub("[^/]+", r.pattern))) for r in ROUTES]


def _show(pairs):
    return ", ".join(f"{method} {path}" for method, path in sorted(pairs))


def _route_differences(routes, documented, lacks, extra):
    """What a document gets wrong about the router's C{routes}: the routes it lacks, and
    those it has that the router does not."""
    problems = []
    if set(routes) - documented:
        problems.append(f"{lacks} {_show(set(routes) - documented)}")
    if documented - set(routes):
        problems.append(f"{extra} {_show(documented - set(routes))}")
    return problems


def _body_limit(limit):
    """A body limit as the routes table writes it: 1 MiB, 64 KiB, 100 bytes."""
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MiB"
    if limit % 1024 == 0:
        return f"{limit // 1024} KiB"
    return f"{limit} bytes"


def _answerable_codes():
    """{JMessage code: {HTTP status: [where from]}} of every code the REST API can answer:
    each neutral code's, and each route's own (Route.codes)."""
    codes = {}
    for neutral, (code, status) in JMESSAGE.items():
        codes.setdefault(code, {}).setdefault(status, []).append(neutral)
    for route in ROUTES:
        for neutral in route.codes:
            status, code = jmessage_error(JimError(neutral, ""), route.codes)
            codes.setdefault(code, {}).setdefault(status, []).append(f"{neutral} in {route.name}")
    return codes


def _slug(heading):
    """GitHub's anchor of a heading's text."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(text):
    body = _FENCE.sub("", text)
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} +(.+?) *$", body, re.M)}


class _DocTests(SynchronousTestCase):
    """Failures say what is wrong, and only that."""

    def none(self, found, message):
        if found:
            self.fail(message)

    def some(self, found, message):
        if not found:
            self.fail(message)


class RestDocRoutesTests(_DocTests):
    """Every route of the router is documented in docs/rest-api.md, and no other."""

    def setUp(self):
        self.text = _read(REST_DOC)
        self.routes = _router_routes()

    def test_every_route_has_its_own_heading(self):
        headings = [(m.group(1), m.group(2)) for m in _HEADING.finditer(self.text)]
        problems = []
        missing = set(self.routes) - set(headings)
        if missing:
            problems.append(f"no '### METHOD /path' heading for: {_show(missing)}")
        extra = set(headings) - set(self.routes)
        if extra:
            problems.append(f"headings for routes the router does not have: {_show(extra)}")
        twice = {h for h in headings if headings.count(h) > 1}
        if twice:
            problems.append(f"two headings for: {_show(twice)}")
        self.none(problems, "docs/rest-api.md has " + "; ".join(problems))

    def test_no_route_is_named_that_the_router_does_not_have(self):
        named = {(m.group(1), m.group(2).split("?")[0]) for m in _ROUTE_SPAN.finditer(self.text)}
        extra = {(method, path) for method, path in named
                 if not any(method == m and regex.fullmatch(path) for m, regex in _matchers())}
        self.none(extra, "docs/rest-api.md names routes the router does not have (name"
                                f" what is not served by its path alone): {_show(extra)}")

    def test_routes_table_has_every_route_with_its_body_limit(self):
        table = _routes_table(self.text)
        self.some(table, f"docs/rest-api.md has no routes table ({_ROUTES_TABLE_HEADER})")
        listed = {(method, path) for method, path, _, _ in table}
        problems = _route_differences(self.routes, listed, "it lacks",
                                      "it lists routes the router does not have:")
        problems += [f"{method} {path}: the table says {limit!r}, the route's body_limit is"
                     f" {_body_limit(self.routes[method, path].limit(Limits()))!r}"
                     for method, path, _, limit in table
                     if (method, path) in self.routes
                     and limit != _body_limit(self.routes[method, path].limit(Limits()))]
        self.none(problems, "the routes table of docs/rest-api.md: " + "; ".join(problems))

    def test_routes_table_success_status_is_openapis(self):
        spec = yaml.safe_load(_read(OPENAPI))
        wrong = []
        for method, path, success, _ in _routes_table(self.text):
            operation = spec.get("paths", {}).get(path, {}).get(method.lower())
            if operation is None:
                continue  # the OpenAPI tests report it
            documented = sorted(s for s in map(str, operation.get("responses", {}))
                                if s.startswith("2"))
            if success not in documented:
                wrong.append(f"{method} {path}: {success} in docs/rest-api.md, {documented} in"
                             " docs/openapi.yaml")
        self.none(wrong, "success statuses disagree: " + "; ".join(wrong))


def _routes_table(text):
    """[(method, path, success, body limit)] of the routes table's rows."""
    lines = text.splitlines()
    try:
        start = lines.index(_ROUTES_TABLE_HEADER)
    except ValueError:
        return []
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        found = _ROUTES_TABLE_ROW.match(line)
        if found is None:
            raise AssertionError(f"a row of the routes table is not '| `METHOD /path` | ...':"
                                 f" {line}")
        rows.append((found.group(1), found.group(2), found.group(3).strip(),
                     found.group(4).strip()))
    return rows


class RestDocCodesTests(_DocTests):
    """The code table lists every JMessage code the REST API can answer, with its statuses."""

    def test_every_code_is_in_the_table_with_its_statuses(self):
        text = _read(REST_DOC)
        table = {}
        for m in _CODE_ROW.finditer(text):
            statuses = {int(s) for s in m.group(2).replace(" ", "").split(",") if s}
            if m.group(1) in table:
                self.fail(f"docs/rest-api.md's code table has {m.group(1)} twice")
            table[int(m.group(1))] = statuses
        answerable = _answerable_codes()
        problems = []
        missing = sorted(set(answerable) - set(table))
        if missing:
            problems.append("it lacks codes the REST API answers: " + "; ".join(
                f"{code} (HTTP {sorted(answerable[code])}, from {answerable[code]})"
                for code in missing))
        extra = sorted(set(table) - set(answerable))
        if extra:
            problems.append("it lists codes the REST API never answers: "
                            + ", ".join(map(str, extra)))
        for code, statuses in sorted(table.items()):
            if code in answerable and statuses != set(answerable[code]):
                problems.append(f"{code}: the table says HTTP {sorted(statuses)}, the API answers"
                                f" it with {sorted(answerable[code])} ({answerable[code]})")
        self.none(problems, "docs/rest-api.md's code table: " + "; ".join(problems))


class RestDocExamplesTests(_DocTests):
    """The examples of docs/rest-api.md parse, and its links lead somewhere."""

    def setUp(self):
        self.text = _read(REST_DOC)

    def test_json_examples_parse(self):
        bad = []
        blocks = [m for m in _FENCE.finditer(self.text) if m.group("info").strip() == "json"]
        self.some(blocks, "docs/rest-api.md has no json examples")
        for m in blocks:
            problem = _json_problem(m.group("body"))
            if problem:
                line = self.text.count("\n", 0, m.start()) + 1
                bad.append(f"the json block at line {line}: {problem}")
        self.none(bad, "; ".join(bad))

    def test_http_example_bodies_parse(self):
        bad = []
        for m in _FENCE.finditer(self.text):
            if m.group("info").strip() != "http":
                continue
            _, _, body = m.group("body").partition("\n\n")
            if body.strip():
                problem = _json_problem(body)
                if problem:
                    line = self.text.count("\n", 0, m.start()) + 1
                    bad.append(f"the body of the http block at line {line}: {problem}")
        self.none(bad, "; ".join(bad))

    def test_links_lead_to_headings(self):
        broken = []
        anchors = {REST_DOC: _anchors(self.text)}
        for target in _LINK.findall(self.text):
            if "://" in target:
                continue
            path, _, anchor = target.partition("#")
            where = REST_DOC if not path else os.path.normpath(os.path.join(DOCS, path))
            if not os.path.exists(where):
                broken.append(f"{target} (no file {path})")
                continue
            if anchor:
                if where not in anchors:
                    anchors[where] = _anchors(_read(where)) if where.endswith(".md") else set()
                if anchor not in anchors[where]:
                    broken.append(f"{target} (no such heading)")
        self.none(broken, "broken links in docs/rest-api.md: " + ", ".join(broken))


def _json_problem(text):
    """None when C{text} is one JSON value or one JSON value per line, else what is wrong."""
    try:
        orjson.loads(text)
        return None
    except orjson.JSONDecodeError as whole:
        lines = [line for line in text.splitlines() if line.strip()]
        for number, line in enumerate(lines, 1):
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError as e:
                if len(lines) == 1:
                    return f"not JSON ({e})"
                return f"neither one JSON value ({whole}) nor one per line (line {number}: {e})"
        return None


class OpenApiTests(_DocTests):
    """docs/openapi.yaml describes exactly the router's routes."""

    def setUp(self):
        self.spec = yaml.safe_load(_read(OPENAPI))
        self.routes = _router_routes()

    def operations(self):
        """{(METHOD, path): (path item, operation)}."""
        out = {}
        for path, item in (self.spec.get("paths") or {}).items():
            for method in _HTTP_METHODS:
                if method in item:
                    out[method.upper(), path] = (item, item[method])
        return out

    def resolve(self, node):
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                self.fail(f"docs/openapi.yaml: cannot resolve $ref {ref}")
            seen.add(ref)
            node = self.spec
            for part in ref[2:].split("/"):
                if not isinstance(node, dict) or part not in node:
                    self.fail(f"docs/openapi.yaml: $ref {ref} leads nowhere")
                node = node[part]
        return node

    def test_is_openapi_3_1_with_basic_auth(self):
        self.some(str(self.spec.get("openapi", "")).startswith("3.1"),
                        f"docs/openapi.yaml is OpenAPI {self.spec.get('openapi')!r}, not 3.1")
        schemes = self.spec.get("components", {}).get("securitySchemes", {})
        basic = [name for name, s in schemes.items()
                 if s.get("type") == "http" and str(s.get("scheme", "")).lower() == "basic"]
        self.some(basic, "docs/openapi.yaml has no http basic security scheme")
        required = [name for entry in self.spec.get("security", []) for name in entry]
        self.some(set(required) & set(basic),
                        "docs/openapi.yaml's top-level security does not require the basic scheme")

    def test_has_exactly_the_routes(self):
        problems = _route_differences(self.routes, set(self.operations()), "lacks these routes:",
                                      "has routes the router does not have:")
        self.none(problems, "docs/openapi.yaml " + "; ".join(problems))

    def test_path_parameters_are_the_routes(self):
        wrong = []
        for (method, path), (item, operation) in sorted(self.operations().items()):
            declared = {}
            for parameter in item.get("parameters", []) + operation.get("parameters", []):
                parameter = self.resolve(parameter)
                if parameter.get("in") == "path":
                    declared[parameter["name"]] = parameter
            expected = set(_PARAMETER.findall(path))
            if set(declared) != expected:
                wrong.append(f"{method} {path}: path parameters {sorted(declared)}, the path has"
                             f" {sorted(expected)}")
            not_required = sorted(n for n, p in declared.items() if p.get("required") is not True)
            if not_required:
                wrong.append(f"{method} {path}: path parameters not required: {not_required}")
        self.none(wrong, "docs/openapi.yaml: " + "; ".join(wrong))

    def test_every_operation_has_a_success_response(self):
        lacking = [f"{method} {path}" for (method, path), (_, operation)
                   in sorted(self.operations().items())
                   if not any(str(s).startswith("2") for s in operation.get("responses", {}))]
        self.none(lacking, "docs/openapi.yaml operations without a 2xx response: "
                                  + ", ".join(lacking))

    def test_operation_ids_are_unique(self):
        ids = [op.get("operationId") for _, op in self.operations().values()]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        self.none(twice, f"docs/openapi.yaml repeats operationIds: {twice}")

    def test_every_ref_resolves(self):
        broken = []

        def walk(node, where):
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    target = self.spec
                    for part in ref[2:].split("/") if ref.startswith("#/") else [None]:
                        if not isinstance(target, dict) or part not in target:
                            broken.append(f"{ref} (at {where})")
                            break
                        target = target[part]
                for key, value in node.items():
                    walk(value, f"{where}/{key}")
            elif isinstance(node, list):
                for i, value in enumerate(node):
                    walk(value, f"{where}/{i}")

        walk(self.spec, "")
        self.none(broken, "docs/openapi.yaml has $refs that lead nowhere: "
                                 + ", ".join(broken))
