/* The interactive floor plan: zoom and pan (wheel, drag, pinch, buttons), hall tabs, hover/tap info,
   filters by pavilion or product category, and search by exhibitor name. Plain JS, no libraries. */
(function () {
  "use strict";
  var frame = document.getElementById("plan-frame");
  var svg = frame && frame.querySelector("svg.floorplan");
  if (!svg) return;
  var info = document.getElementById("plan-info");
  var found = document.getElementById("plan-found");
  var booths = Array.prototype.slice.call(svg.querySelectorAll("g.booth"));
  var home = svg.getAttribute("data-extent").split(" ").map(Number);
  var view = home.slice();

  function show(v) {
    view = v;
    svg.setAttribute("viewBox", v.map(function (n) { return n.toFixed(2); }).join(" "));
  }
  function toPlan(clientX, clientY) {  // a screen point in plan metres
    var r = svg.getBoundingClientRect();
    var s = Math.max(view[2] / r.width, view[3] / r.height);
    var ox = (r.width * s - view[2]) / 2, oy = (r.height * s - view[3]) / 2;  // xMidYMid meet letterbox
    return [view[0] - ox + (clientX - r.left) * s, view[1] - oy + (clientY - r.top) * s, s];
  }
  function zoom(factor, cx, cy) {
    var w = Math.min(Math.max(view[2] / factor, 4), home[2] * 2);
    var h = view[3] * (w / view[2]);
    if (cx === undefined) { cx = view[0] + view[2] / 2; cy = view[1] + view[3] / 2; }
    show([cx - (cx - view[0]) * (w / view[2]), cy - (cy - view[1]) * (h / view[3]), w, h]);
  }
  function fitBox(x, y, w, h, margin) {
    margin = margin || 0;
    show([x - margin, y - margin, w + 2 * margin, h + 2 * margin]);
  }
  function boxOf(g) {  // a booth's rectangle in venue metres
    var r = g.querySelector("rect");
    var hall = g.closest("g.hall").getAttribute("data-box").split(" ").map(Number);
    return [hall[0] + Number(r.getAttribute("x")), hall[1] + Number(r.getAttribute("y")),
            Number(r.getAttribute("width")), Number(r.getAttribute("height"))];
  }

  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var p = toPlan(e.clientX, e.clientY);
    zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2, p[0], p[1]);
  }, { passive: false });

  var pointers = {}, dragged = false, pinchFrom = 0;
  svg.addEventListener("pointerdown", function (e) {
    pointers[e.pointerId] = [e.clientX, e.clientY];
    dragged = false;
    var ids = Object.keys(pointers);
    if (ids.length === 2) {
      var a = pointers[ids[0]], b = pointers[ids[1]];
      pinchFrom = Math.hypot(a[0] - b[0], a[1] - b[1]);
    }
  });
  svg.addEventListener("pointermove", function (e) {
    var last = pointers[e.pointerId];
    if (!last) return;
    var ids = Object.keys(pointers);
    if (ids.length === 2) {
      pointers[e.pointerId] = [e.clientX, e.clientY];
      var a = pointers[ids[0]], b = pointers[ids[1]];
      var d = Math.hypot(a[0] - b[0], a[1] - b[1]);
      if (pinchFrom > 0 && d > 0) {
        var mid = toPlan((a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
        zoom(d / pinchFrom, mid[0], mid[1]);
      }
      pinchFrom = d;
      dragged = true;
      return;
    }
    var dx = e.clientX - last[0], dy = e.clientY - last[1];
    if (!dragged && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!dragged && svg.setPointerCapture) svg.setPointerCapture(e.pointerId);
    dragged = true;
    pointers[e.pointerId] = [e.clientX, e.clientY];
    var s = toPlan(0, 0)[2];
    show([view[0] - dx * s, view[1] - dy * s, view[2], view[3]]);
  });
  function up(e) { delete pointers[e.pointerId]; pinchFrom = 0; }
  svg.addEventListener("pointerup", up);
  svg.addEventListener("pointercancel", up);
  svg.addEventListener("click", function (e) {  // a drag is not a click on the booth under it
    if (dragged) { e.preventDefault(); e.stopPropagation(); dragged = false; return; }
    var g = e.target.closest && e.target.closest("g.booth");
    if (g) describe(g);
  }, true);

  function describe(g) {
    var text = g.getAttribute("data-number");
    var name = g.getAttribute("data-exhibitor");
    if (name) text += " · " + name;
    var price = g.getAttribute("data-price");
    if (price) text += " · ¥" + Number(price).toLocaleString();
    info.textContent = text;
    booths.forEach(function (b) { b.classList.toggle("hover", b === g); });
  }
  svg.addEventListener("pointerover", function (e) {
    var g = e.target.closest && e.target.closest("g.booth");
    if (g) describe(g);
  });

  document.getElementById("zoom-in").addEventListener("click", function () { zoom(1.4); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(1 / 1.4); });
  document.getElementById("zoom-reset").addEventListener("click", function () { show(home.slice()); });

  // On the whole venue a tab zooms to its hall; on a page of one hall (?hall=) the tabs are links to the others.
  var oneHall = document.getElementById("plan-tools").getAttribute("data-hall");
  Array.prototype.forEach.call(document.querySelectorAll(".hall-tabs .tab"), function (tab) {
    tab.addEventListener("click", function (e) {
      var code = tab.getAttribute("data-hall");
      var hall = code && svg.querySelector('g.hall[data-hall="' + code + '"]');
      if (oneHall || (code && !hall)) return;
      e.preventDefault();
      Array.prototype.forEach.call(document.querySelectorAll(".hall-tabs .tab"), function (t) {
        t.classList.toggle("active", t === tab);
      });
      if (!code) { show(home.slice()); return; }
      var b = hall.getAttribute("data-box").split(" ").map(Number);
      fitBox(b[0], b[1], b[2], b[3], 4);
    });
  });

  var pavilion = document.getElementById("plan-pavilion");
  var category = document.getElementById("plan-category");
  function filter() {
    var p = pavilion.value, c = category.value;
    svg.classList.toggle("filtering", Boolean(p || c));
    booths.forEach(function (g) {
      var match = (!p || g.getAttribute("data-pavilion") === p) &&
        (!c || (" " + g.getAttribute("data-categories") + " ").indexOf(" " + c + " ") >= 0);
      g.classList.toggle("dim", !match);
    });
  }
  pavilion.addEventListener("change", filter);
  category.addEventListener("change", filter);

  document.getElementById("plan-search").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = document.getElementById("plan-q").value.trim().toLowerCase();
    var hits = [];
    booths.forEach(function (g) {
      var hit = Boolean(q) && (g.getAttribute("data-exhibitor") || "").toLowerCase().indexOf(q) >= 0;
      g.classList.toggle("found", hit);
      if (hit) hits.push(g);
    });
    if (!q) { found.textContent = ""; return; }
    if (!hits.length) { found.textContent = found.getAttribute("data-none"); return; }
    found.textContent = found.getAttribute("data-some") + " " +
      hits.map(function (g) { return g.getAttribute("data-number"); }).join(", ");
    var boxes = hits.map(boxOf);
    var x0 = Math.min.apply(null, boxes.map(function (b) { return b[0]; }));
    var y0 = Math.min.apply(null, boxes.map(function (b) { return b[1]; }));
    var x1 = Math.max.apply(null, boxes.map(function (b) { return b[0] + b[2]; }));
    var y1 = Math.max.apply(null, boxes.map(function (b) { return b[1] + b[3]; }));
    fitBox(x0, y0, x1 - x0, y1 - y0, 15);
    describe(hits[0]);
  });
})();
