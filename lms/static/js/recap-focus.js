/* After a decision the page opens at #recap (play.decide's redirect): move focus there too, so
 * a screen reader starts reading the recap, not the top of the page. */
(function () {
  "use strict";
  if (window.location.hash !== "#recap") return;
  var recap = document.getElementById("recap");
  if (recap) recap.focus();
})();
