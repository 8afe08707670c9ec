// The booth's lead scanner (templates/leads/scan.html). The page is a plain form: a keyboard-wedge scanner types
// the code and Enter, the form is posted, and the lead's page opens; this only keeps the focus in the field and
// lets a phone's camera fill and send the same form (scanner.js, shared with the gate).
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var form = $("lead-scan-form"), input = $("lead-code");
  if (!form || !input || !window.ExpoScanner) return;
  var labels = JSON.parse($("lead-scanner-labels").textContent);
  var refocus = window.ExpoScanner.keepFocus(input);
  var sent = false;
  form.addEventListener("submit", function (e) {
    input.value = input.value.replace(/\s+/g, "");
    if (!input.value || sent) { e.preventDefault(); return; }
    sent = true;  // one post per scan, whatever the scanner or the camera send meanwhile
  });
  window.addEventListener("pageshow", function () { sent = false; });  // back to this page: scan again
  window.ExpoScanner.camera({
    button: $("lead-camera-button"), note: $("lead-camera-note"), video: $("lead-video"), labels: labels,
    onCode: function (code) {
      input.value = code;
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }
  });
  refocus();
})();
