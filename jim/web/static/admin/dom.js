// DOM helpers: elements, tables, small forms, the error and notice banners, and a confirm
// dialog. Text from the server reaches the page through textContent only (no innerHTML).
export const $ = (id) => document.getElementById(id);

// h("button", {class: "x", onclick: f, dataset: {...}}, "text", child, ...)
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (tag === "button") node.type = "button";
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "class") node.className = value;
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function showError(error) {
  const text = error && typeof error.describe === "function" ? error.describe()
    : String((error && error.message) || error);
  $("notice").hidden = true;
  $("error").textContent = text;
  $("error").hidden = false;
}

export function showNotice(text) {
  $("error").hidden = true;
  $("notice").textContent = text;
  $("notice").hidden = false;
}

export function clearBanners() {
  $("error").hidden = true;
  $("notice").hidden = true;
}

// Runs an async action, showing its refusal, if any, in the error banner; its result or
// undefined.
export async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  }
}

// A table of rows (objects), with columns [{title, value: row => text or node}].
export function table(columns, rows, name) {
  const head = h("tr", null, columns.map((c) => h("th", { scope: "col" }, c.title)));
  const body = rows.map((row) => h("tr", null, columns.map((c) => {
    const value = c.value(row);
    return h("td", { dataset: { column: c.title } }, value === undefined ? "" : value);
  })));
  const empty = rows.length ? null : h("p", { class: "empty" }, "Nothing to show.");
  return h("div", { class: "table-wrap" },
    h("table", { "aria-label": name || null }, h("thead", null, head), h("tbody", null, body)), empty);
}

// A form of fields [{name, label, type?, value?, options?, placeholder?}] whose submit calls
// onSubmit(values); "checkbox" gives booleans, "select" takes [value, label] options.
export function form(id, fields, submitLabel, onSubmit) {
  const inputs = {};
  const rows = fields.map((field) => {
    const inputId = `${id}-${field.name}`;
    let input;
    if (field.type === "select") {
      input = h("select", { id: inputId }, field.options.map(([value, label]) =>
        h("option", { value, selected: String(field.value) === String(value) }, label)));
    } else if (field.type === "textarea") {
      input = h("textarea", { id: inputId, rows: 2, placeholder: field.placeholder }, field.value || "");
    } else {
      input = h("input", { id: inputId, type: field.type || "text", placeholder: field.placeholder,
        autocomplete: "off", spellcheck: "false" });
      if (field.type === "checkbox") input.checked = Boolean(field.value);
      else if (field.value !== undefined && field.value !== null) input.value = String(field.value);
    }
    inputs[field.name] = input;
    const cls = field.type === "checkbox" ? "field check" : "field";
    return h("div", { class: cls }, h("label", { for: inputId }, field.label), input);
  });
  const node = h("form", { id, class: "inline-form", novalidate: true }, rows,
    h("button", { type: "submit", class: "primary" }, submitLabel));
  node.querySelector("button[type=submit]").type = "submit";
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {};
    for (const [name, input] of Object.entries(inputs)) {
      values[name] = input.type === "checkbox" ? input.checked : input.value.trim();
    }
    const button = node.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await onSubmit(values, inputs);
    } finally {
      button.disabled = false;
    }
  });
  return node;
}

// "a, b  c" -> ["a", "b", "c"]
export function names(text) {
  return String(text || "").split(/[\s,]+/).filter(Boolean);
}

// Previous/next buttons for start/count paging of `total` entries.
export function pager(start, count, total, go) {
  const last = start + count >= total;
  return h("div", { class: "pager" },
    h("button", { disabled: start === 0, onclick: () => go(Math.max(0, start - count)) }, "Previous"),
    h("span", null, total ? `${start + 1}–${Math.min(start + count, total)} of ${total}` : "0 of 0"),
    h("button", { disabled: last, onclick: () => go(start + count) }, "Next"));
}

// Resolves true when the operator confirms `text` in the page's dialog, false otherwise.
export function confirmAction(text) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  return new Promise((resolve) => {
    const done = (answer) => () => {
      $("confirm-yes").onclick = null;
      $("confirm-no").onclick = null;
      dialog.close();
      resolve(answer);
    };
    $("confirm-yes").onclick = done(true);
    $("confirm-no").onclick = done(false);
    dialog.oncancel = done(false);
    dialog.showModal();
  });
}

export function heading(text, ...extra) {
  return h("div", { class: "section-head" }, h("h2", null, text), ...extra);
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h3", null, title) : null, ...children);
}
