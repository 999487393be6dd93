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

  // The message box. Its text is the technician's work: switching the template asks
  // before replacing an edit, and another panel's answer (which brings a fresh message box
  // for the ticket's new stage) leaves an edited box as it is.
  function messageBox() {
    return document.querySelector("#message-preview textarea[name=body]");
  }

  function edited(box) {
    // data-edited: a draft the server gave back after a send that did not go.
    return !!box && (box.value !== box.defaultValue || box.dataset.edited === "yes");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || elt.name !== "template" || !elt.closest("#composer")) {
      return;
    }
    var shown = document.getElementById("message-preview");
    if (edited(messageBox()) && !window.confirm(
      "Replace your edited message with this template's text? Your changes will be lost."
    )) {
      event.preventDefault();
      if (shown && shown.dataset.template) {
        elt.value = shown.dataset.template;
      }
    }
  });

  var answeredFrom = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    answeredFrom = event.detail.elt || null;
  });

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    var own = answeredFrom && answeredFrom.closest && answeredFrom.closest("#composer");
    if (target && target.id === "composer" && !own && edited(messageBox())) {
      event.detail.shouldSwap = false;
    }
  });

  // Copy text: the subject and the text as they stand, for Outlook or the PSA.
  function reveal() {
    document.querySelectorAll("button[data-copy-message][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }
  reveal();
  document.addEventListener("htmx:oobAfterSwap", reveal);
  document.addEventListener("htmx:afterSettle", reveal);

  function copyWithSelection(text) {
    // Without the clipboard API (a page served over plain HTTP): the older way.
    var buffer = document.createElement("textarea");
    buffer.className = "tp-copy-buffer";
    buffer.value = text;
    buffer.setAttribute("readonly", "");
    document.body.appendChild(buffer);
    buffer.select();
    var done = false;
    try {
      done = document.execCommand("copy");
    } catch (err) {
      done = false;
    }
    buffer.remove();
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy-message]");
    if (!button) {
      return;
    }
    var box = messageBox();
    var subject = document.getElementById("message-subject");
    var status = button.parentNode.querySelector("[data-copy-status]");
    function say(label, text) {
      button.textContent = label;
      if (status) {
        status.textContent = text;
      }
      window.setTimeout(function () {
        button.textContent = "Copy text";
      }, 2500);
    }
    if (!box) {
      say("Nothing to copy", "There is no message text to copy.");
      return;
    }
    var text = (subject ? "Subject: " + subject.textContent.trim() + "\n\n" : "") + box.value;
    var write = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text).catch(function () { return copyWithSelection(text); })
      : copyWithSelection(text);
    write.then(function () {
      say("Copied", "Copied the subject and the message.");
    }, function () {
      box.focus();
      box.select();
      say("Copy text", "Could not copy: the text is selected, press Ctrl+C to copy it.");
    });
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
