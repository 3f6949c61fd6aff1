// The sidebar: the signed-in user, and the conversations by kind (groups, chat rooms, private
// ones), each with its unread count and, for a person, a presence dot.
import { actions } from "./actions.js";
import { $, el } from "./dom.js";
import { conversationTitle, isOnline, memberOnline } from "./names.js";
import { state } from "./state.js";

function presenceDot(online) {
  const dot = el("span", "presence" + (online ? " online" : ""));
  dot.setAttribute("aria-hidden", "true");
  return dot;
}

function conversationButton(conv) {
  const button = el("button", "conv-button");
  button.dataset.key = conv.key;
  if (conv.key === state.active) button.setAttribute("aria-current", "true");
  if (conv.kind === "user") {
    const online = isOnline(conv.id) === true;
    button.append(presenceDot(online));
    button.dataset.online = String(online);
  }
  button.append(el("span", "conv-name", conversationTitle(conv)));
  if (conv.kind === "group") {
    const group = state.groups.get(conv.id);
    if (group && group.members.length) {
      const online = group.members.filter(memberOnline).length;
      button.append(el("span", "count", `${online}/${group.members.length}`));
    }
  }
  if (conv.unread) {
    const badge = el("span", "badge", conv.unread);
    badge.setAttribute("aria-label", `${conv.unread} unread`);
    button.append(badge);
  }
  button.addEventListener("click", () => actions.open(conv.kind, conv.id));
  return button;
}

function renderList(listId, kind) {
  const items = [...state.conversations.values()].filter((c) => c.kind === kind && !c.gone)
    .map((conv) => {
      const item = el("li", "conv-item");
      item.append(conversationButton(conv));
      return item;
    });
  $(listId).replaceChildren(...items);
}

function renderMe() {
  if (!state.me) return;
  const name = state.me.nick || state.me.userId;
  $("me-avatar").textContent = name.charAt(0).toUpperCase();
  $("me-name").textContent = name;
  $("me-id").textContent = state.me.nick && state.me.nick !== state.me.userId ? state.me.userId : "";
}

export function renderSidebar() {
  renderMe();
  renderList("group-list", "group");
  renderList("room-list", "room");
  renderList("direct-list", "user");
}
