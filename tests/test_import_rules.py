"""The layers of docs/architecture.md, checked: imports point inward only, the core speaks no
dialect, and no module of jim imports itself back through others (no cycles)."""
import ast
import os
import unittest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "jim")

LEAVES = {
    "jim.errors", "jim.interfaces", "jim.config", "jim.model", "jim.metrics", "jim.wire",
    "jim.collector", "jim.cursors",
}
#: package -> jim packages/modules it may import (besides itself); None = anything
ALLOWED = {
    "jim.errors": set(),
    "jim.model": set(),
    "jim.cursors": set(),
    "jim.interfaces": {"jim.model"},
    "jim.config": set(),
    "jim.metrics": {"jim.collector"},
    "jim.collector": set(),
    "jim.wire": {"jim.errors", "jim.model"},
    "jim.core": LEAVES,
    "jim.redis": LEAVES,
    "jim.store": LEAVES | {"jim.redis"},
    "jim.bus": LEAVES | {"jim.redis"},
    "jim.net": {"jim.wire"},
    "jim.protocols": LEAVES | {"jim.core"},
    "jim.web": LEAVES | {"jim.core"},
    "jim.service": None,
    "jim.backends": None,
    "jim.tap": None,
}
#: third-party packages a layer must never import
FORBIDDEN = {
    "jim.errors": {"twisted", "autobahn", "txredisapi", "sqlite3"},
    "jim.model": {"twisted", "autobahn", "txredisapi", "sqlite3"},
    "jim.cursors": {"twisted", "autobahn", "txredisapi", "sqlite3"},
    "jim.interfaces": {"twisted", "autobahn", "txredisapi", "sqlite3"},
    "jim.config": {"twisted", "autobahn", "txredisapi", "sqlite3"},
    "jim.metrics": {"twisted", "autobahn", "txredisapi", "sqlite3"},
    "jim.collector": {"twisted", "autobahn", "txredisapi", "sqlite3"},
    "jim.wire": {"twisted", "autobahn", "txredisapi", "sqlite3"},
    "jim.core": {"twisted.web", "autobahn", "txredisapi", "sqlite3"},
    "jim.net": {"autobahn", "txredisapi", "sqlite3"},
    "jim.redis": {"autobahn", "sqlite3"},
    "jim.protocols": {"txredisapi", "sqlite3"},
    "jim.web": {"autobahn", "txredisapi", "sqlite3"},
}

#: the protocol adapters never import each other: what they share is in these modules (flow
#: control, and J-IM's dialect of the core: its session, its commands and the request/reply
#: shape of jim's own commands), and an adapter's own helper modules are open to it (the
#: WebSocket's permessage-deflate choices)
PROTOCOL_SHARED = ("jim.protocols.outbox", "jim.protocols.turnwrite", "jim.protocols.jim_session",
                   "jim.protocols.jim_commands", "jim.protocols.jim_requests",
                   "jim.protocols.ws_deflate")

#: the dialects' codecs: the core never imports them (it speaks no dialect)
DIALECT_CODECS = ("jim.wire.jimjson", "jim.wire.status", "jim.wire.framing",
                  "jim.wire.jim_messages", "jim.wire.jim_events", "jim.wire.jmessage",
                  "jim.wire.callbacks", "jim.wire.jmessage_shapes", "jim.wire.jmessage_codes",
                  "jim.wire.sdk_requests")

#: the only Twisted modules the core may import (docs/architecture.md, import rules)
CORE_TWISTED = ("twisted.internet.defer", "twisted.internet.task", "twisted.logger",
                "twisted.python.failure")


def layer_of(module):
    parts = module.split(".")
    for n in (2, 1):
        name = ".".join(parts[:n])
        if name in ALLOWED:
            return name
    return None


def modules():
    for directory, _dirs, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
                yield rel.removesuffix(".__init__"), path


def imports_of(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            for alias in node.names:
                yield f"{node.module}.{alias.name}"


def violations(module, names):
    """The imports among C{names} that C{module} may not make."""
    layer = layer_of(module)
    allowed = ALLOWED[layer]
    found = []
    for name in names:
        if name.startswith("jim."):
            target = layer_of(name)
            inside = target is None or target == layer or allowed is None
            if not inside and not any(name == a or name.startswith(a + ".") for a in allowed):
                found.append(f"{module} imports {name}")
        if layer == "jim.core" and name.startswith("twisted") and name != "twisted.internet":
            if not any(name == a or name.startswith(a + ".") for a in CORE_TWISTED):
                found.append(f"{module} imports {name}")
        if (layer == "jim.protocols" and module not in PROTOCOL_SHARED
                and name.startswith("jim.protocols.") and not name.startswith(module + ".")
                and not any(name == s or name.startswith(s + ".") for s in PROTOCOL_SHARED)):
            found.append(f"{module} imports {name}")
        for banned in FORBIDDEN.get(layer, ()):
            if name == banned or name.startswith(banned + "."):
                found.append(f"{module} imports {name}")
        if layer in ("jim.core", "jim.store", "jim.bus") and any(
                name == codec or name.startswith(codec + ".") for codec in DIALECT_CODECS):
            found.append(f"{module} imports {name}")
    return found


def import_graph():
    """{module: {jim modules it imports}} for every module of jim. C{from package import
    module} counts as importing that module only; a name that is not a module counts as
    importing the module it is defined in."""
    known = {module for module, _ in modules()}

    def owner(name):
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name

    graph = {}
    for module, path in modules():
        targets = set()
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            targets.update(owner(name) for name in names)
        graph[module] = {t for t in targets if t and t != module and t != "jim"}
    return graph


def cycles(graph):
    """The import cycles of C{graph}, each as the list of its modules (one per cycle found by
    a depth-first walk)."""
    found = []
    state = {}  # module -> "open" while on the walk's path, "done" after

    def walk(module, path):
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                found.append(path[path.index(target):] + [target])
            elif target not in state:
                walk(target, path)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            walk(module, [])
    return found


class ImportRuleTests(unittest.TestCase):
    def test_every_module_belongs_to_a_layer(self):
        for module, _path in modules():
            if module == "jim":
                continue
            self.assertIsNotNone(layer_of(module), f"{module} is in no layer of the import rules")

    def test_imports_point_inward(self):
        problems = []
        for module, path in modules():
            if layer_of(module) is not None:
                problems += violations(module, set(imports_of(path)))
        self.assertEqual(sorted(problems), [])

    def test_no_import_cycles(self):
        self.assertEqual(cycles(import_graph()), [])

    def test_the_cycle_finder_finds_cycles(self):
        self.assertEqual(cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}), [["a", "b", "c", "a"]])
        self.assertEqual(cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}), [])
        self.assertEqual(cycles({"a": {"a"}}), [["a", "a"]])

    def test_the_core_speaks_no_dialect(self):
        self.assertEqual(violations("jim.core.messages", ["jim.wire.jimjson"]),
                         ["jim.core.messages imports jim.wire.jimjson"])
        self.assertEqual(violations("jim.core.hub", ["jim.wire.status.CHAT_REQ"]),
                         ["jim.core.hub imports jim.wire.status.CHAT_REQ"])
        self.assertEqual(violations("jim.bus.local", ["jim.wire.busjson"]), [])

    def test_the_checker_catches_violations(self):
        self.assertEqual(violations("jim.core.hub", ["jim.web.site"]), ["jim.core.hub imports jim.web.site"])
        self.assertEqual(violations("jim.core.hub", ["sqlite3"]), ["jim.core.hub imports sqlite3"])
        self.assertEqual(violations("jim.core.hub", ["twisted.internet.reactor"]),
                         ["jim.core.hub imports twisted.internet.reactor"])
        self.assertEqual(violations("jim.core.hub", ["twisted.python.failure.Failure"]), [])
        self.assertEqual(violations("jim.wire.framing", ["twisted.internet"]),
                         ["jim.wire.framing imports twisted.internet"])
        self.assertEqual(violations("jim.protocols.tcp", ["jim.web.site"]),
                         ["jim.protocols.tcp imports jim.web.site"])
        self.assertEqual(violations("jim.protocols.tcp", ["jim.protocols.jim_session", "jim.wire"]),
                         [])
        self.assertEqual(violations("jim.protocols.websocket", ["jim.protocols.tcp.peer_of"]),
                         ["jim.protocols.websocket imports jim.protocols.tcp.peer_of"])
        self.assertEqual(violations("jim.protocols.websocket",
                                    ["jim.protocols.outbox.OutboxMixin",
                                     "jim.protocols.turnwrite"]), [])
        self.assertEqual(violations("jim.tap", ["jim.store.sqlite"]), [])
