// Messages sent in an admin's name (POST /v1/messages), and the app's admins: a message's
// sender must be one.
import { call, query } from "./api.js";
import { attempt, card, form, h, heading, showNotice, table } from "./dom.js";
import { appAuth } from "./session.js";

export const sendSection = {
  id: "send",
  title: "Send a message",
  async render(root, rerender) {
    const admins = await attempt(() => call(appAuth(), "GET", "/v1/admins" + query({ start: 0, count: 500 })));
    const list = admins ? admins.users : [];
    const send = form("send-message", [
      { name: "from", label: "From (admin)", type: "select", value: list.length ? list[0].username : "",
        options: list.length ? list.map((a) => [a.username, a.username]) : [["", "register an admin first"]] },
      { name: "target_type", label: "To", type: "select", value: "single",
        options: [["single", "a user"], ["group", "a group"], ["chatroom", "a chat room"]] },
      { name: "target_id", label: "User name, group id or room id" },
      { name: "text", label: "Text", type: "textarea" },
    ], "Send", async (values) => {
      const body = { version: 1, target_type: values.target_type, target_id: values.target_id,
        from_type: "admin", from_id: values.from, msg_type: "text", msg_body: { text: values.text } };
      const sent = await attempt(() => call(appAuth(), "POST", "/v1/messages", body));
      if (sent) showNotice(`Sent: message ${sent.msg_id} at ${new Date(sent.msg_ctime).toISOString()}.`);
    });
    const register = form("register-admin", [
      { name: "username", label: "Admin user name" },
      { name: "password", label: "Password", type: "password" },
    ], "Register admin", async (values) => {
      const done = await attempt(() => call(appAuth(), "POST", "/v1/admins",
        { username: values.username, password: values.password }));
      if (done !== undefined) { await rerender(); showNotice(`Registered admin ${values.username}.`); }
    });
    root.replaceChildren(heading("Send a message"),
      card("Message", send),
      card("Admins", table([{ title: "Admin", value: (a) => a.username }, { title: "Registered", value: (a) => a.ctime }],
        list, "Admins"), register));
  },
};
