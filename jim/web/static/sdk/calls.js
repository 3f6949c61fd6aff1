// Shared by the calls of the API: running one (its success or fail callback), and checking
// its options (a bad one fails with 872002).
import { invoke } from "./callbacks.js";
import { CODE, codeAndMessage, sdkError } from "./codes.js";

// Calls options.success with what `work` resolves to (an array of arguments), or options.fail
// with the code and message of its rejection (and `extra` arguments after them).
export async function answer(options, work, ...extra) {
  const o = options || {};
  let args;
  try {
    args = await work(o);
  } catch (error) {
    invoke(o.fail, ...codeAndMessage(error), ...extra);
    return;
  }
  invoke(o.success, ...(args || []));
}

export function bad(message) {
  return sdkError(CODE.BAD_PARAMETER, message);
}

export function needText(value, name) {
  if ((typeof value !== "string" && typeof value !== "number") || String(value) === "") {
    throw bad(name + " is required");
  }
  return String(value);
}

// A group's or room's id: a positive integer, or its digits.
export function needId(value, name) {
  const id = typeof value === "string" && /^[0-9]{1,15}$/.test(value) ? Number(value) : value;
  if (!Number.isSafeInteger(id) || id < 0) throw bad(name + " must be a number");
  return id;
}

export function needUsernames(value, name) {
  if (!Array.isArray(value) || value.length === 0 || !value.every((u) => typeof u === "string" && u)) {
    throw bad(name + " must be a non-empty array of usernames");
  }
  return value.slice();
}
