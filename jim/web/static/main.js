// jim web chat: one page, one WebSocket to the page's own host, J-IM 3.0 JSON commands.
// The entry module: it wires the forms and buttons, exposes the read-only window.jimChat, and
// resumes the tab's session or shows the sign-in form.
import { listen } from "./connection.js";
import { $, showLogin, showLoginError } from "./dom.js";
import { joinGroup } from "./groups.js";
import { loadHistory } from "./messages.js";
import { sendChat } from "./outbox.js";
import { openConversation } from "./render.js";
import { handleReply } from "./replies.js";
import { endSession, onConnectionClosed, resumeSession, startLogin } from "./session.js";
import { state } from "./state.js";

function onSubmit(formId, handler) {
  $(formId).addEventListener("submit", (event) => {
    event.preventDefault();
    handler();
  });
}

function takeInput(id) {
  const value = $(id).value.trim();
  $(id).value = "";
  return value;
}

// The composer grows with its text, up to the CSS max-height.
function growComposer() {
  const box = $("composer-input");
  box.style.height = "auto";
  box.style.height = box.scrollHeight + 2 + "px";
}

function wire() {
  onSubmit("login-form", () => {
    const userId = $("login-user").value.trim();
    const password = $("login-password").value;
    if (!userId || !password) {
      showLoginError("Enter a user name and a password.");
      return;
    }
    startLogin({ userId, password, appKey: $("login-appkey").value.trim() || undefined });
  });
  onSubmit("chat-with-form", () => {
    const peer = takeInput("chat-with-input");
    if (peer) openConversation("user", peer);
  });
  onSubmit("join-group-form", () => {
    const groupId = takeInput("join-group-input");
    if (groupId) joinGroup(groupId);
  });
  onSubmit("composer", () => {
    const text = $("composer-input").value;
    if (!text.trim()) return;
    $("composer-input").value = "";
    growComposer();
    sendChat(text);
  });
  $("composer-input").addEventListener("input", growComposer);
  $("composer-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("history-button").addEventListener("click", loadHistory);
  $("logout").addEventListener("click", endSession);
}

function snapshot(msg) {
  return Object.freeze({
    id: msg.id, clientId: msg.clientId, from: msg.from, content: msg.content,
    createTime: msg.createTime, own: msg.own, state: msg.state,
  });
}

// Read-only view of the page state for tests and the console.
window.jimChat = Object.freeze({
  get connected() { return state.connected; },
  get loggedIn() { return state.loggedIn; },
  get me() { return state.me ? Object.freeze({ ...state.me }) : null; },
  get maxBody() { return state.maxBody; },
  get active() { return state.active; },
  get status() { return state.status; },
  get groups() { return state.groups.map((g) => Object.freeze({ ...g })); },
  get conversations() {
    const view = {};
    for (const [key, conv] of state.conversations) view[key] = Object.freeze(conv.messages.map(snapshot));
    return Object.freeze(view);
  },
});

listen({ reply: handleReply, closed: onConnectionClosed });
wire();
if (!resumeSession()) showLogin();
