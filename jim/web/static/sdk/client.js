// The implementation of JMessage's Web SDK 1.0 API that jmessage.js loads: one session with
// the server the script came from, and every call of the API (with jim's additions under
// `jim`), each taking the options object the SDK's documentation gives.
import { answer, needText } from "./calls.js";
import { jimAdditions } from "./jim-additions.js";
import { groupApi } from "./groups.js";
import { messageApi } from "./messages.js";
import { Session } from "./session.js";

// scriptUrl: jmessage.js's own URL (its origin is the server's); deviceId: this tab's.
export function createClient(scriptUrl, deviceId) {
  const session = new Session(scriptUrl, deviceId);
  const on = (name) => (callback) => { session.listeners.add(name, callback); };
  return {
    config: (options) => session.config(options),
    ready: (callback) => session.onReady(callback),
    error: (callback) => session.onError(callback),
    onConnected: on("connected"),
    onDisconnected: on("disconnected"),
    onMessageReceived: on("message"),
    onEventReceived: on("event"),

    login: (options) => answer(options, async (o) => {
      await session.login(needText(o.username, "username"), needText(o.password, "password"));
      return [];
    }),
    logout: () => session.logout(),

    ...messageApi(session),
    ...groupApi(session),
    jim: jimAdditions(session),
  };
}
