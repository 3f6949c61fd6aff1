"""The admin console (GET /admin) in a real browser against a real jim: signed in with an
app's key and master secret or the administrator's secret, each section driven as an operator
would, and what it does checked both on screen and through the REST API."""
import base64
import json
import time
import urllib.error
import urllib.request

from tests.support.pw import browser, jim, pages  # noqa: F401 (pytest fixtures)

WAIT_MS = 15000


def rest(server, method, path, body=None, auth=None):
    """(status, JSON or None) of a REST call with the default app's credentials."""
    key, secret = auth or (server.app_key, server.master_secret)
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url.rstrip("/") + path, data=data, method=method,
                                     headers={"Authorization": f"Basic {token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
            return answer.status, json.loads(text) if text else None
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"null")


def wait_until(page, condition, timeout=WAIT_MS / 1000):
    """Polls the JavaScript expression C{condition} until it is true. (Playwright's own
    wait_for_function evaluates a string in the page, which the pages' Content-Security-Policy
    forbids; an evaluate from outside is not subject to it.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(condition):
        assert time.monotonic() < deadline, f"not true in {timeout} s: {condition}"
        time.sleep(0.05)


def open_console(server, pages, **context):
    page = pages.new(**context)
    page.set_default_timeout(WAIT_MS)
    page.goto(server.url + "admin")
    page.wait_for_selector("#sign-in-form", state="visible")
    return page


def sign_in_as_app(page, key, secret):
    page.fill("#sign-in-app-key", key)
    page.fill("#sign-in-master-secret", secret)
    page.click("#sign-in-submit")


def sign_in_as_admin(page, secret):
    page.check("input[name=mode][value=admin]")
    page.fill("#sign-in-admin-secret", secret)
    page.click("#sign-in-submit")


def wait_ready(page, section):
    wait_until(page, f"document.getElementById('section').dataset.ready === {json.dumps(section)}"
                           f" && window.jimAdmin.section === {json.dumps(section)}")


def go(page, section):
    page.evaluate("document.getElementById('section').dataset.ready = ''")
    page.click(f"#nav a[data-section={section}]")
    wait_ready(page, section)


def wait_notice(page, text):
    wait_until(page, f"window.jimAdmin.notice.includes({json.dumps(text)})")


def confirm(page):
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm-yes")


def refresh_until(page, condition):
    """Clicks the user detail's Refresh until C{condition} holds (presence is told of a closed
    connection a moment after the call that closed it is answered)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not page.evaluate(condition):
        assert time.monotonic() < deadline, f"not true: {condition}"
        page.click("#user-detail button:text('Refresh')")
        time.sleep(0.2)


def signed_in_console(server, pages, **context):
    page = open_console(server, pages, **context)
    sign_in_as_app(page, server.app_key, server.master_secret)
    wait_ready(page, "users")
    return page


def expect_refusals(pages, count, status=401):
    """The browser logs each refused call as a failed load (a console error): the C{count}
    refusals with C{status} a test provokes on purpose are taken off the fixture's list, and
    must be all there is of them."""
    refused = [e for e in pages.errors
               if "Failed to load resource" in e and f"status of {status} " in e]
    assert len(refused) == count, pages.errors
    pages.errors[:] = [e for e in pages.errors if e not in refused]


def test_a_user_the_console_registers_signs_in_to_chat_and_is_signed_out_when_forbidden(
        jim, pages):
    console = signed_in_console(jim, pages)
    console.fill("#register-user-username", "carol01")
    console.fill("#register-user-password", "carolpass")
    console.fill("#register-user-nickname", "Carol")
    console.click("#register-user button[type=submit]")
    wait_notice(console, "Registered carol01")
    console.wait_for_selector("button[data-user=carol01]")
    assert rest(jim, "GET", "/v1/users/carol01")[1]["nickname"] == "Carol"

    chat = pages.new()
    chat.set_default_timeout(WAIT_MS)
    chat.goto(jim.url)
    chat.fill("#login-user", "carol01")
    chat.fill("#login-password", "carolpass")
    chat.click("#login-submit")
    wait_until(chat, "window.jimChat.loggedIn === true")

    console.click("button[data-user=carol01]")
    console.wait_for_selector("#user-devices")
    wait_until(console, "document.getElementById('user-devices').textContent.includes('j online')")
    console.click("#forbid-user")
    confirm(console)
    wait_notice(console, "carol01 is forbidden")

    wait_until(chat, "window.jimChat.loggedIn === false"
                           " && !document.getElementById('login').hidden")
    assert "session ended" in chat.text_content("#login-error")
    refresh_until(console, "document.getElementById('user-devices').textContent"
                           ".includes('j offline')")
    # refused at the next sign-in too, until allowed again
    chat.fill("#login-user", "carol01")
    chat.fill("#login-password", "carolpass")
    chat.click("#login-submit")
    wait_until(chat, "document.getElementById('login-error').textContent.length > 0"
                           " && !document.getElementById('login-submit').disabled")
    assert chat.evaluate("window.jimChat.loggedIn") is False
    console.click("#unforbid-user")
    wait_notice(console, "carol01 may sign in again")
    chat.fill("#login-password", "carolpass")
    chat.click("#login-submit")
    wait_until(chat, "window.jimChat.loggedIn === true")

    # the secrets stay in the tab's session storage, out of the URL and of local storage
    assert jim.master_secret not in console.url
    assert console.evaluate("localStorage.length") == 0
    assert jim.master_secret in console.evaluate("JSON.stringify(sessionStorage)")


def test_the_administrator_lists_apps_creates_one_and_works_on_it(jim, pages):
    console = open_console(jim, pages)
    sign_in_as_admin(console, jim.admin_secret)
    wait_ready(console, "apps")
    console.wait_for_selector(f"button[data-app='{jim.app_key}']")
    console.fill("#create-app-name", "Shop")
    console.check("#create-app-friend_mode")
    console.fill("#create-app-rest_rate", "1200")
    console.click("#create-app button[type=submit]")
    wait_notice(console, "Created app")
    notice = console.evaluate("window.jimAdmin.notice")
    key = notice.split("Created app ")[1].split(":")[0]
    secret = notice.split("master secret is ")[1].split(" ")[0]
    status, app = rest(jim, "GET", "/v1/sensitiveword/status", auth=(key, secret))
    assert status == 200, app
    console.wait_for_selector(f"button[data-app='{key}']")
    row = console.text_content(f"tr:has(button[data-app='{key}'])")
    assert "Shop" in row and "friend mode" in row and "1200 calls/min" in row

    # the new app's secret is known to this tab: it can be worked on at once
    console.click(f"button[data-app='{key}']")
    console.click("#app-detail button:text('Use this app')")
    wait_until(console, f"window.jimAdmin.appKey === {json.dumps(key)}")
    go(console, "users")
    console.fill("#register-user-username", "shopper1")
    console.fill("#register-user-password", "shopperpass")
    console.click("#register-user button[type=submit]")
    wait_notice(console, "Registered shopper1")
    assert rest(jim, "GET", "/v1/users/shopper1", auth=(key, secret))[0] == 200
    assert rest(jim, "GET", "/v1/users/shopper1")[0] == 403  # not the default app's

    # a new master secret: the old one stops working, the console goes on with the new one
    go(console, "apps")
    console.click(f"button[data-app='{key}']")
    console.click("#app-detail button:text('New master secret')")
    confirm(console)
    wait_notice(console, f"New secret for {key}")
    rotated = console.evaluate("window.jimAdmin.notice").split("master secret is ")[1].split(" ")[0]
    assert rotated != secret
    assert rest(jim, "GET", "/v1/sensitiveword/status", auth=(key, secret))[0] == 401
    secret = rotated
    go(console, "users")
    console.wait_for_selector("button[data-user=shopper1]")

    # settings changed, then the app deleted after a confirmation
    go(console, "apps")
    console.click(f"button[data-app='{key}']")
    console.uncheck(f"#edit-{key}-friend_mode")
    console.check(f"#edit-{key}-word_filter")
    console.click(f"#edit-{key} button[type=submit]")
    wait_notice(console, f"Saved the settings of {key}")
    listed = rest_admin(jim, "GET", f"/admin/v1/apps/{key}")
    assert (listed["friend_mode"], listed["word_filter"]) == (False, True)
    console.click(f"button[data-app='{key}']")
    console.click("#app-detail button:text('Delete app')")
    console.click("#confirm-no")  # cancelled: nothing happens
    assert rest_admin(jim, "GET", f"/admin/v1/apps/{key}")["appKey"] == key
    console.click("#app-detail button:text('Delete app')")
    confirm(console)
    wait_notice(console, f"Deleted app {key}")
    assert rest(jim, "GET", "/v1/sensitiveword/status", auth=(key, secret))[0] == 401
    assert console.evaluate("window.jimAdmin.appKey") is None
    assert jim.admin_secret not in console.url
    assert console.evaluate("localStorage.length") == 0
    expect_refusals(pages, 0)


def test_the_administrator_works_on_any_app_without_its_master_secret(jim, pages):
    console = open_console(jim, pages)
    sign_in_as_admin(console, jim.admin_secret)
    wait_ready(console, "apps")
    console.click(f"button[data-app='{jim.app_key}']")  # the default app: no secret known
    console.click("#app-detail button:text('Use this app')")
    wait_until(console, f"window.jimAdmin.appKey === {json.dumps(jim.app_key)}")
    go(console, "users")
    console.fill("#register-user-username", "byadmin1")
    console.fill("#register-user-password", "byadminpass")
    console.click("#register-user button[type=submit]")
    wait_notice(console, "Registered byadmin1")
    assert rest(jim, "GET", "/v1/users/byadmin1")[0] == 200  # in the default app
    assert jim.master_secret not in console.evaluate("JSON.stringify(sessionStorage)")
    expect_refusals(pages, 0)


def test_a_wrong_secret_shows_the_error_and_no_data(jim, pages):
    rest(jim, "POST", "/v1/users", [{"username": "alice01", "password": "alicepass"}])
    console = open_console(jim, pages)
    sign_in_as_app(console, jim.app_key, "not-the-master-secret-0")
    wait_until(console, "document.getElementById('sign-in-error').textContent.includes('899008')")
    assert "Basic authentication failed" in console.text_content("#sign-in-error")
    sign_in_as_admin(console, "not-the-admin-secret")
    wait_until(console, "document.getElementById('sign-in-error').textContent.includes('899008')")
    assert "administrator's secret is wrong" in console.text_content("#sign-in-error")
    assert console.is_hidden("#console")
    assert "alice01" not in console.content()
    assert console.evaluate("sessionStorage.length") == 0
    expect_refusals(pages, 2)


def rest_admin(server, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url.rstrip("/") + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {server.admin_secret}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read()
        return json.loads(text) if text else None


def test_users_are_paged_looked_up_and_given_a_new_password(jim, pages):
    names = [f"user{n:02d}" for n in range(25)]
    status, _ = rest(jim, "POST", "/v1/users",
                     [{"username": name, "password": "pass1234"} for name in names])
    assert status == 201
    console = signed_in_console(jim, pages)
    assert "1–20 of 25" in console.text_content("#section .pager")
    assert console.query_selector("button[data-user=user19]")
    assert console.query_selector("button[data-user=user20]") is None
    console.click("#section .pager button:text('Next')")
    console.wait_for_selector("button[data-user=user24]")
    assert "21–25 of 25" in console.text_content("#section .pager")
    assert console.query_selector("button[data-user=user00]") is None

    console.fill("#lookup-user-username", "user03")
    console.click("#lookup-user button[type=submit]")
    console.wait_for_selector("#user-detail:has-text('User user03')")
    assert "Devices: no devices" in console.text_content("#user-devices")
    console.fill("#password-user03-password", "brandnew99")
    console.click("#password-user03 button[type=submit]")
    wait_notice(console, "New password set for user03")
    chat = pages.new()
    chat.goto(jim.url)
    chat.fill("#login-user", "user03")
    chat.fill("#login-password", "brandnew99")
    chat.click("#login-submit")
    wait_until(chat, "window.jimChat.loggedIn === true")

    console.fill("#lookup-user-username", "nobody01")
    console.click("#lookup-user button[type=submit]")
    wait_until(console, "window.jimAdmin.error.includes('899002')")
    assert "no user 'nobody01'" in console.evaluate("window.jimAdmin.error")
    expect_refusals(pages, 1, status=403)
    # the next action's outcome replaces the refusal: a look-up that works shows no error
    console.fill("#lookup-user-username", "user04")
    console.click("#lookup-user button[type=submit]")
    console.wait_for_selector("#user-detail:has-text('User user04')")
    assert console.evaluate("window.jimAdmin.error") == ""


def seed(server):
    """Users alice01, bob01 and carol01, the admin boss01, and messages between them."""
    for name in ("alice01", "bob01", "carol01"):
        user = {"username": name, "password": "pass1234"}
        assert rest(server, "POST", "/v1/users", [user])[0] == 201
    admin = {"username": "boss01", "password": "pass1234"}
    assert rest(server, "POST", "/v1/admins", admin)[0] == 201
    for text in ("one", "two", "three"):
        status, _ = rest(server, "POST", "/v1/messages", {
            "version": 1, "target_type": "single", "target_id": "alice01", "from_type": "admin",
            "from_id": "boss01", "msg_type": "text", "msg_body": {"text": text}})
        assert status == 201


def test_words_groups_and_rooms_are_managed_from_the_console(jim, pages):
    seed(jim)
    console = signed_in_console(jim, pages)

    go(console, "words")
    assert "The filter is off" in console.text_content("#word-filter-state")
    console.fill("#add-words-words", "fool, 坏蛋")
    console.click("#add-words button[type=submit]")
    wait_notice(console, "Added fool, 坏蛋")
    console.wait_for_selector("button[data-word=fool]")
    words = rest(jim, "GET", "/v1/sensitiveword?count=10")[1]["words"]
    assert [w["name"] for w in words] == ["fool", "坏蛋"]
    console.click("#word-filter-toggle")
    wait_notice(console, "The word filter is on")
    assert "The filter is on" in console.text_content("#word-filter-state")
    assert rest(jim, "GET", "/v1/sensitiveword/status")[1] == {"status": 1}
    console.click("button[data-word=fool]")
    wait_notice(console, "Removed “fool”")
    assert console.query_selector("button[data-word=fool]") is None

    go(console, "groups")
    console.fill("#create-group-owner", "alice01")
    console.fill("#create-group-name", "Book club")
    console.fill("#create-group-members", "bob01")
    console.click("#create-group button[type=submit]")
    wait_notice(console, "Created group")
    gid = rest(jim, "GET", "/v1/groups?count=10")[1]["groups"][0]["gid"]
    console.click(f"button[data-gid='{gid}']")
    console.fill(f"#add-members-{gid}-users", "carol01")
    console.click(f"#add-members-{gid} button[type=submit]")
    wait_notice(console, "added carol01")
    assert "carol01" in console.text_content("#group-detail table")
    console.fill(f"#remove-members-{gid}-users", "bob01")
    console.click(f"#remove-members-{gid} button[type=submit]")
    wait_notice(console, "removed bob01")
    members = [m["username"] for m in rest(jim, "GET", f"/v1/groups/{gid}/members")[1]]
    assert members == ["alice01", "carol01"]
    # a refusal is shown with its code and message, and changes nothing
    console.fill(f"#add-members-{gid}-users", "nobody01")
    console.click(f"#add-members-{gid} button[type=submit]")
    wait_until(console, "window.jimAdmin.error.includes('899002')")
    assert "no such user: nobody01" in console.evaluate("window.jimAdmin.error")

    go(console, "rooms")
    console.fill("#create-room-owner", "alice01")
    console.fill("#create-room-name", "Lobby")
    console.click("#create-room button[type=submit]")
    wait_notice(console, "Created chat room")
    room = rest(jim, "GET", "/v1/chatroom?count=10")[1]["rooms"][0]["id"]
    console.click(f"button[data-room='{room}']")
    console.fill(f"#add-room-members-{room}-users", "bob01 carol01")
    console.click(f"#add-room-members-{room} button[type=submit]")
    wait_notice(console, "added bob01, carol01")
    assert rest(jim, "GET", f"/v1/chatroom/{room}/members?count=10")[1]["total"] == 3
    expect_refusals(pages, 1, status=400)


def test_messages_reports_statistics_and_live_metrics_render_with_data(jim, pages):
    seed(jim)
    console = signed_in_console(jim, pages)

    go(console, "send")
    console.select_option("#send-message-from", "boss01")
    console.fill("#send-message-target_id", "bob01")
    console.fill("#send-message-text", "hello from the console")
    console.click("#send-message button[type=submit]")
    wait_notice(console, "Sent: message")

    go(console, "reports")
    console.fill("#report-query-count", "3")
    console.click("#report-query button[type=submit]")
    console.wait_for_selector("#report-summary")
    assert "4 messages in the window; page 1, 3 shown" in console.text_content("#report-summary")
    assert "one" in console.text_content("#report-results table")
    console.click("#report-next")
    wait_until(console, "document.getElementById('report-summary').textContent"
                        ".includes('page 2, 1 shown')")
    assert "hello from the console" in console.text_content("#report-results table")
    assert console.query_selector("#report-next") is None
    console.select_option("#report-query-scope", "user")
    console.fill("#report-query-id", "bob01")
    console.click("#report-query button[type=submit]")
    wait_until(console, "document.getElementById('report-summary').textContent"
                        ".startsWith('1 messages')")

    go(console, "stats")
    console.wait_for_selector("#stats-results svg.chart rect.bar", state="attached")
    charts = console.eval_on_selector_all("#stats-results svg.chart", "nodes => nodes.length")
    assert charts == 3
    text = console.text_content("#stats-results")
    assert "Users per day" in text and "Messages per day" in text and "Groups per day" in text
    today = rest(jim, "GET", "/v2/statistic/messages?time_unit=DAY&start="
                 + console.evaluate("new Date().toISOString().slice(0, 10)") + "&duration=1")[1]
    assert today["send_msg_stat"][0]["single_send_msg"] == 4
    assert "4" in console.text_content("#stats-results table[aria-label='Messages per day']")
    console.click("#stats-hours-query button[type=submit]")
    console.wait_for_selector("#stats-hours svg.chart rect.bar", state="attached")
    hours = console.eval_on_selector_all(
        "#stats-hours table tbody tr", "rows => rows.map(r => Number(r.cells[1].textContent))")
    assert len(hours) == 24 and sum(hours) == 4, hours

    chat = pages.new()
    chat.goto(jim.url)
    chat.fill("#login-user", "alice01")
    chat.fill("#login-password", "pass1234")
    chat.click("#login-submit")
    wait_until(chat, "window.jimChat.loggedIn === true")
    go(console, "metrics")
    wait_until(console, "Number(document.getElementById('metrics-live').dataset.samples) >= 2")
    live = console.text_content("#metrics-live")
    assert "Users online1" in live
    ws = console.eval_on_selector("#metrics-live tr:has(td:text-is('ws'))",
                                  "row => Array.from(row.cells, (cell) => cell.textContent)")
    assert ws == ["ws", "1", "1"], ws  # the chat page's socket: open, and signed in
    assert "/s" in console.text_content("#metrics-live table[aria-label='Live figures']")
    assert console.eval_on_selector_all("#metrics-live svg.chart polyline", "n => n.length") == 3
    go(console, "users")  # the refresh stops when the section is left
    samples = console.evaluate("document.querySelectorAll('#metrics-live').length")
    assert samples == 0


def test_the_console_fits_a_phone_screen(jim, pages):
    seed(jim)
    console = signed_in_console(jim, pages, viewport={"width": 375, "height": 740},
                                is_mobile=True, has_touch=True)
    for section in ("users", "groups", "words", "reports", "stats", "metrics"):
        go(console, section)
        width = console.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (section, width)
