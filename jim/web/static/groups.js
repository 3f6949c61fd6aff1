// Groups and chat rooms: the user's groups with their members (at every sign-in, and after
// each change), creating a group, adding members, leaving; entering and leaving a room; and
// the presence of the people the user talks to.
import { conversation } from "./conversations.js";
import { showStatus } from "./dom.js";
import { render } from "./render.js";
import { saveSession } from "./saved-session.js";
import { api, jim } from "./sdk.js";
import { state } from "./state.js";

let refreshing = null;

// The user's groups and their members (JMessage.jim.getConversations); one call at a time.
export function refreshGroups() {
  if (refreshing) return refreshing;
  refreshing = jim("getConversations").then(([answer]) => {
    state.groups = new Map(answer.groups.map((group) => [group.groupId, group]));
    for (const group of answer.groups) {
      const conv = conversation("group", group.groupId);
      conv.name = group.name;
      conv.gone = false;
      for (const member of group.members) state.presence.set(member.username, member.online);
    }
    if (state.me && answer.nickname) state.me.nick = answer.nickname;
    saveSession();
    render();
  }, (error) => showStatus("Your groups could not be read: " + error.message))
    .finally(() => { refreshing = null; });
  return refreshing;
}

// A private conversation's peer: online or not (JMessage.jim.getPresence).
export function refreshPresence(username) {
  jim("getPresence", { username }).then(([presence]) => {
    state.presence.set(presence.username, presence.online);
    const conv = state.conversations.get("user:" + presence.username);
    if (conv && presence.nickname) conv.name = presence.nickname;
    render();
  }, () => {});
}

// JMessage.jim.onPresence: a member came or went.
export function onPresence(presence) {
  state.presence.set(presence.username, presence.online);
  const group = state.groups.get(presence.groupId);
  const member = group && group.members.find((m) => m.username === presence.username);
  if (member) member.online = presence.online;
  else if (group && presence.joined) refreshGroups();
  render();
}

export async function createGroup(name, usernames, open) {
  try {
    const [created] = await api("createGroup", { groupName: name });
    if (usernames.length) await api("addGroupMembers", { groupId: created.gid, memberUsernames: usernames });
    const conv = conversation("group", String(created.gid));
    conv.name = created.groupName;
    await refreshGroups();
    open("group", conv.id);
    showStatus(`Group "${created.groupName}" created.`);
  } catch (error) {
    showStatus("The group could not be created: " + error.message);
  }
}

export async function addMembers(groupId, usernames) {
  try {
    await api("addGroupMembers", { groupId, memberUsernames: usernames });
    await refreshGroups();
  } catch (error) {
    showStatus("Not added: " + error.message);
  }
}

export async function enterRoom(roomId, open) {
  try {
    const [id] = await jim("enterChatRoom", { roomId });
    conversation("room", String(id));
    saveSession();
    open("room", String(id));
  } catch (error) {
    showStatus("Could not enter the room: " + error.message);
  }
}

// Leaves the open group or room; its conversation leaves the sidebar.
export async function leave(conv) {
  try {
    if (conv.kind === "group") await api("exitGroup", { groupId: conv.id });
    else await jim("exitChatRoom", { roomId: conv.id });
  } catch (error) {
    showStatus("Could not leave: " + error.message);
    return;
  }
  conv.gone = true;
  state.conversations.delete(conv.key);
  state.groups.delete(conv.id);
  if (state.active === conv.key) state.active = null;
  state.view = "list";
  saveSession();
  render();
}
