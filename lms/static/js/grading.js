/* The grading page: asks the attempt's status document whether the grade is in, after the
 * delay the server names (data-poll-ms, then each answer's poll_ms: soon when nothing waits
 * ahead, later for a long queue), shows how many attempts wait ahead, and opens the debrief
 * when the grade is ready. Without JavaScript the page reloads itself. */
(function () {
  "use strict";
  var section = document.getElementById("grading");
  if (!section || !window.fetch) return;
  var url = section.getAttribute("data-status-url");
  var queue = document.getElementById("grading-queue");
  var wait = parseInt(section.getAttribute("data-poll-ms"), 10) || 2000;
  function later() { setTimeout(poll, wait); }
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
        if (data.poll_ms) wait = data.poll_ms;
        if (queue) {
          queue.textContent = data.ahead ? data.ahead + (data.ahead === 1 ? " attempt is" : " attempts are") +
            " waiting to be graded before yours." : "";
        }
        later();
      })
      .catch(function () { wait = Math.min(wait * 2, 10000); later(); });
  }
  later();
})();
