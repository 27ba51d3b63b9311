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
})();
