// Requests that wait for their reply: those of jim's SDK commands (111, 113, 115) carry a
// `seq` the reply echoes; the others are matched by their reply command, one of each command
// in flight at a time. Requests that need a login wait for it (the gate); a request unanswered
// within the timeout fails with 872006; a request whose connection was lost is sent again
// after the next login when it only reads, and fails with 872007 otherwise.
import { CODE, sdkError } from "./codes.js";

export const REQUEST_TIMEOUT_MS = 30000;
const SEQ_COMMANDS = new Set([111, 113, 115]);

export class Requests {
  constructor(send, timeoutMs = REQUEST_TIMEOUT_MS) {
    this.send = send; // (request) -> bool: written to the open connection
    this.timeoutMs = timeoutMs;
    this.nextSeq = 1;
    this.gateOpen = false;
    this.waiting = []; // not sent yet: for the gate, or behind a request of the same reply
    this.inFlight = new Map(); // key -> entry
  }

  // The reply to `request` (whatever its code). options: reply (the reply command, for
  // requests without seq), gated (needs a login; default true), retryable (may be sent again
  // after a lost connection).
  call(request, { reply, gated = true, retryable = false } = {}) {
    return new Promise((resolve, reject) => {
      const body = Object.assign({}, request);
      let key;
      if (SEQ_COMMANDS.has(body.cmd)) {
        body.seq = this.nextSeq++;
        key = "seq:" + body.seq;
      } else {
        key = "cmd:" + reply;
      }
      this.waiting.push({ body, key, gated, retryable, resolve, reject, timer: null });
      this.pump();
    });
  }

  pump() {
    const still = [];
    for (const entry of this.waiting) {
      if ((entry.gated && !this.gateOpen) || this.inFlight.has(entry.key) || !this.send(entry.body)) {
        still.push(entry);
        continue;
      }
      this.inFlight.set(entry.key, entry);
      entry.timer = setTimeout(() => this.timedOut(entry), this.timeoutMs);
    }
    this.waiting = still;
  }

  timedOut(entry) {
    if (this.inFlight.get(entry.key) !== entry) return;
    this.inFlight.delete(entry.key);
    entry.reject(sdkError(CODE.TIMEOUT));
    this.pump();
  }

  // A reply or push: true when it answered a request.
  deliver(reply) {
    const seq = reply.data && reply.data.seq;
    const key = Number.isInteger(seq) && this.inFlight.has("seq:" + seq) ? "seq:" + seq
      : "cmd:" + reply.command;
    const entry = this.inFlight.get(key);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.inFlight.delete(key);
    entry.resolve(reply);
    this.pump();
    return true;
  }

  // Logged in: the gated requests may go.
  opened() {
    this.gateOpen = true;
    this.pump();
  }

  // The connection is gone: what only reads is sent again once logged in again; the rest
  // fails with `code` (872007 by default: its reply is lost with the connection).
  lost(code = CODE.DISCONNECTED) {
    this.gateOpen = false;
    const retried = [];
    for (const entry of this.inFlight.values()) {
      clearTimeout(entry.timer);
      if (entry.retryable && entry.gated) retried.push(entry);
      else entry.reject(sdkError(code));
    }
    this.inFlight.clear();
    this.waiting = retried.concat(this.waiting.filter((entry) => {
      if (entry.gated) return true;
      entry.reject(sdkError(code));
      return false;
    }));
  }

  // The session is over for good: everything fails with `code`.
  failAll(code, message) {
    this.lost(code);
    for (const entry of this.waiting) entry.reject(sdkError(code, message));
    this.waiting = [];
  }
}
