/* Click-to-call and callback dialling on the agent desktop (issue 15). A separate script: it reads what
   desktop.js renders (body[data-state], the history rows' data-call-id) and posts to the outbound routes
   with the session's CSRF token. The server checks every number (dialling rules) and says why it refuses. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var csrf = document.querySelector('meta[name="csrf"]').content;
  var preview = null;

  function $(id) { return document.getElementById(id); }
  function t(key) { return T[key] || key; }
  function show(id, message) { var el = $(id); el.textContent = message || ""; el.hidden = !message; }
  function canCall() {
    return ["ready", "not_ready", "wrap_up"].indexOf(document.body.dataset.state) >= 0;
  }
  function refresh() {
    var ok = canCall();
    $("btn-out-call").disabled = !ok;
    $("btn-out-dial").disabled = !ok || !preview;
    document.querySelectorAll("#history button.call-back").forEach(function (b) { b.disabled = !ok; });
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error(data.error || String(r.status));
        return data;
      });
    });
  }
  function dial(url, body) {
    show("out-error", ""); show("out-status", "");
    return post(url, body).then(function (data) {
      show("out-status", t("out.placed").replace("{number}", data.number));
      return data;
    }).catch(function (err) { show("out-error", err.message); });
  }

  $("out-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    dial("/api/outbound/calls", {number: $("out-number").value.trim()});
  });
  function fill(prefix, cb, pop) {  // the preview box of a pulled (out-preview) or offered (out-offer) callback
    $(prefix + "-number").textContent = cb.number || "—";
    var info = [t("out.kind." + cb.kind), t("out.due") + " " + String(cb.due_at || "").slice(0, 16)];
    if (cb.ticket_id) info.push(t("out.ticket") + " " + cb.ticket_id);
    if (cb.comment) info.push(cb.comment);
    $(prefix + "-info").textContent = info.join(" · ");
    var rec = pop && pop.recording_url;
    $(prefix + "-rec").hidden = !rec;
    if (rec) $(prefix + "-rec").href = rec;
  }
  function cbUrl(id, action) {
    return "/api/callbacks/" + id.split("/").map(encodeURIComponent).join("/") + "/" + action;
  }
  $("btn-next-callback").addEventListener("click", function () {
    show("out-error", ""); show("out-status", "");
    post("/api/callbacks/next").then(function (data) {
      preview = data.callback;
      $("out-preview").hidden = !preview;
      if (!preview) { show("out-status", t("out.none")); refresh(); return; }
      fill("out-preview", preview, data.screen_pop);
      refresh();
    }).catch(function (err) { show("out-error", err.message); });
  });
  // A callback the daemon offers (acd/web/callback_offers.py): it comes with the desktop's state.
  var offer = null;
  document.addEventListener("acd:state", function (ev) {
    var o = ev.detail.callback_offer;
    offer = o ? o.callback : null;
    $("out-offer").hidden = !offer;
    if (offer) fill("out-offer", offer, o.screen_pop);
  });
  $("btn-offer-dial").addEventListener("click", function () {
    if (!offer) return;
    dial(cbUrl(offer.id, "dial")).then(function (data) { if (data) $("out-offer").hidden = true; });
  });
  $("btn-offer-skip").addEventListener("click", function () {
    if (!offer) return;
    show("out-error", "");
    post(cbUrl(offer.id, "skip")).then(function () { $("out-offer").hidden = true; })
      .catch(function (err) { show("out-error", err.message); });
  });
  $("btn-out-dial").addEventListener("click", function () {
    if (!preview) return;
    dial(cbUrl(preview.id, "dial")).then(function (data) {
      if (data) { preview = null; $("out-preview").hidden = true; }
    });
  });

  // "Call back" on each earlier call of the screen pop's history (rows rendered by desktop.js).
  function decorate() {
    var head = $("history").tHead.rows[0];
    if (head && !head.querySelector("th.call-back-col")) {
      var th = document.createElement("th"); th.className = "call-back-col"; head.appendChild(th);
    }
    var rows = document.querySelectorAll("#history tbody tr[data-call-id]");
    rows.forEach(function (row) {
      if (row.querySelector("button.call-back")) return;
      var b = document.createElement("button");
      b.type = "button"; b.className = "call-back small"; b.textContent = t("out.call_back");
      b.disabled = !canCall();
      b.addEventListener("click", function () { dial("/api/outbound/calls", {call_id: row.dataset.callId}); });
      row.insertCell().appendChild(b);
    });
  }
  new MutationObserver(decorate).observe($("history").tBodies[0], {childList: true});
  new MutationObserver(refresh).observe(document.body, {attributes: true, attributeFilter: ["data-state"]});
  refresh();
})();
