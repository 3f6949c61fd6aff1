// jim web chat: one page on jim's JS SDK (/sdk/jmessage.js, window.JMessage). The entry
// module: it wires the forms and buttons, listens to the SDK, exposes the read-only
// window.jimChat, and resumes the tab's session or shows the sign-in form.
import { actions } from "./actions.js";
import { conversation } from "./conversations.js";
import { $, showLogin, showLoginError, showStatus } from "./dom.js";
import { addMembers, createGroup, enterRoom, leave, onPresence, refreshPresence } from "./groups.js";
import { loadHistory, loadOlder } from "./history.js";
import { onEvent, onMessage } from "./inbound.js";
import { whenLinked } from "./media.js";
import { retract, sendFiles, sendText } from "./outbound.js";
import { render } from "./render.js";
import { saveSession } from "./saved-session.js";
import { listen } from "./sdk.js";
import { onConnected, onDisconnected, onLogin, onSessionEnded, resumeSession, signIn, signOut } from "./session.js";
import { state } from "./state.js";
import { snapshot } from "./test-hook.js";

// A form's action; the status line speaks of the last one, so it is cleared first.
function onSubmit(formId, handler) {
  $(formId).addEventListener("submit", (event) => {
    event.preventDefault();
    showStatus("");
    handler();
  });
}

function takeInput(id) {
  const value = $(id).value.trim();
  $(id).value = "";
  return value;
}

const usernamesIn = (text) => text.split(/[\s,]+/).filter(Boolean);

function openConversation(kind, id) {
  const conv = conversation(kind, id);
  if (state.active !== conv.key) state.membersShown = false;
  state.active = conv.key;
  state.view = "conversation";
  conv.unread = 0;
  saveSession();
  render();
  if (!conv.history.loaded) loadHistory(conv);
  if (kind === "user") refreshPresence(id);
  if (window.matchMedia("(min-width: 721px)").matches) $("composer-input").focus();
}

// The composer grows with its text, up to the CSS max-height.
function growComposer() {
  const box = $("composer-input");
  box.style.height = "auto";
  box.style.height = box.scrollHeight + 2 + "px";
}

function wireForms() {
  onSubmit("login-form", () => {
    const username = $("login-user").value.trim();
    const password = $("login-password").value;
    if (!username || !password) {
      showLoginError("Enter a user name and a password.");
      return;
    }
    $("login-password").value = "";
    signIn(username, password, $("login-appkey").value.trim());
  });
  onSubmit("chat-with-form", () => {
    const peer = takeInput("chat-with-input");
    if (peer) openConversation("user", peer);
    else showStatus("Name the user to chat with.");
  });
  onSubmit("create-group-form", () => {
    const name = takeInput("create-group-input");
    if (name) createGroup(name, usernamesIn(takeInput("create-group-members")), openConversation);
    else showStatus("Name the group to create.");
  });
  onSubmit("enter-room-form", () => {
    const roomId = takeInput("enter-room-input");
    if (roomId) enterRoom(roomId, openConversation);
    else showStatus("Give the number of the chat room to enter.");
  });
  onSubmit("add-member-form", () => {
    const names = usernamesIn(takeInput("add-member-input"));
    const conv = state.conversations.get(state.active);
    if (names.length && conv && conv.kind === "group") addMembers(conv.id, names);
  });
  onSubmit("composer", () => {
    const text = $("composer-input").value;
    if (!text.trim()) return;
    $("composer-input").value = "";
    growComposer();
    sendText(text);
  });
}

function wireButtons() {
  $("composer-input").addEventListener("input", growComposer);
  $("composer-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("attach-button").addEventListener("click", () => $("file-input").click());
  $("file-input").addEventListener("change", () => {
    const files = [...$("file-input").files];
    $("file-input").value = "";
    if (files.length) sendFiles(files);
  });
  $("history-button").addEventListener("click", loadOlder);
  $("messages").addEventListener("scroll", () => {
    if ($("messages").scrollTop < 24) loadOlder();
  });
  $("members-button").addEventListener("click", () => {
    state.membersShown = !state.membersShown;
    render();
  });
  $("leave-button").addEventListener("click", () => {
    const conv = state.conversations.get(state.active);
    if (conv) leave(conv);
  });
  $("back-button").addEventListener("click", () => actions.back());
  $("logout").addEventListener("click", signOut);
  $("viewer").addEventListener("click", () => $("viewer").close());
}

Object.assign(actions, {
  open: openConversation,
  back: () => { // narrow screens: the list, and no conversation open (new messages count unread)
    state.active = null;
    state.view = "list";
    saveSession();
    render();
  },
  retract,
  showImage: (url, alt) => {
    $("viewer-image").src = url;
    $("viewer-image").alt = alt;
    $("viewer").showModal();
  },
  olderHistory: loadOlder,
});

// Read-only view of the page state for tests and the console.
window.jimChat = snapshot;

whenLinked(render);
listen({ connected: onConnected, disconnected: onDisconnected, login: onLogin,
  ended: onSessionEnded, message: onMessage, event: onEvent, presence: onPresence });
wireForms();
wireButtons();
showStatus("");
if (!resumeSession()) showLogin();
