// jim admin console: the entry module. Signs in with an app's credentials or the
// administrator's secret, shows the sections in a menu (the URL's #fragment names the one
// shown, never a secret), and exposes the read-only window.jimAdmin for tests.
import { ApiError, call, query } from "./api.js";
import { appsSection } from "./apps.js";
import { $, clearBanners, h, showError } from "./dom.js";
import { groupsSection } from "./groups.js";
import { metricsSection, stopMetrics } from "./metrics.js";
import { reportsSection } from "./reports.js";
import { roomsSection } from "./rooms.js";
import { sendSection } from "./send.js";
import { forget, isAdmin, restore, save, session } from "./session.js";
import { statsSection } from "./stats.js";
import { usersSection } from "./users.js";
import { wordsSection } from "./words.js";

const SECTIONS = [appsSection, usersSection, groupsSection, roomsSection, wordsSection, sendSection,
  reportsSection, statsSection, metricsSection];
const view = { section: null, rendering: 0 };

function available() {
  return SECTIONS.filter((s) => !s.adminOnly || isAdmin());
}

function current() {
  const wanted = location.hash.slice(1);
  const sections = available();
  return sections.find((s) => s.id === wanted) || sections[0];
}

function banner() {
  const app = session.app;
  if (app) $("app-banner").textContent = `App ${app.appKey}`;
  else $("app-banner").textContent = isAdmin() ? "No app picked: open one in Apps to manage its users." : "";
  $("who").textContent = isAdmin() ? "Server administrator" : `App ${app ? app.appKey : ""}`;
}

function drawNav(active) {
  // the section shown, clicked again, is read again (the #fragment does not change)
  const again = (s) => () => {
    if (location.hash !== `#${s.id}`) return;
    clearBanners();
    rerender();
  };
  $("nav").replaceChildren(...available().map((s) => h("a", { href: `#${s.id}`, class: s === active ? "active" : "",
    "aria-current": s === active ? "page" : null, dataset: { section: s.id }, onclick: again(s) }, s.title)));
}

async function rerender() {
  const section = current();
  const number = ++view.rendering;
  stopMetrics();
  banner();
  drawNav(section);
  view.section = section.id;
  const root = h("div", { class: "section", dataset: { section: section.id } });
  $("section").replaceChildren(root);
  if (!section.adminOnly && !section.open && !session.app) {
    root.append(h("p", { class: "empty" }, "Pick an app in Apps first: this section works on one app."));
    return;
  }
  await section.render(root, rerender);
  if (number === view.rendering) $("section").dataset.ready = section.id;
}

function showConsole() {
  $("sign-in").hidden = true;
  $("console").hidden = false;
  $("sign-out").hidden = false;
  $("who").hidden = false;
  rerender();
}

function showSignIn(message) {
  stopMetrics();
  $("console").hidden = true;
  $("sign-out").hidden = true;
  $("who").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message || "";
  $("sign-in-master-secret").value = "";
  $("sign-in-admin-secret").value = "";
}

function mode() {
  return document.querySelector("input[name=mode]:checked").value;
}

async function signIn() {
  const admin = mode() === "admin";
  const appKey = $("sign-in-app-key").value.trim();
  const masterSecret = $("sign-in-master-secret").value;
  const adminSecret = $("sign-in-admin-secret").value;
  if (admin ? !adminSecret : !appKey || !masterSecret) {
    $("sign-in-error").textContent = admin ? "Enter the administrator's secret." : "Enter the app key and its master secret.";
    return;
  }
  $("sign-in-submit").disabled = true;
  $("sign-in-error").textContent = "";
  try {
    // a call that needs the credentials, to check them
    if (admin) await call({ adminSecret }, "GET", "/admin/v1/apps" + query({ start: 0, count: 1 }));
    else await call({ appKey, masterSecret }, "GET", "/v1/sensitiveword/status");
  } catch (error) {
    $("sign-in-error").textContent = error instanceof ApiError ? error.describe() : String(error);
    return;
  } finally {
    $("sign-in-submit").disabled = false;
  }
  forget();
  if (admin) session.adminSecret = adminSecret;
  else session.app = { appKey, masterSecret };
  save();
  location.hash = admin ? "#apps" : "#users";
  clearBanners();
  showConsole();
}

function wire() {
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", () => {
      $("app-fields").hidden = mode() !== "app";
      $("admin-fields").hidden = mode() !== "admin";
    });
  }
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn();
  });
  $("sign-out").addEventListener("click", () => {
    forget();
    history.replaceState(null, "", location.pathname);
    showSignIn("Signed out.");
  });
  // a banner speaks of the last action: the next one (a button, a link, a form) clears it
  // first, before its own handler shows what comes of it
  $("console").addEventListener("submit", clearBanners, true);
  $("console").addEventListener("click", (event) => {
    if (event.target.closest("button, a")) clearBanners();
  }, true);
  window.addEventListener("hashchange", () => {
    if ($("console").hidden) return;
    clearBanners();
    rerender();
  });
  // a bug, not a refusal (those are shown where they happen): shown, and still reported
  window.addEventListener("unhandledrejection", (event) => showError(event.reason));
}

window.jimAdmin = Object.freeze({
  get signedIn() { return !$("console").hidden; },
  get admin() { return isAdmin(); },
  get appKey() { return session.app ? session.app.appKey : null; },
  get section() { return view.section; },
  get error() { return $("error").hidden ? "" : $("error").textContent; },
  get notice() { return $("notice").hidden ? "" : $("notice").textContent; },
});

wire();
if (restore()) showConsole();
else showSignIn();
