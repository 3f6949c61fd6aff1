"""JMessage's REST API as its clients reach it: raw HTTP/1.1 over a real loopback socket.

The request is written byte for byte as given (so a test controls the path, ``//`` and all,
every header, a Content-Length of 0 or none), and the response is read whole, raw headers and
all, so a test sees what a client would: a 204 with no body and no Content-Type, the
``X-Rate-Limit-*`` headers, ``WWW-Authenticate``, ``Allow``.
"""
import base64
import json

import attr
from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol

from jim.core.accounts import secret_hash
from jim.model import App
from tests.support.inprocess import start_jim

TIMEOUT = 10.0
_NO_BODY = object()


@attr.s(frozen=True)
class Response:
    status = attr.ib()
    headers = attr.ib()  # lower-cased name -> [values]
    body = attr.ib()  # bytes, de-chunked

    def header(self, name):
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def json(self):
        return json.loads(self.body)

    @property
    def code(self):
        """The JMessage error code of an error answer."""
        return self.json()["error"]["code"]

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class _Reader(Protocol):
    def __init__(self, request):
        self.request = request
        self.data = []
        self.done = defer.Deferred()

    def connectionMade(self):
        self.transport.write(self.request)

    def dataReceived(self, data):
        self.data.append(data)

    def connectionLost(self, reason):
        self.done.callback(b"".join(self.data))


def _dechunk(data):
    out = []
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(data[:size])
        data = data[size + 2:]


def parse_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    if headers.get("transfer-encoding") == ["chunked"]:
        body = _dechunk(body)
    elif "content-length" in headers:
        body = body[:int(headers["content-length"][0])]
    return Response(status, headers, body)


async def send_raw(port, request):
    """The Response to C{request} (bytes of a whole HTTP request; it should ask to close)."""
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=TIMEOUT)
    reader = await connectProtocol(endpoint, _Reader(request))
    raw = await reader.done.addTimeout(TIMEOUT, reactor)
    return parse_response(raw)


def basic(key, secret):
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return f"Basic {token}"


def build_request(method, path, body=None, headers=()):
    """An HTTP/1.1 request: C{headers} are C{(name, value)} pairs written as they are; a
    Content-Length is added for a body unless one is given."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    names = {name.lower() for name, _ in headers}
    lines += [f"{name}: {value}" for name, value in headers]
    if body is not None and "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + (body or b"")


class Rest:
    """One app's REST client: C{await rest.call("POST", "/v1/users/", [...])}."""

    def __init__(self, jim, key, secret):
        self.jim = jim
        self.port = jim.port
        self.key = key
        self.secret = secret

    @property
    def auth(self):
        return basic(self.key, self.secret)

    async def call(self, method, path, payload=_NO_BODY, body=None, headers=None, auth=True,
                   content_type="application/json"):
        """C{payload} is sent as JSON (with C{content_type}), or C{body} as it is."""
        pairs = list(headers or ())
        if payload is not _NO_BODY:
            body = json.dumps(payload).encode()
        if body is not None and content_type is not None:
            pairs.append(("Content-Type", content_type))
        if auth is True:
            pairs.append(("Authorization", self.auth))
        elif auth:
            pairs.append(("Authorization", auth))
        return await send_raw(self.port, build_request(method, path, body, pairs))

    async def get(self, path, **kw):
        return await self.call("GET", path, **kw)

    async def post(self, path, payload=_NO_BODY, **kw):
        return await self.call("POST", path, payload, **kw)

    async def put(self, path, payload=_NO_BODY, **kw):
        return await self.call("PUT", path, payload, **kw)

    async def delete(self, path, payload=_NO_BODY, **kw):
        return await self.call("DELETE", path, payload, **kw)

    # -- set-ups the tests share ---------------------------------------------------------------

    async def register(self, *names, password="secret", **profile):
        response = await self.post("/v1/users/", [
            {"username": name, "password": password, **profile} for name in names])
        assert response.status == 201, response
        return response

    async def admin(self, name="admin1", password="secret"):
        response = await self.post("/v1/admins/", {"username": name, "password": password})
        assert response.status == 201, response
        return name

    async def group(self, owner, members=(), name="team", **fields):
        response = await self.post("/v1/groups/", {"owner_username": owner, "name": name,
                                                   "members_username": list(members), **fields})
        assert response.status == 201, response
        return response.json()["gid"]

    async def send(self, sender, target, text="hello", target_type="single", **extra):
        response = await self.post("/v1/messages", text_message(sender, target, text,
                                                                 target_type, **extra))
        assert response.status == 201, response
        return response.json()

    async def snapshot(self, usernames=()):
        """What the read routes show of this app: users, admins, groups with members, and
        each named user's profile, friends, blacklist and groups (compared before and after
        a refused call: a refusal changes nothing)."""
        out = {}
        for path in ("/v1/users/?start=0&count=500", "/v1/admins?start=0&count=500",
                     "/v1/groups?start=0&count=500"):
            response = await self.get(path)
            assert response.status == 200, response
            out[path] = response.json()
        for group in out["/v1/groups?start=0&count=500"]["groups"]:
            response = await self.get(f"/v1/groups/{group['gid']}/members")
            out[f"members {group['gid']}"] = response.json()
        for name in usernames:
            for part in ("", "/friends", "/blacklist", "/groups"):
                response = await self.get(f"/v1/users/{name}{part}")
                out[f"{name}{part}"] = (response.status, response.json())
        return out


def text_message(sender, target, text="hello", target_type="single", **extra):
    return {"version": 1, "target_type": target_type, "target_id": target,
            "from_type": "admin", "from_id": sender, "msg_type": "text",
            "msg_body": {"text": text}, **extra}


def default_credentials(jim):
    with open(f"{jim.config.data}/default-app.json") as f:
        saved = json.load(f)
    return saved["appKey"], saved["masterSecret"]


async def start_rest(testcase, limits=None, **config):
    """A jim (its real SQLite store, no REST rate limit unless C{limits} sets one) and a L{Rest}
    client of its default app."""
    limits = {"rest_rate": 0, **(limits or {})}
    jim = await start_jim(testcase, limits=limits, **config)
    return jim, Rest(jim, *default_credentials(jim))


async def second_app(jim, key="OtherApp0000000000000001", secret="OtherSecret0000000000001"):
    """Another app in the same server (24 alphanumerics each), and its client."""
    await jim.store.apps.add_app(App(key, secret_hash(secret), "other", 0))
    return Rest(jim, key, secret)


class Checks:
    """Assertions on REST answers, mixed into a TestCase."""

    def assertError(self, response, status, code):
        self.assertEqual(response.status, status, response)
        self.assertTrue(response.header("content-type").startswith("application/json"),
                        response)
        error = response.json()["error"]
        self.assertEqual(error["code"], code, response)
        self.assertIsInstance(error["message"], str)

    def assertEmpty(self, response, status=204):
        """A 201 or 204 as JMessage answers them: no body, hence no JSON Content-Type."""
        self.assertEqual(response.status, status, response)
        self.assertEqual(response.body, b"", response)
        self.assertIsNone(response.header("content-type"), response)

    def assertJson(self, response, status=200):
        self.assertEqual(response.status, status, response)
        self.assertEqual(response.header("content-type"), "application/json; charset=utf-8")
        return response.json()

    async def assertRefusedChangesNothing(self, rest, request, status, code, usernames=()):
        """C{request} (an awaitable factory) is refused with C{status}/C{code}, and the app
        reads back the same afterwards."""
        before = await rest.snapshot(usernames)
        self.assertError(await request(), status, code)
        self.assertEqual(await rest.snapshot(usernames), before)
