// Apps (the administrator only): list, create, change settings, give a new master secret,
// delete, and pick the app the other sections work on: the administrator's secret acts for
// any app (its calls name the app with X-App-Key), so no app's master secret is needed.
import { call, segment, query } from "./api.js";
import { attempt, card, confirmAction, form, h, heading, names, pager, showNotice, table } from "./dom.js";
import { adminAuth, forgetApp, rememberSecret, session, useApp } from "./session.js";

const PAGE = 20;
let start = 0;

function setting(app) {
  const parts = [];
  if (app.friend_mode) parts.push("friend mode");
  if (app.word_filter) parts.push("word filter");
  if (app.sdk_register !== null) parts.push(app.sdk_register ? "SDK register on" : "SDK register off");
  if (app.rest_rate !== null) parts.push(`${app.rest_rate} calls/min`);
  if (app.cross_apps.length) parts.push(`cross-app: ${app.cross_apps.join(", ")}`);
  if (app.callback_url) parts.push(`callback ${app.callback_url}`);
  return parts.join("; ");
}

// The settings of a create or change form as the API takes them.
function settings(values) {
  const out = { name: values.name, friend_mode: values.friend_mode, word_filter: values.word_filter,
    sdk_register: values.sdk_register === "" ? null : values.sdk_register === "true",
    callback_url: values.callback_url || null, cross_apps: names(values.cross_apps),
    rest_rate: values.rest_rate === "" ? null : Number(values.rest_rate) };
  if (values.appKey) out.appKey = values.appKey;
  return out;
}

function settingFields(app) {
  return [
    { name: "name", label: "Name", value: app ? app.name : "" },
    { name: "friend_mode", label: "Friend mode (private messages between friends only)", type: "checkbox", value: app && app.friend_mode },
    { name: "word_filter", label: "Sensitive word filter", type: "checkbox", value: app && app.word_filter },
    { name: "sdk_register", label: "Clients may register users", type: "select",
      value: app && app.sdk_register !== null ? String(app.sdk_register) : "",
      options: [["", "the server's default"], ["true", "yes"], ["false", "no"]] },
    { name: "callback_url", label: "Callback URL", value: app ? app.callback_url : "", placeholder: "https://…" },
    { name: "cross_apps", label: "Cross-app chat with (app keys)", value: app ? app.cross_apps.join(", ") : "" },
    { name: "rest_rate", label: "REST calls a minute (empty: the server's, 0: no limit)", type: "number",
      value: app && app.rest_rate !== null ? app.rest_rate : "" },
  ];
}

function showSecret(app, what) {
  rememberSecret(app.appKey, app.masterSecret);
  showNotice(`${what} ${app.appKey}: its master secret is ${app.masterSecret} — shown only now; `
    + "this tab remembers it until you sign out.");
}

function details(app, root, rerender) {
  const use = h("button", { class: "primary", onclick: () => {
    useApp(app.appKey, session.knownSecrets[app.appKey] || null);
    showNotice(`Working on app ${app.appKey}.`);
    rerender();
  } }, "Use this app");
  const edit = form(`edit-${app.appKey}`, settingFields(app), "Save settings", async (values) => {
    const changed = await attempt(() => call(adminAuth(), "PUT", `/admin/v1/apps/${segment(app.appKey)}`, settings(values)));
    if (changed) { showNotice(`Saved the settings of ${app.appKey}.`); rerender(); }
  });
  const rotate = h("button", { onclick: async () => {
    if (!await confirmAction(`Give ${app.appKey} a new master secret? The old one stops working at once.`)) return;
    const answer = await attempt(() => call(adminAuth(), "POST", `/admin/v1/apps/${segment(app.appKey)}/secret`));
    if (answer) { rerender(); showSecret(answer, "New secret for"); }
  } }, "New master secret");
  const remove = h("button", { class: "danger", onclick: async () => {
    if (!await confirmAction(`Delete app ${app.appKey} (${app.name}) and everything of it?`)) return;
    const done = await attempt(() => call(adminAuth(), "DELETE", `/admin/v1/apps/${segment(app.appKey)}`));
    if (done !== undefined) { forgetApp(app.appKey); rerender(); showNotice(`Deleted app ${app.appKey}.`); }
  } }, "Delete app");
  root.replaceChildren(card(`App ${app.appKey}`, use, edit, h("div", { class: "row" }, rotate, remove)));
}

export const appsSection = {
  id: "apps",
  title: "Apps",
  adminOnly: true,
  async render(root, rerender) {
    const detail = h("div", { id: "app-detail" });
    const list = await attempt(() => call(adminAuth(), "GET", "/admin/v1/apps" + query({ start, count: PAGE })));
    const create = form("create-app", [{ name: "appKey", label: "App key (empty: a random one)" }, ...settingFields(null)],
      "Create app", async (values) => {
        const app = await attempt(() => call(adminAuth(), "POST", "/admin/v1/apps", settings(values)));
        if (app) { rerender(); showSecret(app, "Created app"); }
      });
    const apps = list ? list.apps : [];
    const rows = table([
      { title: "App key", value: (a) => a.appKey },
      { title: "Name", value: (a) => a.name },
      { title: "Created", value: (a) => a.created },
      { title: "Settings", value: setting },
      { title: "", value: (a) => h("button", { dataset: { app: a.appKey }, onclick: () => details(a, detail, rerender) },
        session.app && session.app.appKey === a.appKey ? "Open (in use)" : "Open") },
    ], apps, "Apps");
    root.replaceChildren(heading("Apps"),
      card(null, rows, list ? pager(start, PAGE, list.total, (next) => { start = next; rerender(); }) : null),
      detail, card("Create an app", create));
  },
};
