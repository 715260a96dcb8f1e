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
