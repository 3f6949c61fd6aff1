// A page's session with the server: the WebSocket and its replies, the signed configuration
// (cmd 109), the login (cmd 5, into the configured app, or jim's unsigned login into an app
// named or the default one, as this tab's device, acknowledging what it gets), resuming a
// session with a reconnect token, the heartbeat, and reconnecting with a growing delay using
// the login's token, after which the inbox is synced again and unanswered chats go again. The
// session is lost for good when the token is refused, after RECONNECT_GIVE_UP_MS without a
// connection, or when the same device logs in elsewhere (872008).
import { Listeners, invoke } from "./callbacks.js";
import { CODE, refusal, sdkError } from "./codes.js";
import { askConfiguration } from "./config.js";
import { Inbox } from "./inbox.js";
import { Link, socketUrl } from "./link.js";
import { Names } from "./names.js";
import { Outbox } from "./outbox.js";
import { presenceOf } from "./presence.js";
import { Requests } from "./requests.js";
import { fetchResource } from "./resource.js";

export const HEARTBEAT_MS = 30000;
const RECONNECT_FIRST_MS = 1000;
const RECONNECT_MAX_MS = 30000;
export const RECONNECT_GIVE_UP_MS = 5 * 60 * 1000;
const LOGIN_OK = 10007;
const OK = 10000;
const PLATFORM_WEB = "j";

export class Session {
  constructor(scriptUrl, deviceId) {
    this.scriptUrl = scriptUrl;
    this.deviceId = deviceId;
    this.listeners = new Listeners();
    this.link = null;
    this.linkReady = null;
    this.requests = new Requests((request) => this.link !== null && this.link.send(request));
    this.outbox = new Outbox((request) => this.link !== null && this.link.send(request));
    this.names = null;
    this.inbox = null;
    this.configuration = { state: "none", done: null };
    this.user = null; // {username, token, appKey} from a login until the session ends
    this.firstLogin = null; // {resolve, reject} of a resumed session's first login
    this.loggedIn = false;
    this.endedWith = CODE.NOT_LOGGED_IN; // why there is no session
    this.connectedShown = false;
    this.heartbeat = null;
    this.reconnect = { delay: RECONNECT_FIRST_MS, timer: null, since: null };
    this.freshInbox();
  }

  freshInbox() {
    this.names = new Names(this.requests);
    this.inbox = new Inbox(this.requests, this.names, {
      message: (message) => this.listeners.emit("message", message),
      event: (event) => this.listeners.emit("event", event),
    }, (clientId) => this.outbox.isOwn(clientId));
  }

  // --- the connection

  openLink() {
    if (this.link !== null) return this.linkReady;
    this.linkReady = new Promise((resolve, reject) => {
      const link = new Link(socketUrl(this.scriptUrl), {
        opened: () => {
          resolve();
          this.onOpened();
        },
        frame: (_link, reply) => this.onFrame(link, reply),
        closed: () => {
          if (link !== this.link) return;
          reject(sdkError(CODE.DISCONNECTED, "could not connect to the server"));
          this.link = null;
          this.onClosed();
        },
      });
      this.link = link;
    });
    this.linkReady.catch(() => {});
    return this.linkReady;
  }

  onOpened() {
    this.requests.pump();
    if (this.user === null) this.showConnected();
    else this.resume();
  }

  showConnected() {
    if (this.connectedShown) return;
    this.connectedShown = true;
    this.listeners.emit("connected");
  }

  showDisconnected() {
    if (!this.connectedShown) return;
    this.connectedShown = false;
    this.listeners.emit("disconnected");
  }

  onFrame(link, reply) {
    if (link !== this.link) return;
    if (reply.command === 11 && reply.data) this.inbox.message(reply.data);
    else if (reply.command === 12) this.outbox.reply(reply);
    else if (reply.command === 9 || reply.command === 10) this.onPresence(reply);
    else if (reply.command === 100 && reply.data) this.onEvent(reply.data);
    else this.requests.deliver(reply);
  }

  onEvent(data) {
    this.inbox.event(data);
    if (data.kind === "logged_in_elsewhere") {
      this.end(CODE.LOGGED_IN_ELSEWHERE, data.description || "logged in elsewhere",
        { reason: "elsewhere" });
    }
  }

  // J-IM's cmd 9 and 10: a member of one of the user's groups came or went.
  onPresence(reply) {
    const presence = presenceOf(reply);
    if (presence !== null && this.loggedIn) this.listeners.emit("presence", presence);
  }

  // A connection the server is closing (after a refused login): gone now, so that the next
  // call opens another rather than writing to one on its way out.
  retireLink() {
    const link = this.link;
    if (link === null) return;
    this.link = null;
    link.close();
    this.onClosed();
  }

  onClosed() {
    this.stopHeartbeat();
    this.loggedIn = false;
    this.requests.lost();
    this.outbox.lost();
    this.showDisconnected();
    if (this.user !== null) this.scheduleReconnect();
  }

  scheduleReconnect() {
    const now = Date.now();
    if (this.reconnect.since === null) this.reconnect.since = now;
    if (now - this.reconnect.since > RECONNECT_GIVE_UP_MS) {
      this.end(CODE.DISCONNECTED, "could not reconnect to the server", { reason: "unreachable" });
      return;
    }
    const delay = this.reconnect.delay;
    this.reconnect.delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    this.reconnect.timer = setTimeout(() => {
      this.reconnect.timer = null;
      if (this.user !== null) this.openLink();
    }, delay);
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      if (this.link !== null) this.link.send({ cmd: 13, hbbyte: -127 });
    }, HEARTBEAT_MS);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  // --- configuration and login

  config(options) {
    const done = askConfiguration(() => this.openLink(), this.requests, options);
    this.configuration = { state: "pending", done };
    done.then((appKey) => {
      if (this.configuration.done !== done) return;
      this.configuration = { state: "ready", done, appKey };
      this.listeners.emit("ready");
    }, (error) => {
      if (this.configuration.done !== done) return;
      this.configuration = { state: "failed", done, error };
      this.listeners.emit("error", error.code || CODE.CONFIG_INVALID, error.message);
    });
  }

  onReady(callback) {
    if (this.listeners.add("ready", callback) && this.configuration.state === "ready") invoke(callback);
  }

  onError(callback) {
    const c = this.configuration;
    if (this.listeners.add("error", callback) && c.state === "failed") invoke(callback, c.error.code, c.error.message);
  }

  async configured() {
    const c = this.configuration;
    if (c.state === "none") throw sdkError(CODE.CONFIG_INVALID, "call JMessage.config first");
    try {
      await c.done;
    } catch (error) {
      throw sdkError(error.code || CODE.CONFIG_INVALID, error.message);
    }
    return this.configuration.appKey;
  }

  loginRequest(credentials, appKey) {
    return Object.assign({ cmd: 5 }, credentials, { appKey,
      platform: PLATFORM_WEB, deviceId: this.deviceId, acks: true });
  }

  // The app of a login: the configured one; or, for jim's unsigned login (`unsigned`) when
  // config was never called, `appKey` (undefined: the server's default app).
  async loginApp(appKey, unsigned) {
    if (unsigned && this.configuration.state === "none") return appKey || undefined;
    const configured = await this.configured();
    if (appKey && appKey !== configured) throw sdkError(CODE.BAD_PARAMETER, "the SDK is configured for another app");
    return configured;
  }

  async login(username, password, { appKey, unsigned = false } = {}) {
    const app = await this.loginApp(appKey, unsigned);
    if (this.user !== null) this.logout(); // a login ends the session before it
    await this.openLink();
    const reply = await this.requests.call(this.loginRequest({ userId: username, password }, app),
      { reply: 6, gated: false });
    if (reply.code !== LOGIN_OK) {
      this.retireLink(); // the server closes a connection whose login it refused
      throw sdkError(CODE.LOGIN_FAILED, reply.detail || reply.msg);
    }
    this.freshInbox();
    this.user = { username, token: reply.token, appKey: app };
    this.names.noteUser({ username, nickname: reply.user && reply.user.nick !== username ? reply.user.nick : "" });
    this.loggedInWith(reply);
  }

  // jim's: a session again from the token of an earlier login (a page reloaded). Resolves at
  // its first login; a server that cannot be reached is tried again as after a drop; rejects
  // when the session ends first (the token refused: 872007).
  resumeWith(username, token, appKey) {
    if (this.user !== null || this.link !== null) this.logout();
    this.freshInbox();
    this.user = { username, token, appKey: appKey || undefined };
    const first = new Promise((resolve, reject) => { this.firstLogin = { resolve, reject }; });
    this.openLink();
    return first;
  }

  async resume() {
    let reply;
    try {
      reply = await this.requests.call(this.loginRequest({ userId: this.user.username, token: this.user.token },
        this.user.appKey), { reply: 6, gated: false });
    } catch (error) {
      return; // the connection closed again: onClosed tries again later
    }
    if (this.user === null) return;
    if (reply.code !== LOGIN_OK) {
      this.end(CODE.DISCONNECTED, "the session could not be resumed: " + (reply.detail || reply.msg),
        { reason: "refused" });
      return;
    }
    this.loggedInWith(reply);
  }

  loggedInWith(reply) {
    if (reply.token) this.user.token = reply.token;
    if (reply.user && reply.user.userId !== undefined) this.user.username = String(reply.user.userId);
    this.loggedIn = true;
    this.reconnect = { delay: RECONNECT_FIRST_MS, timer: null, since: null };
    this.startHeartbeat();
    this.showConnected();
    this.requests.opened();
    this.inbox.sync();
    this.outbox.opened(reply.maxBody);
    const { username, token, appKey } = this.user;
    this.listeners.emit("login", { username, nickname: (reply.user && reply.user.nick) || "",
      token, appKey: appKey || "", maxBody: this.outbox.maxBody });
    if (this.firstLogin !== null) this.firstLogin.resolve();
    this.firstLogin = null;
  }

  // Why a call that needs a session cannot be made now, or null.
  missingSession() {
    return this.user === null ? sdkError(this.endedWith) : null;
  }

  logout() {
    if (this.user === null && this.link === null) return;
    this.end(CODE.NOT_LOGGED_IN, "logged out", { showDisconnect: false, reason: "logout" });
  }

  // The session is over: pending callbacks fail with `code`, and nothing reconnects. reason:
  // logout, refused (the token), unreachable, elsewhere (872008) or, by default, ended.
  end(code, message, { showDisconnect = true, reason = "ended" } = {}) {
    const hadSession = this.user !== null;
    this.user = null;
    this.loggedIn = false;
    this.endedWith = code;
    clearTimeout(this.reconnect.timer);
    this.reconnect = { delay: RECONNECT_FIRST_MS, timer: null, since: null };
    this.stopHeartbeat();
    this.inbox.stop();
    this.outbox.failAll(code, message);
    this.requests.failAll(code, message);
    const link = this.link;
    this.link = null;
    if (link !== null) link.close();
    if (showDisconnect) this.showDisconnected();
    else this.connectedShown = false;
    if (this.firstLogin !== null) this.firstLogin.reject(sdkError(code, message));
    this.firstLogin = null;
    if (hadSession) this.listeners.emit("ended", code, message, reason);
  }

  // --- calls made for the page

  // A logged-in request's reply; one whose code is not `ok` rejects with its JMessage code.
  async call(request, options = {}) {
    const missing = this.missingSession();
    if (missing) throw missing;
    const reply = await this.requests.call(request, options);
    if (reply.code !== (options.ok || OK)) throw refusal(reply, options.refused || CODE.SERVER);
    return reply;
  }

  // /sdk/resource as the logged-in user (the login's token): POST ?type= uploads `file` and
  // answers its message body; GET ?mediaId= answers {url}, a download link.
  async resource(query, file = null) {
    const missing = this.missingSession();
    if (missing) throw missing;
    return fetchResource(this.scriptUrl, this.user.token, query, file);
  }
}
