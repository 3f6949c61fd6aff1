// Groups and friends: the signed-in user's lists (cmd 17, answered by cmd 18), and joining
// groups (cmd 7, answered by cmd 8), with joins asked for while offline kept for the next login.
import { send } from "./connection.js";
import { conversation } from "./conversations.js";
import { showStatus } from "./dom.js";
import { ERROR_CODES, describe, joinRequest, userRequest } from "./protocol.js";
import { knownUsers, openConversation, render } from "./render.js";
import { saveSession } from "./saved-session.js";
import { state } from "./state.js";

export function requestUser() {
  send(userRequest(state.me.userId));
}

export function onUser(reply) {
  if (!reply.data) {
    showStatus(describe(reply));
    return;
  }
  state.groups = reply.data.groups || [];
  state.friends = reply.data.friends || [];
  for (const group of state.groups) conversation("group", group.groupId);
  for (const friend of knownUsers(state.friends)) conversation("user", friend.userId);
  render();
}

export function sendJoin(groupId) {
  if (state.loggedIn && send(joinRequest(groupId))) state.joining.push(String(groupId));
  else queueJoin(groupId);
}

function queueJoin(groupId) {
  if (!state.joinsToSend.includes(String(groupId))) state.joinsToSend.push(String(groupId));
}

// No answer comes on a closed socket: those joins go again at the next login (joining a
// group one is in already changes nothing).
export function requeueUnansweredJoins() {
  for (const groupId of state.joining) queueJoin(groupId);
  state.joining = [];
}

export function joinGroup(groupId) {
  sendJoin(groupId);
  openConversation("group", groupId);
  requestUser();
}

export function onJoinReply(reply) {
  const groupId = state.joining.shift();  // joins are answered in the order they were sent
  if (ERROR_CODES.has(reply.code)) {
    showStatus(describe(reply));
    forgetRefusedGroup(groupId);
  }
  requestUser();
}

// A group the server would not let us join leaves the sidebar, unless we are in it after all
// or it holds messages.
function forgetRefusedGroup(groupId) {
  const key = "group:" + groupId;
  const conv = state.conversations.get(key);
  if (!conv || conv.messages.length || state.groups.some((g) => String(g.groupId) === groupId)) return;
  state.conversations.delete(key);
  if (state.active === key) state.active = null;
  saveSession();
  render();
}
