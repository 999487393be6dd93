// The YAML editors: a problem's line link moves the cursor to that line in the textarea,
// and after each check the listing scrolls to the first problem. No inline handlers: the
// Content-Security-Policy allows only scripts served from /static.
(function () {
  "use strict";

  function source() {
    return document.getElementById("editor-source");
  }

  function selectLine(textarea, number) {
    var lines = textarea.value.split("\n");
    var index = Math.max(1, Math.min(number, lines.length)) - 1;
    var start = 0;
    for (var i = 0; i < index; i += 1) {
      start += lines[i].length + 1;
    }
    textarea.focus();
    textarea.setSelectionRange(start, start + lines[index].length);
    // Put the line near the top of the textarea's own scroll box.
    var lineHeight = parseFloat(window.getComputedStyle(textarea).lineHeight) || 18;
    textarea.scrollTop = Math.max(0, (index - 3) * lineHeight);
  }

  function showRow(container, number) {
    var listing = container.querySelector(".lint-listing");
    var row = container.querySelector(number ? "#L" + number : ".has-problem");
    if (!listing || !row) {
      return;
    }
    var offset = row.getBoundingClientRect().top - listing.getBoundingClientRect().top;
    listing.scrollTop = Math.max(0, listing.scrollTop + offset - 40);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-jump-line]");
    var textarea = source();
    if (!link || !textarea) {
      return;
    }
    event.preventDefault();
    var number = parseInt(link.getAttribute("data-jump-line"), 10);
    selectLine(textarea, number);
    var lint = document.getElementById("editor-lint");
    if (lint) {
      showRow(lint, number);
    }
  });

  // After each check, bring the first problem into view in the listing.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "editor-lint") {
      showRow(event.target, 0);
    }
  });

  // A page the server rendered with problems (after Save or Check) opens at the first one.
  document.addEventListener("DOMContentLoaded", function () {
    var lint = document.getElementById("editor-lint");
    if (lint) {
      showRow(lint, 0);
    }
  });
})();
