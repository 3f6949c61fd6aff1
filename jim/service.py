"""The running server: start store -> bus -> core -> listeners; stop in reverse, each step
awaited."""
import functools
import json
import os
import secrets
import sys

from twisted.application import service
from twisted.internet import defer, task
from twisted.internet.error import CannotListenError
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from jim import collector, errors
from jim.errors import JimError
from jim.backends import make_bus, make_store
from jim.core.accounts import secret_hash
from jim.core.apps import generate_key
from jim.core import secret_box
from jim.core.callbacks import CallbackOptions
from jim.core.secret_box import box_key
from jim.core.core import build_core
from jim.core.passwords import Passwords
from jim.core.tokens import Tokens
from jim.metrics import Metrics
from jim.model import APPS_AREA, App, Invalidate
from jim.net.admission import Admission, descriptor_limit, open_descriptors
from jim.net.listen import listening_endpoint
from jim.net.sniff import Route, SniffingFactory
from jim.net.tls import server_tls_options
from jim.store.media_files import MediaFiles
from jim.wire.media_links import link_key
from jim.protocols.tcp import JimTcpFactory
from jim.protocols.websocket import JimWebSocketFactory
from jim.web.callback_client import CallbackClient
from jim.web.site import HSTS, build_site, hsts_value

DEFAULT_APP_FILE = "default-app.json"
#: the administrator's secret, when --admin-secret does not give it
ADMIN_SECRET_FILE = "admin-secret"
#: seconds shutdown waits for client connections to close (they are aborted after 5 s)
CLOSE_WAIT = 6.0
TOKEN_KEY_FILE = "token.key"
#: the folder of uploaded files in the data directory, unless --media-dir names another
MEDIA_DIR = "media"
#: threads writing uploads (each holds one upload's file while it is written)
MEDIA_THREADS = 2
#: how long a thread may hold the GIL while another waits for it (CPython's default is 5 ms):
#: short, so that the store writer is not held up behind a busy reactor thread
GIL_SWITCH_SECONDS = 0.0005


def _write_private(path, data):
    """Create C{path} (mode 0600) holding C{data}, whole or not at all: a crash while writing
    leaves no empty or partial C{path} behind (at most a C{*.new} draft beside it, which is
    never read and may be deleted). Fails if C{path} exists."""
    draft = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.new"  # never another file's name
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.link(draft, path)
    finally:
        os.unlink(draft)


def _is_tls_endpoint(description):
    """Whether a --listen endpoint is TLS by itself (ssl:, txsni:): its port sniffs decrypted
    bytes only."""
    return description.partition(":")[0].lower() in ("ssl", "txsni")


def web_url(host, port, https):
    """The web chat's URL on a port listening on C{host}: a wildcard or loopback address is
    shown as localhost, and an IPv6 address in brackets."""
    if host in ("0.0.0.0", "::", "127.0.0.1", "::1"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"{'https' if https else 'http'}://{host}:{port}/"


def token_key(data_dir):
    """The server's secret for signing reconnect tokens, made once and kept in the data dir."""
    path = os.path.join(data_dir, TOKEN_KEY_FILE)
    if not os.path.exists(path):
        _write_private(path, secrets.token_bytes(32))
    with open(path, "rb") as f:
        key = f.read()
    if len(key) < 32:
        raise ValueError(f"{path} is damaged: expected 32 bytes, found {len(key)}")
    return key


class JimService(service.Service):
    log = Logger()

    def __init__(self, config, reactor, exit_on_failure=True, own_process=True):
        """
        @param exit_on_failure: exit the process (status 1) if jim cannot start.
        @param own_process: jim is the whole process (C{twistd jim}), so it may tune the
            garbage collector (L{jim.collector}) and the interpreter's thread switch interval
            for it; False when embedded, as in tests.
        """
        self.config = config
        self.exit_on_failure = exit_on_failure
        self.own_process = own_process
        if own_process:
            collector.tune()
            sys.setswitchinterval(GIL_SWITCH_SECONDS)
        self.reactor = reactor
        self.metrics = Metrics()
        self.ports = []
        self.admission = None  # counts client connections by address once listening
        self.core = None
        self.store = None
        self._changed_app = None  # the default app, when this start changed it in the store
        self.bus = None
        self._pool = None
        self._media_pool = None
        self._start_result = None
        self._ready = []

    def startService(self):
        super().startService()
        defer.ensureDeferred(self._start()).addBoth(self._started)

    def _started(self, result):
        self._start_result = result
        if self.own_process and not isinstance(result, Failure):
            collector.freeze()
        if isinstance(result, Failure):
            if result.check(ValueError, OSError, CannotListenError):  # configuration, not a bug
                self.log.critical("jim could not start: {reason}", reason=result.getErrorMessage())
            else:
                self.log.failure("jim could not start", result)
            if self.exit_on_failure:
                # twistd would exit 0 after reactor.stop(): a failed start must not look clean
                # (the failure may come before the reactor runs: stop it once it does)
                self.reactor.addSystemEventTrigger("after", "shutdown", os._exit, 1)
                self.reactor.callWhenRunning(self.reactor.stop)
        waiting, self._ready = self._ready, None
        for d in waiting:
            d.callback(None) if not isinstance(result, Failure) else d.errback(result)

    def when_ready(self):
        """A Deferred that fires when jim listens, or fails with why it could not start."""
        if self._ready is not None:
            d = defer.Deferred()
            self._ready.append(d)
            return d
        if isinstance(self._start_result, Failure):
            return defer.fail(self._start_result)
        return defer.succeed(None)

    async def _start(self):
        config, reactor = self.config, self.reactor
        if os.path.exists(config.data) and not os.path.isdir(config.data):
            raise ValueError(f"the data directory {config.data} is not a directory")
        os.makedirs(config.data, mode=0o700, exist_ok=True)
        tls = None
        if config.tls_cert:
            tls = server_tls_options(config.tls_cert, config.tls_key, config.tls_chain)
        self.store, store_name = make_store(config, reactor, self.metrics)
        await self.store.start()
        if store_name == "redis":  # every node must accept the tokens any node signed
            key = await self.store.shared_value("token-key", secrets.token_bytes(32).hex())
            server_key = bytes.fromhex(key)
        else:
            server_key = token_key(config.data)
        sealing = box_key(server_key)
        default_app = await self._default_app(store_name, sealing)
        self._pool = ThreadPool(minthreads=0, maxthreads=config.hash_threads, name="jim-passwords")
        self._pool.start()
        passwords = Passwords(
            config.scrypt_cost,
            run=lambda f, *a: deferToThreadPool(reactor, self._pool, f, *a),
            threads=config.hash_threads,
            max_wait=config.limits.login_timeout / 2,
            per_source=config.limits.logins_per_address,
        )
        tokens = Tokens(server_key, config.token_ttl)
        media_files = await self._media_files(reactor)
        self.bus, presence = make_bus(config, reactor, self.metrics, self.store)
        await self.bus.start()
        self.core = build_core(self.store, self.bus, presence, passwords, tokens, reactor,
                               self.metrics, config.limits, default_app,
                               config.open_registration, config.auto_join,
                               media_files=media_files, media_key=link_key(server_key),
                               single_device=config.single_device,
                               callback_client=CallbackClient(reactor),
                               callback_options=CallbackOptions(
                                   batch=config.limits.callback_batch,
                                   backlog=config.limits.callback_backlog,
                                   max_backoff=config.limits.callback_retry_max),
                               box_key=sealing,
                               run_media=functools.partial(deferToThreadPool, reactor,
                                                           self._media_pool))
        self.core.start()
        if self._changed_app is not None:
            self.bus.publish(Invalidate(APPS_AREA, self._changed_app, self._changed_app,
                                        self.bus.node))
        routes = {
            Route.JIM: JimTcpFactory(self.core),
            Route.WEBSOCKET: JimWebSocketFactory(self.core, config.ws_deflate,
                                                 config.ws_deflate_window_bits),
            Route.HTTP: build_site(self.core, store_name, reactor, config.hsts_max_age,
                                   await self._admin_secret(store_name)),
        }
        hsts = hsts_value(config.hsts_max_age)
        sniffer = functools.partial(
            SniffingFactory,
            routes,
            reactor,
            timeout=config.limits.sniff_timeout,
            max_bytes=config.limits.sniff_bytes,
            # the sniffer's own HTTP answers over TLS (a head too large) say it as the site's do
            secure_headers=() if hsts is None else ((HSTS, hsts),),
        )
        # every port's connections are counted together: they share the descriptors
        self.admission = self._admission()
        self.core.on_login = self.admission.settle
        factory = sniffer(tls_options=tls, require_tls=config.require_tls,
                          admission=self.admission)
        # a port that is TLS by its endpoint (ssl:, txsni:) sniffs decrypted bytes only
        inside_tls = sniffer(inside_tls=True, admission=self.admission)
        for description in config.listen:
            endpoint = listening_endpoint(reactor, description, config.backlog)
            port = await endpoint.listen(
                inside_tls if _is_tls_endpoint(description) else factory
            )
            self.ports.append(port)
        self._announce(default_app, store_name, tls is not None)

    def _admission(self):
        """The cap per client address, and the descriptor reserve below the process's limit
        less the descriptors open now (the store, the log, the bus: a few dozen)."""
        limits = self.config.limits
        limit = descriptor_limit()
        capacity = None if limit is None else limit - open_descriptors()
        reserve = limits.descriptor_reserve
        if capacity is not None and reserve > capacity // 4:
            # a small ulimit -n: the reserve never takes more than a quarter of it
            reserve = max(0, capacity // 4)
        self.log.info(
            "descriptors: limit {limit} (ulimit -n), room for {capacity} connections; at most"
            " {per_address} from one address; the last {reserve} for addresses holding few",
            limit="none" if limit is None else limit,
            capacity="any number of" if capacity is None else capacity,
            per_address=limits.max_connections_per_address,
            reserve=reserve,
        )
        return Admission(limits.max_connections_per_address, capacity, reserve)

    async def _media_files(self, reactor):
        """The folder of uploaded files (made, and cleared of interrupted uploads, on the
        thread pool that writes uploads)."""
        self._media_pool = ThreadPool(minthreads=0, maxthreads=MEDIA_THREADS, name="jim-media")
        self._media_pool.start()
        folder = self.config.media_dir or os.path.join(self.config.data, MEDIA_DIR)
        files = MediaFiles(folder, reactor)
        try:
            await deferToThreadPool(reactor, self._media_pool, files.start)
        except OSError as e:
            raise ValueError(f"the media folder {folder} cannot be used: {e}") from None
        return files

    async def _default_app(self, store_name, sealing):
        """The default app's key: from the options, else generated once into the data dir."""
        config = self.config
        if config.app_key:
            key, secret, generated = config.app_key, config.master_secret, False
        elif store_name == "redis":  # one default app for every node of the cluster
            proposed = {"appKey": generate_key(), "masterSecret": generate_key()}
            saved = json.loads(await self.store.shared_value("default-app", json.dumps(proposed)))
            key, secret = saved["appKey"], saved["masterSecret"]
            generated = saved == proposed
            self._keep_cluster_app(saved)
        else:
            path = os.path.join(config.data, DEFAULT_APP_FILE)
            generated = not os.path.exists(path)
            if generated:
                key, secret = generate_key(), generate_key()
                payload = json.dumps({"appKey": key, "masterSecret": secret}, indent=2)
                _write_private(path, payload.encode() + b"\n")
            try:
                with open(path) as f:
                    saved = json.load(f)
                key, secret = saved["appKey"], saved["masterSecret"]
                if not (isinstance(key, str) and isinstance(secret, str) and key and secret):
                    raise ValueError("appKey and masterSecret must be non-empty strings")
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(
                    f"{path} is damaged ({e.__class__.__name__}: {e}): restore it from a backup,"
                    " or move it away and a new default app is generated"
                ) from None
        app = (await self.store.apps.get_app(key)
               or await self._add_default_app(key, secret, sealing))
        if app is not None and app.secret_hash != secret_hash(secret):
            raise ValueError(
                f"app {key} already exists in the store with another master secret"
            )
        if app is not None and secret_box.opened(sealing, key, app.secret_box) != secret:
            # kept sealed from now on (an app made before jim kept it, or another server key)
            await self.store.apps.update_app(key, {"secret_box": secret_box.seal(sealing, key,
                                                                                 secret)})
            self._changed_app = key
        if app is not None and app.friend_mode != config.friend_mode:
            await self.store.apps.update_app(key, {"friend_mode": config.friend_mode})
            self._changed_app = key  # the other nodes of a cluster are told once joined
        if generated:
            self.log.warn(
                "generated the default app: appKey={key} masterSecret={secret} "
                "(kept in {path}; shown only this once)",
                key=key,
                secret=secret,
                path="Redis" if store_name == "redis" else os.path.join(config.data,
                                                                         DEFAULT_APP_FILE),
            )
        return key

    async def _admin_secret(self, store_name):
        """The administrator's secret: --admin-secret, else one generated once and kept in
        the data directory (a cluster's, in Redis: every node takes the same)."""
        if self.config.admin_secret:
            return self.config.admin_secret
        if store_name == "redis":
            proposed = generate_key(32)
            secret = await self.store.shared_value("admin-secret", proposed)
            if secret == proposed:  # this node made it: the cluster's first start
                self.log.warn("generated the administrator's secret (the admin console at"
                              " /admin, the apps API /admin/v1/apps): kept in Redis, key"
                              " {key} (every node takes it)",
                              key=self.store.shared_key("admin-secret"))
            else:
                self.log.info("the administrator's secret is the cluster's, kept in Redis, key"
                              " {key}", key=self.store.shared_key("admin-secret"))
            return secret
        path = os.path.join(self.config.data, ADMIN_SECRET_FILE)
        if not os.path.exists(path):
            _write_private(path, generate_key(32).encode() + b"\n")
            self.log.warn("generated the administrator's secret (the admin console at /admin, the"
                          " apps API /admin/v1/apps): kept in"
                          " {path}", path=path)
        with open(path) as f:
            secret = f.read().strip()
        if len(secret) < 24:
            raise ValueError(f"{path} is damaged (no secret of 24 characters or more in it):"
                             " move it away and a new one is generated")
        return secret

    async def _add_default_app(self, key, secret, sealing):
        """Make the default app; None once made, or the app another node of the cluster,
        starting at the same time, made first."""
        try:
            await self.store.apps.add_app(App(key, secret_hash(secret), "default",
                                              self._now_ms(), friend_mode=self.config.friend_mode,
                                              secret_box=secret_box.seal(sealing, key, secret)))
        except JimError as e:
            if e.code != errors.APP_EXISTS:
                raise
            return await self.store.apps.get_app(key)
        return None

    def _keep_cluster_app(self, saved):
        """Write the cluster's default app into this node's data directory too, where an
        operator looks for it (it is Redis's that counts)."""
        path = os.path.join(self.config.data, DEFAULT_APP_FILE)
        if not os.path.exists(path):
            _write_private(path, json.dumps(saved, indent=2).encode() + b"\n")
            return
        with open(path) as f:
            try:
                mine = json.load(f)
            except ValueError:
                mine = None
        if mine != saved:
            self.log.warn("{path} names another default app than the cluster's {key}: the"
                          " cluster's is used", path=path, key=saved["appKey"])

    def _now_ms(self):
        return int(self.reactor.seconds() * 1000)

    def _announce(self, app_key, store_name, tls):
        for description, port in zip(self.config.listen, self.ports):
            tls_endpoint = _is_tls_endpoint(description)
            with_tls = ", TLS" if tls or tls_endpoint else ""
            address = port.getHost()
            host = getattr(address, "host", None)
            if host is None:  # a unix socket: no URL to show
                name = address.name
                if isinstance(name, bytes):
                    name = name.decode("utf-8", "replace")
                self.log.info(
                    "jim listening on unix:{name} (J-IM TCP, WebSocket, HTTP{tls})",
                    name=name,
                    tls=with_tls,
                )
                continue
            self.log.info(
                "jim listening on {host}:{port} (J-IM TCP, WebSocket, HTTP{tls}): web chat at {url}",
                host=host,
                port=address.port,
                tls=with_tls,
                url=web_url(host, address.port, self.config.require_tls or tls_endpoint),
            )
        self.log.info(
            "default app appKey={key}; store={store}; data directory {data}; "
            "open registration {reg}; friend mode {friends}; single device {single}",
            key=app_key,
            store=store_name,
            data=os.path.abspath(self.config.data),
            reg="on" if self.config.open_registration else "off",
            friends="on" if self.config.friend_mode else "off",
            single="on" if self.config.single_device else "off",
        )

    async def _close_sessions(self, grace=CLOSE_WAIT):
        """Close every client connection and wait (bounded) until they are gone."""
        sessions = self.core.sessions
        for session in list(sessions):
            session.client.close("server shutting down")
        waited = 0.0
        while sessions and waited < grace:
            await task.deferLater(self.reactor, 0.02, lambda: None)
            waited += 0.02
        if sessions:
            self.log.warn("{n} connections still open at shutdown", n=len(sessions))

    def stopService(self):
        super().stopService()
        return defer.ensureDeferred(self._stop())

    async def _stop(self):
        try:
            await self.when_ready()
        except Exception:
            pass  # already logged; stop what did start
        ports, self.ports = self.ports, []
        for port in ports:
            await port.stopListening()
        if self.core is not None:
            await self._close_sessions()
            await self.core.stop()
            if self.core.inbox is not None:
                await self.core.inbox.settled()  # the cursors of the connections just closed
        if self.bus is not None:
            await self.bus.stop()
        if self.store is not None:
            await self.store.stop()
        for pool in (self._pool, self._media_pool):
            if pool is not None:
                pool.stop()
        self._pool = self._media_pool = None
        self.log.info("jim stopped")
