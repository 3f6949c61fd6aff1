// Live figures from /metrics (this node's) and /healthz, every few seconds: connections by
// protocol, messages a second, the store's commit latency, computed from successive samples.
import { call, metricsText } from "./api.js";
import { card, h, heading, showError, table } from "./dom.js";
import { format, lineChart } from "./chart.js";
import { figures, parseMetrics } from "./prom.js";
import { appAuth } from "./session.js";

const EVERY_MS = 3000;
const KEEP = 60; // samples in the charts

let timer = null;
let previous = null; // {at, now}
let history = [];

export function stopMetrics() {
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

async function sample() {
  const [text, health] = await Promise.all([metricsText(appAuth()), call(null, "GET", "/healthz")]);
  const at = performance.now();
  const seconds = previous ? (at - previous.at) / 1000 : 0;
  const result = figures(parseMetrics(text), previous && previous.now, seconds);
  previous = { at, now: result.now };
  if (result.rates) {
    history.push(result.rates);
    if (history.length > KEEP) history.shift();
  }
  return { ...result, health };
}

function draw(root, result) {
  const { now, rates, health } = result;
  const protocols = Object.entries(now.connections).map(([protocol, open]) => (
    { protocol, open, signedIn: now.signedIn[protocol] }));
  const rate = (key, unit) => (rates ? `${format(rates[key])} ${unit}` : "measuring…");
  const figuresTable = table([
    { title: "figure", value: (r) => r[0] },
    { title: "value", value: (r) => r[1] },
  ], [
    ["Users online", String(health.online_users)],
    ["Sessions on this node", String(health.sessions)],
    ["Store", health.store],
    ["Messages in", rate("messagesIn", "/s")],
    ["Pushes out", rate("messagesOut", "/s")],
    ["Logins", rate("logins", "/s")],
    ["REST calls", rate("restCalls", "/s")],
    ["Store commits", rate("commits", "/s")],
    ["Store commit latency (mean)", rates && rates.commitMs !== null ? `${format(rates.commitMs)} ms` : "no commit"],
    ["Messages stored since start", String(now.messagesIn)],
  ], "Live figures");
  const connections = table([
    { title: "protocol", value: (r) => r.protocol },
    { title: "open connections", value: (r) => String(r.open) },
    { title: "signed in", value: (r) => (r.signedIn === undefined ? "—" : String(r.signedIn)) },
  ], protocols, "Connections by protocol");
  const charts = h("div", { class: "charts" },
    lineChart("messages in/s", history.map((r) => r.messagesIn), "/s"),
    lineChart("REST calls/s", history.map((r) => r.restCalls), "/s"),
    lineChart("commit latency", history.map((r) => r.commitMs || 0), "ms"));
  root.replaceChildren(card("Now", figuresTable), card("Connections on this node", connections), card("Last minutes", charts));
  root.dataset.samples = String(history.length + 1);
}

export const metricsSection = {
  id: "metrics",
  title: "Live metrics",
  open: true, // needs no app
  async render(root) {
    stopMetrics();
    previous = null;
    history = [];
    const live = h("div", { id: "metrics-live" }, h("p", null, "Loading…"));
    root.replaceChildren(heading("Live metrics",
      h("p", { class: "hint" }, `This node's /metrics, every ${EVERY_MS / 1000} s. From another host than the`
        + " server's, /metrics needs the default app's credentials.")), live);
    const tick = async () => {
      timer = null;
      try {
        draw(live, await sample());
      } catch (error) {
        showError(error);
        return; // no refresh after a refusal
      }
      if (live.isConnected) timer = setTimeout(tick, EVERY_MS);
    };
    await tick();
  },
};
