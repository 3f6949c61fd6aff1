// The Report API v2: the messages of a time window, page by page with the cursor, for the app,
// a user, a group or a chat room.
import { call, query, segment } from "./api.js";
import { attempt, card, form, h, heading, table } from "./dom.js";
import { appAuth } from "./session.js";

// "yyyy-MM-dd HH:mm:ss" in UTC
export function utc(date) {
  return date.toISOString().slice(0, 19).replace("T", " ");
}

function path(scope, id) {
  if (scope === "user") return `/v2/users/${segment(id)}/messages`;
  if (scope === "group") return `/v2/groups/${segment(id)}/messages`;
  if (scope === "chatroom") return `/v2/chatrooms/${segment(id)}/messages`;
  return "/v2/messages";
}

function body(message) {
  const content = message.msg_body || {};
  if (message.msg_type === "text" && typeof content.text === "string") return content.text;
  return JSON.stringify(content);
}

function showPage(root, page, next, pageNumber) {
  const rows = table([
    { title: "Id", value: (m) => String(m.msgid) },
    { title: "Time (UTC)", value: (m) => utc(new Date(m.msg_ctime)) },
    { title: "From", value: (m) => m.from_id },
    { title: "To", value: (m) => `${m.target_type} ${m.target_id}` },
    { title: "Type", value: (m) => m.msg_type },
    { title: "Body", value: body },
  ], page.messages, "Messages");
  const more = page.cursor
    ? h("button", { id: "report-next", onclick: () => next(page.cursor, pageNumber + 1) }, "Next page")
    : h("span", { class: "hint" }, "Last page.");
  root.replaceChildren(h("p", { id: "report-summary" },
    `${page.total} messages in the window; page ${pageNumber}, ${page.count} shown.`), rows, h("div", { class: "pager" }, more));
}

export const reportsSection = {
  id: "reports",
  title: "Message reports",
  async render(root) {
    const results = h("div", { id: "report-results" });
    const now = new Date();
    const ask = form("report-query", [
      { name: "scope", label: "Messages of", type: "select", value: "app",
        options: [["app", "the whole app"], ["user", "a user"], ["group", "a group"], ["chatroom", "a chat room"]] },
      { name: "id", label: "User name, group id or room id" },
      { name: "begin", label: "From (UTC)", value: utc(new Date(now.getTime() - 24 * 3600 * 1000)) },
      { name: "end", label: "To (UTC, at most 7 days later)", value: utc(new Date(now.getTime() + 60 * 1000)) },
      { name: "count", label: "Per page (1 to 1000)", type: "number", value: 50 },
    ], "Show", async (values) => {
      const route = path(values.scope, values.id);
      const next = async (cursor, pageNumber) => {
        const page = await attempt(() => call(appAuth(), "GET", route + query({ cursor })));
        if (page) showPage(results, page, next, pageNumber);
      };
      const page = await attempt(() => call(appAuth(), "GET", route
        + query({ begin_time: values.begin, end_time: values.end, count: values.count })));
      if (page) showPage(results, page, next, 1);
    });
    root.replaceChildren(heading("Message reports"),
      card(null, h("p", { class: "hint" }, "The Report API v2: a window of at most 7 days, oldest first;"
        + " the next page is fetched with the cursor of the previous one (valid 120 s)."), ask), card(null, results));
  },
};
