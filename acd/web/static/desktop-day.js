/* The agent's day on the desktop (issue 13): the queues chosen at sign-in, hang-up, the wrap-up's result,
   end-early and more time, and the personal panel (callbacks, my recordings today with QA scores).
   Runs after desktop.js and renders only its own blocks, from the same server state. */
(function () {
  "use strict";
  var D = window.acdDesktop;
  if (!D) return;
  var t = D.t, agent = encodeURIComponent(D.agent);
  function $(id) { return document.getElementById(id); }
  var panelFor = null; // the state after which the panel was last read

  // ---- queues worked today --------------------------------------------------------------------------
  function renderQueues(state) {
    var a = state.agent, list = a.queues || [], box = $("queue-choice");
    var choosable = list.some(function (q) { return q.optional; });
    box.hidden = !list.length || (!choosable && a.state !== "logged_out");
    var host = $("queue-list"), sig = JSON.stringify(list) + a.state;
    if (host.dataset.sig === sig) return;
    host.dataset.sig = sig;
    host.textContent = "";
    var locked = ["ringing", "on_call"].indexOf(a.state) >= 0;
    list.forEach(function (q) {
      var label = document.createElement("label");
      label.className = "check";
      var box_ = document.createElement("input");
      box_.type = "checkbox"; box_.value = q.name; box_.checked = q.on;
      box_.disabled = !q.optional || locked;
      box_.dataset.queue = q.name;
      label.appendChild(box_);
      label.appendChild(document.createTextNode(" " + q.name + (q.optional ? "" : " (" + t("queues.fixed") + ")")));
      host.appendChild(label);
    });
    $("queue-hint").hidden = a.state !== "logged_out" || !choosable;
  }
  $("queue-list").addEventListener("change", function () {
    var chosen = Array.prototype.map.call(
      document.querySelectorAll("#queue-list input:checked"), function (i) { return i.value; });
    D.post("/api/agents/" + agent + "/queues", {queues: chosen}).catch(function () {
      $("queue-list").dataset.sig = ""; renderQueues(D.state()); // refused: show the truth again
    });
  });

  // ---- wrap-up: result, finish early, more time -----------------------------------------------------
  function renderWrapup(state) {
    var a = state.agent, call = state.call;
    if (!call || a.state !== "wrap_up") return;
    var results = call.results || [], sel = $("result"), sig = JSON.stringify(results);
    $("result-box").hidden = !results.length;
    if (sel.dataset.sig !== sig || sel.dataset.call !== call.call_id) {
      sel.dataset.sig = sig; sel.dataset.call = call.call_id;
      sel.textContent = "";
      [""].concat(results).forEach(function (r) {
        var o = document.createElement("option");
        o.value = r; o.textContent = r || t("wrap.result_none"); sel.appendChild(o);
      });
      sel.value = call.result || "";
    }
    var blocked = call.topic_required && !call.topic;
    $("btn-wrap-done").disabled = blocked;
    $("btn-wrap-done").title = blocked ? t("wrap.topic_required") : "";
    $("wrap-why").hidden = !blocked;
    var more = $("btn-wrap-more");
    more.hidden = !(call.wrapup_extend_s > 0);
    more.disabled = !!call.wrapup_extended;
    more.textContent = call.wrapup_extended ? t("wrap.more_used")
      : t("wrap.more").replace("{s}", Math.round(call.wrapup_extend_s));
  }
  $("btn-wrap-done").addEventListener("click", function () {
    D.post("/api/agents/" + agent + "/state", {state: "ready"}).catch(function () { /* shown by post */ });
  });
  $("btn-wrap-more").addEventListener("click", function () {
    D.post("/api/agents/" + agent + "/wrapup/extend", {}).catch(function () { /* shown by post */ });
  });

  // ---- hang-up (Alt+Q through the call-control panel's shortcut handler) ----------------------------
  $("btn-hangup").addEventListener("click", function () { D.control("hangup"); });

  // ---- the personal panel ---------------------------------------------------------------------------
  function renderRank(state) {
    var r = state.today.rank;
    $("today-rank").textContent = r ? r.place + "/" + r.of : "–"; // place / agents signed in: fits any language
  }
  function li(parts, href) {
    var item = document.createElement("li");
    parts.forEach(function (p, i) {
      var span = document.createElement("span");
      span.className = i ? "muted small" : "";
      span.textContent = (i ? " · " : "") + p;
      item.appendChild(span);
    });
    if (href) {
      var a = document.createElement("a");
      a.href = href; a.target = "_blank"; a.rel = "noopener"; a.textContent = " " + t("panel.listen");
      item.appendChild(a);
    }
    return item;
  }
  function loadPanel() {
    fetch("/api/agents/" + agent + "/panel", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) return;
        var cbs = $("callbacks-list"), recs = $("recordings-list");
        cbs.textContent = ""; recs.textContent = "";
        p.callbacks.forEach(function (c) {
          var item = li([c.number || "—", c.topic || c.kind || "", c.due_at ? D.fmtDate(Date.parse(c.due_at) / 1000) : ""]);
          item.dataset.callback = c.id; cbs.appendChild(item);
        });
        p.recordings.forEach(function (r) {
          var qa = r.qa.map(function (e) { return Math.round(e.total) + "%"; }).join(", ");
          var when = r.started_at ? new Date(r.started_at).toTimeString().slice(0, 5) : "";
          var item = li([when, r.caller || "—", r.topic || "", qa ? t("panel.qa") + " " + qa : ""], r.url);
          item.dataset.recording = r.id; recs.appendChild(item);
        });
        $("callbacks-none").hidden = !!p.callbacks.length;
        $("recordings-none").hidden = !!p.recordings.length;
      }).catch(function () { /* the panel is a convenience: the next call reloads it */ });
  }

  D.onRender(function (state) {
    renderQueues(state);
    renderWrapup(state);
    renderRank(state);
    // re-read the panel when the page opens and whenever a call has ended (wrap-up begins)
    var key = state.agent.state === "wrap_up" && state.call ? state.call.call_id : panelFor === null ? "open" : panelFor;
    if (key !== panelFor) { panelFor = key; loadPanel(); }
  });
})();
