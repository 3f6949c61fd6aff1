"""jim's configuration: one frozen value built from the command line by ``jim.tap``.

Every field has a production default; every limit is on by default and can be changed by an
option (see docs/configuration.md, which a test keeps in step with ``jim.tap.Options``).
"""
import attr


@attr.s(frozen=True, slots=True)
class Limits:
    """Limits that protect the server from one client; 0 switches a rate limit off."""

    max_body = attr.ib(default=64 * 1024)  # bytes of one TCP frame, WS message or HTTP body
    sniff_timeout = attr.ib(default=10.0)  # seconds to classify a new connection
    sniff_bytes = attr.ib(default=16 * 1024)  # bytes read while classifying (HTTP head cap)
    http_request_timeout = attr.ib(default=30.0)  # seconds for an HTTP request's head + body
    http_min_body_rate = attr.ib(default=8192)  # body bytes a second that extend it; 0 = none
    max_connections_per_address = attr.ib(default=4096)  # open connections of one client address
    descriptor_reserve = attr.ib(default=512)  # descriptors kept for addresses holding few; 0 = none
    login_timeout = attr.ib(default=30.0)  # seconds from connect to a successful login
    idle_timeout = attr.ib(default=120.0)  # seconds without any frame after login
    rate = attr.ib(default=1000.0)  # frames per second per connection (burst: 2 s worth)
    user_rate = attr.ib(default=100.0)  # chats a second per user, all its connections (a node's)
    address_rate = attr.ib(default=1000.0)  # chats a second per client address (a node's)
    app_rate = attr.ib(default=10000.0)  # chats a second per app, all its users (a node's)
    max_inflight = attr.ib(default=64)  # commands of one connection in progress
    outbox = attr.ib(default=1024 * 1024)  # bytes queued to a slow reader before it is dropped
    group_size = attr.ib(default=500)  # members of one group
    room_size = attr.ib(default=10_000)  # members of a new chat room
    user_groups = attr.ib(default=500)  # groups one user may be a member of
    # users one user may add to groups by its own calls in an hour (a node's); 0 = no limit
    group_invites = attr.ib(default=200)
    max_message = attr.ib(default=64 * 1024)  # bytes of one message's body and extras
    retract_window = attr.ib(default=180.0)  # seconds a sender may retract a message
    rest_rate = attr.ib(default=600)  # REST calls a minute per app (JMessage's); 0 = no limit
    history_count = attr.ib(default=100)  # messages per history page when no count is given
    history_max = attr.ib(default=1000)  # largest history page
    offline_max = attr.ib(default=1000)  # offline messages returned by one fetch
    # the inbox (offline messages, resync) keeps each conversation's latest N, for D days
    # (JMessage's offline store: 100 messages a conversation, 15 days)
    inbox_per_conversation = attr.ib(default=100)
    inbox_days = attr.ib(default=15.0)
    # callbacks to app servers: items in one POST, items an app's backlog keeps (the newest),
    # and the longest wait between two tries of a failing endpoint (seconds)
    callback_batch = attr.ib(default=100)
    callback_backlog = attr.ib(default=10_000)
    callback_retry_max = attr.ib(default=300.0)
    # the Report API v2 reads this many days back (JMessage's 60; 0: everything kept)
    report_days = attr.ib(default=60.0)
    max_reply = attr.ib(default=1024 * 1024)  # bytes of one cmd 20 reply (one message at least)
    media_max_bytes = attr.ib(default=8 * 1024 * 1024)  # bytes of one uploaded file
    media_quota = attr.ib(default=1024**3)  # bytes of files one app keeps (each once); 0 = none
    sensitive_words = attr.ib(default=100)  # sensitive words one app may have (JMessage's 100)
    # failed password logins (a node's count): N in the window slow the next, 2N lock them out
    login_failures_user = attr.ib(default=5)  # per account; 0 = not counted
    login_failures_address = attr.ib(default=20)  # per client address; 0 = not counted
    login_window = attr.ib(default=300.0)  # seconds the failures are counted over
    login_lockout = attr.ib(default=900.0)  # seconds password logins are refused after 2N
    logins_per_address = attr.ib(default=1024)  # password hashes of one address queued or running


@attr.s(frozen=True, slots=True)
class Config:
    listen = attr.ib(default=("tcp:8888",))
    backlog = attr.ib(default=1024)  # connections the kernel queues before jim accepts them
    tls_cert = attr.ib(default=None)
    tls_key = attr.ib(default=None)
    tls_chain = attr.ib(default=None)
    require_tls = attr.ib(default=False)
    hsts_max_age = attr.ib(default=365 * 24 * 3600)  # Strict-Transport-Security over TLS; 0 = none
    ws_deflate = attr.ib(default="off")  # permessage-deflate: off, on or no-takeover
    ws_deflate_window_bits = attr.ib(default=15)  # its window, 9 to 15
    data = attr.ib(default="data")
    store = attr.ib(default="sqlite")  # "memory", "sqlite", "sqlite:PATH" or a Redis URL
    bus = attr.ib(default=None)  # None or "local": this process's; or a Redis URL
    presence_expiry = attr.ib(default=30.0)  # seconds before a silent node's users go offline
    sqlite_sync = attr.ib(default="full")
    media_dir = attr.ib(default=None)  # uploaded files; None: <data>/media
    app_key = attr.ib(default=None)
    master_secret = attr.ib(default=None)
    admin_secret = attr.ib(default=None)  # None: generated once, kept in the data dir (Redis)
    open_registration = attr.ib(default=False)
    friend_mode = attr.ib(default=False)  # the default app's setting
    single_device = attr.ib(default=False)  # a login replaces its user's other devices
    auto_join = attr.ib(default=())
    token_ttl = attr.ib(default=7 * 24 * 3600)  # seconds a reconnect token stays valid
    scrypt_cost = attr.ib(default=(16384, 8, 5))  # N, r, p (OWASP: 2^14 with p=5)
    hash_threads = attr.ib(default=2)
    limits = attr.ib(default=Limits())
