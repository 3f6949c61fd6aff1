// J-IM 3.0 as the page speaks it: command numbers, reply codes, and every request the page
// sends. Requests carry `cmd`, replies and pushes carry `command`.

export const CMD = {
  LOGIN: 5, LOGIN_RESP: 6, JOIN_GROUP: 7, JOIN_GROUP_RESP: 8, JOIN_NOTIFY: 9, EXIT_NOTIFY: 10,
  CHAT: 11, CHAT_RESP: 12, HEARTBEAT: 13, GET_USER: 17, GET_USER_RESP: 18,
  GET_MESSAGE: 19, GET_MESSAGE_RESP: 20,
};
export const CODE = { DELIVERED: 10000, STORED_OFFLINE: 10001, LOGIN_OK: 10007, OFFLINE_MESSAGES: 10016, HISTORY: 10018 };
// Replies with these codes report something the user should read.
export const ERROR_CODES = new Set([10002, 10004, 10008, 10010, 10012, 10013, 10014, 10015, 10017, 10020]);
export const CHAT_GROUP = 1;
const CHAT_PRIVATE = 2;
export const MSG_TEXT = 0;
const USER_ALL = 2;
const MESSAGES_OFFLINE = 0;
const MESSAGES_HISTORY = 1;
export const HEARTBEAT_MS = 30000;
// The server's --max-body until its login reply tells (maxBody): a longer message closes the
// socket (1009).
export const DEFAULT_MAX_BODY_BYTES = 65536;
export const CLOSE_TOO_BIG = 1009;

export const describe = (reply) => reply.detail || reply.msg || `Error ${reply.code}`;

// login: {userId, password | token, appKey}
export function loginRequest(login) {
  const request = { cmd: CMD.LOGIN, userId: login.userId };
  if (login.token) request.token = login.token;
  else request.password = login.password;
  if (login.appKey) request.appKey = login.appKey;
  return request;
}

export const heartbeatRequest = () => ({ cmd: CMD.HEARTBEAT, hbbyte: -127 });

export const userRequest = (userId) => ({ cmd: CMD.GET_USER, type: USER_ALL, userId });

export const offlineMessagesRequest = (userId) => ({ cmd: CMD.GET_MESSAGE, type: MESSAGES_OFFLINE, userId });

// The latest page of a conversation's history, or the page that ends at endTime.
export function historyRequest(conv, userId, endTime) {
  const request = { cmd: CMD.GET_MESSAGE, type: MESSAGES_HISTORY, userId };
  if (conv.kind === "group") request.groupId = conv.id;
  else request.fromUserId = conv.id;
  if (endTime !== undefined) request.endTime = endTime;
  return request;
}

// The message's client id is the chat's id: the server names the chat by it in its reply.
export function chatRequest(conv, msg) {
  const request = { cmd: CMD.CHAT, msgType: MSG_TEXT, content: msg.content, id: msg.clientId };
  if (conv.kind === "group") Object.assign(request, { chatType: CHAT_GROUP, groupId: conv.id });
  else Object.assign(request, { chatType: CHAT_PRIVATE, to: conv.id });
  return request;
}

export const joinRequest = (groupId) => ({ cmd: CMD.JOIN_GROUP, groupId });
