// The script of Ripple's SCORM packages (shipped in the zip as ripple-scorm.js; not used on
// Ripple's own pages). It finds the LMS's SCORM API, starts the session, sends the learner's id
// and name to Ripple in the iframe, and writes the results Ripple's pages post back.
(function () {
  "use strict";
  var root = document.getElementById("ripple-package");
  var frame = document.getElementById("ripple-frame");
  var status = document.getElementById("ripple-status");
  var v12 = root.getAttribute("data-kind") === "scorm12";
  var rippleOrigin = root.getAttribute("data-ripple-origin");
  var apiName = v12 ? "API" : "API_1484_11";

  function find(win) { // this window and its parents, then the opener's (the standard search)
    for (var hops = 0; win && hops < 10; hops += 1) {
      try { if (win[apiName]) { return win[apiName]; } } catch (e) { /* another origin */ }
      if (win.parent === win) { break; }
      win = win.parent;
    }
    return null;
  }
  var api = find(window) || (window.opener ? find(window.opener) : null);
  function call(name12, name2004, a, b) { return String(api[v12 ? name12 : name2004](a, b)); }
  function get(key) { return call("LMSGetValue", "GetValue", key); }
  function set(key, value) { return call("LMSSetValue", "SetValue", key, String(value)); }

  if (!api) { status.textContent = "Open this course from your learning platform: its SCORM connection was not found."; return; }
  if (call("LMSInitialize", "Initialize", "") !== "true") { status.textContent = "Your learning platform did not start the session. Close this window and open the course again."; return; }
  var statusKey = v12 ? "cmi.core.lesson_status" : "cmi.completion_status";
  if (["not attempted", "unknown", ""].indexOf(get(statusKey)) >= 0) { set(statusKey, "incomplete"); }

  function pad(n, width) { var s = String(n); while (s.length < width) { s = "0" + s; } return s; }
  function parts(seconds) { // whole hours, minutes, seconds and hundredths
    var cs = Math.round(seconds * 100), whole = Math.floor(cs / 100);
    return {h: Math.floor(whole / 3600), m: Math.floor(whole / 60) % 60, s: whole % 60, cs: pad(cs % 100, 2)};
  }
  function hhmmss(seconds) { // SCORM 1.2 CMITimespan: HHHH:MM:SS.SS
    var t = parts(seconds);
    return pad(Math.min(9999, t.h), 4) + ":" + pad(t.m, 2) + ":" + pad(t.s, 2) + "." + t.cs;
  }
  function duration(seconds) { // SCORM 2004 timeinterval: an ISO 8601 duration
    var t = parts(seconds);
    return "PT" + t.h + "H" + t.m + "M" + t.s + "." + t.cs + "S";
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== rippleOrigin || event.source !== frame.contentWindow) { return; }
    var r = event.data;
    if (!r || r.type !== "ripple.result" || typeof r.session_seconds !== "number") { return; }
    if (v12) {
      set("cmi.core.lesson_status", r.success === "passed" || r.success === "failed" ? r.success : r.completion);
    } else {
      set("cmi.completion_status", r.completion);
      if (r.success === "passed" || r.success === "failed") { set("cmi.success_status", r.success); }
    }
    if (r.score) {
      var score = v12 ? "cmi.core.score." : "cmi.score.";
      set(score + "min", r.score.min); set(score + "max", r.score.max); set(score + "raw", r.score.raw);
      if (!v12) { set("cmi.score.scaled", r.score.scaled); }
    }
    set(v12 ? "cmi.core.session_time" : "cmi.session_time", v12 ? hhmmss(r.session_seconds) : duration(r.session_seconds));
    call("LMSCommit", "Commit", "");
  });

  var finished = false;
  function finish() { if (!finished) { finished = true; call("LMSFinish", "Terminate", ""); } }
  window.addEventListener("pagehide", finish);
  window.addEventListener("beforeunload", finish);

  var form = document.getElementById("ripple-launch");
  form.elements.learner_id.value = get(v12 ? "cmi.core.student_id" : "cmi.learner_id");
  form.elements.learner_name.value = get(v12 ? "cmi.core.student_name" : "cmi.learner_name");
  status.textContent = "";
  form.submit();
})();
