// The print job page: polls the job's JSON state and moves the progress bar until the PDF is ready (or the job
// failed). Without JavaScript the page refreshes itself instead (a <noscript> meta refresh).
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) return;
  var status = box.dataset.status;
  if (status === "done" || status === "failed") return;
  var $ = function (id) { return document.getElementById(id); };
  var classes = { done: "status-approved", failed: "status-rejected", running: "status-submitted", queued: "status-waitlisted" };

  function show(state) {
    $("job-progress").value = state.percent;
    $("job-progress").textContent = state.percent + " %";
    $("job-percent").textContent = state.percent;
    $("job-done").textContent = state.done;
    $("job-total").textContent = state.total || "?";
    var label = box.dataset["label" + state.status.charAt(0).toUpperCase() + state.status.slice(1)] || state.status;
    $("job-status").innerHTML = "";
    var span = document.createElement("span");
    span.className = "status " + (classes[state.status] || "");
    span.textContent = label;
    $("job-status").appendChild(span);
    if (state.status === "done") {
      $("job-download").hidden = false;
      if (state.pdf) $("job-pdf").href = state.pdf;
    }
    if (state.status === "failed") {
      $("job-error").textContent = state.error;
      $("job-failed").hidden = false;
    }
    if ((state.status === "done" || state.status === "failed") && $("job-wait")) $("job-wait").hidden = true;
  }

  function poll() {
    fetch(box.dataset.stateUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (state) {
        show(state);
        if (state.status !== "done" && state.status !== "failed") setTimeout(poll, 700);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 300);
})();
