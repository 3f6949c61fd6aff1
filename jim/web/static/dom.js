// DOM helpers, and the parts of the page around the chat view: the connection state, the status
// line and the sign-in form. All user-provided text reaches the DOM through textContent only.
import { state } from "./state.js";

export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (tag === "button") node.type = "button";
  return node;
}

export function setConnection(kind, text) {
  $("connection").dataset.state = kind;
  $("connection-text").textContent = text;
}

export function showStatus(text) {
  state.status = text;
  $("status").textContent = text;
}

export function showLoginError(text) {
  $("login-error").textContent = text;
}

export function setLoginBusy(busy) {
  $("login-submit").disabled = busy;
  $("login-submit").textContent = busy ? "Signing in…" : "Sign in";
}

export function showLogin() {
  $("chat").hidden = true;
  $("login").hidden = false;
  $("login-password").value = "";
  $("login-user").focus();
}

export function showChat() {
  $("login").hidden = true;
  $("chat").hidden = false;
}
