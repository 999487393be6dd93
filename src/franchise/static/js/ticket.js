// Ticket page behaviour on top of htmx. Actions post with hx-swap="none" and the server
// answers with the changed panels marked hx-swap-oob. A refusal (409, 422, 502 ...) comes
// back the same way, flagged by the X-Ticket-Panels header, so it is shown in its panel
// instead of being dropped as an error; any other failure shows in the banner on top.
(function () {
  "use strict";

  function banner(text) {
    var box = document.getElementById("ticket-error");
    if (!box) {
      return;
    }
    box.textContent = text;
    box.hidden = !text;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.getResponseHeader("X-Ticket-Panels")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      banner("");
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var text = status === 403
      ? "This form expired or you may not do this. Reload the page and try again."
      : "Franchise could not do that (error " + status + "). Reload the page and try again.";
    banner(text);
  });

  document.addEventListener("htmx:sendError", function () {
    banner("Franchise did not answer. Check the connection and try again.");
  });

  // After an answer or a step back the buttons pressed are gone: move focus to the new
  // step's name (or the ending), so keyboard and screen reader users go on from there.
  // A runner that unlocks by itself (polling) leaves focus where the user is.
  var runnerMoved = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    runnerMoved = !!(elt && elt.tagName === "FORM" && elt.closest("#runner"));
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!runnerMoved || !event.detail.successful) {
      return;
    }
    runnerMoved = false;
    var target = document.querySelector(
      "#runner-step-title, #runner .tp-emergency, #runner .tp-outcome"
    );
    if (target) {
      if (!target.hasAttribute("tabindex")) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  });
})();
