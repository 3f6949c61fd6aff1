// What the SDK gives the page: messages (pushed, or synced after a sign-in: those that came
// while the user was away) and events, shown in their conversations as lines; a retraction
// marks its message on every side.
import { addEventLine, addMessage, conversation, conversationOf, markRetracted, messageOf } from "./conversations.js";
import { refreshGroups } from "./groups.js";
import { displayName } from "./names.js";
import { render } from "./render.js";
import { saveSession } from "./saved-session.js";
import { state } from "./state.js";

export function onMessage(jMessage) {
  if (!state.me) return;
  const conv = conversationOf(jMessage);
  if (jMessage.target_type !== "single" && jMessage.target_name) conv.name = jMessage.target_name;
  if (jMessage.target_type === "single" && String(jMessage.from_id) !== state.me.userId
      && jMessage.from_name && jMessage.from_name !== jMessage.from_id) conv.name = jMessage.from_name;
  const msg = messageOf(jMessage);
  if (msg.own) msg.state = "sent"; // sent from another tab or device of the user
  if (addMessage(conv, msg)) saveSession();
  render();
}

const nameOf = (username) => (username ? displayName(username) : "the app");

function names(jEvent) {
  const users = (jEvent.jim_data && jEvent.jim_data.to_usernames) || [];
  return users.map((u) => u.nickname || nameOf(u.username)).join(", ");
}

// The line an event adds to its group's conversation, or null.
function lineOf(jEvent) {
  const by = nameOf(jEvent.from_username);
  const to = names(jEvent);
  const data = jEvent.jim_data || {};
  const were = jEvent.to_username_list.length > 1 ? "were" : "was";
  switch (jEvent.event_type) {
    case "create_group": return `${by} created the group`;
    case "add_members":
      if (jEvent.to_username_list.length === 1 && jEvent.to_username_list[0] === jEvent.from_username) {
        return `${to} joined`;
      }
      return `${to} ${were} added` + (jEvent.from_username ? ` by ${by}` : "");
    case "remove_members": return `${to} ${were} removed` + (jEvent.from_username ? ` by ${by}` : "");
    case "exit_group": return `${by} left` + (data.new_owner ? `; ${nameOf(data.new_owner)} owns the group now` : "");
    case "group_updated": return `the group was changed: it is "${data.group_name || ""}"`;
    case "group_dissolved": return "the group was dissolved";
    case "owner_transferred": return `${nameOf(data.new_owner)} owns the group now`;
    case "member_silenced": return `${to} ${data.extra === 2 ? "may speak again" : "was silenced"}`;
    default: return null;
  }
}

function groupKeyOf(jEvent) {
  const data = jEvent.jim_data || {};
  if (data.groupId !== undefined) return String(data.groupId);
  return jEvent.gid !== undefined ? String(jEvent.gid) : null;
}

export function onEvent(jEvent) {
  if (!state.me) return;
  if (jEvent.event_type === "message_retracted") {
    markRetracted((jEvent.jim_data && jEvent.jim_data.msgid_list) || []);
    render();
    return;
  }
  const groupId = groupKeyOf(jEvent);
  const text = lineOf(jEvent);
  if (groupId === null || text === null) return;
  const me = state.me.userId;
  const aboutMe = jEvent.to_username_list.includes(me) || jEvent.from_username === me;
  const key = "group:" + groupId;
  const joining = ["create_group", "add_members"].includes(jEvent.event_type) && jEvent.to_username_list.includes(me);
  // a group left or never seen gets no conversation back from an event, but one the user joins
  if (!state.conversations.has(key) && !joining) return;
  const conv = conversation("group", groupId);
  if (jEvent.jim_data && jEvent.jim_data.group_name) conv.name = jEvent.jim_data.group_name;
  addEventLine(conv, jEvent.jim_event_id, text, jEvent.jim_ctime_ms);
  const gone = jEvent.event_type === "group_dissolved"
    || (["exit_group"].includes(jEvent.event_type) && jEvent.from_username === me)
    || (jEvent.event_type === "remove_members" && jEvent.to_username_list.includes(me));
  if (gone) conv.gone = true;
  else if (joining) conv.gone = false;
  if (aboutMe || jEvent.event_type !== "group_updated") refreshGroups();
  render();
}
