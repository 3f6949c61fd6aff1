// J-IM's notifications of the members of a user's groups (cmd 9: online, joined or added;
// cmd 10: offline, left or removed) and its user list (cmd 18), in the shapes of jim's
// additions to the SDK. Pure functions of their input.

const member = (user) => ({
  username: String(user.userId),
  nickname: user.nick && user.nick !== String(user.userId) ? String(user.nick) : "",
  online: user.status === "online",
});

// A cmd 9 or cmd 10 as {groupId, username, nickname, online, joined}: `joined` for a cmd 9
// (the user came online or into the group), false for a cmd 10 (went offline or left). null
// for one without a group or a user.
export function presenceOf(reply) {
  const body = reply.command === 9 ? reply : reply.data || {};
  if (body.group === undefined || !body.user || body.user.userId === undefined) return null;
  return Object.assign({ groupId: String(body.group) }, member(body.user),
    { joined: reply.command === 9 });
}

// cmd 18 about the user itself: its name, and its groups with their members.
export function conversationsOf(data) {
  return {
    username: String(data.userId),
    nickname: data.nick && data.nick !== String(data.userId) ? String(data.nick) : "",
    groups: (data.groups || []).map((group) => ({
      groupId: String(group.groupId),
      name: group.name || String(group.groupId),
      online: Number(group.online) || 0,
      members: (group.users || []).map(member),
    })),
  };
}

// cmd 18 about another user.
export const userPresenceOf = (data) => member(data);
