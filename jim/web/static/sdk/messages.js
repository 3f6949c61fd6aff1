// Sending: sendTextMessage, sendImageMessage (the file of an <input type=file> uploaded first)
// and resendMessage, through the session's outbox (cmd 11, matched to cmd 12 by client id).
import { invoke } from "./callbacks.js";
import { codeAndMessage } from "./codes.js";
import { bad, needId, needText } from "./calls.js";
import { CHAT_TYPE, MSG_TYPE } from "./shapes.js";

// cmd 11 to the target of the options (targetType single, group or, jim's, chatroom).
export function chatTo(options) {
  const type = options.targetType || "single";
  if (!(type in CHAT_TYPE)) throw bad("targetType must be single, group or chatroom");
  const request = { cmd: 11, chatType: CHAT_TYPE[type] };
  if (type === "single") request.to = needText(options.targetId, "targetId");
  else if (type === "group") request.groupId = needText(options.targetId, "targetId");
  else request.roomId = needId(options.targetId, "targetId");
  return request;
}

export function messageApi(session) {
  // Checks, then hands the chat to the outbox; a refusal before it has a rid has none.
  function send(options, build, prepare) {
    const o = options || {};
    let request;
    try {
      const missing = session.missingSession();
      if (missing) throw missing;
      request = build(o);
    } catch (error) {
      invoke(o.fail, ...codeAndMessage(error));
      return;
    }
    session.outbox.add(request, { idGenerated: o.idGenerated, success: o.success, fail: o.fail },
      prepare);
  }

  return {
    sendTextMessage: (options) => send(options, (o) => {
      if (typeof o.text !== "string" || o.text === "") throw bad("text is required");
      return Object.assign(chatTo(o), { msgType: MSG_TYPE.text, content: o.text });
    }),

    sendImageMessage: (options) => {
      let file = null;
      send(options, (o) => {
        const input = typeof o.fileId === "string" ? document.getElementById(o.fileId) : null;
        file = input && input.files && input.files[0];
        if (!file) throw bad("no file chosen in the input whose id is fileId");
        return Object.assign(chatTo(o), { msgType: MSG_TYPE.image });
      }, async () => ({ msgBody: await session.resource({ type: "image" }, file) }));
    },

    resendMessage: (options) => {
      const o = options || {};
      const missing = session.missingSession();
      if (missing) {
        invoke(o.fail, ...codeAndMessage(missing), o.rid);
        return;
      }
      session.outbox.resend(o.rid, { success: o.success, fail: o.fail });
    },
  };
}
