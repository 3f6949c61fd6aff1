// What reaches the page: chat pushes (cmd 11), events (cmd 100) and, after every login, the
// device's inbox after its cursor (cmd 101, paged), each given to the page once, in order,
// however often the server lists it again; then the cursor moves (cmd 103) to what the page
// holds, so another login of this device lists nothing twice.
import { eventOf, messageOf } from "./shapes.js";

const SYNC_PAGE = 200;
const ACK_DELAY_MS = 300;
// Events kept in no inbox: their ids are time-based, never acknowledged.
const UNKEPT_EVENTS = new Set(["user_forbidden", "user_deleted", "logged_in_elsewhere",
  "password_changed"]);
const CHAT_ROOM = 3;

export class Inbox {
  // requests: Requests; names: Names; deliver: {message(jMessage), event(jEvent)};
  // isOwn(clientId): a chat this page sent itself (not given back to it)
  constructor(requests, names, deliver, isOwn) {
    this.requests = requests;
    this.names = names;
    this.deliver = deliver;
    this.isOwn = isOwn;
    this.seenMessages = new Set();
    this.seenEvents = new Set();
    this.held = 0; // the highest inbox id given to the page
    this.acked = 0;
    this.syncing = false;
    this.ackTimer = null;
    this.queue = Promise.resolve(); // deliveries, one after another
  }

  // A chat push, or a message listed by a sync.
  message(chat) {
    const id = String(chat.id);
    if (this.seenMessages.has(id)) return;
    this.seenMessages.add(id);
    if (chat.chatType !== CHAT_ROOM) this.hold(Number(chat.id));
    if (this.isOwn(chat.clientId)) return;
    this.enqueue(async () => this.deliver.message(messageOf(chat, await this.names.ofChat(chat))));
  }

  event(data) {
    const id = String(data.event_id);
    if (this.seenEvents.has(id)) return;
    this.seenEvents.add(id);
    if (!UNKEPT_EVENTS.has(data.kind)) this.hold(Number(data.event_id));
    this.names.noteEvent(data);
    this.enqueue(async () => this.deliver.event(eventOf(data)));
  }

  enqueue(delivery) {
    this.queue = this.queue.then(delivery).catch((error) => {
      setTimeout(() => { throw error; });
    });
  }

  hold(id) {
    if (!Number.isSafeInteger(id)) return;
    this.held = Math.max(this.held, id);
    if (!this.syncing) this.scheduleAck();
  }

  scheduleAck() {
    if (this.ackTimer !== null) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.ack();
    }, ACK_DELAY_MS);
  }

  ack() {
    if (this.held <= this.acked || this.syncing) return;
    const upto = this.held;
    this.requests.call({ cmd: 103, upto }, { reply: 104 }).then((reply) => {
      if (reply.code !== 10000) return;
      // the server's cursor: on a cluster it stays below a push that was lost between its
      // nodes, which it sends before this reply; ack again once that is held
      const cursor = Number(reply.data && reply.data.cursor);
      const before = this.acked;
      this.acked = Math.max(this.acked, Number.isSafeInteger(cursor) ? cursor : upto);
      if (this.held > this.acked && this.acked > before) this.scheduleAck(); // it moved: again
    }, () => {});
  }

  // After every login: the inbox after the cursor, page by page, then the ack. A lost
  // connection ends it; the next login syncs again.
  async sync() {
    this.syncing = true;
    this.acked = 0;
    try {
      let after;
      for (;;) {
        const request = { cmd: 101, count: SYNC_PAGE };
        if (after !== undefined) request.after = after;
        const reply = await this.requests.call(request, { reply: 102 });
        if (reply.code !== 10000 || !reply.data) return;
        const { messages = [], events = [], upto, more } = reply.data;
        const listed = messages.map((m) => [Number(m.id), () => this.message(m)])
          .concat(events.map((e) => [Number(e.event_id), () => this.event(e)]));
        listed.sort((a, b) => a[0] - b[0]);
        for (const [, give] of listed) give();
        if (Number.isSafeInteger(upto)) this.held = Math.max(this.held, upto);
        if (!more) break;
        after = upto;
      }
    } catch (error) {
      return; // the connection was lost: the next login syncs again
    } finally {
      this.syncing = false;
    }
    this.ack();
  }

  // Logged out: nothing pending is acknowledged any more.
  stop() {
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
  }
}
