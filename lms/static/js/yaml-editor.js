/* Ripple's scenario YAML editor: syntax highlighting, line numbers and live validation.
 *
 * Progressive enhancement of a plain <textarea data-yaml-editor>: without JavaScript the
 * textarea still works and the server validates on save. The highlighted copy sits under a
 * transparent textarea, so typing, selection, undo and screen readers use the real control.
 * Validation posts the text to the form's data-validate-url and lists the engine's problems
 * with their lines; a line link moves the caret there.
 */
(function () {
  "use strict";

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // One line of YAML to highlighted HTML: comments, keys, strings, numbers, booleans.
  function highlightLine(line) {
    var commentAt = -1, quote = null;
    for (var i = 0; i < line.length; i++) {
      var ch = line[i];
      if (quote) { if (ch === quote) quote = null; continue; }
      if (ch === '"' || ch === "'") { quote = ch; continue; }
      if (ch === "#" && (i === 0 || /\s/.test(line[i - 1]))) { commentAt = i; break; }
    }
    var code = commentAt >= 0 ? line.slice(0, commentAt) : line;
    var comment = commentAt >= 0 ? line.slice(commentAt) : "";
    var html = "";
    var key = /^(\s*(?:-\s+)*)([A-Za-z_][\w.-]*)(\s*:)(?=\s|$)/.exec(code);
    var rest = code;
    if (key) {
      html += escapeHtml(key[1]).replace(/-/g, '<span class="y-dash">-</span>') +
        '<span class="y-key">' + escapeHtml(key[2]) + "</span>" + escapeHtml(key[3]);
      rest = code.slice(key[0].length);
    }
    html += escapeHtml(rest)
      .replace(/(&quot;|"[^"]*"|'[^']*')/g, '<span class="y-str">$1</span>')
      .replace(/([{,\s]|^)([A-Za-z_][\w-]*)(:)(?=\s)/g, '$1<span class="y-key">$2</span>$3')
      .replace(/(^|[\s,[{:])(-?\d+(?:\.\d+)?)(?=[\s,\]}]|$)/g, '$1<span class="y-num">$2</span>')
      .replace(/(^|[\s,[{:])(true|false|null)(?=[\s,\]}]|$)/g, '$1<span class="y-bool">$2</span>');
    if (comment) html += '<span class="y-comment">' + escapeHtml(comment) + "</span>";
    return html;
  }

  function Editor(textarea) {
    this.textarea = textarea;
    this.form = textarea.form;
    this.errorLines = {};
    this.issues = document.getElementById("issues");
    this.status = document.getElementById("validation-status");
    var wrap = document.createElement("div");
    wrap.className = "code-editor";
    this.gutter = document.createElement("pre");
    this.gutter.className = "code-gutter";
    this.gutter.setAttribute("aria-hidden", "true");
    this.view = document.createElement("pre");
    this.view.className = "code-view";
    this.view.setAttribute("aria-hidden", "true");
    textarea.parentNode.insertBefore(wrap, textarea);
    wrap.appendChild(this.gutter);
    wrap.appendChild(this.view);
    wrap.appendChild(textarea);
    textarea.classList.add("code-enhanced");
    textarea.setAttribute("wrap", "off");
    var self = this, timer = null;
    textarea.addEventListener("input", function () {
      self.render();
      clearTimeout(timer);
      timer = setTimeout(function () { self.validate(); }, 500);
    });
    textarea.addEventListener("scroll", function () { self.sync(); });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Tab" && !event.shiftKey && !event.ctrlKey && !event.altKey && !event.metaKey && self.indenting) {
        event.preventDefault();
        document.execCommand("insertText", false, "  ");
      }
      if (event.key === "Escape") self.indenting = false;  // Tab leaves the editor again
    });
    textarea.addEventListener("focus", function () { self.indenting = true; });
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-line]");
      if (link) { event.preventDefault(); self.goToLine(parseInt(link.getAttribute("data-line"), 10)); }
    });
    this.readServerIssues();
    this.render();
  }

  Editor.prototype.readServerIssues = function () {
    var self = this;
    if (!this.issues) return;
    this.issues.querySelectorAll("a[data-line]").forEach(function (a) {
      self.errorLines[parseInt(a.getAttribute("data-line"), 10)] = true;
    });
  };

  Editor.prototype.render = function () {
    var lines = this.textarea.value.split("\n"), html = [], numbers = [];
    for (var i = 0; i < lines.length; i++) {
      var bad = this.errorLines[i + 1];
      html.push('<span class="code-line' + (bad ? " code-error" : "") + '">' + (highlightLine(lines[i]) || " ") + "</span>");
      numbers.push((bad ? "● " : "") + (i + 1));
    }
    this.view.innerHTML = html.join("\n") + "\n";
    this.gutter.textContent = numbers.join("\n") + "\n";
    this.sync();
  };

  Editor.prototype.sync = function () {
    this.view.scrollTop = this.textarea.scrollTop;
    this.view.scrollLeft = this.textarea.scrollLeft;
    this.gutter.scrollTop = this.textarea.scrollTop;
  };

  Editor.prototype.goToLine = function (line) {
    var lines = this.textarea.value.split("\n"), start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    var end = start + (lines[line - 1] || "").length;
    this.textarea.focus();
    this.textarea.setSelectionRange(start, end);
    var lineHeight = parseFloat(getComputedStyle(this.textarea).lineHeight) || 20;
    this.textarea.scrollTop = Math.max(0, (line - 5) * lineHeight);
    this.sync();
  };

  Editor.prototype.validate = function () {
    var url = this.form && this.form.getAttribute("data-validate-url");
    if (!url || !window.fetch) return;
    var self = this, body = new FormData();
    body.append("source", this.textarea.value);
    var token = this.form.querySelector("input[name=csrf_token]");
    if (self.status) self.status.textContent = "Checking…";
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 429) {
        // Too many live checks in a short time: say so, and check again once allowed.
        var wait = parseInt(response.headers.get("Retry-After"), 10) || 60;
        if (self.status) {
          self.status.textContent = "Checking paused, try again in " + wait + " s; the server checks again when you save.";
        }
        clearTimeout(self.retryTimer);
        self.retryTimer = setTimeout(function () { self.validate(); }, wait * 1000);
        return null;
      }
      if (!response.ok) throw new Error(response.status);
      return response.json();
    }).then(function (result) {
      if (result) self.show(result.issues || []);
    }).catch(function () {
      if (self.status) self.status.textContent = "Could not check just now; the server checks again when you save.";
    });
  };

  Editor.prototype.show = function (issues) {
    this.errorLines = {};
    var list = this.issues;
    if (list) {
      list.innerHTML = "";
      if (issues.length) {
        list.setAttribute("role", "alert");
        var heading = document.createElement("h2");
        heading.textContent = issues.length + (issues.length === 1 ? " problem to fix" : " problems to fix");
        var ul = document.createElement("ul");
        issues.forEach(function (issue) {
          var li = document.createElement("li");
          if (issue.line) {
            var a = document.createElement("a");
            a.href = "#source";
            a.setAttribute("data-line", issue.line);
            a.textContent = "line " + issue.line;
            li.appendChild(a);
            li.appendChild(document.createTextNode(": "));
          }
          var code = document.createElement("code");
          code.textContent = issue.path;
          li.appendChild(code);
          li.appendChild(document.createTextNode(": " + issue.message));
          ul.appendChild(li);
        });
        list.appendChild(heading);
        list.appendChild(ul);
      } else {
        list.removeAttribute("role");
      }
    }
    var self = this;
    issues.forEach(function (issue) { if (issue.line) self.errorLines[issue.line] = true; });
    if (this.status) this.status.textContent = issues.length ? "" : "No problems found.";
    this.render();
  };

  document.querySelectorAll("textarea[data-yaml-editor]").forEach(function (textarea) {
    new Editor(textarea);
  });
})();
