"""The page of JMessage's Web SDK 1.0 (pages/jmessage_v1.html) at a running jim's origin, and
what its tests need around it: users registered over the REST API, the signature an app
server makes for the SDK's config, and the page's own calls."""
import base64
import hashlib
import json
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path

PAGE = Path(__file__).parent / "pages" / "jmessage_v1.html"
PAGE_PATH = "test/jmessage_v1.html"
PASSWORD = "password-1"
#: the SDK's script in the page, and where the server also serves it
STATIC_SDK = "/static/sdk/jmessage.js"
SDK = "/sdk/jmessage.js"


def v1_config(app_key, master_secret, seconds=None):
    """What an app server gives the page for JMessage.config (the 2015 SDK's signature)."""
    timestamp = str(int(time.time() if seconds is None else seconds))
    random_str = secrets.token_hex(12)
    text = (f"appKey={app_key}&timestamp={timestamp}&randomStr={random_str}"
            f"&masterSecrect={master_secret}")
    return {"appKey": app_key, "timestamp": timestamp, "randomStr": random_str,
            "signature": hashlib.md5(text.encode("utf-8")).hexdigest().upper()}


def v2_config(app_key, master_secret):
    """The signature of JMessage's later Web SDK (JIM.init), which config takes too."""
    timestamp = str(int(time.time() * 1000))
    random_str = secrets.token_hex(12)
    text = f"appkey={app_key}&timestamp={timestamp}&random_str={random_str}&key={master_secret}"
    return {"appkey": app_key, "timestamp": timestamp, "random_str": random_str,
            "signature": hashlib.md5(text.encode("utf-8")).hexdigest()}


def rest(jim, method, path, body=None):
    """A REST call as the default app's server: (status, parsed JSON or None)."""
    credentials = base64.b64encode(f"{jim.app_key}:{jim.master_secret}".encode()).decode()
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(jim.url + path.lstrip("/"), data=data, method=method,
                                     headers={"Authorization": "Basic " + credentials,
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, text = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    return status, (json.loads(text) if text else None)


def register(jim, *usernames, nicknames=None):
    entries = [{"username": name, "password": PASSWORD} for name in usernames]
    for entry in entries:
        if nicknames and entry["username"] in nicknames:
            entry["nickname"] = nicknames[entry["username"]]
    status, answer = rest(jim, "POST", "v1/users", entries)
    assert status == 201 and all("error" not in entry for entry in answer), answer


def open_page(jim, pages, sdk=STATIC_SDK, init_script=None):
    """A new browser context with the page at jim's origin (served by the test)."""
    html = PAGE.read_text(encoding="utf-8").replace(STATIC_SDK, sdk)
    # a fulfilled page has no address of its own: without the permission, Chromium's local
    # network access checks block its WebSocket to the loopback server
    page = pages.new(permissions=["local-network-access"])
    if init_script:
        page.add_init_script(init_script)
    page.route(jim.url + PAGE_PATH,
               lambda route: route.fulfill(status=200, body=html,
                                           content_type="text/html; charset=utf-8"))
    page.goto(jim.url + PAGE_PATH)
    page.wait_for_function("window.JMessage !== undefined")
    return page


def record_frames(page):
    """A list that gets every JSON object the page's WebSockets send ("sent", obj) and receive
    ("received", obj) from now on."""
    frames = []

    def watch(socket):
        socket.on("framesent", lambda payload: frames.append(("sent", json.loads(payload))))
        socket.on("framereceived",
                  lambda payload: frames.append(("received", json.loads(payload))))
    page.on("websocket", watch)
    return frames


def call(page, name, options=None):
    """One call of the API through the page: {ok, args, rid} or {ok: False, code, message}."""
    return page.evaluate("([name, options]) => call(name, options)", [name, options or {}])


def sign_in(jim, page, username):
    configured = page.evaluate("(options) => configure(options)",
                               v1_config(jim.app_key, jim.master_secret))
    assert configured == {"ok": True}, configured
    logged_in = call(page, "login", {"username": username, "password": PASSWORD})
    assert logged_in["ok"], logged_in


def seen(page, what):
    return page.evaluate(f"() => seen.{what}")


def wait_for_messages(page, count, timeout=10000):
    page.wait_for_function(f"() => seen.messages.length >= {count}", timeout=timeout)
    return seen(page, "messages")


def wait_for_event(page, event_type, timeout=10000):
    page.wait_for_function(
        "(type) => seen.events.some((e) => e.event_type === type)", arg=event_type,
        timeout=timeout)
    return [e for e in seen(page, "events") if e["event_type"] == event_type]


def jim_call(page, name, options=None):
    """One of jim's additions (JMessage.jim), which the seed's page does not know: made from
    the test, {ok, args} or {ok: False, code, message}."""
    return page.evaluate("""([name, options]) => new Promise((resolve) => {
        JMessage.jim[name](Object.assign({}, options, {
            success: (...args) => resolve({ok: true, args}),
            fail: (code, message) => resolve({ok: false, code, message}),
        }));
    })""", [name, options or {}])
