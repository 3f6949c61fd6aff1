// The chat view: the signed-in user, the sidebar's groups (with their members) and private
// conversations, the open conversation's messages, and the unread count in the tab title.
import { conversation } from "./conversations.js";
import { $, el } from "./dom.js";
import { saveSession } from "./saved-session.js";
import { state } from "./state.js";

export function openConversation(kind, id) {
  const conv = conversation(kind, id);
  state.active = conv.key;
  conv.unread = 0;
  saveSession();
  render();
  $("composer-input").focus();
}

function formatTime(ms) {
  const when = new Date(Number(ms) || Date.now());
  const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (when.toDateString() === new Date().toDateString()) return time;
  return when.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + time;
}

// Users listed in groups (groups or friend groups), without the signed-in user.
export function knownUsers(groups) {
  const me = state.me ? state.me.userId : null;
  return groups.flatMap((g) => g.users || []).filter((u) => String(u.userId) !== me);
}

function knownUser(userId) {
  return knownUsers([...state.groups, ...state.friends]).find((u) => String(u.userId) === String(userId)) || null;
}

function displayName(userId) {
  if (state.me && String(userId) === state.me.userId) return state.me.nick || state.me.userId;
  const user = knownUser(userId);
  return (user && user.nick) || String(userId);
}

function conversationButton(conv, label) {
  const button = el("button", "conv-button");
  button.dataset.key = conv.key;
  if (conv.key === state.active) button.setAttribute("aria-current", "true");
  button.append(el("span", "conv-name", label));
  if (conv.unread) {
    const badge = el("span", "badge", conv.unread);
    badge.setAttribute("aria-label", `${conv.unread} unread`);
    button.append(badge);
  }
  button.addEventListener("click", () => openConversation(conv.kind, conv.id));
  return button;
}

function memberItem(user) {
  const online = user.status === "online";
  const item = el("li", "member" + (online ? " online" : ""));
  item.dataset.userId = user.userId;
  const button = el("button", "member-button");
  button.title = `${user.userId} (${online ? "online" : "offline"})`;
  button.append(el("span", "presence"), el("span", "member-name", user.nick || user.userId));
  button.append(el("span", "visually-hidden", online ? " online" : " offline"));
  if (state.me && String(user.userId) !== state.me.userId) {
    button.addEventListener("click", () => openConversation("user", String(user.userId)));
  } else {
    button.disabled = true;
  }
  item.append(button);
  return item;
}

function renderGroups() {
  const list = $("group-list");
  list.replaceChildren();
  const byId = new Map(state.groups.map((g) => [String(g.groupId), g]));
  for (const conv of state.conversations.values()) {
    if (conv.kind !== "group") continue;
    const group = byId.get(conv.id) || { groupId: conv.id, users: [] };
    const users = group.users || [];
    const onlineCount = users.filter((u) => u.status === "online").length;
    const item = el("li", "conv-item");
    item.append(conversationButton(conv, conversationTitle(conv)));
    if (users.length) {
      item.lastChild.append(el("span", "count", `${onlineCount}/${users.length}`));
      const members = el("ul", "members");
      members.setAttribute("aria-label", `Members of ${group.name || conv.id}`);
      members.append(...users.map(memberItem));
      item.append(members);
    }
    list.append(item);
  }
}

function renderDirect() {
  const list = $("direct-list");
  list.replaceChildren();
  for (const conv of state.conversations.values()) {
    if (conv.kind !== "user") continue;
    const user = knownUser(conv.id);
    const item = el("li", "conv-item" + (user && user.status === "online" ? " online" : ""));
    item.append(conversationButton(conv, displayName(conv.id)));
    list.append(item);
  }
}

// What an own message's state means to its sender.
const NOTES = { sending: "sending…", queued: "waiting for connection", stored: "delivered later", failed: "not sent" };

function messageItem(msg) {
  const item = el("li", "message" + (msg.own ? " own" : ""));
  item.dataset.state = msg.state;
  if (msg.id) item.dataset.id = msg.id;
  const meta = el("div", "meta");
  meta.append(el("span", "sender", msg.own ? "You" : displayName(msg.from)));
  const time = el("time", "time", formatTime(msg.createTime));
  time.dateTime = new Date(msg.createTime).toISOString();
  meta.append(time);
  if (msg.own && NOTES[msg.state]) meta.append(el("span", "note", NOTES[msg.state]));
  item.append(meta, el("div", "text", msg.content));
  return item;
}

function conversationTitle(conv) {
  if (conv.kind === "user") return displayName(conv.id);
  const group = state.groups.find((g) => String(g.groupId) === conv.id);
  return "# " + ((group && group.name) || conv.id);
}

function renderConversation() {
  const conv = state.conversations.get(state.active);
  const list = $("messages");
  // Stay at the newest message unless the reader scrolled up in the same conversation.
  const follow = list.dataset.key !== state.active || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...(conv ? conv.messages.map(messageItem) : []));
  list.dataset.key = state.active || "";
  if (follow) list.scrollTop = list.scrollHeight;
  $("conv-title").textContent = conv ? conversationTitle(conv) : "No conversation selected";
  $("empty-hint").hidden = Boolean(conv);
  $("history-button").disabled = !conv || !state.loggedIn;
  $("composer-input").disabled = !conv;
  $("send-button").disabled = !conv;
}

function renderMe() {
  if (!state.me) return;
  const name = state.me.nick || state.me.userId;
  $("me-avatar").textContent = name.charAt(0).toUpperCase();
  $("me-name").textContent = name;
  $("me-id").textContent = state.me.nick && state.me.nick !== state.me.userId ? state.me.userId : "";
}

export function render() {
  renderMe();
  renderConversation();
  renderGroups();
  renderDirect();
  const unread = [...state.conversations.values()].reduce((sum, c) => sum + c.unread, 0);
  document.title = unread ? `(${unread}) jim chat` : "jim chat";
}
