// A conversation's history (JMessage.jim.getHistory): the latest page when it is first opened,
// then the page before the oldest message history gave, when the reader scrolls back.
import { addMessage, messageOf } from "./conversations.js";
import { showStatus } from "./dom.js";
import { render } from "./render.js";
import { jim } from "./sdk.js";
import { state } from "./state.js";

export const HISTORY_PAGE = 30;

export async function loadHistory(conv, older = false) {
  const h = conv.history;
  if (conv.kind === "room" || h.loading || !state.loggedIn || (older && !h.older)) return;
  const options = { targetType: conv.kind === "group" ? "group" : "single", targetId: conv.id,
    count: HISTORY_PAGE };
  // the rest of a page the server cut short, or the page that ends where the last one did
  // (endTime is inclusive: what is shown already is dropped by its id)
  if (older && h.next) Object.assign(options, h.next);
  else if (older && h.endTime !== undefined) options.endTime = h.endTime;
  h.loading = true;
  render();
  try {
    const [messages, page] = await jim("getHistory", options);
    let added = 0;
    for (const jMessage of messages) {
      const msg = messageOf(jMessage);
      if (msg.own) msg.state = "sent";
      if (addMessage(conv, msg, false)) added += 1;
    }
    const oldest = messages.length ? Number(messages[0].create_time) : undefined;
    if (page.more && page.next) {
      h.next = page.next;
      h.older = true;
    } else {
      h.next = null;
      h.older = messages.length >= options.count;
      if (oldest !== undefined) h.endTime = added ? oldest : oldest - 1;
    }
    h.loaded = true;
    if (older) showStatus(added ? `Loaded ${added} earlier messages.` : "No earlier messages.");
  } catch (error) {
    showStatus("History could not be loaded: " + error.message);
  } finally {
    h.loading = false;
    render();
  }
}

export function loadOlder() {
  const conv = state.conversations.get(state.active);
  if (conv) loadHistory(conv, true);
}
