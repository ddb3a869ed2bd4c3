/* The grading page: asks the attempt's status document whether the grade is in, every 2 s
 * for the first half-minute and every 5 s after that, shows how many attempts wait ahead,
 * and opens the debrief when the grade is ready. Without JavaScript the page reloads itself. */
(function () {
  "use strict";
  var section = document.getElementById("grading");
  if (!section || !window.fetch) return;
  var url = section.getAttribute("data-status-url");
  var queue = document.getElementById("grading-queue");
  var started = Date.now();
  function later() { setTimeout(poll, Date.now() - started < 30000 ? 2000 : 5000); }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.status !== "grading") {
          var status = document.getElementById("grading-status");
          if (status) status.textContent = "Graded: opening your grade, debrief and next steps.";
          window.location.assign(data.url);
          return;
        }
        if (queue) {
          queue.textContent = data.ahead ? data.ahead + (data.ahead === 1 ? " attempt is" : " attempts are") +
            " waiting to be graded before yours." : "";
        }
        later();
      })
      .catch(later);
  }
  later();
})();
