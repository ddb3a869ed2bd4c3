// In a session opened from a SCORM package: post this launch's result to the package page that
// framed Ripple, at that page's origin only (never "*"); the package writes it to the LMS.
(function () {
  "use strict";
  var report = document.getElementById("package-report");
  if (!report || window.parent === window) { return; }
  window.parent.postMessage(JSON.parse(report.getAttribute("data-report")), report.getAttribute("data-origin"));
})();
