// JMessage's Web SDK 1.0 API for jim: include it with <script src="/sdk/jmessage.js"></script>.
// This classic script defines window.JMessage at once; its calls are queued until the
// implementation, the ES modules next to this file, has loaded (client.js), then made in
// order. The server is the one this script came from. See docs/web-sdk.md.
(function () {
  "use strict";
  if (window.JMessage && window.JMessage.jim) return; // included twice

  var API = ["config", "ready", "error", "onConnected", "onDisconnected", "login", "logout",
    "getUserInfo", "sendTextMessage", "sendImageMessage", "resendMessage", "onMessageReceived",
    "onEventReceived", "createGroup", "getGroupInfo", "updateGroupInfo", "addGroupMembers",
    "removeGroupMembers", "exitGroup", "getGroupList"];
  var JIM_API = ["enterChatRoom", "exitChatRoom", "retractMessage", "getHistory", "getResource",
    "login", "resume", "onLogin", "onSessionEnded", "onPresence", "getConversations",
    "getPresence", "sendMessage"];
  var DEVICE_KEY = "jmessage.deviceId";

  var script = document.currentScript;
  var scriptUrl = script && script.src ? script.src : new URL("/sdk/jmessage.js", location.href).href;
  var queued = [];
  var client = null;

  // This tab's device: kept for the tab's life (sessionStorage), so that a reload logs in as
  // the same device and gets only what it has not had.
  function tabDeviceId() {
    var id = null;
    try {
      id = sessionStorage.getItem(DEVICE_KEY);
    } catch (error) {
      id = null;
    }
    if (!id) {
      var bytes = new Uint8Array(12);
      crypto.getRandomValues(bytes);
      id = "web-" + Array.prototype.map.call(bytes, function (b) {
        return (b + 256).toString(16).slice(1);
      }).join("");
      try {
        sessionStorage.setItem(DEVICE_KEY, id);
      } catch (error) {
        // storage refused: this page's own device
      }
    }
    return id;
  }

  function forward(path, name) {
    return function () {
      var args = Array.prototype.slice.call(arguments);
      if (client === null) {
        queued.push([path, name, args]);
        return undefined;
      }
      var target = path === "jim" ? client.jim : client;
      return target[name].apply(target, args);
    };
  }

  var deviceId = tabDeviceId();
  var JMessage = {};
  API.forEach(function (name) { JMessage[name] = forward("", name); });
  JMessage.jim = { deviceId: deviceId, getDeviceId: function () { return deviceId; } };
  JIM_API.forEach(function (name) { JMessage.jim[name] = forward("jim", name); });
  window.JMessage = JMessage;

  import(new URL("client.js", scriptUrl).href).then(function (module) {
    client = module.createClient(scriptUrl, deviceId);
    queued.splice(0).forEach(function (call) {
      var target = call[0] === "jim" ? client.jim : client;
      target[call[1]].apply(target, call[2]);
    });
  }, function (error) {
    // Without its implementation the SDK can do nothing: every error callback says so.
    queued.splice(0).forEach(function (call) {
      if (call[1] === "error" && typeof call[2][0] === "function") {
        call[2][0](872000, "the SDK could not be loaded: " + error);
      }
    });
  });
})();
