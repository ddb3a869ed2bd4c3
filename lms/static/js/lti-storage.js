// LTI platform storage: 1EdTech "LTI Client Side postMessages" and "LTI postMessage Storage".
//
// Login page (data-mode="login"): store the state and nonce in the platform's storage frame
// (lti.put_data, keys lti_state_<state> and lti_nonce_<nonce>), then go on to the platform's
// authorisation endpoint. Launch page (data-mode="launch"): read them back (lti.get_data) and
// post what came back to Ripple, which compares it with the launch on the server.
//
// Messages go to the frame the platform named in lti_storage_target (window.parent for
// "_parent"), or to the frame lti.capabilities names, always with the platform's OIDC origin as
// targetOrigin; answers count only from that origin, with our message_id and subject.
(function () {
  "use strict";
  var el = document.getElementById("lti-storage");
  if (!el) return;
  var data = el.dataset;
  var platformOrigin = data.platformOrigin;
  var trusted = (data.trustedOrigins || "").split(" ").filter(Boolean);
  var status = document.getElementById("lti-storage-status");
  var WAIT_MS = 2000; // for put_data and get_data
  var PROBE_MS = 1000; // for lti.capabilities, asked only when the platform named no frame

  function say(text) {
    if (status) status.textContent = text;
  }

  function messageId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "ripple-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function platformWindow() {
    if (window.opener && window.opener !== window) return window.opener;
    if (window.parent && window.parent !== window) return window.parent;
    return null;
  }

  // Send one message and wait for its answer: right origin, same message_id, subject + ".response".
  function ask(target, message, targetOrigin, origins, wait) {
    return new Promise(function (resolve, reject) {
      var id = messageId();
      message.message_id = id;
      var timer = null;
      function listen(event) {
        var answer = event.data;
        if (!answer || typeof answer !== "object") return;
        if (origins.indexOf(event.origin) === -1) return; // not the platform: ignored
        if (answer.message_id !== id || answer.subject !== message.subject + ".response") return;
        window.removeEventListener("message", listen);
        window.clearTimeout(timer);
        if (answer.error) {
          reject(answer.error.code || "error");
        } else {
          resolve(answer);
        }
      }
      window.addEventListener("message", listen);
      timer = window.setTimeout(function () {
        window.removeEventListener("message", listen);
        reject("timeout");
      }, wait || WAIT_MS);
      try {
        target.postMessage(message, targetOrigin);
      } catch (e) {
        window.removeEventListener("message", listen);
        window.clearTimeout(timer);
        reject("unreachable");
      }
    });
  }

  function frameNamed(name) {
    var parent = platformWindow();
    if (!parent) return null;
    if (name === "_parent") return parent;
    try {
      return parent.frames[name] || null;
    } catch (e) {
      return null;
    }
  }

  // The storage frame: the one the platform named, else the one lti.capabilities names
  // (asked once per subject).
  var frames = {};
  function storageFrame(subject) {
    if (!frames[subject]) frames[subject] = findStorageFrame(subject);
    return frames[subject];
  }

  function findStorageFrame(subject) {
    if (data.target) {
      var named = frameNamed(data.target);
      return named ? Promise.resolve(named) : Promise.reject("no-frame");
    }
    var parent = platformWindow();
    if (!parent) return Promise.reject("not-framed");
    // Nothing secret in this one, so any origin may receive it; only trusted answers count.
    return ask(parent, { subject: "lti.capabilities" }, "*", trusted, PROBE_MS).then(function (answer) {
      var supported = Array.isArray(answer.supported_messages) ? answer.supported_messages : [];
      for (var i = 0; i < supported.length; i++) {
        if (supported[i] && supported[i].subject === subject) {
          var frame = supported[i].frame ? frameNamed(String(supported[i].frame)) : parent;
          if (frame) return frame;
        }
      }
      return Promise.reject("unsupported");
    });
  }

  function put(key, value) {
    return storageFrame("lti.put_data").then(function (frame) {
      return ask(frame, { subject: "lti.put_data", key: key, value: value }, platformOrigin, [platformOrigin]);
    });
  }

  function get(key) {
    return storageFrame("lti.get_data").then(function (frame) {
      return ask(frame, { subject: "lti.get_data", key: key }, platformOrigin, [platformOrigin]);
    }).then(function (answer) {
      return typeof answer.value === "string" ? answer.value : "";
    });
  }

  if (data.mode === "login") {
    put("lti_state_" + data.state, data.state)
      .then(function () { return put("lti_nonce_" + data.nonce, data.nonce); })
      .then(function () { say("Saved with your learning platform. Continuing…"); },
            function () { say("Your learning platform did not take the code; continuing with a cookie…"); })
      .then(function () { window.location.replace(data.next); });
  } else if (data.mode === "launch") {
    var form = el;
    var state = "";
    get("lti_state_" + data.state)
      .then(function (value) {
        state = value;
        return get("lti_nonce_" + data.nonce);
      })
      .then(function (nonce) {
        form.elements.storage_state.value = state;
        form.elements.storage_nonce.value = nonce;
        say("Checked. Opening…");
      }, function (code) {
        form.elements.storage_state.value = state;
        form.elements.storage_error.value = String(code).slice(0, 60);
        say("Your learning platform did not answer.");
      })
      .then(function () { form.submit(); });
  }
})();
