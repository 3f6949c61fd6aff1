// The Report API v2's statistics: users, messages and groups per day, and messages per hour
// of a day, as tables and bar charts.
import { call, query } from "./api.js";
import { barChart } from "./chart.js";
import { attempt, card, form, h, heading, table } from "./dom.js";
import { appAuth } from "./session.js";

function day(date) {
  return date.toISOString().slice(0, 10);
}

function block(title, labels, series, columns, rows) {
  return card(title, barChart(title, labels, series), table(columns, rows, title));
}

function column(title, key) {
  return { title, value: (row) => String(row[key]) };
}

async function show(root, values) {
  const days = { time_unit: "DAY", start: values.start, duration: values.duration };
  const users = await attempt(() => call(appAuth(), "GET", "/v2/statistic/users" + query(days)));
  const groups = await attempt(() => call(appAuth(), "GET", "/v2/statistic/groups" + query(days)));
  const messages = await attempt(() => call(appAuth(), "GET", "/v2/statistic/messages" + query(days)));
  const blocks = [];
  if (users) {
    blocks.push(block("Users per day", users.map((r) => r.date), [
      { name: "active", values: users.map((r) => r.active_users) },
      { name: "sending", values: users.map((r) => r.send_msg_users) },
      { name: "new", values: users.map((r) => r.new_users) },
    ], [column("day", "date"), column("active", "active_users"), column("sending", "send_msg_users"),
      column("new", "new_users"), column("total", "total_users")], users));
  }
  if (messages) {
    const sent = messages.send_msg_stat;
    blocks.push(block("Messages per day", sent.map((r) => r.time), [
      { name: "private", values: sent.map((r) => r.single_send_msg) },
      { name: "group", values: sent.map((r) => r.group_send_msg) },
    ], [column("day", "time"), column("private", "single_send_msg"), column("group", "group_send_msg")], sent));
    const kinds = [["text", "txt_msg"], ["image", "image_msg"], ["voice", "voice_msg"], ["other", "other_msg"]];
    blocks.push(card("Messages by type", table([
      { title: "type", value: (r) => r[0] },
      { title: "private", value: (r) => String(messages.single_msg_stat[r[1]]) },
      { title: "group", value: (r) => String(messages.group_msg_stat[r[1]]) },
    ], kinds, "Messages by type")));
  }
  if (groups) {
    blocks.push(block("Groups per day", groups.map((r) => r.date), [
      { name: "active", values: groups.map((r) => r.active_group) },
      { name: "new", values: groups.map((r) => r.new_group) },
    ], [column("day", "date"), column("active", "active_group"), column("new", "new_group"),
      column("total", "total_group")], groups));
  }
  root.replaceChildren(...blocks);
}

async function showHours(root, date) {
  const hours = { time_unit: "HOUR", start: `${date} 00`, duration: 24 };
  const messages = await attempt(() => call(appAuth(), "GET", "/v2/statistic/messages" + query(hours)));
  if (!messages) return;
  const sent = messages.send_msg_stat;
  root.replaceChildren(block(`Messages per hour on ${date}`, sent.map((r) => r.time.slice(11)), [
    { name: "private", values: sent.map((r) => r.single_send_msg) },
    { name: "group", values: sent.map((r) => r.group_send_msg) },
  ], [column("hour", "time"), column("private", "single_send_msg"), column("group", "group_send_msg")], sent));
}

export const statsSection = {
  id: "stats",
  title: "Statistics",
  async render(root) {
    const results = h("div", { id: "stats-results" });
    const week = new Date(Date.now() - 6 * 24 * 3600 * 1000);
    const ask = form("stats-query", [
      { name: "start", label: "First day (UTC, yyyy-MM-dd)", value: day(week) },
      { name: "duration", label: "Days (1 to 60)", type: "number", value: 7 },
    ], "Show", (values) => show(results, values));
    const hourly = h("div", { id: "stats-hours" });
    const askHours = form("stats-hours-query", [{ name: "day", label: "Messages per hour on (UTC, yyyy-MM-dd)",
      value: day(new Date()) }], "Show", (values) => showHours(hourly, values.day));
    root.replaceChildren(heading("Statistics"), card(null, ask), results, card(null, askHours), hourly);
    await show(results, { start: day(week), duration: 7 });
  },
};
