// The gate scanner (templates/checkin/scanner.html) and the checkpoint chooser (templates/checkin/choose.html).
//
// A keyboard-wedge scanner types the badge code and Enter into the big input, which keeps the focus; a phone can
// scan with its camera where the browser has BarcodeDetector. Each scan is posted to the scan API with this
// device's id and a fresh nonce, and the answer fills the screen: green (admitted, exited) or red (refused, with
// the reason), with a sound for each.
//
// Offline: the bundle (public keys, revocation list, rules, names) is kept in localStorage and refreshed while
// online. When a scan cannot reach the server, the code's Ed25519 signature is verified here with WebCrypto,
// the revocation list, the day and type rules and this device's own record of who is inside are applied, the
// answer is shown marked "offline", and the scan is queued; the queue is uploaded to the batch endpoint when the
// network is back (the 'online' event, and a timer). The nonce travels with the scan, so an upload that is sent
// twice, or a scan whose first post did arrive after all, still counts once.
(function () {
  "use strict";
  var PREFIX = "expo.gate.";
  var $ = function (id) { return document.getElementById(id); };

  function save(key, value) {
    try { localStorage.setItem(PREFIX + key, JSON.stringify(value)); return true; } catch (e) { return false; }
  }
  function load(key, fallback) {
    try {
      var text = localStorage.getItem(PREFIX + key);
      return text === null ? fallback : JSON.parse(text);
    } catch (e) { return fallback; }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  // --- the chooser: offer the checkpoint this device used last ---------------------------------------------------
  var choices = $("gate-choices");
  if (choices) {
    var last = load("checkpoint", null);
    var link = last && choices.querySelector('[data-checkpoint-id="' + Number(last.id) + '"]');
    if (link) {
      var cont = $("gate-continue");
      cont.href = link.getAttribute("href");
      cont.querySelector("span").textContent = last.code + " " + last.name;
      $("gate-remembered").hidden = false;
      link.classList.add("remembered");
    }
    return;
  }

  var root = $("gate");
  if (!root) return;
  var cfg = JSON.parse($("gate-config").textContent);
  var cp = cfg.checkpoint;
  var L = cfg.labels;
  var input = $("gate-code");
  var panel = $("gate-answer");
  save("checkpoint", { id: cp.id, code: cp.code, name: cp.name });
  var deviceId = load("device", null);
  if (!deviceId) { deviceId = uuid(); save("device", deviceId); }
  var direction = "in";
  var bundle = load("bundle", null);
  var queue = load("queue", []);
  var online = navigator.onLine !== false;

  // --- status line ----------------------------------------------------------------------------------------------
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function status() {
    var net = $("gate-network");
    net.textContent = online ? L.online : L.no_network;
    net.className = "gate-pill " + (online ? "on" : "off");
    var q = $("gate-queue");
    q.hidden = queue.length === 0;
    q.textContent = fill(L.queued, { n: queue.length });
    var b = $("gate-bundle");
    if (bundle && bundle.checkpoint && bundle.checkpoint.id === cp.id) {
      var at = new Date(bundle.fetched_at || Date.now());
      b.textContent = fill(L.bundle, { n: Object.keys(bundle.holders || {}).length,
                                       time: pad(at.getHours()) + ":" + pad(at.getMinutes()) });
      b.className = "gate-pill";
    } else {
      b.textContent = L.no_bundle;
      b.className = "gate-pill off";
    }
  }
  function setOnline(value) {
    if (online !== value) { online = value; status(); }
  }

  // --- sounds: WebAudio beeps, one pattern per outcome ---------------------------------------------------------------
  var audio = null;
  var SOUNDS = {
    admitted: [[880, 0, 0.11], [1320, 0.13, 0.16]],
    exited: [[660, 0, 0.2]],
    already_inside: [[330, 0, 0.15, "square"], [330, 0.22, 0.15, "square"]],
    refused: [[200, 0, 0.55, "square"]]
  };
  function beep(kind) {
    panel.dataset.sound = kind;
    try {
      if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      var t = audio.currentTime + 0.01;
      SOUNDS[kind].forEach(function (n) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.type = n[3] || "sine";
        osc.frequency.value = n[0];
        gain.gain.setValueAtTime(0.0001, t + n[1]);
        gain.gain.exponentialRampToValueAtTime(0.35, t + n[1] + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + n[1] + n[2]);
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(t + n[1]);
        osc.stop(t + n[1] + n[2] + 0.02);
      });
    } catch (e) { /* no audio on this device: the colours still say it */ }
  }
  function soundOf(answer) {
    if (answer.result === "admitted" || answer.result === "exited") return answer.result;
    return answer.reason === "already_inside" ? "already_inside" : "refused";
  }

  // --- the answer panel ----------------------------------------------------------------------------------------------
  var hideTimer = null;
  function text(id, value) {
    var el = $(id);
    el.textContent = value || "";
    el.hidden = !value;
  }
  function show(a) {
    var ok = a.result === "admitted" || a.result === "exited";
    panel.className = "gate-answer " + (ok ? "ok" : "refused") + (a.result === "exited" ? " exited" : "");
    panel.dataset.result = a.result;
    panel.dataset.reason = a.reason || "";
    panel.dataset.offline = a.offline ? "1" : "0";
    $("gate-result").textContent = L.results[a.result] || a.result;
    text("gate-reason", ok ? "" : (a.message || L.reasons[a.reason] || a.reason));
    text("gate-name", a.name);
    text("gate-native", a.name_native && a.name_native !== a.name ? a.name_native : "");
    var typeName = cfg.lang === "zh" ? (a.badge_type_zh || a.badge_type) : (a.badge_type || a.badge_type_zh);
    $("gate-type-name").textContent = typeName || "";
    $("gate-band").style.background = a.colour || "transparent";
    $("gate-type").hidden = !typeName;
    text("gate-company", a.company);
    text("gate-country", a.country_name || a.country);
    text("gate-offline", a.offline ? L.offline + " · " + L.offline_note : "");
    panel.hidden = false;
    panel.classList.remove("flash");
    void panel.offsetWidth;  // restart the flash animation for a repeated answer
    panel.classList.add("flash");
    beep(soundOf(a));
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hide, 6000);
  }
  function hide() {
    panel.hidden = true;
    refocus();
  }
  function showError(message) {
    show({ result: "refused", reason: "", message: message });
  }
  panel.addEventListener("click", hide);

  // --- this device's record of who is inside (for offline answers) ---------------------------------------------------
  function venueDay() {
    var tz = (bundle && bundle.timezone) || undefined;
    try {
      var parts = {};
      new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
        .formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
      return parts.year + "-" + parts.month + "-" + parts.day;
    } catch (e) {
      var d = new Date();
      return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
    }
  }
  function presence() {
    var day = venueDay();
    var p = load("presence." + cp.zone, null);
    if (!p || p.day !== day) p = { day: day, inside: [], exited: [] };
    return p;
  }
  function remember(a) {
    if (!a.badge_id) return;
    var p = presence(), id = a.badge_id;
    var drop = function (list) { return list.filter(function (x) { return x !== id; }); };
    if (a.result === "admitted" || a.reason === "already_inside") {
      p.inside = drop(p.inside).concat([id]);
    } else if (a.result === "exited" || a.reason === "not_inside") {
      p.inside = drop(p.inside);
      if (a.result === "exited") p.exited = drop(p.exited).concat([id]);
    }
    save("presence." + cp.zone, p);
  }

  // --- offline verification ------------------------------------------------------------------------------------------
  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  function base32(code) {
    if (code.length !== 117) return null;
    var out = new Uint8Array(73), bits = 0, value = 0, n = 0;
    for (var i = 0; i < code.length; i++) {
      var v = ALPHABET.indexOf(code.charAt(i));
      if (v < 0) return null;
      value = ((value << 5) | v) & 0xffff;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out[n++] = (value >>> bits) & 0xff;
      }
    }
    // One spare bit is left over; a code of ours has it clear (one code per badge, as on the server).
    if (n !== 73 || (value & ((1 << bits) - 1)) !== 0) return null;
    return out;
  }
  function fromBase64(text) {
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  var importedKeys = {};
  function publicKey(kid) {
    if (!importedKeys[kid]) {
      importedKeys[kid] = crypto.subtle.importKey("raw", fromBase64(bundle.keys[kid]), { name: "Ed25519" }, false,
                                                  ["verify"]);
    }
    return importedKeys[kid];
  }
  function refusal(reason, extra) {
    var a = { result: "refused", reason: reason, message: L.reasons[reason] || reason };
    for (var k in extra || {}) a[k] = extra[k];
    return a;
  }
  function verifyOffline(item) {
    if (!bundle || !bundle.checkpoint || bundle.checkpoint.id !== cp.id) {
      return Promise.resolve(refusal("", { message: L.no_bundle }));
    }
    if (!window.crypto || !crypto.subtle) return Promise.resolve(refusal("", { message: L.no_crypto }));
    var rules = bundle.checkpoint;
    if (!rules.active) return Promise.resolve(refusal("closed"));
    var bytes = base32(item.code.replace(/\s+/g, "").toUpperCase());
    if (!bytes || bytes[0] !== 1) return Promise.resolve(refusal("malformed"));
    var kid = String(bytes[1]);
    var badgeId = ((bytes[2] << 24) >>> 0) + (bytes[3] << 16) + (bytes[4] << 8) + bytes[5];
    var serial = bytes[6], typeId = (bytes[7] << 8) + bytes[8];
    if (!bundle.keys[kid]) return Promise.resolve(refusal("unknown_key"));
    return publicKey(kid).then(function (key) {
      return crypto.subtle.verify({ name: "Ed25519" }, key, bytes.slice(9), bytes.slice(0, 9));
    }).then(function (valid) {
      if (!valid) return refusal("bad_signature");
      var holder = bundle.holders[String(badgeId)];
      var type = bundle.badge_types[String(typeId)] || {};
      var who = {
        badge_id: badgeId, name: holder ? holder[0] : L.unknown_holder, name_native: holder ? holder[1] : "",
        country: holder ? holder[3] : "", company: holder ? holder[4] : "",
        country_name: holder && bundle.countries && bundle.countries[holder[3]] ?
          bundle.countries[holder[3]][cfg.lang === "zh" ? 0 : 1] : "",
        badge_type: type.name_en || "", badge_type_zh: type.name_zh || "", colour: type.colour || ""
      };
      var revoked = bundle.revocations || { revoked: [], reissued: {} };
      // A code whose serial is behind the badge's current one is an old code of a reissued badge. A newer serial
      // than the bundle knows is a reissue after the bundle was fetched: its signature is genuine, so it passes.
      if (revoked.revoked.indexOf(badgeId) >= 0 || serial < (revoked.reissued[String(badgeId)] || 1)) {
        return refusal("revoked", who);
      }
      var day = venueDay();
      if ((type.days && type.days.length && type.days.indexOf(day) < 0) ||
          (rules.days.length && rules.days.indexOf(day) < 0)) return refusal("wrong_day", who);
      if (rules.badge_type_ids.length && rules.badge_type_ids.indexOf(typeId) < 0) {
        return refusal("not_admitted_here", who);
      }
      if (rules.kind === "hall" && type.areas && type.areas.length && type.areas.indexOf(rules.hall_code) < 0) {
        return refusal("not_admitted_here", who);
      }
      var p = presence(), inside = p.inside.indexOf(badgeId) >= 0;
      if (item.direction === "out") {
        if (!inside) return refusal("not_inside", who);
        who.result = "exited";
      } else {
        if (inside) return refusal("already_inside", who);
        if (!rules.reentry && p.exited.indexOf(badgeId) >= 0) return refusal("no_reentry", who);
        who.result = "admitted";
      }
      who.reason = "";
      return who;
    }).catch(function () { return refusal("bad_signature"); });
  }

  // --- talking to the server ---------------------------------------------------------------------------------------
  function post(url, body, timeout) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, timeout) : null;
    return fetch(url, {
      method: "POST", credentials: "same-origin", signal: ctrl ? ctrl.signal : undefined,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": cfg.csrf },
      body: JSON.stringify(body)
    }).then(function (r) { clearTimeout(timer); return r; }, function (e) { clearTimeout(timer); throw e; });
  }

  function scan(code) {
    code = code.replace(/\s+/g, "");
    if (!code) return;
    var item = { checkpoint_id: cp.id, code: code, device_id: deviceId, nonce: uuid(),
                 direction: cp.mode === "entry_exit" ? direction : "in", scanned_at: new Date().toISOString() };
    post(cfg.urls.scan, item, 5000).then(function (r) {
      if (r.status >= 500) throw new Error("server " + r.status);  // the server is down: check it here
      return r.json().then(function (body) {
        setOnline(true);
        if (r.status === 200) {
          remember(body);
          show(body);
          flush();
        } else if (r.status === 401) {
          showError(L.signed_out);
        } else {
          showError(fill(L.error, { message: body.message || r.status }));
        }
      });
    }).catch(function () { offline(item); });
  }

  function offline(item) {
    setOnline(false);
    queue.push({ nonce: item.nonce, code: item.code, checkpoint_id: item.checkpoint_id, direction: item.direction,
                 scanned_at: item.scanned_at });
    save("queue", queue);
    status();
    verifyOffline(item).then(function (a) {
      a.offline = true;
      remember(a);
      show(a);
    });
  }

  var flushing = false;
  function flush() {
    if (flushing || !queue.length) return;
    flushing = true;
    var batch = queue.slice(0, 200);
    post(cfg.urls.batch, { device_id: deviceId, scans: batch }, 20000).then(function (r) {
      if (r.status !== 200) throw new Error("batch " + r.status);
      return r.json();
    }).then(function (body) {
      // The answers come in the batch's order; every scan sent was taken (or can never be), so it leaves the queue.
      var sent = {};
      batch.forEach(function (s) { sent[s.nonce] = true; });
      queue = queue.filter(function (s) { return !sent[s.nonce]; });
      save("queue", queue);
      (body.answers || []).forEach(remember);
      setOnline(true);
    }).catch(function () { /* still offline: the timer tries again */ }).then(function () {
      flushing = false;
      status();
    });
  }

  function refreshBundle() {
    var headers = { Accept: "application/json" };
    if (bundle && bundle.checkpoint && bundle.checkpoint.id === cp.id && bundle.version) {
      headers["If-None-Match"] = '"' + bundle.version + '"';
    }
    return fetch(cfg.urls.bundle, { headers: headers, credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 304) {
          bundle.fetched_at = Date.now();
          save("bundle", bundle);
          return;
        }
        if (!r.ok) throw new Error("bundle " + r.status);
        return r.json().then(function (fresh) {
          fresh.fetched_at = Date.now();
          bundle = fresh;
          importedKeys = {};
          save("bundle", bundle);  // too big for this browser's storage: kept in memory for this page
        });
      }).then(function () { root.dataset.bundle = "ready"; }, function () {}).then(status);
  }

  // --- input: the wedge scanner, the keyboard, the camera (scanner.js, shared with the booth's lead scanner) -------
  var refocus = window.ExpoScanner.keepFocus(input);
  $("gate-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var code = input.value;
    input.value = "";
    scan(code);
  });

  var dirBox = $("gate-direction");
  if (dirBox) {
    dirBox.addEventListener("click", function (e) {
      var btn = e.target.closest("[data-direction]");
      if (!btn) return;
      direction = btn.dataset.direction;
      Array.prototype.forEach.call(dirBox.querySelectorAll("[data-direction]"), function (b) {
        var on = b === btn;
        b.classList.toggle("active", on);
        b.setAttribute("aria-pressed", on ? "true" : "false");
      });
      root.dataset.direction = direction;
      refocus();
    });
  }

  window.ExpoScanner.camera({ button: $("gate-camera-button"), note: $("gate-camera-note"), video: $("gate-video"),
                              labels: L, onCode: scan });

  // --- start ---------------------------------------------------------------------------------------------------------
  window.addEventListener("online", function () { setOnline(true); flush(); refreshBundle(); });
  window.addEventListener("offline", function () { setOnline(false); });
  setInterval(function () { if (queue.length) flush(); }, 10000);
  setInterval(refreshBundle, 5 * 60 * 1000);
  status();
  refreshBundle().then(flush);
  refocus();
})();
