// Messages from the server: chat pushes (cmd 11), and the cmd 20 pages of messages that arrived
// while the user was away (after each login) or of history (asked for with Load history).
import { send } from "./connection.js";
import { addMessage, conversationOf, messageFromBody, receiveBodies } from "./conversations.js";
import { showStatus } from "./dom.js";
import { CODE, describe, historyRequest } from "./protocol.js";
import { render } from "./render.js";
import { saveSession } from "./saved-session.js";
import { state } from "./state.js";

export function onChatPush(reply) {
  if (!reply.data || reply.data.from === undefined) return;
  const conv = conversationOf(reply.data);
  if (addMessage(conv, messageFromBody(reply.data))) saveSession();
  render();
}

export function onMessages(reply) {
  if (reply.code !== CODE.OFFLINE_MESSAGES && reply.code !== CODE.HISTORY) {
    showStatus(describe(reply));
    return;
  }
  const data = reply.data || {};
  const history = reply.code === CODE.HISTORY;
  const added = receiveBodies(data.friends, history) + receiveBodies(data.groups, history);
  if (reply.code === CODE.HISTORY) showStatus(added ? `Loaded ${added} earlier messages.` : "No earlier messages.");
  else if (added) showStatus(`${added} messages arrived while you were away.`);
  saveSession();
  render();
}

export function loadHistory() {
  const conv = state.conversations.get(state.active);
  if (!conv) return;
  // the latest page first, then each further page ends where the last one did
  send(historyRequest(conv, state.me.userId, conv.historyEnd));
  showStatus("Loading history…");
}
