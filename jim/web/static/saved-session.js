// The tab's saved session: the reconnect token, the private conversations and the open one.
// sessionStorage is per tab: a reload keeps the session, another tab starts fresh.
import { state } from "./state.js";

const SESSION_KEY = "jim.chat.session";

// Only a session with a reconnect token is saved: a password never is.
export function saveSession() {
  if (!state.me || !state.login || !state.login.token) return;
  const peers = [...state.conversations.values()].filter((c) => c.kind === "user").map((c) => c.id);
  const saved = { userId: state.me.userId, token: state.login.token, appKey: state.login.appKey, peers, active: state.active };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(saved));
}

// The saved session, or null when there is none with a token (or it cannot be read).
export function readSavedSession() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch (error) {
    saved = null;
  }
  return saved && saved.token ? saved : null;
}

export function forgetSavedSession() {
  sessionStorage.removeItem(SESSION_KEY);
}
