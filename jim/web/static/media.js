// Images and files in messages: their download links (JMessage.jim.getResource, an hour each,
// asked once per media and kept), a thumbnail that opens the full image, a file's link.
import { el } from "./dom.js";
import { actions } from "./actions.js";
import { jim } from "./sdk.js";

const LINK_LIFE_MS = 50 * 60 * 1000; // the server's last an hour
const links = new Map(); // media_id -> {url, until} or {pending}
let onLinked = () => {};

// fn(): a link arrived (the view shows it)
export function whenLinked(fn) {
  onLinked = fn;
}

function linkOf(mediaId) {
  const known = links.get(mediaId);
  if (known && (known.pending || known.until > Date.now())) return known.url || null;
  links.set(mediaId, { pending: true });
  jim("getResource", { mediaId }).then(([url]) => {
    links.set(mediaId, { url, until: Date.now() + LINK_LIFE_MS });
    onLinked();
  }, () => links.delete(mediaId));
  return null;
}

function size(bytes) {
  if (!(bytes >= 0)) return "";
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1024 / 1024).toFixed(1) + " MB";
}

// The thumbnail of an image message: a button that shows the full image.
export function imageView(msg) {
  const body = msg.body;
  const url = body.media_id ? linkOf(body.media_id) : null;
  const button = el("button", "thumb");
  button.setAttribute("aria-label", "Show the image");
  if (url) {
    const img = el("img");
    if (body.width > 0 && body.height > 0) { // its place is kept while it loads
      img.width = body.width;
      img.height = body.height;
    }
    img.src = url;
    img.alt = "image from " + msg.fromName;
    button.append(img);
    button.addEventListener("click", () => actions.showImage(url, img.alt));
  } else {
    button.append(el("span", "thumb-wait", "image…"));
    button.disabled = true;
  }
  return button;
}

// A file message: its name as a download link, and its size.
export function fileView(msg) {
  const body = msg.body;
  const url = body.media_id ? linkOf(body.media_id) : null;
  const box = el("div", "file");
  const name = body.fname || "file";
  if (url) {
    const link = el("a", "file-link", name);
    link.href = url;
    link.download = name;
    box.append(link);
  } else {
    box.append(el("span", "file-link", name));
  }
  box.append(el("span", "file-size", size(body.fsize)));
  return box;
}
