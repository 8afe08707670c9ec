// Reading badge codes, shared by the gate scanner (gate.js) and the booth's lead scanner (leads.js).
//
// - keepFocus(input): a keyboard-wedge scanner types the code and Enter wherever the focus is, so on devices with
//   a keyboard the input keeps (or takes back) the focus. Returns the function that brings the focus back.
// - camera({button, note, video, labels, onCode}): a phone's camera reads QR codes where the browser has
//   BarcodeDetector (Chrome on Android); elsewhere the button is disabled and the note says why. The camera sees
//   the same badge many times a second: onCode is called once per badge, unless it is shown again later.
//   labels: camera_unavailable, camera_error ("{message}"), camera_start, camera_stop.
(function () {
  "use strict";

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  function keepFocus(input) {
    var touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    function refocus() {
      if (!touch && document.activeElement !== input) input.focus({ preventScroll: true });
    }
    input.addEventListener("blur", function () { setTimeout(refocus, 400); });
    document.addEventListener("keydown", function (e) {
      // A wedge scanner types wherever the focus is: bring it back to the input first.
      if (document.activeElement !== input && e.key && e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
        input.focus({ preventScroll: true });
      }
    });
    return refocus;
  }

  function camera(o) {
    var L = o.labels, stream = null, detector = null, lastCode = "", lastAt = 0;
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      o.button.disabled = true;
      o.note.textContent = L.camera_unavailable;
      o.note.hidden = false;
      return;
    }
    o.button.addEventListener("click", function () { if (stream) stop(); else start(); });
    function start() {
      try {
        detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      } catch (e) {
        o.note.textContent = fill(L.camera_error, { message: e.message });
        o.note.hidden = false;
        return;
      }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
        stream = s;
        o.video.srcObject = s;
        o.video.hidden = false;
        o.button.textContent = L.camera_stop;
        o.note.hidden = true;
        return o.video.play();
      }).then(detect).catch(function (e) {
        stop();
        o.note.textContent = fill(L.camera_error, { message: e.message || e.name });
        o.note.hidden = false;
      });
    }
    function stop() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      o.video.hidden = true;
      o.video.srcObject = null;
      o.button.textContent = L.camera_start;
    }
    function detect() {
      if (!stream) return;
      detector.detect(o.video).then(function (found) {
        var code = found.length ? found[0].rawValue : "";
        if (code && (code !== lastCode || Date.now() - lastAt > 4000)) {
          lastCode = code;
          lastAt = Date.now();
          o.onCode(code);
        }
      }).catch(function () {}).then(function () { if (stream) setTimeout(detect, 150); });
    }
  }

  window.ExpoScanner = { keepFocus: keepFocus, camera: camera, fill: fill };
})();
