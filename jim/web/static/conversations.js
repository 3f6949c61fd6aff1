// Conversations and their messages: a conversation is made on first use, its messages are kept
// in time order, and a message already shown is not added again.
import { CHAT_GROUP, MSG_TEXT } from "./protocol.js";
import { state } from "./state.js";

// A conversation is keyed "user:<peer>" or "group:<groupId>"; it is made on first use.
export function conversation(kind, id) {
  const key = kind + ":" + id;
  if (!state.conversations.has(key)) {
    state.conversations.set(key, { key, kind, id: String(id), messages: [], unread: 0 });
  }
  return state.conversations.get(key);
}

export function conversationOf(body) {
  if (Number(body.chatType) === CHAT_GROUP) return conversation("group", body.groupId);
  const me = state.me.userId;
  const peer = String(body.from) === me ? body.to : body.from;
  return conversation("user", peer);
}

export const textOrNull = (value) => (value === undefined || value === null ? null : String(value));

export function messageFromBody(body) {
  return {
    id: textOrNull(body.id),
    clientId: textOrNull(body.clientId),
    from: String(body.from),
    content: body.content === undefined ? "" : String(body.content),
    msgType: Number(body.msgType) || MSG_TEXT,
    createTime: Number(body.createTime) || Date.now(),
    own: String(body.from) === state.me.userId,
    state: "received",
  };
}

// A copy already on screen: same server id, same client id, or (for the echo of an own group
// message when the server sends no client id) a local copy still waiting for its reply. An
// own message with another client id was sent from another tab or device: not a copy.
function findCopy(conv, msg) {
  return conv.messages.find((m) =>
    (msg.id !== null && m.id === msg.id) ||
    (msg.clientId !== null && m.clientId === msg.clientId) ||
    (msg.clientId === null && msg.own && m.own && m.state === "sending" && m.id === null &&
      m.content === msg.content));
}

export function insertSorted(conv, msg) {
  let at = conv.messages.length;
  while (at > 0 && conv.messages[at - 1].createTime > msg.createTime) at -= 1;
  conv.messages.splice(at, 0, msg);
}

// The server's clock decides where a message belongs, not the sender's.
export function moveTo(msg, createTime) {
  const conv = state.conversations.get(msg.conv);
  conv.messages.splice(conv.messages.indexOf(msg), 1);
  msg.createTime = createTime;
  insertSorted(conv, msg);
}

// Adds a message unless a copy is already shown; returns true when it was new.
// History (countUnread false) was read before, whichever conversation is on screen now.
export function addMessage(conv, msg, countUnread = true) {
  const copy = findCopy(conv, msg);
  if (copy) {
    if (copy.id === null && msg.id !== null) copy.id = msg.id;
    return false;
  }
  insertSorted(conv, msg);
  if (countUnread && !msg.own && conv.key !== state.active) conv.unread += 1;
  return true;
}

// Adds the messages of a cmd 20 reply. For history, each conversation also remembers the
// oldest message history has given it: the next page ends there, not at the oldest message
// shown, which may be an offline one with history not yet loaded between it and the rest.
export function receiveBodies(bodiesByPeer, history) {
  let added = 0;
  for (const bodies of Object.values(bodiesByPeer || {})) {
    for (const body of bodies || []) {
      const conv = conversationOf(body);
      const msg = messageFromBody(body);
      if (addMessage(conv, msg, !history)) added += 1;
      if (history && !(conv.historyEnd <= msg.createTime)) conv.historyEnd = msg.createTime;
    }
  }
  return added;
}
