// Tiny glue for htmx: toasts from HX-Trigger and a clear message when a request fails.
(function () {
  "use strict";
  var timer = null;
  function toast(message, isError) {
    var box = document.getElementById("toast");
    if (!box || !message) return;
    box.textContent = message;
    box.className = isError ? "toast toast-error" : "toast";
    box.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(function () { box.hidden = true; }, 5000);
  }
  document.addEventListener("toast", function (event) {
    toast(event.detail && event.detail.message, event.detail && event.detail.error);
  });
  document.addEventListener("htmx:responseError", function () {
    toast(document.body.dataset.errorText, true);
  });
  document.addEventListener("htmx:sendError", function () {
    toast(document.body.dataset.offlineText, true);
  });
  // No inline handlers or hx-trigger filters (the CSP forbids eval): behaviour by data-*.
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field && field.hasAttribute && field.hasAttribute("data-submit-on-change") && field.form) {
      field.form.requestSubmit();
    }
  });
  // A polling element with data-skip-refresh-while="<selector>" skips its timed refresh
  // (a poll has no triggering event) while something matching the selector is open
  // inside it, e.g. a form being edited; event-driven refreshes still happen.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var detail = event.detail || {};
    var elt = detail.elt;
    var selector = elt && elt.getAttribute && elt.getAttribute("data-skip-refresh-while");
    var isPoll = !(detail.requestConfig && detail.requestConfig.triggeringEvent);
    if (selector && isPoll && elt.querySelector(selector)) event.preventDefault();
  });
})();
