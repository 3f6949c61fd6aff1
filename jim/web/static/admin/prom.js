// The Prometheus text format (0.0.4) as /metrics writes it, and the live figures computed from
// two successive samples.

// "name{a=\"x\",b=\"y\"} 12" lines -> [{name, labels: {a, b}, value}]; comments are skipped.
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    const pattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (let label = pattern.exec(match[2] || ""); label; label = pattern.exec(match[2] || "")) {
      labels[label[1]] = label[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

export function sum(samples, name, where = () => true) {
  return samples.filter((s) => s.name === name && where(s.labels)).reduce((total, s) => total + s.value, 0);
}

// What one sample shows on its own, and with the one before it (taken `seconds` earlier), the
// rates and the store's commit latency over the interval.
export function figures(samples, previous, seconds) {
  const connections = {};
  for (const s of samples.filter((x) => x.name === "jim_connections")) connections[s.labels.protocol] = s.value;
  const signedIn = {}; // logged-in connections by protocol
  for (const s of samples.filter((x) => x.name === "jim_sessions")) signedIn[s.labels.protocol] = s.value;
  const now = {
    connections,
    signedIn,
    messagesIn: sum(samples, "jim_messages_in_total"),
    messagesOut: sum(samples, "jim_messages_out_total"),
    logins: sum(samples, "jim_logins_total"),
    restCalls: sum(samples, "jim_rest_requests_total"),
    commitSum: sum(samples, "jim_store_commit_seconds_sum"),
    commitCount: sum(samples, "jim_store_commit_seconds_count"),
  };
  if (!previous || !(seconds > 0)) return { now, rates: null };
  const rate = (key) => Math.max(0, now[key] - previous[key]) / seconds;
  const commits = now.commitCount - previous.commitCount;
  return {
    now,
    rates: {
      messagesIn: rate("messagesIn"),
      messagesOut: rate("messagesOut"),
      logins: rate("logins"),
      restCalls: rate("restCalls"),
      commits: rate("commitCount"),
      // mean commit latency over the interval, in milliseconds (null without a commit)
      commitMs: commits > 0 ? ((now.commitSum - previous.commitSum) / commits) * 1000 : null,
    },
  };
}
