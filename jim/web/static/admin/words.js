// Sensitive words: the list, words added and deleted, and the filter switched on or off.
import { call, query } from "./api.js";
import { attempt, card, form, h, heading, names, pager, showNotice, table } from "./dom.js";
import { appAuth } from "./session.js";

const PAGE = 50;
let start = 0;

export const wordsSection = {
  id: "words",
  title: "Sensitive words",
  async render(root, rerender) {
    const status = await attempt(() => call(appAuth(), "GET", "/v1/sensitiveword/status"));
    const list = await attempt(() => call(appAuth(), "GET", "/v1/sensitiveword" + query({ start, count: PAGE })));
    const on = Boolean(status && status.status === 1);
    const toggle = h("button", { id: "word-filter-toggle", class: on ? "" : "primary", onclick: async () => {
      const done = await attempt(() => call(appAuth(), "PUT", "/v1/sensitiveword/status" + query({ status: on ? 0 : 1 })));
      if (done !== undefined) { await rerender(); showNotice(`The word filter is ${on ? "off" : "on"}.`); }
    } }, on ? "Switch the filter off" : "Switch the filter on");
    const remove = (word) => h("button", { class: "danger small", dataset: { word }, onclick: async () => {
      const done = await attempt(() => call(appAuth(), "DELETE", "/v1/sensitiveword", { word }));
      if (done !== undefined) { await rerender(); showNotice(`Removed “${word}”.`); }
    } }, "Delete");
    const rows = table([
      { title: "Word", value: (w) => w.name },
      { title: "Added", value: (w) => w.itime },
      { title: "", value: (w) => remove(w.name) },
    ], list ? list.words : [], "Sensitive words");
    const add = form("add-words", [{ name: "words", label: "Words to add (separated by spaces or commas)" }], "Add",
      async (values) => {
        const words = names(values.words);
        if (!words.length) return;
        const done = await attempt(() => call(appAuth(), "POST", "/v1/sensitiveword", words));
        if (done !== undefined) { await rerender(); showNotice(`Added ${words.join(", ")}.`); }
      });
    root.replaceChildren(heading("Sensitive words"),
      card("Filter", h("p", { id: "word-filter-state" }, status ? `The filter is ${on ? "on" : "off"}: `
        + (on ? "text messages have these words masked." : "messages are not changed.") : ""), toggle),
      card("Words", rows, list ? pager(start, PAGE, list.total, (next) => { start = next; rerender(); }) : null),
      card("Add words", add));
  },
};
