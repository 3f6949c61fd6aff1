// One WebSocket to the server the SDK was loaded from: JSON objects out, parsed replies and
// pushes in, and whether it is open. A Link is used once; a reconnect makes a new one.

// ws:// or wss:// to the origin of `scriptUrl` (the SDK's own script), whatever page includes it.
export function socketUrl(scriptUrl) {
  const url = new URL(scriptUrl);
  return (url.protocol === "https:" ? "wss://" : "ws://") + url.host + "/";
}

export class Link {
  // handlers: opened(link), frame(link, reply), closed(link, wasOpen)
  constructor(url, handlers) {
    this.handlers = handlers;
    this.isOpen = false;
    this.isClosed = false;
    this.socket = new WebSocket(url);
    this.socket.addEventListener("open", () => {
      if (this.isClosed) return;
      this.isOpen = true;
      handlers.opened(this);
    });
    this.socket.addEventListener("message", (event) => this.onMessage(event.data));
    this.socket.addEventListener("close", () => this.onClose());
  }

  onMessage(text) {
    if (this.isClosed || typeof text !== "string") return;
    let reply;
    try {
      reply = JSON.parse(text);
    } catch (error) {
      return;
    }
    if (reply && typeof reply === "object") this.handlers.frame(this, reply);
  }

  onClose() {
    if (this.isClosed) return;
    const wasOpen = this.isOpen;
    this.isClosed = true;
    this.isOpen = false;
    this.handlers.closed(this, wasOpen);
  }

  send(request) {
    // (a socket the server is closing is CLOSING before its close event: nothing goes on it)
    if (!this.isOpen || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(request));
    return true;
  }

  // Closed by the SDK itself: no `closed` handler call. A socket still connecting is closed
  // once open (closing it before would make the browser log an error).
  close() {
    this.isClosed = true;
    this.isOpen = false;
    if (this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.addEventListener("open", () => this.socket.close());
    } else {
      this.socket.close();
    }
  }
}
