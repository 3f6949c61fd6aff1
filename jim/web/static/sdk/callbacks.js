// A page's callbacks: each called so that an exception it throws reaches the page as an
// uncaught error without breaking the SDK's own state, and the listener lists of ready, error,
// onConnected, onDisconnected, onMessageReceived and onEventReceived.

export function invoke(callback, ...args) {
  if (typeof callback !== "function") return;
  try {
    callback(...args);
  } catch (error) {
    setTimeout(() => { throw error; });
  }
}

export class Listeners {
  constructor() {
    this.lists = new Map();
  }

  add(name, callback) {
    if (typeof callback !== "function") return false;
    if (!this.lists.has(name)) this.lists.set(name, []);
    this.lists.get(name).push(callback);
    return true;
  }

  emit(name, ...args) {
    for (const callback of this.lists.get(name) || []) invoke(callback, ...args);
  }
}
