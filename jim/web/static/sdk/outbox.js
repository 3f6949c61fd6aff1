// Chats on their way out. Each has a rid, a number, given to idGenerated and sent as the
// chat's client id; its cmd 12 reply, matched by data.clientId, calls success or fail. A chat
// whose connection is lost before its reply waits and goes again, with the same client id,
// after the next login (the server drops what it already has); one that failed may be sent
// again with resendMessage. An image is uploaded first, once.
import { invoke } from "./callbacks.js";
import { CODE, codeAndMessage, sdkError } from "./codes.js";
import { REQUEST_TIMEOUT_MS } from "./requests.js";

const STORED = new Set([10000, 10001]);
const CHAT_REFUSED = 10002;
// The server's largest message until its login reply tells (maxBody): a longer one would make
// it close the connection (1009), and the chat would go again after every reconnect.
export const DEFAULT_MAX_BODY_BYTES = 65536;
const encoder = new TextEncoder();

export class Outbox {
  // send(request) -> bool; prepare(entry) -> Promise of the request's body fields (an upload)
  constructor(send, timeoutMs = REQUEST_TIMEOUT_MS) {
    this.send = send;
    this.timeoutMs = timeoutMs;
    this.lastRid = 0;
    this.entries = new Map(); // rid -> entry
    this.sentByThisPage = new Set(); // client ids (strings)
    this.loggedIn = false;
    this.maxBody = DEFAULT_MAX_BODY_BYTES;
  }

  // A rid no other chat of this page has, and very likely no chat of the user's other devices:
  // the time in microseconds-ish, with a random start within the millisecond.
  newRid() {
    const rid = Math.max(Date.now() * 1000 + Math.floor(Math.random() * 1000), this.lastRid + 1);
    this.lastRid = rid;
    return rid;
  }

  // request: the chat without its id; prepare (optional): async () -> fields to add to it
  // before its first send (an image's msgBody). callbacks: idGenerated, success, fail, and
  // jim's stored(rid, request, cmd 12's data) just before success.
  add(request, callbacks, prepare = null) {
    const rid = this.newRid();
    const entry = { rid, request, prepare, callbacks, state: "waiting", timer: null };
    this.entries.set(rid, entry);
    this.sentByThisPage.add(String(rid));
    invoke(callbacks.idGenerated, rid);
    this.start(entry);
    return rid;
  }

  isOwn(clientId) {
    return clientId !== undefined && this.sentByThisPage.has(String(clientId));
  }

  // resendMessage: a failed chat again, with the same client id.
  resend(rid, callbacks) {
    const entry = this.entries.get(Number(rid));
    if (!entry) {
      invoke(callbacks.fail, CODE.BAD_PARAMETER, "no failed message with this rid", rid);
      return;
    }
    if (callbacks.success || callbacks.fail) {
      entry.callbacks = Object.assign({}, entry.callbacks, callbacks);
    }
    if (entry.state !== "failed") return; // on its way already
    entry.state = "waiting";
    this.start(entry);
  }

  async start(entry) {
    if (entry.prepare) {
      entry.state = "preparing";
      let fields;
      try {
        fields = await entry.prepare();
      } catch (error) {
        if (entry.state === "preparing") this.fail(entry, ...codeAndMessage(error));
        return;
      }
      if (entry.state !== "preparing") return; // failed meanwhile: the session ended
      Object.assign(entry.request, fields);
      entry.prepare = null;
      entry.state = "waiting";
    }
    this.transmit(entry);
  }

  transmit(entry) {
    if (entry.state !== "waiting" || !this.loggedIn) return;
    const request = Object.assign({}, entry.request, { id: String(entry.rid) });
    if (encoder.encode(JSON.stringify(request)).length > this.maxBody) {
      this.fail(entry, CODE.BAD_PARAMETER, "the message is over the server's " + this.maxBody + " bytes");
      return;
    }
    if (!this.send(request)) return;
    entry.state = "sent";
    entry.timer = setTimeout(() => {
      if (entry.state === "sent") this.fail(entry, CODE.TIMEOUT, sdkError(CODE.TIMEOUT).message);
    }, this.timeoutMs);
  }

  fail(entry, code, message) {
    clearTimeout(entry.timer);
    entry.state = "failed";
    invoke(entry.callbacks.fail, code, message, entry.rid);
  }

  // A cmd 12 reply.
  reply(reply) {
    const clientId = reply.data && reply.data.clientId;
    const entry = clientId !== undefined ? this.entries.get(Number(clientId)) : undefined;
    if (!entry || entry.state !== "sent") return;
    clearTimeout(entry.timer);
    if (STORED.has(reply.code)) {
      entry.state = "done";
      this.entries.delete(entry.rid);
      invoke(entry.callbacks.stored, entry.rid, entry.request, reply.data);
      invoke(entry.callbacks.success, entry.rid);
      return;
    }
    const code = Number.isInteger(reply.data.code) ? reply.data.code
      : reply.code === CHAT_REFUSED ? CODE.BAD_PARAMETER : CODE.SERVER;
    this.fail(entry, code, reply.detail || reply.msg || "refused");
  }

  // Logged in (again): what waits goes, in the order it was written. maxBody: the login
  // reply's.
  opened(maxBody) {
    this.loggedIn = true;
    if (Number.isInteger(maxBody) && maxBody > 0) this.maxBody = maxBody;
    for (const entry of [...this.entries.values()].sort((a, b) => a.rid - b.rid)) {
      this.transmit(entry);
    }
  }

  // The connection is lost: chats sent without a reply wait for the next login.
  lost() {
    this.loggedIn = false;
    for (const entry of this.entries.values()) {
      if (entry.state !== "sent") continue;
      clearTimeout(entry.timer);
      entry.state = "waiting";
    }
  }

  // The session is over: every chat not stored fails with `code`.
  failAll(code, message) {
    this.loggedIn = false;
    for (const entry of this.entries.values()) {
      if (entry.state !== "failed") this.fail(entry, code, message);
    }
  }
}
