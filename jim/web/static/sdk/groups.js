// The user and group calls of JMessage's Web SDK 1.0 over jim's cmd 113 (a profile) and cmd
// 111 (a user's own group calls), answered in the SDK's shapes.
import { answer, needId, needText, needUsernames } from "./calls.js";
import { createdGroupOf, groupEntryOf, groupInfoOf, userOf } from "./shapes.js";

export function groupApi(session) {
  // cmd 111's data; reads are sent again after a reconnect, changes are not.
  async function groupCall(op, fields, retryable = false) {
    const reply = await session.call(Object.assign({ cmd: 111, op }, fields), { retryable });
    return reply.data || {};
  }

  return {
    getUserInfo: (options) => answer(options, async (o) => {
      const username = needText(o.username, "username");
      const reply = await session.call({ cmd: 113, username }, { retryable: true });
      session.names.noteUser(reply.data.user);
      return [userOf(reply.data.user)];
    }),

    createGroup: (options) => answer(options, async (o) => {
      const fields = { name: needText(o.groupName, "groupName") };
      if (o.groupDescription !== undefined) fields.desc = String(o.groupDescription);
      const data = await groupCall("create", fields);
      session.names.noteGroup(data.group);
      return [createdGroupOf(data.group)];
    }),

    getGroupInfo: (options) => answer(options, async (o) => {
      const data = await groupCall("info", { gid: needId(o.groupId, "groupId") }, true);
      session.names.noteGroup(data.group);
      return [groupInfoOf(data.group, data.members)];
    }),

    updateGroupInfo: (options) => answer(options, async (o) => {
      const fields = { gid: needId(o.groupId, "groupId") };
      if (o.groupName !== undefined) fields.name = String(o.groupName);
      if (o.groupDescription !== undefined) fields.desc = String(o.groupDescription);
      const data = await groupCall("update", fields);
      session.names.noteGroup(data.group);
      return [createdGroupOf(data.group)];
    }),

    addGroupMembers: (options) => answer(options, async (o) => {
      await groupCall("add", { gid: needId(o.groupId, "groupId"),
        usernames: needUsernames(o.memberUsernames, "memberUsernames") });
      return [];
    }),

    removeGroupMembers: (options) => answer(options, async (o) => {
      await groupCall("remove", { gid: needId(o.groupId, "groupId"),
        usernames: needUsernames(o.memberUsernames, "memberUsernames") });
      return [];
    }),

    exitGroup: (options) => answer(options, async (o) => {
      await groupCall("exit", { gid: needId(o.groupId, "groupId") });
      return [];
    }),

    getGroupList: (options) => answer(options, async () => {
      const data = await groupCall("list", {}, true);
      for (const group of data.groups || []) session.names.noteGroup(group);
      return [(data.groups || []).map(groupEntryOf)];
    }),
  };
}
