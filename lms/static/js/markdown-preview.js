/* Live preview for the lesson editor: posts the Markdown to the server, which renders and
 * sanitises it exactly as officers will see it. Without JavaScript, "Update the preview"
 * does the same with a page load. */
(function () {
  "use strict";
  document.querySelectorAll("textarea[data-markdown-preview]").forEach(function (textarea) {
    var target = document.querySelector(textarea.getAttribute("data-markdown-preview"));
    var url = textarea.getAttribute("data-preview-url");
    var token = textarea.form && textarea.form.querySelector("input[name=csrf_token]");
    if (!target || !url || !window.fetch) return;
    var timer = null;
    function update() {
      var body = new FormData();
      body.append("body", textarea.value);
      fetch(url, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "", "Accept": "application/json" }
      }).then(function (response) {
        if (response.status === 429) {
          // Too many previews in a short time: say so, and preview again once allowed.
          var wait = parseInt(response.headers.get("Retry-After"), 10) || 60;
          target.textContent = "Checking paused, try again in " + wait + " s.";
          clearTimeout(timer);
          timer = setTimeout(update, wait * 1000);
          return null;
        }
        return response.json();
      }).then(function (data) {
        if (!data) return;
        if (data.error) target.textContent = data.error;  // e.g. longer than a lesson may be
        else target.innerHTML = data.html;  // sanitised by the server (nh3)
      }).catch(function () {});
    }
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(update, 400);
    });
    // Text typed before this script ran (a slow connection) is previewed at once.
    if (textarea.value !== textarea.defaultValue) update();
  });
})();
