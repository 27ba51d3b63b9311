// Front desk: pickers that submit on change, focus the side panel when it fills,
// and "Close" empties the panel instead of reloading the page.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.requestSubmit();
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-close-panel]");
    var panel = document.getElementById("desk-panel");
    if (!link || !panel) return;
    event.preventDefault();
    panel.innerHTML = "";
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var panel = document.getElementById("desk-panel");
    if (panel && event.detail.target === panel) {
      panel.focus({ preventScroll: true });
      panel.scrollIntoView({ block: "nearest" });
    }
  });
  document.addEventListener("keydown", function (event) {
    var panel = document.getElementById("desk-panel");
    if (event.key === "Escape" && panel && panel.contains(document.activeElement)) {
      panel.innerHTML = "";
    }
  });
})();
