// Signing in and out through the SDK: a password sign-in (into the app the SDK was configured
// for by a host page, or the one named, or the server's default), resuming the tab's session
// with its saved reconnect token after a reload, what every login and every drop means for the
// page, and the end of a session (back to the sign-in form).
import { conversation } from "./conversations.js";
import { $, setConnection, setLoginBusy, showChat, showLogin, showLoginError, showStatus } from "./dom.js";
import { refreshGroups, refreshPresence } from "./groups.js";
import { loadHistory } from "./history.js";
import { keepLost, markWaiting, resendLost } from "./outbound.js";
import { render } from "./render.js";
import { forgetSavedSession, readSavedSession, saveSession } from "./saved-session.js";
import { jim, logout } from "./sdk.js";
import { DEFAULT_MAX_BODY_BYTES, state } from "./state.js";

const LOGIN_FAILED = 872003;

export function signIn(username, password, appKey) {
  showLoginError("");
  setLoginBusy(true);
  state.appKey = appKey || "";
  jim("login", { username, password, appKey: appKey || undefined }).catch((error) => {
    setLoginBusy(false);
    showLoginError(error.code === LOGIN_FAILED ? error.message || "Wrong user name or password."
      : error.code === 872007 ? "Could not reach the server." : error.message);
  });
}

// Every login, the reconnects' included.
export function onLogin(info) {
  const first = !state.signedIn;
  state.signedIn = true;
  state.loggedIn = true;
  state.connected = true;
  state.me = { userId: info.username, nick: info.nickname || (state.me && state.me.nick) || "" };
  state.token = info.token;
  state.appKey = info.appKey || state.appKey;
  state.maxBody = info.maxBody || DEFAULT_MAX_BODY_BYTES;
  saveSession();
  setLoginBusy(false);
  setConnection("online", "Connected as " + state.me.userId);
  if (first) showStatus("");
  else showStatus("Connected again.");
  showChat();
  markWaiting(true);
  resendLost();
  refreshGroups();
  for (const conv of state.conversations.values()) {
    if (conv.kind === "user") refreshPresence(conv.id);
  }
  const active = state.conversations.get(state.active);
  if (active && !active.history.loaded) loadHistory(active);
  render();
}

export function onConnected() {
  state.connected = true;
}

export function onDisconnected() {
  state.connected = false;
  state.loggedIn = false;
  if (!state.signedIn) return;
  setConnection("offline", "Disconnected — reconnecting…");
  showStatus("The connection was lost. Messages you write are sent once it is back.");
  markWaiting(false);
  render();
}

function clear() {
  Object.assign(state, { connected: false, loggedIn: false, signedIn: false, me: null,
    token: null, appKey: "", maxBody: DEFAULT_MAX_BODY_BYTES, active: null, view: "list",
    membersShown: false });
  state.groups.clear();
  state.presence.clear();
  state.conversations.clear();
  state.retracted.clear();
  forgetSavedSession();
  render(); // empty lists and the plain title, behind the sign-in form
  setConnection("offline", "Not connected");
  setLoginBusy(false);
  showStatus("");
  showLogin();
}

export function signOut() {
  clear();
  logout();
}

// The SDK ended the session: a token it no longer takes, the same tab's device signed in
// elsewhere; after five minutes without the server, the saved token is tried again.
export function onSessionEnded(code, message, reason) {
  if (reason === "logout" || !state.signedIn) return;
  if (reason === "unreachable" && state.token) {
    keepLost();
    resume({ userId: state.me.userId, token: state.token, appKey: state.appKey });
    return;
  }
  clear();
  showLoginError("Your session ended, please sign in again. " + (message || ""));
}

function resume(saved) {
  state.signedIn = true;
  jim("resume", { username: saved.userId, token: saved.token, appKey: saved.appKey || undefined })
    .catch(() => {}); // a refusal ends the session: onSessionEnded
}

// Returns false when the tab has no saved session to resume.
export function resumeSession() {
  const saved = readSavedSession();
  if (!saved) return false;
  state.me = { userId: String(saved.userId), nick: "" };
  state.token = saved.token;
  state.appKey = saved.appKey || "";
  for (const peer of saved.peers || []) conversation("user", peer);
  for (const room of saved.rooms || []) conversation("room", room);
  state.active = saved.active || null;
  if (state.active && !state.conversations.has(state.active)) {
    const [kind, ...id] = state.active.split(":");
    conversation(kind, id.join(":"));
  }
  state.view = state.active ? "conversation" : "list";
  // A saved token is a session signed in already: the chat shows at once, a server that
  // cannot be reached is tried again as after any drop, and only a refused token leads back
  // to the sign-in form.
  setConnection("connecting", "Connecting…");
  showChat();
  render();
  resume(saved);
  $("composer-input").focus();
  return true;
}
