"""``twistd jim``: the command-line options, and the one place that wires jim together."""
import math

import attr
from twisted.python import usage

from jim import backends
from jim.config import Config, Limits
from jim.errors import JimError
from jim.model import QUALIFIER
from jim.core.passwords import MAX_MEMORY, MAX_P, check_cost
from jim.net.listen import MAX_BACKLOG

MIN_SNIFF_BYTES = 64  # a request line and a Host header, at the very least
MIN_MASTER_SECRET = 16  # a generated one has 24 characters of [A-Za-z0-9]
WS_DEFLATE_MODES = ("off", "on", "no-takeover")
WS_DEFLATE_WINDOW_BITS = range(9, 16)
MAX_HASH_THREADS = 64  # each hashing thread may hold one scrypt computation's memory
#: the limits that 0 switches off
ZERO_OFF = ("rate", "user_rate", "address_rate", "app_rate", "rest_rate",
            "http_min_body_rate", "descriptor_reserve")
ZERO_OFF += ("group_invites",)
ZERO_OFF += ("login_failures_user", "login_failures_address", "report_days", "media_quota")

_LIMIT_OPTIONS = [
    # option, Limits field, type, help
    ("max-body", "max_body", int, "Largest TCP frame body, WebSocket message or HTTP body (bytes)."),
    ("sniff-timeout", "sniff_timeout", float, "Seconds a new connection has to show its protocol."),
    ("sniff-bytes", "sniff_bytes", int, "Bytes read while sniffing (caps an HTTP request head)."),
    ("http-request-timeout", "http_request_timeout", float, "Seconds an HTTP request's head and body have to arrive (more with --http-min-body-rate)."),
    ("http-min-body-rate", "http_min_body_rate", int, "Body bytes a second that earn an HTTP request more time (1 s per this many bytes received); 0 = none."),
    ("max-connections-per-address", "max_connections_per_address", int, "Most connections open at once from one client address."),
    ("descriptor-reserve", "descriptor_reserve", int, "Descriptors kept below ulimit -n for addresses holding few connections; 0 = none."),
    ("login-timeout", "login_timeout", float, "Seconds from connecting to a successful login."),
    ("idle-timeout", "idle_timeout", float, "Seconds a logged-in connection may stay silent."),
    ("rate-limit", "rate", float, "Frames per second per connection (burst 2 s); 0 = no limit."),
    ("user-rate", "user_rate", float, "Chats a second one user may send from all its connections (burst 2 s); 0 = no limit."),
    ("address-rate", "address_rate", float, "Chats a second from one client address (burst 2 s); 0 = no limit."),
    ("app-rate", "app_rate", float, "Chats a second from all the users of one app (burst 2 s); 0 = no limit."),
    ("max-inflight", "max_inflight", int, "Commands of one connection in progress before its reads pause."),
    ("outbox-limit", "outbox", int, "Bytes queued for a reader that stopped reading before it is dropped."),
    ("group-size", "group_size", int, "Most members of one group."),
    ("room-size", "room_size", int, "Most members of a new chat room (JMessage's 10000)."),
    ("user-groups", "user_groups", int, "Most groups one user may be a member of."),
    ("group-invites", "group_invites", int, "Users one user may add to groups by its own calls"
     " (a group it creates with members, members it adds) in an hour, counted per node; the app"
     " server's REST calls are not counted; 0 = no limit."),
    ("max-message", "max_message", int, "Largest message body and extras (bytes), every front end."),
    ("retract-window", "retract_window", float, "Seconds a sender may retract a message."),
    ("rest-rate", "rest_rate", int, "REST API calls a minute per app (JMessage's 600); 0 = no limit."),
    ("history-count", "history_count", int, "Messages per history page when none is asked for."),
    ("history-max", "history_max", int, "Largest history page."),
    ("offline-max", "offline_max", int, "Most offline messages returned by one fetch."),
    ("inbox-per-conversation", "inbox_per_conversation", int, "Offline messages kept per"
     " conversation for each device (its latest; JMessage's 100)."),
    ("inbox-days", "inbox_days", float, "Days offline messages are kept for a device, and a"
     " device unseen for longer is forgotten (JMessage's 15)."),
    ("callback-batch", "callback_batch", int, "Most items (messages, or online changes) in one"
     " POST to an app's callback URL."),
    ("callback-backlog", "callback_backlog", int, "Items an app's callback backlog keeps while"
     " its endpoint is slow or down (the newest; older ones are dropped, logged and counted)."),
    ("callback-retry-max", "callback_retry_max", float, "Longest wait in seconds between two"
     " tries of a failing callback endpoint (the waits double from 1 s up to it)."),
    ("report-days", "report_days", float, "Days the Report API v2 reads back; older report"
     " data is swept hourly (JMessage's 60; 0 keeps everything)."),
    ("max-reply-bytes", "max_reply", int, "Largest history or offline-messages reply (bytes of"
     " its JSON; one message at least): the rest is fetched by paging."),
    ("media-max-bytes", "media_max_bytes", int, "Largest uploaded file (bytes)."),
    ("media-quota", "media_quota", int, "Bytes of uploaded files one app may keep (the same"
     " bytes counted once); an upload past it is refused; 0 = no limit."),
    ("sensitive-words", "sensitive_words", int, "Most sensitive words one app may have"
     " (JMessage's 100)."),
    ("login-failures-per-user", "login_failures_user", int, "Failed password logins of one"
     " account in --login-window before its logins slow down (twice as many: locked out);"
     " 0 = not counted."),
    ("login-failures-per-address", "login_failures_address", int, "Failed password logins from"
     " one client address in --login-window before its logins slow down (twice as many:"
     " locked out); 0 = not counted."),
    ("login-window", "login_window", float, "Seconds over which failed logins are counted."),
    ("login-lockout", "login_lockout", float, "Seconds password logins stay refused once locked out."),
    ("logins-per-address", "logins_per_address", int, "Password logins of one client address"
     " hashing or queued to hash at once; more are refused at once."),
]


def _cost(text):
    try:
        n, r, p = (int(part) for part in text.split(":"))
    except ValueError:
        raise usage.UsageError(f"--scrypt-cost must be N:r:p, e.g. 16384:8:5, not {text!r}")
    try:
        check_cost((n, r, p))
    except ValueError as e:
        raise usage.UsageError(f"--scrypt-cost {text}: {e}")
    return n, r, p


class Options(usage.Options):
    synopsis = "[options]"
    longdesc = (
        "Run jim: J-IM TCP, WebSocket and HTTP (web chat, J-IM HTTP API) on one port, "
        "with optional TLS detected on the same port."
    )

    optFlags = [
        ["require-tls", None, "Refuse plain-text clients (plain HTTP is redirected to https)."],
        ["open-registration", None, "The first login of an unknown userId registers it."],
        ["friend-mode", None, "The default app's private messages go only between friends."],
        ["single-device", None, "One device a user: a login replaces the user's other"
                                " devices (by default they stay; the same device's is"
                                " replaced either way)."],
    ]

    optParameters = [
        ["backlog", None, Config().backlog, "Connections the kernel queues on each port before"
         f" jim accepts them (1 to {MAX_BACKLOG}; capped by net.core.somaxconn).", int],
        ["tls-cert", None, None, "PEM certificate: turns on TLS detection on every port."],
        ["tls-key", None, None, "PEM private key of --tls-cert."],
        ["tls-chain", None, None, "PEM intermediate certificates sent with --tls-cert."],
        ["hsts-max-age", None, Config().hsts_max_age, "Seconds of Strict-Transport-Security"
         " on HTTP responses served over TLS (0 or more; 0 = none).", int],
        ["ws-deflate", None, Config().ws_deflate, "WebSocket permessage-deflate: off (no offer"
         " is accepted), on (context takeover), or no-takeover (each message on its own)."],
        ["ws-deflate-window-bits", None, Config().ws_deflate_window_bits, "Window of"
         " permessage-deflate, 9 to 15 (smaller: less memory per connection).", int],
        ["data", "d", "data", "Data directory (store, generated keys)."],
        ["store", None, "sqlite", "memory, sqlite (a file in the data directory), sqlite:PATH,"
         " or a Redis URL shared by every node of a cluster: redis://HOST:PORT/DB,"
         " rediss://... (TLS), redis+sentinel://HOST:PORT,.../SERVICE/DB."],
        ["bus", None, None, "How nodes reach one another: local (one node), or a Redis URL;"
         " by default the Redis of --store."],
        ["presence-expiry", None, 30.0, "Seconds after which the users of a node that stopped"
         " beating (it died) are shown offline (3 to 600).", float],
        ["sqlite-sync", None, "full", "SQLite synchronous mode: full (survives power loss) or normal."],
        ["media-dir", None, None, "Folder of uploaded files (default DATA/media); every node of"
         " a cluster must share it."],
        ["app-key", None, None, "The default app's appKey (generated once when absent)."],
        ["master-secret", None, None, "The default app's masterSecret (with --app-key)."],
        ["admin-secret", None, None, "The server administrator's secret for /admin/v1/apps"
         " (generated once into the data directory, or Redis, when absent)."],
        ["token-ttl", None, 7 * 24 * 3600, "Seconds a reconnect token stays valid (>= 1).", int],
        ["scrypt-cost", None, "16384:8:5",
         f"Password hashing cost N:r:p (memory at most {MAX_MEMORY >> 20} MiB, p <= {MAX_P})."],
        ["hash-threads", None, 2, f"Threads hashing passwords (1 to {MAX_HASH_THREADS}).", int],
    ] + [[name, None, getattr(Limits(), field), text, kind] for name, field, kind, text in _LIMIT_OPTIONS]

    def __init__(self):
        super().__init__()
        self["listen"] = []
        self["auto-join"] = []

    def opt_listen(self, description):
        """Listen on a Twisted endpoint, e.g. tcp:8888 (repeatable; default tcp:8888)."""
        self["listen"].append(description)

    def opt_auto_join(self, gid):
        """Put every user who logs in into this group (repeatable)."""
        if QUALIFIER in gid:
            raise usage.UsageError(f"--auto-join {gid}: a group of another app (<appKey>:<gid>)"
                                   " cannot be joined, its app server adds its members")
        self["auto-join"].append(gid)

    def postOptions(self):
        if bool(self["tls-cert"]) != bool(self["tls-key"]):
            raise usage.UsageError("--tls-cert and --tls-key go together")
        if self["tls-chain"] and not self["tls-cert"]:
            raise usage.UsageError("--tls-chain needs --tls-cert and --tls-key")
        if self["require-tls"] and not self["tls-cert"]:
            raise usage.UsageError("--require-tls needs --tls-cert and --tls-key")
        if bool(self["app-key"]) != bool(self["master-secret"]):
            raise usage.UsageError("--app-key and --master-secret go together")
        if self["master-secret"] and len(self["master-secret"]) < MIN_MASTER_SECRET:
            raise usage.UsageError(
                f"--master-secret must be at least {MIN_MASTER_SECRET} characters: the store"
                " keeps its SHA-256, from which a short one could be guessed"
            )
        if self["admin-secret"] is not None and len(self["admin-secret"]) < MIN_MASTER_SECRET:
            raise usage.UsageError(
                f"--admin-secret must be at least {MIN_MASTER_SECRET} characters")
        if self["sqlite-sync"] not in ("full", "normal"):
            raise usage.UsageError("--sqlite-sync must be full or normal")
        store = self["store"]
        try:
            backends.check(store, self["bus"])
        except (ValueError, JimError) as e:
            raise usage.UsageError(getattr(e, "detail", None) or str(e)) from None
        if not 3 <= self["presence-expiry"] <= 600:
            raise usage.UsageError("--presence-expiry must be 3 to 600 seconds")
        if not 1 <= self["hash-threads"] <= MAX_HASH_THREADS:
            raise usage.UsageError(
                f"--hash-threads must be 1 to {MAX_HASH_THREADS}, not {self['hash-threads']}"
            )
        if not 1 <= self["backlog"] <= MAX_BACKLOG:
            raise usage.UsageError(
                f"--backlog must be 1 to {MAX_BACKLOG}, not {self['backlog']}"
            )
        if self["hsts-max-age"] < 0:
            raise usage.UsageError(
                f"--hsts-max-age must be 0 or more (seconds), not {self['hsts-max-age']}"
            )
        if self["ws-deflate"] not in WS_DEFLATE_MODES:
            raise usage.UsageError(f"--ws-deflate must be one of {', '.join(WS_DEFLATE_MODES)},"
                                   f" not {self['ws-deflate']}")
        if self["ws-deflate-window-bits"] not in WS_DEFLATE_WINDOW_BITS:
            raise usage.UsageError("--ws-deflate-window-bits must be 9 to 15, not"
                                   f" {self['ws-deflate-window-bits']}")
        if self["token-ttl"] < 1:
            raise usage.UsageError(
                f"--token-ttl must be at least 1 (seconds), not {self['token-ttl']}"
            )
        limits = {}
        for name, field, _kind, _text in _LIMIT_OPTIONS:
            value = self[name]
            if not math.isfinite(value) or value < 0 or (value == 0 and field not in ZERO_OFF):
                raise usage.UsageError(f"--{name} must be a positive number, not {value}")
            limits[field] = value
        if limits["sniff_bytes"] < MIN_SNIFF_BYTES:
            raise usage.UsageError(f"--sniff-bytes must be at least {MIN_SNIFF_BYTES}")
        self.config = Config(
            listen=tuple(self["listen"]) or ("tcp:8888",),
            backlog=self["backlog"],
            tls_cert=self["tls-cert"],
            tls_key=self["tls-key"],
            tls_chain=self["tls-chain"],
            require_tls=bool(self["require-tls"]),
            hsts_max_age=self["hsts-max-age"],
            ws_deflate=self["ws-deflate"],
            ws_deflate_window_bits=self["ws-deflate-window-bits"],
            data=self["data"],
            store=store,
            bus=self["bus"],
            presence_expiry=self["presence-expiry"],
            sqlite_sync=self["sqlite-sync"],
            media_dir=self["media-dir"],
            app_key=self["app-key"],
            master_secret=self["master-secret"],
            admin_secret=self["admin-secret"],
            open_registration=bool(self["open-registration"]),
            friend_mode=bool(self["friend-mode"]),
            single_device=bool(self["single-device"]),
            auto_join=tuple(self["auto-join"]),
            token_ttl=self["token-ttl"],
            scrypt_cost=_cost(self["scrypt-cost"]),
            hash_threads=self["hash-threads"],
            limits=attr.evolve(Limits(), **limits),
        )


def makeService(options):
    from jim.net.reactor import install_if_unchosen

    install_if_unchosen()  # twistd -r NAME chose another: that one stays
    from twisted.internet import reactor

    from jim.service import JimService

    return JimService(options.config, reactor)
