// Groups and their members: a page of the list, create, members added and removed, dissolve.
import { call, query, segment } from "./api.js";
import { attempt, card, confirmAction, form, h, heading, names, pager, showNotice, table } from "./dom.js";
import { appAuth } from "./session.js";

const PAGE = 20;
let start = 0;

async function members(group, root, rerender) {
  const base = `/v1/groups/${segment(group.gid)}`;
  const list = await attempt(() => call(appAuth(), "GET", `${base}/members`));
  if (!list) return;
  const roles = ["member", "owner", "admin"];
  const rows = table([
    { title: "User name", value: (m) => m.username },
    { title: "Role", value: (m) => roles[m.flag] || String(m.flag) },
    { title: "Silenced", value: (m) => (m.silenced ? "yes" : "") },
  ], list, "Members");
  const change = (key, verb) => form(`${key}-members-${group.gid}`, [{ name: "users", label: `User names to ${verb}` }],
    verb[0].toUpperCase() + verb.slice(1), async (values) => {
      const users = names(values.users);
      if (!users.length) return;
      const done = await attempt(() => call(appAuth(), "POST", `${base}/members`, { [key]: users }));
      if (done !== undefined) {
        await members(group, root, rerender);
        showNotice(`Group ${group.gid}: ${key === "add" ? "added" : "removed"} ${users.join(", ")}.`);
      }
    });
  const dissolve = h("button", { class: "danger", onclick: async () => {
    if (!await confirmAction(`Dissolve group ${group.gid} (${group.name})?`)) return;
    const done = await attempt(() => call(appAuth(), "DELETE", base));
    if (done !== undefined) { await rerender(); showNotice(`Dissolved group ${group.gid}.`); }
  } }, "Dissolve group");
  root.replaceChildren(card(`Group ${group.gid}: ${group.name}`, rows, change("add", "add"),
    change("remove", "remove"), dissolve));
}

export const groupsSection = {
  id: "groups",
  title: "Groups",
  async render(root, rerender) {
    const detail = h("div", { id: "group-detail" });
    const list = await attempt(() => call(appAuth(), "GET", "/v1/groups" + query({ start, count: PAGE })));
    const groups = list ? list.groups : [];
    const rows = table([
      { title: "Id", value: (g) => h("button", { class: "link", dataset: { gid: g.gid },
        onclick: () => members(g, detail, rerender) }, String(g.gid)) },
      { title: "Name", value: (g) => g.name },
      { title: "Owner", value: (g) => g.owner_username },
      { title: "Kind", value: (g) => (g.flag === 2 ? "public" : "private") },
      { title: "Created", value: (g) => g.ctime },
    ], groups, "Groups");
    const create = form("create-group", [
      { name: "owner", label: "Owner" },
      { name: "name", label: "Name" },
      { name: "members", label: "Members (user names)" },
      { name: "desc", label: "Description (optional)" },
      { name: "flag", label: "Kind", type: "select", value: "1", options: [["1", "private"], ["2", "public"]] },
    ], "Create group", async (values) => {
      const body = { owner_username: values.owner, name: values.name, members_username: names(values.members),
        flag: Number(values.flag) };
      if (values.desc) body.desc = values.desc;
      const group = await attempt(() => call(appAuth(), "POST", "/v1/groups", body));
      if (group) { await rerender(); showNotice(`Created group ${group.gid}.`); }
    });
    root.replaceChildren(heading("Groups"),
      card(null, rows, list ? pager(start, PAGE, list.total, (next) => { start = next; rerender(); }) : null),
      detail, card("Create a group", create));
  },
};
