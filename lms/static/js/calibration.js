/* Calibration progress: polls the job's status and updates the progress bar; reloads the
 * page when the job finishes so the results table and chart appear. Without JavaScript the
 * page's Refresh link does the same. */
(function () {
  "use strict";
  var section = document.getElementById("calibration");
  if (!section || !window.fetch) return;
  var status = section.getAttribute("data-status");
  if (status !== "queued" && status !== "running") return;
  var url = section.getAttribute("data-status-url");
  var bar = document.getElementById("calibration-progress");
  var label = document.getElementById("calibration-percent");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (bar) { bar.value = data.percent; bar.textContent = data.percent + "%"; }
        if (label) label.textContent = data.percent + "%";
        if (data.status === "done" || data.status === "failed") {
          window.location.reload();
        } else {
          setTimeout(poll, 1000);
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 700);
})();
