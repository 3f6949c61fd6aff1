// Display names: the signed-in user's, a group member's, a conversation's title, a presence.
import { state } from "./state.js";

export function displayName(userId) {
  const id = String(userId);
  if (state.me && id === state.me.userId) return state.me.nick || id;
  for (const group of state.groups.values()) {
    const member = group.members.find((m) => m.username === id);
    if (member && member.nickname) return member.nickname;
  }
  const conv = state.conversations.get("user:" + id);
  return (conv && conv.name) || id;
}

export function conversationTitle(conv) {
  if (conv.kind === "user") return displayName(conv.id);
  if (conv.kind === "room") return "Room " + ((conv.name && conv.name !== conv.id) ? conv.name : conv.id);
  const group = state.groups.get(conv.id);
  return "# " + ((group && group.name) || conv.name || conv.id);
}

// true, false, or undefined when unknown
export const isOnline = (userId) => state.presence.get(String(userId));

// A group member's presence: the newest the page heard of, whichever group it came through.
export function memberOnline(member) {
  const known = isOnline(member.username);
  return known === undefined ? member.online : known;
}
