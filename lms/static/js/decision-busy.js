/* The decision form's busy state (templates/play/play.html): on submit the button is
 * disabled and says what is happening (data-busy-label: simulating the next hours, or grading
 * on the last decision), and the form is aria-busy; a second submit is ignored. Without
 * JavaScript the form posts as usual. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-busy-label]");
  if (!form) return;
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) { event.preventDefault(); return; }
    sent = true;
    form.setAttribute("aria-busy", "true");
    var button = form.querySelector("button[type=submit]");
    if (button) {
      // disabled after this tick, so the submission that started keeps its button
      setTimeout(function () {
        button.disabled = true;
        button.textContent = form.getAttribute("data-busy-label");
      }, 0);
    }
    var status = document.getElementById("decision-busy");
    if (status) status.textContent = form.getAttribute("data-busy-label");
  });
  // Back from another page (the bfcache): the form is usable again
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    sent = false;
    form.removeAttribute("aria-busy");
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = false; button.textContent = button.getAttribute("data-label"); }
  });
})();
