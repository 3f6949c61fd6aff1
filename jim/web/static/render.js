// Renders the chat: the sidebar, the open conversation, the narrow screens' view, and the
// unread count in the tab title.
import { $ } from "./dom.js";
import { renderSidebar } from "./sidebar.js";
import { state } from "./state.js";
import { renderThread } from "./thread.js";

export function render() {
  renderSidebar();
  renderThread();
  $("chat").dataset.view = state.active ? state.view : "list";
  const unread = [...state.conversations.values()].reduce((sum, c) => sum + c.unread, 0);
  document.title = unread ? `(${unread}) jim chat` : "jim chat";
}
