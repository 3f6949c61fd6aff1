// Users: a page of the list, look-up by name, registration, forbid and allow again, a new
// password, and the devices a user is online on (userstat).
import { call, query, segment } from "./api.js";
import { attempt, card, confirmAction, form, h, heading, pager, showNotice, table } from "./dom.js";
import { appAuth } from "./session.js";

const PAGE = 20;
let start = 0;

function devices(entry) {
  if (!entry.devices.length) return "no devices";
  return entry.devices.map((d) => `${d.platform}${d.online ? " online" : " offline"}`).join(", ");
}

async function userDetail(username, root, rerender) {
  const base = `/v1/users/${segment(username)}`;
  const user = await attempt(() => call(appAuth(), "GET", base));
  if (!user) return;
  const stat = await attempt(() => call(appAuth(), "POST", "/v1/users/userstat", [username]));
  const profile = table([{ title: "field", value: (r) => r[0] }, { title: "value", value: (r) => r[1] }],
    Object.entries(user).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : v]), "Profile");
  const forbid = (disable) => async () => {
    if (disable && !await confirmAction(`Forbid ${username}? Its connections are closed and it may not sign in.`)) return;
    const done = await attempt(() => call(appAuth(), "PUT", `${base}/forbidden${query({ disable })}`));
    if (done !== undefined) {
      showNotice(disable ? `${username} is forbidden.` : `${username} may sign in again.`);
      userDetail(username, root, rerender);
    }
  };
  const password = form(`password-${username}`, [{ name: "password", label: "New password", type: "password" }],
    "Set password", async (values) => {
      const done = await attempt(() => call(appAuth(), "PUT", `${base}/password`, { new_password: values.password }));
      if (done !== undefined) showNotice(`New password set for ${username}; its connections were closed.`);
    });
  const remove = h("button", { class: "danger", onclick: async () => {
    if (!await confirmAction(`Delete user ${username}?`)) return;
    const done = await attempt(() => call(appAuth(), "DELETE", base));
    if (done !== undefined) { showNotice(`Deleted ${username}.`); rerender(); }
  } }, "Delete user");
  root.replaceChildren(card(`User ${username}`,
    h("p", { id: "user-devices", class: "devices" }, stat ? `Devices: ${devices(stat[0])}` : ""),
    profile,
    h("div", { class: "row" },
      h("button", { id: "forbid-user", class: "danger", onclick: forbid(true) }, "Forbid"),
      h("button", { id: "unforbid-user", onclick: forbid(false) }, "Allow again"),
      h("button", { onclick: () => userDetail(username, root, rerender) }, "Refresh"),
      remove),
    password));
}

export const usersSection = {
  id: "users",
  title: "Users",
  async render(root, rerender) {
    const detail = h("div", { id: "user-detail" });
    const list = await attempt(() => call(appAuth(), "GET", "/v1/users" + query({ start, count: PAGE })));
    const users = list ? list.users : [];
    const online = users.length
      ? await attempt(() => call(appAuth(), "POST", "/v1/users/userstat", users.map((u) => u.username)))
      : [];
    const state = new Map((online || []).map((entry) => [entry.username, entry]));
    const rows = table([
      { title: "User name", value: (u) => h("button", { class: "link", dataset: { user: u.username },
        onclick: () => userDetail(u.username, detail, rerender) }, u.username) },
      { title: "Nickname", value: (u) => u.nickname || "" },
      { title: "Registered", value: (u) => u.ctime },
      { title: "Online", value: (u) => (state.has(u.username) ? devices(state.get(u.username)) : "") },
    ], users, "Users");
    const lookup = form("lookup-user", [{ name: "username", label: "User name" }], "Look up",
      async (values) => { if (values.username) await userDetail(values.username, detail, rerender); });
    const register = form("register-user", [
      { name: "username", label: "User name" },
      { name: "password", label: "Password", type: "password" },
      { name: "nickname", label: "Nickname (optional)" },
    ], "Register", async (values) => {
      const entry = { username: values.username, password: values.password };
      if (values.nickname) entry.nickname = values.nickname;
      const answer = await attempt(() => call(appAuth(), "POST", "/v1/users", [entry]));
      if (!answer) return;
      await rerender();
      showNotice(`Registered ${values.username}.`);
    });
    root.replaceChildren(heading("Users"),
      card(null, rows, list ? pager(start, PAGE, list.total, (next) => { start = next; rerender(); }) : null),
      card("Look up a user", lookup), detail, card("Register a user", register));
  },
};
