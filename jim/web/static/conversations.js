// Conversations and what they show: messages (made from the SDK's message objects, kept in the
// server's time order, each once) and the lines of events ("bob was added by alice").
import { state } from "./state.js";

export const KINDS = ["user", "group", "room"];
const KIND_OF_TARGET = { single: "user", group: "group", chatroom: "room" };

// A conversation is keyed "user:<peer>", "group:<groupId>" or "room:<roomId>"; made on first use.
export function conversation(kind, id) {
  const key = kind + ":" + id;
  if (!state.conversations.has(key)) {
    state.conversations.set(key, {
      key, kind, id: String(id), name: null, messages: [], unread: 0, gone: false,
      history: { loaded: false, loading: false, older: kind !== "room", endTime: undefined, next: null },
    });
  }
  return state.conversations.get(key);
}

// The conversation of an SDK message: the peer's (whichever side sent it), the group's, the room's.
export function conversationOf(jMessage) {
  const kind = KIND_OF_TARGET[jMessage.target_type] || "user";
  if (kind !== "user") return conversation(kind, String(jMessage.target_id));
  const mine = String(jMessage.from_id) === state.me.userId;
  return conversation("user", mine ? String(jMessage.target_id) : String(jMessage.from_id));
}

export const textOrNull = (value) => (value === undefined || value === null ? null : String(value));

// The page's message from the SDK's message object.
export function messageOf(jMessage, state_ = "received") {
  const body = jMessage.msg_body || {};
  const kind = jMessage.msg_type === "text" ? "text" : jMessage.msg_type;
  return {
    id: textOrNull(jMessage.msg_id),
    clientId: textOrNull(jMessage.jim_client_id),
    from: String(jMessage.from_id),
    fromName: jMessage.from_name || String(jMessage.from_id),
    kind,
    content: kind === "text" ? String(body.text === undefined ? "" : body.text)
      : kind === "file" ? String(body.fname || "file") : kind === "image" ? "[image]" : "[" + kind + "]",
    body,
    createTime: Number(jMessage.create_time) || Date.now(),
    own: String(jMessage.from_id) === state.me.userId,
    state: state_,
    retracted: false,
  };
}

export function insertSorted(conv, item) {
  let at = conv.messages.length;
  while (at > 0 && conv.messages[at - 1].createTime > item.createTime) at -= 1;
  conv.messages.splice(at, 0, item);
}

// The server's clock decides where a message belongs, not the sender's.
export function moveTo(conv, item, createTime) {
  conv.messages.splice(conv.messages.indexOf(item), 1);
  item.createTime = createTime;
  insertSorted(conv, item);
}

export function findMessage(conv, id, clientId) {
  return conv.messages.find((m) => m.kind !== "event"
    && ((id !== null && m.id === id) || (clientId !== null && m.clientId === clientId))) || null;
}

// Adds a message unless a copy is shown already; true when it was new. History
// (countUnread false) was read before, whichever conversation is on screen.
export function addMessage(conv, msg, countUnread = true) {
  const copy = findMessage(conv, msg.id, msg.clientId);
  if (copy) {
    if (copy.id === null) copy.id = msg.id;
    if (msg.retracted) copy.retracted = true;
    return false;
  }
  if (state.retracted.has(msg.id)) msg.retracted = true;
  insertSorted(conv, msg);
  if (countUnread && !msg.own && conv.key !== state.active) conv.unread += 1;
  return true;
}

// A line that tells what happened in the conversation; each event once.
export function addEventLine(conv, eventId, text, createTime) {
  const id = "event:" + eventId;
  if (conv.messages.some((m) => m.id === id)) return;
  insertSorted(conv, { id, clientId: null, from: "", fromName: "", kind: "event", content: text,
    body: {}, createTime: Number(createTime) || Date.now(), own: false, state: "event",
    retracted: false });
}

// Retracted messages are shown so on both sides; the ids are kept for history loaded later.
export function markRetracted(ids) {
  let found = false;
  for (const id of ids) {
    state.retracted.add(String(id));
    for (const conv of state.conversations.values()) {
      const msg = findMessage(conv, String(id), null);
      if (msg) {
        msg.retracted = true;
        found = true;
      }
    }
  }
  return found;
}
