// The SDK's HTTP routes (/sdk/resource) with the login's token: POST ?type= uploads a file and
// answers its message body; GET ?mediaId= answers {url}, a download link. A refusal rejects
// with the JMessage code of its error body.
import { CODE, sdkError } from "./codes.js";

export async function fetchResource(scriptUrl, token, query, file = null) {
  const init = { method: file ? "POST" : "GET", headers: { Authorization: "Bearer " + token } };
  if (file) {
    init.body = new FormData();
    init.body.append("file", file, file.name || "upload");
  }
  let response;
  try {
    response = await fetch(new URL("/sdk/resource?" + new URLSearchParams(query), scriptUrl), init);
  } catch (error) {
    throw sdkError(CODE.DISCONNECTED, "the server could not be reached");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok || !body) {
    const error = body && body.error ? body.error : {};
    throw sdkError(Number.isInteger(error.code) ? error.code : CODE.SERVER,
      error.message || "HTTP " + response.status);
  }
  return body;
}
