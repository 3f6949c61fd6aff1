// The signed configuration a page passes to JMessage.config, as jim's cmd 109, and the
// server's answer to it.
import { CODE, refusal, sdkError } from "./codes.js";

const OK = 10000;

// cmd 109 from config's options: JMessage's v1 form (appKey, randomStr), or v2's (appkey,
// random_str); null when neither is complete.
export function configRequest(options) {
  const o = options || {};
  const text = (value) => (typeof value === "string" || typeof value === "number") && String(value) !== "";
  if (text(o.appKey) && text(o.timestamp) && text(o.randomStr) && text(o.signature)) {
    return { cmd: 109, appKey: String(o.appKey), timestamp: String(o.timestamp),
      randomStr: String(o.randomStr), signature: String(o.signature) };
  }
  if (text(o.appkey) && text(o.timestamp) && text(o.random_str) && text(o.signature)) {
    return { cmd: 109, appkey: String(o.appkey), timestamp: String(o.timestamp),
      random_str: String(o.random_str), signature: String(o.signature) };
  }
  return null;
}

// The configured app's key, once the server took the configuration on a connection that
// openLink() opens; rejects with the SDK's code otherwise.
export async function askConfiguration(openLink, requests, options) {
  const request = configRequest(options);
  if (request === null) throw sdkError(CODE.CONFIG_INVALID, "config needs appKey, timestamp, randomStr and signature");
  await openLink();
  const reply = await requests.call(request, { reply: 110, gated: false });
  if (reply.code !== OK) throw refusal(reply, CODE.CONFIG_INVALID);
  return reply.data.appKey;
}
