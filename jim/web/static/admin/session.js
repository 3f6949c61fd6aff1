// Who is signed in, kept in this tab's sessionStorage only (never localStorage): an app's
// key and master secret, or the administrator's secret with the app picked, if any (the
// administrator's calls for it carry the administrator's secret and name the app), and the
// master secrets of the apps the administrator created or gave a new secret in this tab (jim
// keeps only their hash: they cannot be read back; they are shown once).
const KEY = "jim.admin.session";

export const session = {
  adminSecret: null,
  app: null, // {appKey, masterSecret}: the app the /v1 and /v2 calls are made for
  knownSecrets: {}, // appKey -> masterSecret, for the administrator
};

export function save() {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function restore() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch (ignored) {
    saved = null;
  }
  if (!saved || (!saved.adminSecret && !saved.app)) return false;
  session.adminSecret = saved.adminSecret || null;
  session.app = saved.app || null;
  session.knownSecrets = saved.knownSecrets || {};
  return true;
}

export function forget() {
  sessionStorage.removeItem(KEY);
  session.adminSecret = null;
  session.app = null;
  session.knownSecrets = {};
}

export const isAdmin = () => Boolean(session.adminSecret);
export const adminAuth = () => (session.adminSecret ? { adminSecret: session.adminSecret } : null);
export const appAuth = () => {
  const app = session.app;
  if (app && session.adminSecret) return { appKey: app.appKey, adminSecret: session.adminSecret };
  return app;
};

export function useApp(appKey, masterSecret) {
  session.app = { appKey, masterSecret };
  if (session.adminSecret && masterSecret) session.knownSecrets[appKey] = masterSecret;
  save();
}

export function rememberSecret(appKey, masterSecret) {
  session.knownSecrets[appKey] = masterSecret;
  if (session.app && session.app.appKey === appKey) session.app.masterSecret = masterSecret;
  save();
}

export function forgetApp(appKey) {
  delete session.knownSecrets[appKey];
  if (session.app && session.app.appKey === appKey) session.app = null;
  save();
}
