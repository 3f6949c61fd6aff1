// Calls to jim's APIs: the REST API v1 and the Report API v2 with an app's Basic credentials,
// the administrator's /admin/v1 with a bearer secret, and /metrics and /healthz. Credentials
// go in the Authorization header only, never in a URL. Requests are made with
// credentials: "omit", so that a 401 answer never opens the browser's own sign-in dialog.

// A refusal: the HTTP status and, from JMessage's error envelope, its code and message.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  describe() {
    const code = this.code ? `error ${this.code}` : "error";
    return `${code} (HTTP ${this.status}): ${this.message}`;
  }
}

function basic(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return "Basic " + btoa(binary);
}

// auth: {appKey, masterSecret} for /v1 and /v2 as the app's server; {appKey, adminSecret}
// for them as the server administrator acting for the app (X-App-Key names it);
// {adminSecret} for /admin/v1; or null.
export function authHeaders(auth) {
  if (!auth) return {};
  if (auth.adminSecret) {
    const headers = { Authorization: "Bearer " + auth.adminSecret };
    if (auth.appKey) headers["X-App-Key"] = auth.appKey;
    return headers;
  }
  return { Authorization: basic(auth.appKey, auth.masterSecret) };
}

export function query(params) {
  const pairs = Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== "");
  if (!pairs.length) return "";
  return "?" + pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

export function segment(value) {
  return encodeURIComponent(String(value));
}

async function errorOf(response) {
  const text = await response.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch (ignored) {
    body = null;
  }
  const error = body && body.error;
  if (error && typeof error === "object") {
    return new ApiError(response.status, error.code, String(error.message || ""));
  }
  // the batch register answers an array whose entries carry their own errors
  if (Array.isArray(body)) {
    const refused = body.filter((entry) => entry && entry.error);
    if (refused.length) {
      const first = refused[0].error;
      const who = refused.map((entry) => entry.username).filter(Boolean).join(", ");
      return new ApiError(response.status, first.code, `${first.message}${who ? ` (${who})` : ""}`);
    }
  }
  return new ApiError(response.status, null, text.trim().slice(0, 200) || response.statusText);
}

// The answer's JSON (null for an empty body); an ApiError for any status but 2xx.
export async function call(auth, method, path, body) {
  const headers = { Accept: "application/json", ...authHeaders(auth) };
  const init = { method, headers, credentials: "omit", cache: "no-store", redirect: "error" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (failure) {
    throw new ApiError(0, null, "the server could not be reached: " + failure.message);
  }
  if (!response.ok) throw await errorOf(response);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// whether /metrics wanted credentials last time (it does from any host but loopback)
let metricsWantAuth = false;

// /metrics as text: as it is (open to loopback clients), or with credentials once it asked
// for them: other clients need the default app's, or the administrator's secret.
export async function metricsText(auth) {
  const attempt = async (withAuth) => {
    const headers = withAuth ? authHeaders(auth) : {};
    return fetch("/metrics", { headers, credentials: "omit", cache: "no-store" });
  };
  const usable = Boolean(auth && (auth.appKey || auth.adminSecret));
  const withAuth = metricsWantAuth && usable;
  let response = await attempt(withAuth);
  if (response.status === 401 && !withAuth && usable) {
    metricsWantAuth = true;
    response = await attempt(true);
  }
  if (!response.ok) throw await errorOf(response);
  return response.text();
}
