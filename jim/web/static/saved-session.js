// The tab's saved session: the newest reconnect token, the private conversations and chat rooms,
// and the open conversation. sessionStorage is per tab: a reload keeps the session, another
// tab starts fresh. A password is never saved.
import { state } from "./state.js";

const SESSION_KEY = "jim.chat.session";

export function saveSession() {
  if (!state.me || !state.token) return;
  const ids = (kind) => [...state.conversations.values()].filter((c) => c.kind === kind && !c.gone)
    .map((c) => c.id);
  const saved = { userId: state.me.userId, token: state.token, appKey: state.appKey,
    peers: ids("user"), rooms: ids("room"), active: state.active };
  try {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(saved));
  } catch (error) {
    // storage refused: a reload signs in again
  }
}

// The saved session, or null when there is none with a token (or it cannot be read).
export function readSavedSession() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch (error) {
    saved = null;
  }
  return saved && saved.token && saved.userId ? saved : null;
}

export function forgetSavedSession() {
  try {
    sessionStorage.removeItem(SESSION_KEY);
  } catch (error) {
    // nothing saved
  }
}
