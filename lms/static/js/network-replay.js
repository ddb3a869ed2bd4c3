/* The community network's replay (templates/play/_network.html): a time scrubber and a Play
 * button. Every person and telling carries data-t (hours after the event, when they heard or
 * told); at a time t, those later than t get the class "later" (hidden by the CSS). Without
 * JavaScript the picture is the still at its end and the scrubber stays hidden. */
(function () {
  "use strict";
  function clockLabel(figure, hours) {
    var days = figure.getAttribute("data-clock-weekdays").split(",");
    var total = Math.round(Number(figure.getAttribute("data-clock-minutes")) + hours * 60);
    var day = days[(Number(figure.getAttribute("data-clock-weekday")) + Math.floor(total / 1440)) % 7];
    var minutes = ((total % 1440) + 1440) % 1440;
    var hh = String(Math.floor(minutes / 60)).padStart(2, "0");
    var mm = String(minutes % 60).padStart(2, "0");
    return day + " " + hh + ":" + mm;
  }
  function setUp(figure) {
    if (figure.hasAttribute("data-ready")) return;
    figure.setAttribute("data-ready", "");
    var replay = figure.querySelector("[data-replay]");
    var range = replay.querySelector("input[type=range]");
    var at = replay.querySelector(".replay-at");
    var button = replay.querySelector("[data-play]");
    var marks = Array.prototype.slice.call(figure.querySelectorAll("svg [data-t]"));
    var start = Number(figure.getAttribute("data-start"));
    var end = Number(figure.getAttribute("data-end"));
    var timer = null;
    if (end <= start) return; // nothing to replay: keep the still
    function show(t) {
      var shown = 0;
      marks.forEach(function (mark) {
        var later = Number(mark.getAttribute("data-t")) > t;
        mark.classList.toggle("later", later);
        if (!later && mark.tagName.toLowerCase() === "circle") shown += 1;
      });
      at.textContent = "Showing " + clockLabel(figure, t) + ": " + shown +
        (shown === 1 ? " person has" : " people have") + " heard the rumor by then.";
      range.setAttribute("aria-valuetext", clockLabel(figure, t));
    }
    function stop() {
      if (timer) { clearInterval(timer); timer = null; }
      button.textContent = "Play";
    }
    range.addEventListener("input", function () { stop(); show(Number(range.value)); });
    button.addEventListener("click", function () {
      if (timer) { stop(); return; }
      if (Number(range.value) >= end) range.value = String(start);
      button.textContent = "Pause";
      show(Number(range.value));
      timer = setInterval(function () {
        var next = Math.min(end, Number(range.value) + Number(range.step || 0.25));
        range.value = String(next);
        show(next);
        if (next >= end) stop();
      }, 120);
    });
    replay.hidden = false;
    show(Number(range.value));
  }
  function all() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-network]"), setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
