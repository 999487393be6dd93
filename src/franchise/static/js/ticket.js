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
})();
