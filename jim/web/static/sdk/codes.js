// The error codes of JMessage's Web SDK 1.0 (872000..872008), the error the SDK's internals
// reject with, and what a server refusal becomes when it reaches a page's fail callback.

export const CODE = {
  SERVER: 872000,
  NOT_LOGGED_IN: 872001,
  BAD_PARAMETER: 872002,
  LOGIN_FAILED: 872003,
  CONFIG_INVALID: 872004,
  SIGNATURE_EXPIRED: 872005,
  TIMEOUT: 872006,
  DISCONNECTED: 872007,
  LOGGED_IN_ELSEWHERE: 872008,
};

const TEXT = {
  [CODE.SERVER]: "server error",
  [CODE.NOT_LOGGED_IN]: "not logged in",
  [CODE.BAD_PARAMETER]: "bad parameter",
  [CODE.LOGIN_FAILED]: "login failed",
  [CODE.CONFIG_INVALID]: "the configuration's signature was refused",
  [CODE.SIGNATURE_EXPIRED]: "the configuration's signature expired",
  [CODE.TIMEOUT]: "the request timed out",
  [CODE.DISCONNECTED]: "disconnected from the server",
  [CODE.LOGGED_IN_ELSEWHERE]: "logged in elsewhere",
};

export class SdkError extends Error {
  constructor(code, message) {
    super(message || TEXT[code] || "error " + code);
    this.code = code;
  }
}

export const sdkError = (code, message) => new SdkError(code, message);

// A reply whose code is not a success: its JMessage code when the server names one (data.code,
// as cmd 110, 112, 114 and 116 refusals do), else `fallback`; its detail as the message.
export function refusal(reply, fallback) {
  const named = reply && reply.data && Number.isInteger(reply.data.code) ? reply.data.code : null;
  const message = (reply && (reply.detail || reply.msg)) || TEXT[fallback];
  return new SdkError(named || fallback, message);
}

// Any rejection as the (code, message) a fail callback gets.
export function codeAndMessage(error) {
  if (error instanceof SdkError) return [error.code, error.message];
  return [CODE.SERVER, String((error && error.message) || error)];
}
