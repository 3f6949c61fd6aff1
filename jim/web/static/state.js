// The page's state, shared by every module: one object, changed in place and never replaced.

export const DEFAULT_MAX_BODY_BYTES = 65536;

export const state = {
  connected: false,      // the SDK's connection is up
  loggedIn: false,       // and signed in
  signedIn: false,       // a session exists (signed in once, maybe reconnecting now)
  me: null,              // {userId, nick}
  token: null,           // the newest reconnect token of the session
  appKey: "",            // the app signed in to ("" for the server's default)
  maxBody: DEFAULT_MAX_BODY_BYTES,
  groups: new Map(),     // groupId -> {groupId, name, members: [{username, nickname, online}]}
  presence: new Map(),   // username -> true (online) or false
  retracted: new Set(),  // ids of retracted messages
  conversations: new Map(),  // key -> conversation, see conversation()
  active: null,          // key of the conversation on screen
  membersShown: false,   // the open group's member panel
  view: "list",          // narrow screens: "list" or "conversation"
  status: "",
};
