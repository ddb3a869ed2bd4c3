// Time on task: while this item page is visible and in use, tell the server every 30 seconds.
// Each beat carries the active seconds counted here since the previous beat; the server credits
// at most the time its own clock saw (lms/services/time_on_task.py), so this script can only
// under-count. Counting pauses while the page is hidden and after 60 s with no input; the time
// not yet sent goes with a final beat (navigator.sendBeacon) when the page is hidden or left.
(function () {
  "use strict";
  var el = document.querySelector("[data-heartbeat-url]");
  if (!el) return;
  var INTERVAL_MS = (parseInt(el.dataset.interval, 10) || 30) * 1000; // HEARTBEAT_SECONDS
  var IDLE_MS = 60000;
  var TICK_MS = 1000;
  var activeMs = 0; // counted since the last beat sent
  var lastTick = Date.now();
  var lastInput = Date.now();

  function form(seconds) {
    var data = new FormData();
    data.append("csrf_token", el.dataset.csrf);
    data.append("active", String(seconds));
    ["assignment", "item", "attempt"].forEach(function (name) {
      if (el.dataset[name]) data.append(name, el.dataset[name]);
    });
    return data;
  }

  function send(leaving) {
    var seconds = Math.round(activeMs / 1000);
    activeMs = 0;
    var data = form(seconds);
    if (leaving && navigator.sendBeacon) {
      navigator.sendBeacon(el.dataset.heartbeatUrl, data);
      return;
    }
    fetch(el.dataset.heartbeatUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      keepalive: true,
    }).catch(function () {}); // a lost beat loses its seconds, never the page
  }

  function active(now) {
    return document.visibilityState === "visible" && now - lastInput < IDLE_MS;
  }

  function tick() {
    var now = Date.now();
    // a long gap (a sleeping laptop, a throttled timer) counts as one tick at most
    if (active(now)) activeMs += Math.min(now - lastTick, 2 * TICK_MS);
    lastTick = now;
    if (activeMs >= INTERVAL_MS) send(false);
  }

  function input() {
    lastInput = Date.now();
  }

  ["mousemove", "mousedown", "keydown", "wheel", "scroll", "touchstart", "focus"].forEach(function (name) {
    window.addEventListener(name, input, { passive: true });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      if (activeMs > 0) send(true);
    } else {
      input();
      lastTick = Date.now();
    }
  });
  window.addEventListener("pagehide", function () {
    if (activeMs > 0) send(true);
  });
  send(false); // starts this page's clock on the server; credits nothing
  setInterval(tick, TICK_MS);
})();
