// swell Data Manager: the page's own script. htmx does requests and live swaps; this only
// switches times between UTC (as the server writes them) and the viewer's zone, and keeps the
// choice for the next pages; and reads an uploaded definition into its text area.
(function () {
  "use strict";
  var KEY = "swell.times";
  var local = false;
  try { local = localStorage.getItem(KEY) === "local"; } catch (e) { /* storage off: UTC */ }
  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    second: "2-digit", hour12: false, timeZoneName: "short"
  });
  function utc(d) {
    return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }
  function show(root) {
    var times = (root || document).querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var d = new Date(times[i].getAttribute("datetime"));
      if (isNaN(d)) continue;
      times[i].textContent = local ? format.format(d) : utc(d);
      times[i].title = local ? utc(d) : format.format(d);
    }
    var button = document.getElementById("zone-switch");
    if (button) {
      button.hidden = false;
      button.setAttribute("aria-pressed", local ? "true" : "false");
      button.textContent = local ? "Times in " + Intl.DateTimeFormat().resolvedOptions().timeZone : "Times in UTC";
    }
  }
  // Upload: a JSON file read into the definition's text area (saved only by Save)
  function uploads() {
    var inputs = document.querySelectorAll("input[type=file][data-into]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      input.parentNode.hidden = false;
      input.addEventListener("change", function (event) {
        var file = event.target.files && event.target.files[0];
        var area = document.getElementById(event.target.getAttribute("data-into"));
        if (!file || !area) return;
        file.text().then(function (text) { area.value = text; area.focus(); });
      });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    show(document);
    uploads();
    var button = document.getElementById("zone-switch");
    if (button) {
      button.addEventListener("click", function () {
        local = !local;
        try { localStorage.setItem(KEY, local ? "local" : "utc"); } catch (e) { /* not kept */ }
        show(document);
      });
    }
  });
  // rows and regions swapped in live carry UTC times: write them in the chosen zone too
  document.addEventListener("htmx:after:swap", function () { if (local) show(document); });
  document.addEventListener("htmx:after:settle", function () { if (local) show(document); });
})();
