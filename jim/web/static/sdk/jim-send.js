// jim's JMessage.jim.sendMessage: one call for a text, an image or a file, to a user, a group
// or a chat room, whose success gets the message as it was stored (in onMessageReceived's
// shape, with its msg_id and the server's create_time) rather than the rid alone.
import { invoke } from "./callbacks.js";
import { codeAndMessage } from "./codes.js";
import { bad } from "./calls.js";
import { chatTo } from "./messages.js";
import { MSG_TYPE, messageOf } from "./shapes.js";

const FILE_KINDS = new Set(["image", "file"]);

// The chat the server stored, as a push would carry it.
function storedChat(session, rid, request, data) {
  const chat = Object.assign({}, request, {
    id: String(data.id), from: session.user ? session.user.username : "", createTime: data.createTime,
    clientId: String(rid),
  });
  if (request.msgBody) chat.content = JSON.stringify(request.msgBody);
  // a text whose sensitive words the server masked: the reply says what it keeps
  else if (typeof data.content === "string") chat.content = data.content;
  delete chat.msgBody;
  delete chat.cmd;
  return chat;
}

export function sendMessageApi(session) {
  // {targetType, targetId, and text, or file (a File or Blob) with kind "image" or "file"
  // (default: image for an image/* type, else file)}; idGenerated(rid), success(rid, message),
  // fail(code, message, rid).
  return (options) => {
    const o = options || {};
    let request;
    let prepare = null;
    try {
      const missing = session.missingSession();
      if (missing) throw missing;
      request = chatTo(o);
      if (o.file !== undefined) {
        if (!(o.file instanceof Blob) || o.file.size === 0) throw bad("file must be a non-empty File or Blob");
        const kind = o.kind || (/^image\//.test(o.file.type) ? "image" : "file");
        if (!FILE_KINDS.has(kind)) throw bad("kind must be image or file");
        request.msgType = MSG_TYPE[kind];
        const file = o.file;
        prepare = async () => ({ msgBody: await session.resource({ type: kind }, file) });
      } else {
        if (typeof o.text !== "string" || o.text === "") throw bad("text or file is required");
        Object.assign(request, { msgType: MSG_TYPE.text, content: o.text });
      }
    } catch (error) {
      invoke(o.fail, ...codeAndMessage(error));
      return;
    }
    let stored = null;
    session.outbox.add(request, {
      idGenerated: o.idGenerated,
      fail: o.fail,
      stored: (rid, sent, data) => { stored = storedChat(session, rid, sent, data || {}); },
      success: (rid) => {
        session.names.ofChat(stored).then((names) => invoke(o.success, rid, messageOf(stored, names)));
      },
    }, prepare);
  };
}
