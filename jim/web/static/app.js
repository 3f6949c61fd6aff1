// jim web chat: one page, one WebSocket to the page's own host, J-IM 3.0 JSON commands.
// Requests carry `cmd`, replies and pushes carry `command`. All user-provided text reaches the
// DOM through textContent only.
"use strict";

(() => {
  const CMD = {
    LOGIN: 5, LOGIN_RESP: 6, JOIN_GROUP: 7, JOIN_GROUP_RESP: 8, JOIN_NOTIFY: 9, EXIT_NOTIFY: 10,
    CHAT: 11, CHAT_RESP: 12, HEARTBEAT: 13, GET_USER: 17, GET_USER_RESP: 18,
    GET_MESSAGE: 19, GET_MESSAGE_RESP: 20,
  };
  const CODE = { DELIVERED: 10000, STORED_OFFLINE: 10001, LOGIN_OK: 10007, OFFLINE_MESSAGES: 10016, HISTORY: 10018 };
  // Replies with these codes report something the user should read.
  const ERROR_CODES = new Set([10002, 10004, 10008, 10010, 10012, 10013, 10014, 10015, 10017, 10020]);
  const CHAT_GROUP = 1;
  const CHAT_PRIVATE = 2;
  const MSG_TEXT = 0;
  const USER_ALL = 2;
  const MESSAGES_OFFLINE = 0;
  const MESSAGES_HISTORY = 1;
  const HEARTBEAT_MS = 30000;
  const RECONNECT_FIRST_MS = 1000;
  // The server's --max-body until its login reply tells (maxBody): a longer message closes the
  // socket (1009).
  const DEFAULT_MAX_BODY_BYTES = 65536;
  const CLOSE_TOO_BIG = 1009;
  const RECONNECT_MAX_MS = 30000;
  // sessionStorage is per tab: a reload keeps the session, another tab starts fresh.
  const SESSION_KEY = "jim.chat.session";

  const state = {
    socket: null,
    connected: false,
    loggedIn: false,
    me: null,              // the J-IM User from the login reply
    maxBody: DEFAULT_MAX_BODY_BYTES,  // the largest request the server takes, in bytes
    login: null,           // {userId, password | token, appKey} for the next login
    sessionEstablished: false,  // a login succeeded: a drop is followed by reconnects
    groups: [],            // Group objects from cmd 18, with members
    friends: [],
    conversations: new Map(),  // key -> conversation, see conversation()
    active: null,          // key of the conversation on screen
    outbox: [],            // chats sent and not yet answered by cmd 12, oldest first
    joining: [],           // group ids of joins sent and not yet answered by cmd 8, oldest first
    joinsToSend: [],       // group ids of joins asked for while offline, sent at the next login
    heartbeatTimer: null,
    reconnectTimer: null,
    reconnectDelay: RECONNECT_FIRST_MS,
    status: "",
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (tag === "button") node.type = "button";
    return node;
  }

  function newClientId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function formatTime(ms) {
    const when = new Date(Number(ms) || Date.now());
    const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    if (when.toDateString() === new Date().toDateString()) return time;
    return when.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + time;
  }

  // ---- conversations and messages -------------------------------------------------------

  // A conversation is keyed "user:<peer>" or "group:<groupId>"; it is made on first use.
  function conversation(kind, id) {
    const key = kind + ":" + id;
    if (!state.conversations.has(key)) {
      state.conversations.set(key, { key, kind, id: String(id), messages: [], unread: 0 });
    }
    return state.conversations.get(key);
  }

  function conversationOf(body) {
    if (Number(body.chatType) === CHAT_GROUP) return conversation("group", body.groupId);
    const me = state.me.userId;
    const peer = String(body.from) === me ? body.to : body.from;
    return conversation("user", peer);
  }

  const textOrNull = (value) => (value === undefined || value === null ? null : String(value));

  function messageFromBody(body) {
    return {
      id: textOrNull(body.id),
      clientId: textOrNull(body.clientId),
      from: String(body.from),
      content: body.content === undefined ? "" : String(body.content),
      msgType: Number(body.msgType) || MSG_TEXT,
      createTime: Number(body.createTime) || Date.now(),
      own: String(body.from) === state.me.userId,
      state: "received",
    };
  }

  // A copy already on screen: same server id, same client id, or (for the echo of an own group
  // message when the server sends no client id) a local copy still waiting for its reply. An
  // own message with another client id was sent from another tab or device: not a copy.
  function findCopy(conv, msg) {
    return conv.messages.find((m) =>
      (msg.id !== null && m.id === msg.id) ||
      (msg.clientId !== null && m.clientId === msg.clientId) ||
      (msg.clientId === null && msg.own && m.own && m.state === "sending" && m.id === null &&
        m.content === msg.content));
  }

  function insertSorted(conv, msg) {
    let at = conv.messages.length;
    while (at > 0 && conv.messages[at - 1].createTime > msg.createTime) at -= 1;
    conv.messages.splice(at, 0, msg);
  }

  // Adds a message unless a copy is already shown; returns true when it was new.
  // History (countUnread false) was read before, whichever conversation is on screen now.
  function addMessage(conv, msg, countUnread = true) {
    const copy = findCopy(conv, msg);
    if (copy) {
      if (copy.id === null && msg.id !== null) copy.id = msg.id;
      return false;
    }
    insertSorted(conv, msg);
    if (countUnread && !msg.own && conv.key !== state.active) conv.unread += 1;
    return true;
  }

  // Adds the messages of a cmd 20 reply. For history, each conversation also remembers the
  // oldest message history has given it: the next page ends there, not at the oldest message
  // shown, which may be an offline one with history not yet loaded between it and the rest.
  function receiveBodies(bodiesByPeer, history) {
    let added = 0;
    for (const bodies of Object.values(bodiesByPeer || {})) {
      for (const body of bodies || []) {
        const conv = conversationOf(body);
        const msg = messageFromBody(body);
        if (addMessage(conv, msg, !history)) added += 1;
        if (history && !(conv.historyEnd <= msg.createTime)) conv.historyEnd = msg.createTime;
      }
    }
    return added;
  }

  // ---- socket -------------------------------------------------------------------------------

  function socketUrl() {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/";
  }

  function send(request) {
    if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return false;
    state.socket.send(JSON.stringify(request));
    return true;
  }

  function connect() {
    clearTimeout(state.reconnectTimer);
    const socket = new WebSocket(socketUrl());
    state.socket = socket;
    setConnection("connecting", "Connecting…");
    socket.addEventListener("open", () => onOpen(socket));
    socket.addEventListener("message", (event) => onFrame(socket, event.data));
    socket.addEventListener("close", (event) => onClose(socket, event.code));
  }

  function onOpen(socket) {
    if (socket !== state.socket) return;
    state.connected = true;
    setConnection("connecting", "Signing in…");
    const request = { cmd: CMD.LOGIN, userId: state.login.userId };
    if (state.login.token) request.token = state.login.token;
    else request.password = state.login.password;
    if (state.login.appKey) request.appKey = state.login.appKey;
    send(request);
  }

  function onFrame(socket, text) {
    if (socket !== state.socket || typeof text !== "string") return;
    let reply;
    try {
      reply = JSON.parse(text);
    } catch (error) {
      showStatus("The server sent something that is not JSON.");
      return;
    }
    const handler = HANDLERS[reply.command];
    if (handler) handler(reply);
    else if (ERROR_CODES.has(reply.code)) showStatus(describe(reply));
  }

  function onClose(socket, code) {
    if (socket !== state.socket) return;
    state.socket = null;
    state.connected = false;
    state.loggedIn = false;
    stopHeartbeat();
    // No answer comes on a closed socket: those joins go again at the next login (joining a
    // group one is in already changes nothing).
    for (const groupId of state.joining) queueJoin(groupId);
    state.joining = [];
    if (code === CLOSE_TOO_BIG) dropTooBig();
    failOutbox();
    if (state.sessionEstablished) {
      scheduleReconnect();
    } else {
      setConnection("offline", "Not connected");
      if (!$("login-error").textContent) showLoginError("Could not reach the server.");
      setLoginBusy(false);
    }
    render();
  }

  function scheduleReconnect() {
    const delay = state.reconnectDelay;
    state.reconnectDelay = Math.min(delay * 2, RECONNECT_MAX_MS);
    setConnection("offline", `Disconnected — reconnecting in ${Math.round(delay / 1000)} s`);
    state.reconnectTimer = setTimeout(connect, delay);
  }

  function startHeartbeat() {
    stopHeartbeat();
    state.heartbeatTimer = setInterval(() => send({ cmd: CMD.HEARTBEAT, hbbyte: -127 }), HEARTBEAT_MS);
  }

  function stopHeartbeat() {
    clearInterval(state.heartbeatTimer);
    state.heartbeatTimer = null;
  }

  const describe = (reply) => reply.detail || reply.msg || `Error ${reply.code}`;

  // ---- replies and pushes -----------------------------------------------------------------

  function onLoginReply(reply) {
    if (reply.code !== CODE.LOGIN_OK) {
      const wasReconnect = state.sessionEstablished;
      endSession();
      showLoginError(wasReconnect ? "Your session ended, please sign in again. " + describe(reply)
        : describe(reply));
      return;
    }
    state.loggedIn = true;
    state.me = Object.assign({ userId: state.login.userId }, reply.user || {});
    state.me.userId = String(state.me.userId);
    state.maxBody = Number.isInteger(reply.maxBody) && reply.maxBody > 0 ? reply.maxBody
      : DEFAULT_MAX_BODY_BYTES;
    // Keep the reconnect token rather than the password once the server has given one.
    if (reply.token) state.login = { userId: state.me.userId, token: reply.token, appKey: state.login.appKey };
    state.sessionEstablished = true;
    state.reconnectDelay = RECONNECT_FIRST_MS;
    saveSession();
    startHeartbeat();
    setConnection("online", "Connected as " + state.me.userId);
    showChat();
    requestUser();
    send({ cmd: CMD.GET_MESSAGE, type: MESSAGES_OFFLINE, userId: state.me.userId });
    resendOutbox();
    for (const groupId of state.joinsToSend.splice(0)) sendJoin(groupId);
    render();
  }

  function requestUser() {
    send({ cmd: CMD.GET_USER, type: USER_ALL, userId: state.me.userId });
  }

  function onUser(reply) {
    if (!reply.data) {
      showStatus(describe(reply));
      return;
    }
    state.groups = reply.data.groups || [];
    state.friends = reply.data.friends || [];
    for (const group of state.groups) conversation("group", group.groupId);
    for (const friend of knownUsers(state.friends)) conversation("user", friend.userId);
    render();
  }

  function onMessages(reply) {
    if (reply.code !== CODE.OFFLINE_MESSAGES && reply.code !== CODE.HISTORY) {
      showStatus(describe(reply));
      return;
    }
    const data = reply.data || {};
    const history = reply.code === CODE.HISTORY;
    const added = receiveBodies(data.friends, history) + receiveBodies(data.groups, history);
    if (reply.code === CODE.HISTORY) showStatus(added ? `Loaded ${added} earlier messages.` : "No earlier messages.");
    else if (added) showStatus(`${added} messages arrived while you were away.`);
    saveSession();
    render();
  }

  function onChatPush(reply) {
    if (!reply.data || reply.data.from === undefined) return;
    const conv = conversationOf(reply.data);
    if (addMessage(conv, messageFromBody(reply.data))) saveSession();
    render();
  }

  // The server's clock decides where a message belongs, not the sender's.
  function moveTo(msg, createTime) {
    const conv = state.conversations.get(msg.conv);
    conv.messages.splice(conv.messages.indexOf(msg), 1);
    msg.createTime = createTime;
    insertSorted(conv, msg);
  }

  function onChatReply(reply) {
    // Replies may come back in another order than the chats went out, refusals included:
    // each names its chat by the client id the page chose, and nothing else can.
    const data = reply.data || {};
    const index = data.clientId ? state.outbox.findIndex((m) => m.clientId === String(data.clientId)) : -1;
    const [msg] = index >= 0 ? state.outbox.splice(index, 1) : [];
    if (msg) {
      msg.id = textOrNull(data.id) || msg.id;
      if (data.createTime) moveTo(msg, Number(data.createTime));
      msg.state = { [CODE.DELIVERED]: "sent", [CODE.STORED_OFFLINE]: "stored" }[reply.code] || "failed";
    }
    if (ERROR_CODES.has(reply.code)) showStatus("Message not sent: " + describe(reply));
    render();
  }

  const HANDLERS = {
    [CMD.LOGIN_RESP]: onLoginReply,
    [CMD.GET_USER_RESP]: onUser,
    [CMD.GET_MESSAGE_RESP]: onMessages,
    [CMD.CHAT]: onChatPush,
    [CMD.CHAT_RESP]: onChatReply,
    [CMD.JOIN_NOTIFY]: () => requestUser(),
    [CMD.EXIT_NOTIFY]: () => requestUser(),
    [CMD.JOIN_GROUP_RESP]: (reply) => {
      const groupId = state.joining.shift();  // joins are answered in the order they were sent
      if (ERROR_CODES.has(reply.code)) {
        showStatus(describe(reply));
        forgetRefusedGroup(groupId);
      }
      requestUser();
    },
    [CMD.HEARTBEAT]: () => {},
  };

  // ---- user actions -------------------------------------------------------------------------

  function sendChat(text) {
    const conv = state.conversations.get(state.active);
    if (!conv || !text.trim()) return;
    const msg = {
      id: null, clientId: newClientId(), from: state.me.userId, content: text, msgType: MSG_TEXT,
      createTime: Date.now(), own: true, state: "sending", conv: conv.key,
    };
    insertSorted(conv, msg);
    if (refuseTooBig(msg)) {
      render();
      return;
    }
    state.outbox.push(msg);
    showStatus("");
    if (!transmit(msg)) msg.state = "queued";
    render();
  }

  function chatRequest(msg) {
    const conv = state.conversations.get(msg.conv);
    const request = { cmd: CMD.CHAT, msgType: MSG_TEXT, content: msg.content, id: msg.clientId };
    if (conv.kind === "group") Object.assign(request, { chatType: CHAT_GROUP, groupId: conv.id });
    else Object.assign(request, { chatType: CHAT_PRIVATE, to: conv.id });
    return request;
  }

  const requestBytes = (msg) => new TextEncoder().encode(JSON.stringify(chatRequest(msg))).length;

  function transmit(msg) {
    return state.loggedIn && send(chatRequest(msg));
  }

  // A message over the server's limit would close the socket: it fails without being sent.
  function refuseTooBig(msg) {
    const size = requestBytes(msg);
    if (size <= state.maxBody) return false;
    msg.state = "failed";
    showStatus(`Message not sent: it is ${size} bytes, over the server's ${state.maxBody}.`);
    return true;
  }

  // The server closed the socket for a message over its limit (smaller than ours, say): the
  // longest one waiting fails, rather than being sent again after every reconnect.
  function dropTooBig() {
    if (!state.outbox.length) return;
    const longest = state.outbox.reduce((a, b) => (requestBytes(b) > requestBytes(a) ? b : a));
    state.outbox.splice(state.outbox.indexOf(longest), 1);
    longest.state = "failed";
    showStatus("Message not sent: it is longer than the server takes.");
  }

  // The server drops duplicates of a client id, so resending after a reconnect is safe.
  function resendOutbox() {
    // Written before this login told the limit, some may be over it: sent, they would close
    // the socket (1009). One the server took before a restart with a lower limit fails here
    // too, as its resend would.
    state.outbox = state.outbox.filter((msg) => !refuseTooBig(msg));
    for (const msg of state.outbox) {
      msg.state = "sending";
      transmit(msg);
    }
  }

  function failOutbox() {
    for (const msg of state.outbox) msg.state = "queued";
  }

  function openConversation(kind, id) {
    const conv = conversation(kind, id);
    state.active = conv.key;
    conv.unread = 0;
    saveSession();
    render();
    $("composer-input").focus();
  }

  function sendJoin(groupId) {
    if (state.loggedIn && send({ cmd: CMD.JOIN_GROUP, groupId })) state.joining.push(String(groupId));
    else queueJoin(groupId);
  }

  function queueJoin(groupId) {
    if (!state.joinsToSend.includes(String(groupId))) state.joinsToSend.push(String(groupId));
  }

  function joinGroup(groupId) {
    sendJoin(groupId);
    openConversation("group", groupId);
    requestUser();
  }

  // A group the server would not let us join leaves the sidebar, unless we are in it after all
  // or it holds messages.
  function forgetRefusedGroup(groupId) {
    const key = "group:" + groupId;
    const conv = state.conversations.get(key);
    if (!conv || conv.messages.length || state.groups.some((g) => String(g.groupId) === groupId)) return;
    state.conversations.delete(key);
    if (state.active === key) state.active = null;
    saveSession();
    render();
  }

  function loadHistory() {
    const conv = state.conversations.get(state.active);
    if (!conv) return;
    const request = { cmd: CMD.GET_MESSAGE, type: MESSAGES_HISTORY, userId: state.me.userId };
    if (conv.kind === "group") request.groupId = conv.id;
    else request.fromUserId = conv.id;
    // the latest page first, then each further page ends where the last one did
    if (conv.historyEnd !== undefined) request.endTime = conv.historyEnd;
    send(request);
    showStatus("Loading history…");
  }

  // resumed: a saved session, already signed in once (a failed connection is retried then).
  function startLogin(login, resumed = false) {
    state.login = login;
    state.sessionEstablished = resumed;
    showLoginError("");
    setLoginBusy(true);
    connect();
  }

  function endSession() {
    state.sessionEstablished = false;
    state.loggedIn = false;
    clearTimeout(state.reconnectTimer);
    stopHeartbeat();
    const socket = state.socket;
    state.socket = null;
    state.connected = false;
    if (socket) socket.close();
    Object.assign(state, { me: null, login: null, maxBody: DEFAULT_MAX_BODY_BYTES, groups: [],
      friends: [], active: null, outbox: [], joining: [], joinsToSend: [] });
    state.conversations.clear();
    render();  // empty lists and the plain title, behind the login form
    sessionStorage.removeItem(SESSION_KEY);
    setConnection("offline", "Not connected");
    setLoginBusy(false);
    showLogin();
  }

  // ---- session persistence (per tab) ----------------------------------------------------------

  function saveSession() {
    if (!state.me || !state.login || !state.login.token) return;
    const peers = [...state.conversations.values()].filter((c) => c.kind === "user").map((c) => c.id);
    const saved = { userId: state.me.userId, token: state.login.token, appKey: state.login.appKey, peers, active: state.active };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(saved));
  }

  function resumeSession() {
    let saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    } catch (error) {
      saved = null;
    }
    if (!saved || !saved.token) return false;
    for (const peer of saved.peers || []) conversation("user", peer);
    state.active = saved.active || null;
    // A saved token is a session already signed in: the chat shows at once, a server that
    // cannot be reached is retried as after any drop, and only a refused token leads back to
    // the sign-in form.
    startLogin({ userId: saved.userId, token: saved.token, appKey: saved.appKey }, true);
    state.me = { userId: String(saved.userId) };
    showChat();
    render();
    return true;
  }

  // ---- rendering ------------------------------------------------------------------------------

  function setConnection(kind, text) {
    $("connection").dataset.state = kind;
    $("connection-text").textContent = text;
  }

  function showStatus(text) {
    state.status = text;
    $("status").textContent = text;
  }

  function showLoginError(text) {
    $("login-error").textContent = text;
  }

  function setLoginBusy(busy) {
    $("login-submit").disabled = busy;
    $("login-submit").textContent = busy ? "Signing in…" : "Sign in";
  }

  function showLogin() {
    $("chat").hidden = true;
    $("login").hidden = false;
    $("login-password").value = "";
    $("login-user").focus();
  }

  function showChat() {
    $("login").hidden = true;
    $("chat").hidden = false;
  }

  // Users listed in groups (groups or friend groups), without the signed-in user.
  function knownUsers(groups) {
    const me = state.me ? state.me.userId : null;
    return groups.flatMap((g) => g.users || []).filter((u) => String(u.userId) !== me);
  }

  function knownUser(userId) {
    return knownUsers([...state.groups, ...state.friends]).find((u) => String(u.userId) === String(userId)) || null;
  }

  function displayName(userId) {
    if (state.me && String(userId) === state.me.userId) return state.me.nick || state.me.userId;
    const user = knownUser(userId);
    return (user && user.nick) || String(userId);
  }

  function conversationButton(conv, label) {
    const button = el("button", "conv-button");
    button.dataset.key = conv.key;
    if (conv.key === state.active) button.setAttribute("aria-current", "true");
    button.append(el("span", "conv-name", label));
    if (conv.unread) {
      const badge = el("span", "badge", conv.unread);
      badge.setAttribute("aria-label", `${conv.unread} unread`);
      button.append(badge);
    }
    button.addEventListener("click", () => openConversation(conv.kind, conv.id));
    return button;
  }

  function memberItem(user) {
    const online = user.status === "online";
    const item = el("li", "member" + (online ? " online" : ""));
    item.dataset.userId = user.userId;
    const button = el("button", "member-button");
    button.title = `${user.userId} (${online ? "online" : "offline"})`;
    button.append(el("span", "presence"), el("span", "member-name", user.nick || user.userId));
    button.append(el("span", "visually-hidden", online ? " online" : " offline"));
    if (state.me && String(user.userId) !== state.me.userId) {
      button.addEventListener("click", () => openConversation("user", String(user.userId)));
    } else {
      button.disabled = true;
    }
    item.append(button);
    return item;
  }

  function renderGroups() {
    const list = $("group-list");
    list.replaceChildren();
    const byId = new Map(state.groups.map((g) => [String(g.groupId), g]));
    for (const conv of state.conversations.values()) {
      if (conv.kind !== "group") continue;
      const group = byId.get(conv.id) || { groupId: conv.id, users: [] };
      const users = group.users || [];
      const onlineCount = users.filter((u) => u.status === "online").length;
      const item = el("li", "conv-item");
      item.append(conversationButton(conv, conversationTitle(conv)));
      if (users.length) {
        item.lastChild.append(el("span", "count", `${onlineCount}/${users.length}`));
        const members = el("ul", "members");
        members.setAttribute("aria-label", `Members of ${group.name || conv.id}`);
        members.append(...users.map(memberItem));
        item.append(members);
      }
      list.append(item);
    }
  }

  function renderDirect() {
    const list = $("direct-list");
    list.replaceChildren();
    for (const conv of state.conversations.values()) {
      if (conv.kind !== "user") continue;
      const user = knownUser(conv.id);
      const item = el("li", "conv-item" + (user && user.status === "online" ? " online" : ""));
      item.append(conversationButton(conv, displayName(conv.id)));
      list.append(item);
    }
  }

  // What an own message's state means to its sender.
  const NOTES = { sending: "sending…", queued: "waiting for connection", stored: "delivered later", failed: "not sent" };

  function messageItem(msg) {
    const item = el("li", "message" + (msg.own ? " own" : ""));
    item.dataset.state = msg.state;
    if (msg.id) item.dataset.id = msg.id;
    const meta = el("div", "meta");
    meta.append(el("span", "sender", msg.own ? "You" : displayName(msg.from)));
    const time = el("time", "time", formatTime(msg.createTime));
    time.dateTime = new Date(msg.createTime).toISOString();
    meta.append(time);
    if (msg.own && NOTES[msg.state]) meta.append(el("span", "note", NOTES[msg.state]));
    item.append(meta, el("div", "text", msg.content));
    return item;
  }

  function conversationTitle(conv) {
    if (conv.kind === "user") return displayName(conv.id);
    const group = state.groups.find((g) => String(g.groupId) === conv.id);
    return "# " + ((group && group.name) || conv.id);
  }

  function renderConversation() {
    const conv = state.conversations.get(state.active);
    const list = $("messages");
    // Stay at the newest message unless the reader scrolled up in the same conversation.
    const follow = list.dataset.key !== state.active || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren(...(conv ? conv.messages.map(messageItem) : []));
    list.dataset.key = state.active || "";
    if (follow) list.scrollTop = list.scrollHeight;
    $("conv-title").textContent = conv ? conversationTitle(conv) : "No conversation selected";
    $("empty-hint").hidden = Boolean(conv);
    $("history-button").disabled = !conv || !state.loggedIn;
    $("composer-input").disabled = !conv;
    $("send-button").disabled = !conv;
  }

  function renderMe() {
    if (!state.me) return;
    const name = state.me.nick || state.me.userId;
    $("me-avatar").textContent = name.charAt(0).toUpperCase();
    $("me-name").textContent = name;
    $("me-id").textContent = state.me.nick && state.me.nick !== state.me.userId ? state.me.userId : "";
  }

  function render() {
    renderMe();
    renderConversation();
    renderGroups();
    renderDirect();
    const unread = [...state.conversations.values()].reduce((sum, c) => sum + c.unread, 0);
    document.title = unread ? `(${unread}) jim chat` : "jim chat";
  }

  // ---- wiring ---------------------------------------------------------------------------------

  function onSubmit(formId, handler) {
    $(formId).addEventListener("submit", (event) => {
      event.preventDefault();
      handler();
    });
  }

  function takeInput(id) {
    const value = $(id).value.trim();
    $(id).value = "";
    return value;
  }

  // The composer grows with its text, up to the CSS max-height.
  function growComposer() {
    const box = $("composer-input");
    box.style.height = "auto";
    box.style.height = box.scrollHeight + 2 + "px";
  }

  function wire() {
    onSubmit("login-form", () => {
      const userId = $("login-user").value.trim();
      const password = $("login-password").value;
      if (!userId || !password) {
        showLoginError("Enter a user name and a password.");
        return;
      }
      startLogin({ userId, password, appKey: $("login-appkey").value.trim() || undefined });
    });
    onSubmit("chat-with-form", () => {
      const peer = takeInput("chat-with-input");
      if (peer) openConversation("user", peer);
    });
    onSubmit("join-group-form", () => {
      const groupId = takeInput("join-group-input");
      if (groupId) joinGroup(groupId);
    });
    onSubmit("composer", () => {
      const text = $("composer-input").value;
      if (!text.trim()) return;
      $("composer-input").value = "";
      growComposer();
      sendChat(text);
    });
    $("composer-input").addEventListener("input", growComposer);
    $("composer-input").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    $("history-button").addEventListener("click", loadHistory);
    $("logout").addEventListener("click", endSession);
  }

  function snapshot(msg) {
    return Object.freeze({
      id: msg.id, clientId: msg.clientId, from: msg.from, content: msg.content,
      createTime: msg.createTime, own: msg.own, state: msg.state,
    });
  }

  // Read-only view of the page state for tests and the console.
  window.jimChat = Object.freeze({
    get connected() { return state.connected; },
    get loggedIn() { return state.loggedIn; },
    get me() { return state.me ? Object.freeze({ ...state.me }) : null; },
    get maxBody() { return state.maxBody; },
    get active() { return state.active; },
    get status() { return state.status; },
    get groups() { return state.groups.map((g) => Object.freeze({ ...g })); },
    get conversations() {
      const view = {};
      for (const [key, conv] of state.conversations) view[key] = Object.freeze(conv.messages.map(snapshot));
      return Object.freeze(view);
    },
  });

  wire();
  if (!resumeSession()) showLogin();
})();
