// Chat rooms and their members: a page of the list, create, members added and removed, delete.
import { call, query, segment } from "./api.js";
import { attempt, card, confirmAction, form, h, heading, names, pager, showNotice, table } from "./dom.js";
import { appAuth } from "./session.js";

const PAGE = 20;
let start = 0;

async function members(room, root, rerender, from = 0) {
  const base = `/v1/chatroom/${segment(room.id)}`;
  const list = await attempt(() => call(appAuth(), "GET", `${base}/members` + query({ start: from, count: PAGE })));
  if (!list) return;
  const rows = table([
    { title: "User name", value: (m) => m.username },
    { title: "Silenced", value: (m) => (m.flag === 1 ? "yes" : "") },
    { title: "In since", value: (m) => m.room_ctime },
  ], list.users, "Room members");
  const change = (method, verb) => form(`${verb}-room-members-${room.id}`, [{ name: "users", label: `User names to ${verb}` }],
    verb[0].toUpperCase() + verb.slice(1), async (values) => {
      const users = names(values.users);
      if (!users.length) return;
      const done = await attempt(() => call(appAuth(), method, `${base}/members`, users));
      if (done !== undefined) {
        await members(room, root, rerender);
        showNotice(`Room ${room.id}: ${verb === "add" ? "added" : "removed"} ${users.join(", ")}.`);
      }
    });
  const remove = h("button", { class: "danger", onclick: async () => {
    if (!await confirmAction(`Delete chat room ${room.id} (${room.name})?`)) return;
    const done = await attempt(() => call(appAuth(), "DELETE", base));
    if (done !== undefined) { await rerender(); showNotice(`Deleted chat room ${room.id}.`); }
  } }, "Delete room");
  root.replaceChildren(card(`Chat room ${room.id}: ${room.name}`, rows,
    pager(from, PAGE, list.total, (next) => members(room, root, rerender, next)),
    change("PUT", "add"), change("DELETE", "remove"), remove));
}

export const roomsSection = {
  id: "rooms",
  title: "Chat rooms",
  async render(root, rerender) {
    const detail = h("div", { id: "room-detail" });
    const list = await attempt(() => call(appAuth(), "GET", "/v1/chatroom" + query({ start, count: PAGE })));
    const rooms = list ? list.rooms : [];
    const rows = table([
      { title: "Id", value: (r) => h("button", { class: "link", dataset: { room: r.id },
        onclick: () => members(r, detail, rerender) }, String(r.id)) },
      { title: "Name", value: (r) => r.name },
      { title: "Owner", value: (r) => r.owner_username },
      { title: "Members", value: (r) => `${r.total_member_count} of ${r.max_member_count}` },
      { title: "Created", value: (r) => r.ctime },
    ], rooms, "Chat rooms");
    const create = form("create-room", [
      { name: "owner", label: "Owner" },
      { name: "name", label: "Name" },
      { name: "members", label: "Members (user names)" },
      { name: "description", label: "Description (optional)" },
    ], "Create room", async (values) => {
      const body = { owner_username: values.owner, name: values.name, members_username: names(values.members) };
      if (values.description) body.description = values.description;
      const room = await attempt(() => call(appAuth(), "POST", "/v1/chatroom", body));
      if (room) { await rerender(); showNotice(`Created chat room ${room.chatroom_id}.`); }
    });
    root.replaceChildren(heading("Chat rooms"),
      card(null, rows, list ? pager(start, PAGE, list.total, (next) => { start = next; rerender(); }) : null),
      detail, card("Create a chat room", create));
  },
};
