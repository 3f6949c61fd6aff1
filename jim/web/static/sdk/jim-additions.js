// jim's additions to JMessage's Web SDK 1.0, under JMessage.jim: chat rooms (cmd 105, 107;
// sendTextMessage with targetType "chatroom" sends to one), retracting one's own message
// (cmd 115), a conversation's history (cmd 19) and a media's download link (GET
// /sdk/resource); the sign-in calls and presence of jim-session.js, and sendMessage
// (jim-send.js). (The tab's device id is jmessage.js's.)
import { answer, needId, needText } from "./calls.js";
import { CODE } from "./codes.js";
import { sessionApi } from "./jim-session.js";
import { sendMessageApi } from "./jim-send.js";
import { messageOf } from "./shapes.js";

const HISTORY_OK = 10018;

export function jimAdditions(session) {
  return {
    ...sessionApi(session),
    sendMessage: sendMessageApi(session),

    enterChatRoom: (options) => answer(options, async (o) => {
      const roomId = needId(o.roomId, "roomId");
      await session.call({ cmd: 105, roomId }, { reply: 106, refused: CODE.BAD_PARAMETER });
      return [roomId];
    }),

    exitChatRoom: (options) => answer(options, async (o) => {
      const roomId = needId(o.roomId, "roomId");
      await session.call({ cmd: 107, roomId }, { reply: 108, refused: CODE.BAD_PARAMETER });
      return [roomId];
    }),

    retractMessage: (options) => answer(options, async (o) => {
      const msgId = needText(o.msgId, "msgId");
      await session.call({ cmd: 115, msgId });
      return [msgId];
    }),

    // {mediaId}: success gets a link that downloads the media (for an hour).
    getResource: (options) => answer(options, async (o) => {
      const answered = await session.resource({ mediaId: needText(o.mediaId, "mediaId") });
      return [answered.url];
    }),

    // {targetType: single|group, targetId, count?, offset?, beginTime?, endTime?}: success gets
    // the messages (oldest first, in onMessageReceived's shape) and {more, next}: when the
    // server cut the page short, the fields to call again with for the rest.
    getHistory: (options) => answer(options, async (o) => {
      const request = { cmd: 19, type: 1 };
      if (o.targetType === "group") request.groupId = needText(o.targetId, "targetId");
      else request.fromUserId = needText(o.targetId, "targetId");
      for (const field of ["count", "offset", "beginTime", "endTime"]) {
        if (o[field] !== undefined) request[field] = o[field];
      }
      const reply = await session.call(request, { reply: 20, ok: HISTORY_OK, retryable: true,
        refused: CODE.BAD_PARAMETER });
      const data = reply.data || {};
      const lists = Object.values(data.groups || {}).concat(Object.values(data.friends || {}));
      const chats = lists.length ? lists[0] : [];
      const messages = [];
      for (const chat of chats) messages.push(messageOf(chat, await session.names.ofChat(chat)));
      return [messages, { more: reply.more === true, next: reply.next }];
    }),
  };
}
