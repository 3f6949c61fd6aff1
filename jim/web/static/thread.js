// The open conversation: its header (title, members and leave buttons), a group's member panel,
// its messages and event lines, and the composer's state.
import { actions } from "./actions.js";
import { $, el } from "./dom.js";
import { fileView, imageView } from "./media.js";
import { conversationTitle, displayName, memberOnline } from "./names.js";
import { state } from "./state.js";

// What an own message's state means to its sender.
const NOTES = { sending: "sending…", queued: "waiting for connection", failed: "not sent" };
const RETRACT_WINDOW_MS = 180 * 1000;

function formatTime(ms) {
  const when = new Date(Number(ms) || Date.now());
  const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (when.toDateString() === new Date().toDateString()) return time;
  return when.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + time;
}

function content(msg) {
  if (msg.retracted) return el("div", "text retracted", "This message was retracted.");
  if (msg.kind === "image") return imageView(msg);
  if (msg.kind === "file") return fileView(msg);
  return el("div", "text", msg.content);
}

function messageItem(msg) {
  if (msg.kind === "event") {
    const line = el("li", "event-line", msg.content);
    line.dataset.id = msg.id;
    return line;
  }
  const item = el("li", "message" + (msg.own ? " own" : ""));
  item.dataset.state = msg.state;
  item.dataset.kind = msg.kind;
  if (msg.id) item.dataset.id = msg.id;
  if (msg.clientId) item.dataset.clientId = msg.clientId;
  if (msg.retracted) item.dataset.retracted = "true";
  const meta = el("div", "meta");
  meta.append(el("span", "sender", msg.own ? "You" : displayName(msg.from)));
  const time = el("time", "time", formatTime(msg.createTime));
  time.dateTime = new Date(msg.createTime).toISOString();
  meta.append(time);
  if (msg.own && NOTES[msg.state]) meta.append(el("span", "note", NOTES[msg.state]));
  if (msg.own && msg.id && !msg.retracted && state.loggedIn
      && Date.now() - msg.createTime < RETRACT_WINDOW_MS) {
    const retract = el("button", "retract", "Retract");
    retract.addEventListener("click", () => actions.retract(msg));
    meta.append(retract);
  }
  item.append(meta, content(msg));
  return item;
}

function memberItem(member) {
  const online = memberOnline(member);
  const item = el("li", "member" + (online ? " online" : ""));
  item.dataset.userId = member.username;
  const button = el("button", "member-button");
  button.title = `${member.username} (${online ? "online" : "offline"})`;
  button.append(el("span", "presence" + (online ? " online" : "")),
    el("span", "member-name", member.nickname || member.username),
    el("span", "visually-hidden", online ? " online" : " offline"));
  if (state.me && member.username !== state.me.userId) {
    button.addEventListener("click", () => actions.open("user", member.username));
  } else {
    button.disabled = true;
  }
  item.append(button);
  return item;
}

function renderMembers(conv) {
  const group = conv && conv.kind === "group" ? state.groups.get(conv.id) : null;
  const shown = Boolean(conv && conv.kind === "group" && state.membersShown && !conv.gone);
  $("members-panel").hidden = !shown;
  $("members-button").setAttribute("aria-expanded", String(shown));
  if (!shown) return;
  $("member-list").replaceChildren(...(group ? group.members.map(memberItem) : []));
}

export function renderThread() {
  const conv = state.conversations.get(state.active) || null;
  const list = $("messages");
  // Stay at the newest message unless the reader scrolled up in the same conversation; keep
  // the reader's place when older messages come in above.
  const same = list.dataset.key === (state.active || "");
  const fromBottom = list.scrollHeight - list.scrollTop;
  const follow = !same || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...(conv ? conv.messages.map(messageItem) : []));
  list.dataset.key = state.active || "";
  if (follow) list.scrollTop = list.scrollHeight;
  else list.scrollTop = list.scrollHeight - fromBottom;

  $("conv-title").textContent = conv ? conversationTitle(conv) : "No conversation selected";
  $("empty-hint").hidden = Boolean(conv);
  const history = conv ? conv.history : null;
  $("history-button").hidden = !conv || conv.kind === "room";
  $("history-button").disabled = !history || !history.older || history.loading || !state.loggedIn;
  $("history-button").textContent = history && history.loading ? "Loading…"
    : history && !history.older && history.loaded ? "No older messages" : "Load older";
  $("members-button").hidden = !conv || conv.kind !== "group" || conv.gone;
  $("leave-button").hidden = !conv || conv.kind === "user" || conv.gone;
  const usable = Boolean(conv) && !conv.gone;
  $("composer-input").disabled = !usable;
  $("send-button").disabled = !usable;
  $("attach-button").disabled = !usable;
  renderMembers(conv);
}
