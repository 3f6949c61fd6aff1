// Display names for the messages the page gets: a user's nickname (cmd 113) and a group's name
// (cmd 111 `info`), each asked once and kept; what could not be found is named by its id.

const LOOKUP_TIMEOUT_MS = 5000;

function within(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(null), ms))]);
}

export class Names {
  constructor(requests) {
    this.requests = requests;
    this.users = new Map(); // username -> Promise of the nickname or null
    this.groups = new Map(); // gid (string) -> Promise of the name or null
  }

  noteUser(user) {
    if (user && user.username) this.users.set(user.username, Promise.resolve(user.nickname || ""));
  }

  noteGroup(group) {
    if (group && group.gid !== undefined) this.groups.set(String(group.gid), Promise.resolve(group.name));
  }

  noteEvent(data) {
    if (data.gid !== undefined && typeof data.group_name === "string") {
      this.groups.set(String(data.gid), Promise.resolve(data.group_name));
    }
  }

  lookUp(cache, key, ask) {
    if (!cache.has(key)) {
      const found = within(ask().catch(() => null), LOOKUP_TIMEOUT_MS);
      cache.set(key, found);
      found.then((name) => { if (name === null && cache.get(key) === found) cache.delete(key); });
    }
    return cache.get(key);
  }

  async user(username) {
    const nickname = await this.lookUp(this.users, username, async () => {
      const reply = await this.requests.call({ cmd: 113, username }, { retryable: true });
      return reply.code === 10000 && reply.data && reply.data.user ? reply.data.user.nickname || "" : null;
    });
    return nickname || username;
  }

  async group(groupId) {
    if (!/^[0-9]{1,15}$/.test(String(groupId))) return String(groupId);
    const name = await this.lookUp(this.groups, String(groupId), async () => {
      const reply = await this.requests.call({ cmd: 111, op: "info", gid: Number(groupId) },
        { retryable: true });
      return reply.code === 10000 && reply.data && reply.data.group ? reply.data.group.name : null;
    });
    return name || String(groupId);
  }

  // {from, target}: the sender's name, and the target's (a user's, a group's, a room's id).
  async ofChat(chat) {
    const from = await this.user(chat.from);
    if (chat.chatType === 1) return { from, target: await this.group(chat.groupId) };
    if (chat.chatType === 3) return { from, target: String(chat.roomId) };
    return { from, target: await this.user(chat.to) };
  }
}
