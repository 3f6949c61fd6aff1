// Each reply or push from the server, by its command, to the module that handles it. A reply
// no handler takes is shown in the status line when its code reports a failure.
import { showStatus } from "./dom.js";
import { onJoinReply, onUser, requestUser } from "./groups.js";
import { onChatPush, onMessages } from "./messages.js";
import { onChatReply } from "./outbox.js";
import { CMD, ERROR_CODES, describe } from "./protocol.js";
import { onLoginReply } from "./session.js";

const HANDLERS = {
  [CMD.LOGIN_RESP]: onLoginReply,
  [CMD.GET_USER_RESP]: onUser,
  [CMD.GET_MESSAGE_RESP]: onMessages,
  [CMD.CHAT]: onChatPush,
  [CMD.CHAT_RESP]: onChatReply,
  [CMD.JOIN_NOTIFY]: () => requestUser(),
  [CMD.EXIT_NOTIFY]: () => requestUser(),
  [CMD.JOIN_GROUP_RESP]: onJoinReply,
  [CMD.HEARTBEAT]: () => {},
};

export function handleReply(reply) {
  const handler = HANDLERS[reply.command];
  if (handler) handler(reply);
  else if (ERROR_CODES.has(reply.code)) showStatus(describe(reply));
}
