// Signing in and out: the login and its reply, what follows a dropped connection (a reconnect,
// or the sign-in form again), signing out, and resuming the tab's saved session on a reload.
import { connect, disconnect, scheduleReconnect, send, startHeartbeat } from "./connection.js";
import { conversation } from "./conversations.js";
import { $, setConnection, setLoginBusy, showChat, showLogin, showLoginError } from "./dom.js";
import { requestUser, requeueUnansweredJoins, sendJoin } from "./groups.js";
import { dropTooBig, failOutbox, resendOutbox } from "./outbox.js";
import { CLOSE_TOO_BIG, CODE, DEFAULT_MAX_BODY_BYTES, describe, offlineMessagesRequest } from "./protocol.js";
import { render } from "./render.js";
import { forgetSavedSession, readSavedSession, saveSession } from "./saved-session.js";
import { RECONNECT_FIRST_MS, state } from "./state.js";

// resumed: a saved session, already signed in once (a failed connection is retried then).
export function startLogin(login, resumed = false) {
  state.login = login;
  state.sessionEstablished = resumed;
  showLoginError("");
  setLoginBusy(true);
  connect();
}

export function onLoginReply(reply) {
  if (reply.code !== CODE.LOGIN_OK) {
    const wasReconnect = state.sessionEstablished;
    endSession();
    showLoginError(wasReconnect ? "Your session ended, please sign in again. " + describe(reply)
      : describe(reply));
    return;
  }
  state.loggedIn = true;
  state.me = Object.assign({ userId: state.login.userId }, reply.user || {});
  state.me.userId = String(state.me.userId);
  state.maxBody = Number.isInteger(reply.maxBody) && reply.maxBody > 0 ? reply.maxBody
    : DEFAULT_MAX_BODY_BYTES;
  // Keep the reconnect token rather than the password once the server has given one.
  if (reply.token) state.login = { userId: state.me.userId, token: reply.token, appKey: state.login.appKey };
  state.sessionEstablished = true;
  state.reconnectDelay = RECONNECT_FIRST_MS;
  saveSession();
  startHeartbeat();
  setConnection("online", "Connected as " + state.me.userId);
  showChat();
  requestUser();
  send(offlineMessagesRequest(state.me.userId));
  resendOutbox();
  for (const groupId of state.joinsToSend.splice(0)) sendJoin(groupId);
  render();
}

export function onConnectionClosed(code) {
  requeueUnansweredJoins();
  if (code === CLOSE_TOO_BIG) dropTooBig();
  failOutbox();
  if (state.sessionEstablished) {
    scheduleReconnect();
  } else {
    setConnection("offline", "Not connected");
    if (!$("login-error").textContent) showLoginError("Could not reach the server.");
    setLoginBusy(false);
  }
  render();
}

export function endSession() {
  state.sessionEstablished = false;
  state.loggedIn = false;
  disconnect();
  Object.assign(state, { me: null, login: null, maxBody: DEFAULT_MAX_BODY_BYTES, groups: [],
    friends: [], active: null, outbox: [], joining: [], joinsToSend: [] });
  state.conversations.clear();
  render();  // empty lists and the plain title, behind the login form
  forgetSavedSession();
  setConnection("offline", "Not connected");
  setLoginBusy(false);
  showLogin();
}

// Returns false when the tab has no saved session to resume.
export function resumeSession() {
  const saved = readSavedSession();
  if (!saved) return false;
  for (const peer of saved.peers || []) conversation("user", peer);
  state.active = saved.active || null;
  // A saved token is a session already signed in: the chat shows at once, a server that
  // cannot be reached is retried as after any drop, and only a refused token leads back to
  // the sign-in form.
  startLogin({ userId: saved.userId, token: saved.token, appKey: saved.appKey }, true);
  state.me = { userId: String(saved.userId) };
  showChat();
  render();
  return true;
}
