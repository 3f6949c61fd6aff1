// The one WebSocket, to the page's own host: JSON frames in and out, signing in when it opens,
// the heartbeat, and reconnecting with a growing delay. What a reply means, and what follows a
// close, is for the listeners given to listen().
import { setConnection, showStatus } from "./dom.js";
import { HEARTBEAT_MS, heartbeatRequest, loginRequest } from "./protocol.js";
import { RECONNECT_MAX_MS, state } from "./state.js";

const listeners = { reply: null, closed: null };

// reply(reply): a reply or push arrived; closed(code): the current socket closed.
export function listen({ reply, closed }) {
  listeners.reply = reply;
  listeners.closed = closed;
}

function socketUrl() {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/";
}

export function send(request) {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return false;
  state.socket.send(JSON.stringify(request));
  return true;
}

export function connect() {
  clearTimeout(state.reconnectTimer);
  const socket = new WebSocket(socketUrl());
  state.socket = socket;
  setConnection("connecting", "Connecting…");
  socket.addEventListener("open", () => onOpen(socket));
  socket.addEventListener("message", (event) => onFrame(socket, event.data));
  socket.addEventListener("close", (event) => onClose(socket, event.code));
}

function onOpen(socket) {
  if (socket !== state.socket) return;
  state.connected = true;
  setConnection("connecting", "Signing in…");
  send(loginRequest(state.login));
}

function onFrame(socket, text) {
  if (socket !== state.socket || typeof text !== "string") return;
  let reply;
  try {
    reply = JSON.parse(text);
  } catch (error) {
    showStatus("The server sent something that is not JSON.");
    return;
  }
  listeners.reply(reply);
}

function onClose(socket, code) {
  if (socket !== state.socket) return;
  state.socket = null;
  state.connected = false;
  state.loggedIn = false;
  stopHeartbeat();
  listeners.closed(code);
}

export function scheduleReconnect() {
  const delay = state.reconnectDelay;
  state.reconnectDelay = Math.min(delay * 2, RECONNECT_MAX_MS);
  setConnection("offline", `Disconnected — reconnecting in ${Math.round(delay / 1000)} s`);
  state.reconnectTimer = setTimeout(connect, delay);
}

export function startHeartbeat() {
  stopHeartbeat();
  state.heartbeatTimer = setInterval(() => send(heartbeatRequest()), HEARTBEAT_MS);
}

function stopHeartbeat() {
  clearInterval(state.heartbeatTimer);
  state.heartbeatTimer = null;
}

// No reconnect, no heartbeat, and the socket closed without its close being reported.
export function disconnect() {
  clearTimeout(state.reconnectTimer);
  stopHeartbeat();
  const socket = state.socket;
  state.socket = null;
  state.connected = false;
  if (socket) socket.close();
}
