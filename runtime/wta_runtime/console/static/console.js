// Keeps every [data-live] section current: the server streams its re-rendered, escaped HTML.
"use strict";
// Dates are written in the browser's time zone from the next page on.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("wta_console_tz=" + encodeURIComponent(zone)) < 0) {
    document.cookie = "wta_console_tz=" + encodeURIComponent(zone) +
      "; path=/console; samesite=strict; max-age=31536000";
  }
})();
document.querySelectorAll("[data-live]").forEach(function (section) {
  var source = new EventSource(section.dataset.live);
  source.addEventListener("fragment", function (event) {
    section.innerHTML = event.data;
    section.dataset.updated = String(Date.now());
  });
});
// A person writing a reply shows the contact "typing..." on WhatsApp: one request per 10 s at most.
document.querySelectorAll("form[data-typing]").forEach(function (form) {
  var text = form.querySelector("textarea[name=text]");
  var last = 0;
  if (!text) { return; }
  text.addEventListener("input", function () {
    var now = Date.now();
    if (now - last < 10000) { return; }
    last = now;
    fetch(form.dataset.typing, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRF-Token": form.elements.csrf.value}
    }).catch(function () { /* best effort: the reply matters, not the indicator */ });
  });
});
