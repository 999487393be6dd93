// The queue's "n" key opens the new-ticket page (the link says so in aria-keyshortcuts).
// Ignored while typing in a field, or with a modifier held, so it never eats a letter.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "n" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var link = document.getElementById("new-ticket");
    if (!link) return;
    event.preventDefault();
    window.location.assign(link.getAttribute("href"));
  });
})();
