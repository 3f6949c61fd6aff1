// Chats on their way out: shown at once, sent when signed in, kept through reconnects, matched
// to their cmd 12 reply by the client id the page chose, and never sent when over the server's
// size limit.
import { send } from "./connection.js";
import { insertSorted, moveTo, textOrNull } from "./conversations.js";
import { showStatus } from "./dom.js";
import { CODE, ERROR_CODES, MSG_TEXT, chatRequest, describe } from "./protocol.js";
import { render } from "./render.js";
import { state } from "./state.js";

function newClientId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function sendChat(text) {
  const conv = state.conversations.get(state.active);
  if (!conv || !text.trim()) return;
  const msg = {
    id: null, clientId: newClientId(), from: state.me.userId, content: text, msgType: MSG_TEXT,
    createTime: Date.now(), own: true, state: "sending", conv: conv.key,
  };
  insertSorted(conv, msg);
  if (refuseTooBig(msg)) {
    render();
    return;
  }
  state.outbox.push(msg);
  showStatus("");
  if (!transmit(msg)) msg.state = "queued";
  render();
}

const requestOf = (msg) => chatRequest(state.conversations.get(msg.conv), msg);

const requestBytes = (msg) => new TextEncoder().encode(JSON.stringify(requestOf(msg))).length;

function transmit(msg) {
  return state.loggedIn && send(requestOf(msg));
}

// A message over the server's limit would close the socket: it fails without being sent.
function refuseTooBig(msg) {
  const size = requestBytes(msg);
  if (size <= state.maxBody) return false;
  msg.state = "failed";
  showStatus(`Message not sent: it is ${size} bytes, over the server's ${state.maxBody}.`);
  return true;
}

// The server closed the socket for a message over its limit (smaller than ours, say): the
// longest one waiting fails, rather than being sent again after every reconnect.
export function dropTooBig() {
  if (!state.outbox.length) return;
  const longest = state.outbox.reduce((a, b) => (requestBytes(b) > requestBytes(a) ? b : a));
  state.outbox.splice(state.outbox.indexOf(longest), 1);
  longest.state = "failed";
  showStatus("Message not sent: it is longer than the server takes.");
}

// The server drops duplicates of a client id, so resending after a reconnect is safe.
export function resendOutbox() {
  // Written before this login told the limit, some may be over it: sent, they would close
  // the socket (1009). One the server took before a restart with a lower limit fails here
  // too, as its resend would.
  state.outbox = state.outbox.filter((msg) => !refuseTooBig(msg));
  for (const msg of state.outbox) {
    msg.state = "sending";
    transmit(msg);
  }
}

export function failOutbox() {
  for (const msg of state.outbox) msg.state = "queued";
}

export function onChatReply(reply) {
  // Replies may come back in another order than the chats went out, refusals included:
  // each names its chat by the client id the page chose, and nothing else can.
  const data = reply.data || {};
  const index = data.clientId ? state.outbox.findIndex((m) => m.clientId === String(data.clientId)) : -1;
  const [msg] = index >= 0 ? state.outbox.splice(index, 1) : [];
  if (msg) {
    msg.id = textOrNull(data.id) || msg.id;
    if (data.createTime) moveTo(msg, Number(data.createTime));
    msg.state = { [CODE.DELIVERED]: "sent", [CODE.STORED_OFFLINE]: "stored" }[reply.code] || "failed";
  }
  if (ERROR_CODES.has(reply.code)) showStatus("Message not sent: " + describe(reply));
  render();
}
