// The page's state, shared by every module: one object, changed in place and never replaced.
import { DEFAULT_MAX_BODY_BYTES } from "./protocol.js";

export const RECONNECT_FIRST_MS = 1000;
export const RECONNECT_MAX_MS = 30000;

export const state = {
  socket: null,
  connected: false,
  loggedIn: false,
  me: null,              // the J-IM User from the login reply
  maxBody: DEFAULT_MAX_BODY_BYTES,  // the largest request the server takes, in bytes
  login: null,           // {userId, password | token, appKey} for the next login
  sessionEstablished: false,  // a login succeeded: a drop is followed by reconnects
  groups: [],            // Group objects from cmd 18, with members
  friends: [],
  conversations: new Map(),  // key -> conversation, see conversation()
  active: null,          // key of the conversation on screen
  outbox: [],            // chats sent and not yet answered by cmd 12, oldest first
  joining: [],           // group ids of joins sent and not yet answered by cmd 8, oldest first
  joinsToSend: [],       // group ids of joins asked for while offline, sent at the next login
  heartbeatTimer: null,
  reconnectTimer: null,
  reconnectDelay: RECONNECT_FIRST_MS,
  status: "",
};
