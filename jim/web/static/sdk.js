// The page's one way to the server: jim's JS SDK (window.JMessage, loaded by index.html from
// /sdk/jmessage.js), its callback calls as promises. No other module names JMessage.

function sdk() {
  if (!window.JMessage) throw new Error("the SDK (/sdk/jmessage.js) is not loaded");
  return window.JMessage;
}

// Rejections carry the SDK's code and message.
export class CallError extends Error {
  constructor(code, message) {
    super(message || "error " + code);
    this.code = code;
  }
}

function promised(target, name, options) {
  return new Promise((resolve, reject) => {
    target[name](Object.assign({}, options, {
      success: (...args) => resolve(args),
      fail: (code, message) => reject(new CallError(code, message)),
    }));
  });
}

// A call of JMessage's Web SDK 1.0 API: resolves to the arguments success got.
export const api = (name, options = {}) => promised(sdk(), name, options);

// One of jim's additions (JMessage.jim).
export const jim = (name, options = {}) => promised(sdk().jim, name, options);

// A message on its way: idGenerated(rid) at once, then stored(message) or failed(error);
// a message resent (resend) calls them again.
export function sendMessage(options, { idGenerated, stored, failed }) {
  sdk().jim.sendMessage(Object.assign({}, options, {
    idGenerated,
    success: (rid, message) => stored(message),
    fail: (code, message) => failed(new CallError(code, message)),
  }));
}

// A message that failed, sent again with its rid: its first call's callbacks hear of it.
export const resend = (rid) => sdk().resendMessage({ rid: Number(rid) });

// handlers: connected(), disconnected(), login(info), ended(code, message, reason),
// message(jMessage), event(jEvent), presence(presence)
export function listen(handlers) {
  const J = sdk();
  J.onConnected(handlers.connected);
  J.onDisconnected(handlers.disconnected);
  J.onMessageReceived(handlers.message);
  J.onEventReceived(handlers.event);
  J.jim.onLogin(handlers.login);
  J.jim.onSessionEnded(handlers.ended);
  J.jim.onPresence(handlers.presence);
}

export const logout = () => sdk().logout();
