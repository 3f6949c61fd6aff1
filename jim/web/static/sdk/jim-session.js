// jim's additions for a page that signs its users in itself: a password login without a
// signed configuration (jim takes cmd 5 alone, into the app it names or the default one),
// resuming a session with the reconnect token of an earlier login (a reloaded page keeps the
// token, never the password), what every login says and the end of a session, and the
// presence of the members of the user's groups (J-IM's cmd 9, 10 and 17).
import { answer, needText } from "./calls.js";
import { CODE } from "./codes.js";
import { conversationsOf, userPresenceOf } from "./presence.js";

const USER_OK = 10003;
const ALL_MEMBERS = 2;

export function sessionApi(session) {
  const on = (name) => (callback) => { session.listeners.add(name, callback); };
  return {
    // {username, password, appKey?}: into the configured app when config was called (appKey,
    // if given, must be that app), else into appKey or the server's default app.
    login: (options) => answer(options, async (o) => {
      const appKey = o.appKey === undefined || o.appKey === "" ? undefined : needText(o.appKey, "appKey");
      await session.login(needText(o.username, "username"), needText(o.password, "password"),
        { appKey, unsigned: true });
      return [];
    }),

    // {username, token, appKey?}: success at the first login with the token (a server that
    // cannot be reached is tried again meanwhile); fail with 872007 when it is refused.
    resume: (options) => answer(options, async (o) => {
      await session.resumeWith(needText(o.username, "username"), needText(o.token, "token"),
        o.appKey ? String(o.appKey) : undefined);
      return [];
    }),

    // fn({username, nickname, token, appKey, maxBody}) after every login, reconnects included:
    // `token` is the newest reconnect token, the one to keep.
    onLogin: on("login"),
    // fn(code, message, reason): the session is over (reason: logout, refused, unreachable,
    // elsewhere or ended).
    onSessionEnded: on("ended"),
    // fn({groupId, username, nickname, online, joined}): a member of one of the user's groups
    // came online or joined (joined true), went offline or left (false).
    onPresence: on("presence"),

    // success({username, nickname, groups: [{groupId, name, online, members: [{username,
    // nickname, online}]}]}): the user's groups with their members and who is online.
    getConversations: (options) => answer(options, async () => {
      const reply = await session.call({ cmd: 17, type: ALL_MEMBERS },
        { reply: 18, ok: USER_OK, retryable: true, refused: CODE.SERVER });
      return [conversationsOf(reply.data || {})];
    }),

    // {username}: success({username, nickname, online}).
    getPresence: (options) => answer(options, async (o) => {
      const reply = await session.call({ cmd: 17, type: ALL_MEMBERS, userId: needText(o.username, "username") },
        { reply: 18, ok: USER_OK, retryable: true, refused: CODE.BAD_PARAMETER });
      return [userPresenceOf(reply.data || {})];
    }),
  };
}
