// window.jimChat: a read-only view of the page's state, for tests and the console.
import { state } from "./state.js";

function message(msg) {
  return Object.freeze({
    id: msg.id, clientId: msg.clientId, from: msg.from, kind: msg.kind, content: msg.content,
    body: Object.freeze({ ...msg.body }), createTime: msg.createTime, own: msg.own,
    state: msg.state, retracted: msg.retracted,
  });
}

function group(g) {
  return Object.freeze({
    groupId: g.groupId, name: g.name,
    members: Object.freeze(g.members.map((m) => Object.freeze({ ...m }))),
    users: Object.freeze(g.members.map((m) => Object.freeze({ userId: m.username,
      nick: m.nickname || m.username, status: m.online ? "online" : "offline" }))),
  });
}

export const snapshot = Object.freeze({
  get connected() { return state.connected; },
  get loggedIn() { return state.loggedIn; },
  get me() { return state.me ? Object.freeze({ ...state.me }) : null; },
  get maxBody() { return state.maxBody; },
  get active() { return state.active; },
  get status() { return state.status; },
  get groups() { return Object.freeze([...state.groups.values()].map(group)); },
  get presence() { return Object.freeze(Object.fromEntries(state.presence)); },
  get unread() {
    return Object.freeze(Object.fromEntries([...state.conversations.values()].map((c) => [c.key, c.unread])));
  },
  get conversations() {
    const view = {};
    for (const [key, conv] of state.conversations) view[key] = Object.freeze(conv.messages.map(message));
    return Object.freeze(view);
  },
});
