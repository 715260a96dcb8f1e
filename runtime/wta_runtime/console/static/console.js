// Keeps every [data-live] section current: the server streams its re-rendered, escaped HTML.
"use strict";
document.querySelectorAll("[data-live]").forEach(function (section) {
  var source = new EventSource(section.dataset.live);
  source.addEventListener("fragment", function (event) {
    section.innerHTML = event.data;
    section.dataset.updated = String(Date.now());
  });
});
