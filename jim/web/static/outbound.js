// What the user sends: texts, images and files (JMessage.jim.sendMessage: shown at once, kept
// through reconnects by the SDK, placed by the server's time once stored), and retractions.
import { findMessage, insertSorted, moveTo } from "./conversations.js";
import { showStatus } from "./dom.js";
import { render } from "./render.js";
import { jim, resend, sendMessage } from "./sdk.js";
import { state } from "./state.js";

const TARGET_TYPE = { user: "single", group: "group", room: "chatroom" };
// the image formats the server takes as images; other files go as files
const IMAGE_TYPES = /^image\/(png|jpeg|gif|bmp)$/;

const LOST = 872007; // the session was lost with the message still waiting
const lost = new Set(); // client ids of messages to send again once the session is back

function send(conv, options, shown) {
  let msg = null;
  const target = { targetType: TARGET_TYPE[conv.kind], targetId: conv.id };
  sendMessage(Object.assign(target, options), {
    idGenerated: (rid) => {
      msg = Object.assign({
        id: null, clientId: String(rid), from: state.me.userId, fromName: state.me.nick || state.me.userId,
        body: {}, createTime: Date.now(), own: true, retracted: false,
        state: state.loggedIn ? "sending" : "queued",
      }, shown);
      insertSorted(conv, msg);
      render();
    },
    stored: (stored) => {
      const current = findMessage(conv, null, msg.clientId) || msg;
      current.id = String(stored.msg_id);
      current.body = stored.msg_body || current.body;
      current.state = "sent";
      if (state.retracted.has(current.id)) current.retracted = true;
      moveTo(conv, current, Number(stored.create_time) || current.createTime);
      render();
    },
    failed: (error) => {
      if (!msg) {
        showStatus("Message not sent: " + error.message);
        return;
      }
      msg.state = "failed";
      msg.lost = error.code === LOST;
      if (!msg.lost) showStatus("Message not sent: " + error.message);
      render();
    },
  });
}

// The SDK gave the session up after minutes without the server: what it failed waits for the
// page's next session.
export function keepLost() {
  for (const conv of state.conversations.values()) {
    for (const msg of conv.messages) {
      if (msg.own && msg.state === "failed" && msg.lost) {
        msg.state = "queued";
        lost.add(msg.clientId);
      }
    }
  }
}

// Signed in again: what the lost session failed goes again, with its rid.
export function resendLost() {
  for (const clientId of lost) resend(clientId);
  lost.clear();
}

export function sendText(text) {
  const conv = state.conversations.get(state.active);
  if (!conv || !text.trim()) return;
  showStatus("");
  send(conv, { text }, { kind: "text", content: text });
}

export function sendFiles(files) {
  const conv = state.conversations.get(state.active);
  if (!conv) return;
  for (const file of files) {
    const kind = IMAGE_TYPES.test(file.type) ? "image" : "file";
    send(conv, { file, kind }, { kind, content: kind === "file" ? file.name : "[image]",
      body: kind === "file" ? { fname: file.name, fsize: file.size } : {} });
  }
}

// Messages waiting for their answer show whether the connection is there.
export function markWaiting(connected) {
  for (const conv of state.conversations.values()) {
    for (const msg of conv.messages) {
      if (msg.own && connected && msg.state === "queued") msg.state = "sending";
      else if (msg.own && !connected && msg.state === "sending") msg.state = "queued";
    }
  }
}

export async function retract(msg) {
  try {
    await jim("retractMessage", { msgId: msg.id });
    msg.retracted = true;
    state.retracted.add(msg.id);
    render();
  } catch (error) {
    showStatus("Not retracted: " + error.message);
  }
}
