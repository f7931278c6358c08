// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Close an open drop-down when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
        d.removeAttribute("open");
        var s = d.querySelector("summary");
        if (s) s.focus();
      });
    }
  });
  // Ask before irreversible actions.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  // Keyboard shortcut "w" then "+": open Send WhatsApp Message from any console page.
  var last = null, lastAt = 0;
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var now = Date.now();
    if (e.key === "+" && last === "w" && now - lastAt < 1500) {
      e.preventDefault();
      var m = location.pathname.match(/^\/agent\/contacts\/(\d+)/);
      location.href = m ? "/agent/contacts/" + m[1] + "/whatsapp" : "/agent/whatsapp/send";
      return;
    }
    last = e.key;
    lastAt = now;
  });
})();
