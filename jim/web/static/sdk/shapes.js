// jim's wire objects in the shapes of JMessage's Web SDK 1.0: the message a page's
// onMessageReceived gets, the event of onEventReceived, a user profile, and the group objects
// of createGroup, getGroupInfo and getGroupList. Pure functions of their input.

const CHAT_GROUP = 1;
const CHAT_PRIVATE = 2;
const CHAT_ROOM = 3;
export const CHAT_TYPE = { single: CHAT_PRIVATE, group: CHAT_GROUP, chatroom: CHAT_ROOM };
const TARGET_TYPE = { [CHAT_PRIVATE]: "single", [CHAT_GROUP]: "group", [CHAT_ROOM]: "chatroom" };
export const MSG_TYPE = { text: 0, image: 1, voice: 2, video: 3, file: 6, location: 7, custom: 8 };
const MSG_TYPE_NAME = Object.fromEntries(Object.entries(MSG_TYPE).map(([name, n]) => [n, name]));
// JMessage's names of the group events of its REST documentation; the others keep jim's.
const EVENT_NAME = {
  group_created: "create_group", member_left: "exit_group",
  members_added: "add_members", members_removed: "remove_members",
};

const pad = (n) => String(n).padStart(2, "0");

// "yyyy-MM-dd HH:mm:ss" in UTC, as jim's REST API writes times.
export function formatTime(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} `
    + `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// A group's id as a number when it is one (groups made by JMessage calls), else as it is.
export function groupIdValue(id) {
  return typeof id === "string" && /^[0-9]{1,15}$/.test(id) ? Number(id) : id;
}

// The target of a chat push: [target_type, target_id].
export function chatTarget(chat) {
  const type = TARGET_TYPE[chat.chatType] || "single";
  if (type === "group") return [type, groupIdValue(chat.groupId)];
  if (type === "chatroom") return [type, chat.roomId];
  return [type, chat.to];
}

function messageBody(chat) {
  if (!chat.msgType) {
    const body = { text: chat.content };
    if (chat.extras) body.extras = chat.extras;
    return body;
  }
  try {
    const body = JSON.parse(chat.content);
    if (body && typeof body === "object" && !Array.isArray(body)) return body;
  } catch (error) {
    // not JSON: passed on as text below
  }
  return { text: chat.content };
}

// A chat push (cmd 11's data, a synced or listed message) as JMessage's message object.
// names: {from, target}: the display names the caller found.
export function messageOf(chat, names = {}) {
  const [targetType, targetId] = chatTarget(chat);
  return {
    version: 1,
    target_type: targetType,
    target_id: targetId,
    target_name: names.target !== undefined ? names.target : String(targetId),
    from_type: "user",
    from_id: chat.from,
    from_name: names.from !== undefined ? names.from : chat.from,
    create_time: chat.createTime,
    msg_type: MSG_TYPE_NAME[chat.msgType] || "custom",
    msg_body: messageBody(chat),
    msg_id: chat.id,
    jim_msg_type: chat.msgType || 0,
    jim_client_id: chat.clientId,
  };
}

// A cmd 100 event's data as JMessage's event object, its own fields kept under jim_ names.
export function eventOf(data) {
  const event = {
    event_type: EVENT_NAME[data.kind] || data.kind || String(data.event_type),
    from_username: data.from_username || "",
    gid: data.gid,
    to_username_list: (data.to_usernames || []).map((user) => user.username),
    description: data.description || "",
    ctime: Number.isFinite(data.ctime_ms) ? formatTime(data.ctime_ms) : "",
    jim_event_type: data.event_type,
    jim_event_id: data.event_id,
    jim_kind: data.kind,
    jim_ctime_ms: data.ctime_ms,
    jim_data: data,
  };
  if (data.return_code !== undefined) event.return_code = data.return_code;
  if (data.gid === undefined) delete event.gid;
  return event;
}

// A REST user object (or member) as the SDK's user: every field of the seed, "" or 0 when unset.
export function userOf(user) {
  const profile = {
    username: user.username, nickname: user.nickname || "", star: user.star || 0,
    avatar: user.avatar || "", gender: user.gender || 0, signature: user.signature || "",
    region: user.region || "", address: user.address || "", mtime: user.mtime || "",
    ctime: user.ctime || "",
  };
  for (const extra of ["birthday", "extras", "flag", "silenced"]) {
    if (user[extra] !== undefined) profile[extra] = user[extra];
  }
  return profile;
}

// createGroup's and updateGroupInfo's answer.
export const createdGroupOf = (group) => ({
  groupName: group.name, groupDescription: group.desc, groupLevel: group.MaxMemberCount,
  flag: group.flag, gid: group.gid,
});

// getGroupInfo's answer.
export const groupInfoOf = (group, members) => ({
  gid: group.gid, ownerUsername: group.owner_username, groupName: group.name,
  groupDesc: group.desc, members: (members || []).map(userOf),
});

// An entry of getGroupList's answer.
export const groupEntryOf = (group) => ({
  gid: group.gid, ownerUsername: group.owner_username, groupName: group.name,
  groupDesc: group.desc, membersUsername: group.member_usernames || [],
});
