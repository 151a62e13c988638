/* The agent desktop: renders the state the server sends over one WebSocket, and sends changes through
   the JSON API with the session's CSRF token. No framework; the server owns every decision. */
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("boot").textContent);
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var csrf = document.querySelector('meta[name="csrf"]').content;
  var agent = boot.agent;
  var state = boot.state;
  var offset = 0; // server clock minus ours, seconds
  var socket = null, retry = 0, lastCall = null, lastState = null, baseTitle = document.title;

  function $(id) { return document.getElementById(id); }
  function t(key) { return T[key] || key; }
  function tr(prefix, value) { var k = prefix + value; return T[k] ? T[k] : value; }
  function now() { return Date.now() / 1000 + offset; }
  function dur(s) {
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(r).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }
  function text(id, value) { $(id).textContent = value == null || value === "" ? "—" : value; }
  function fmtDate(epoch) {
    if (!epoch) return "—";
    var d = new Date(epoch * 1000), p = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " +
      p(d.getHours()) + ":" + p(d.getMinutes());
  }

  function render() {
    var a = state.agent, call = state.call;
    offset = state.now - Date.now() / 1000;
    var badge = $("state-badge");
    badge.className = "badge state-" + a.state;
    badge.textContent = t("state." + a.state);
    $("state-text").textContent = t("state." + a.state);
    $("state-reason").textContent = a.reason ? t("action.reason") + ": " + tr("reason.", a.reason) : "";
    $("today-calls").textContent = state.today.calls;
    $("today-talk").textContent = dur(state.today.talk_s);
    var busy = ["ringing", "on_call", "wrap_up"].indexOf(a.state) >= 0;
    $("btn-ready").disabled = busy || a.state === "ready";
    $("btn-not-ready").disabled = a.state === "ringing" || a.state === "on_call" ||
      (a.state === "not_ready" && a.reason === $("reason").value);
    $("btn-stop").disabled = busy || a.state === "logged_out";
    document.body.dataset.state = a.state;

    var showCall = busy && call;
    $("idle").hidden = !!showCall;
    $("callview").hidden = !showCall;
    if (!showCall) {
      var missed = a.state === "not_ready" && a.reason === "no_answer";
      $("idle-title").textContent = missed ? t("state.not_ready") : t(a.state === "ready" ? "idle.ready" :
        a.state === "not_ready" ? "idle.not_ready" : "idle.logged_out");
      $("idle-hint").textContent = missed ? t("idle.missed") : a.state === "ready" ? t("idle.ready_hint") : "";
      $("idle").className = "idle idle-" + a.state;
    } else {
      $("call-phase").textContent = a.state === "ringing" ? t("pop.title") : t("state." + a.state);
      $("callview").className = "call call-" + a.state;
      text("pop-caller", call.caller);
      $("pop-caller-name").textContent = call.caller_name || "";
      text("pop-region", call.region + (call.carrier ? " · " + call.carrier : ""));
      text("pop-language", call.language ? tr("lang.", call.language) : null);
      text("pop-dialled", call.dialled);
      text("pop-scenario", call.scenario);
      text("pop-queue", call.queue);
      $("answer-hint").hidden = a.state !== "ringing";
      $("wrapup").hidden = a.state !== "wrap_up";
      if (lastCall !== call.call_id) {
        $("topic").value = call.topic || ""; $("comment").value = call.comment || "";
        $("topic-saved").hidden = true;
      }
      var body = $("history").tBodies[0];
      body.textContent = "";
      (call.history || []).forEach(function (h) {
        var tr_ = body.insertRow();
        tr_.dataset.callId = h.call_id; // desktop-outbound.js adds "call back" to the row
        [fmtDate(h.at), h.agent_name || "—", h.topic || "—", h.outcome ? tr("outcome.", h.outcome) : "—"]
          .forEach(function (v) { tr_.insertCell().textContent = v; });
        var rec = tr_.insertCell(); // desk3: a link where the agent may hear it (the server decides)
        if (h.recording_url) {
          var link = document.createElement("a");
          link.href = h.recording_url; link.target = "_blank"; link.rel = "noopener";
          link.textContent = t("panel.listen"); rec.appendChild(link);
        } else rec.textContent = "—";
      });
      renderControl(call, a.state);
      $("script").hidden = !call.script_html || a.state === "wrap_up"; // wrap-up needs the room
      if (call.script_html && $("script-body").dataset.html !== call.script_html) {
        $("script-body").innerHTML = call.script_html; // escaped and rendered by the server (render_script)
        $("script-body").dataset.html = call.script_html;
      }
      fillTopics(call.topics || []);
      $("history").hidden = !(call.history || []).length;
      $("history-none").hidden = !!(call.history || []).length;
    }
    if (a.state === "ringing" && lastState !== "ringing") alertRinging(call);
    document.title = (a.state === "ringing" ? "☎ " + t("pop.title") + " · " : "") + baseTitle;
    lastCall = call ? call.call_id : null;
    $("callview").dataset.callId = showCall ? call.call_id : ""; // read by campaign-call.js
    lastState = a.state;
    tick();
    hooks.forEach(function (h) { h(state); }); // desk3: desktop-day.js (queue choice, wrap-up, panel)
    document.dispatchEvent(new CustomEvent("acd:state", {detail: state}));  // the embedded softphone listens
  }

  function targetName(id) {
    var tg = state.targets || {}, all = [].concat(tg.agents || [], tg.queues || [], tg.directory || []);
    for (var i = 0; i < all.length; i++) if (all[i].id === id) return all[i].name;
    var opt = $("cc-target").querySelector('option[value="' + CSS.escape(id) + '"]');
    return opt ? opt.textContent : id.replace(/^[a-z]+:/, "");
  }

  function fillTargets() {
    var sel = $("cc-target"), keep = sel.value, tg = state.targets || {};
    var sig = JSON.stringify(tg);
    if (sel.dataset.sig === sig) return;
    sel.dataset.sig = sig;
    sel.textContent = "";
    var first = document.createElement("option");
    first.value = ""; first.textContent = t("cc.pick"); sel.appendChild(first);
    [["agents", "cc.agents"], ["queues", "cc.queues"], ["directory", "cc.directory"]].forEach(function (g) {
      var list = tg[g[0]] || [];
      if (!list.length) return;
      var group = document.createElement("optgroup");
      group.label = t(g[1]);
      list.forEach(function (e) {
        var o = document.createElement("option");
        o.value = e.id; o.textContent = e.name; group.appendChild(o);
      });
      sel.appendChild(group);
    });
    sel.value = keep;
    if (sel.value !== keep) sel.value = "";
  }

  function fillTopics(topics) {
    var sel = $("topic-pick"), sig = JSON.stringify(topics);
    $("topic-pick-box").hidden = !topics.length;
    if (sel.dataset.sig === sig) return;
    sel.dataset.sig = sig;
    sel.textContent = "";
    topics.concat([""]).forEach(function (name) {
      var o = document.createElement("option");
      o.value = name; o.textContent = name || t("wrap.topic_other");
      sel.appendChild(o);
    });
    sel.value = topics.indexOf($("topic").value) >= 0 ? $("topic").value : "";
  }

  function renderControl(call, agentState) {
    var c = call.control, box = $("callctl");
    box.hidden = agentState !== "on_call" || !c;
    if (box.hidden) { $("keypad").hidden = true; return; }
    fillTargets();
    var consult = c.consult, status = [];
    if (c.conference) status.push(t("cc.in_conference"));
    else if (consult) status.push(t("cc.consult_" + consult.state).replace("{t}", consult.target_name || targetName(consult.target)));
    else if (c.held) status.push(t("cc.held"));
    if (c.muted) status.push(t("cc.muted"));
    $("cc-status").textContent = status.join(" · ");
    $("cc-status").hidden = !status.length;
    box.dataset.held = c.held; box.dataset.muted = c.muted;
    box.dataset.consult = consult ? consult.state : ""; box.dataset.conference = c.conference;
    var hold = $("btn-hold");
    hold.textContent = t(c.held ? "cc.resume" : "cc.hold");
    hold.setAttribute("aria-pressed", c.held ? "true" : "false");
    hold.disabled = !!consult || c.conference;
    var mute = $("btn-mute");
    mute.textContent = t(c.muted ? "cc.unmute" : "cc.mute");
    mute.setAttribute("aria-pressed", c.muted ? "true" : "false");
    var choosing = !consult && !c.conference;
    $("cc-target").disabled = !choosing;
    $("btn-consult").disabled = !choosing;
    $("btn-blind").disabled = !choosing;
    $("cc-consult").hidden = !consult || c.conference;
    var answered = consult && consult.state === "answered";
    $("btn-complete").disabled = !answered;
    $("btn-conference").disabled = !answered;
    titles();
  }

  function titles() {
    document.querySelectorAll("#callctl button[data-key]").forEach(function (b) {
      b.title = b.textContent + " (" + t("cc.shortcut").replace("{k}", b.dataset.key) + ")";
    });
  }

  function tick() {
    var a = state.agent, call = state.call;
    $("state-since").textContent = a.since ? t("state.since").replace("{d}", dur(now() - a.since)) : "";
    if (!call || $("callview").hidden) return;
    var cd = $("countdown"), deadline = null, label = "";
    if (a.state === "ringing") { deadline = call.ring_deadline; label = t("pop.ring_left"); }
    else if (a.state === "wrap_up") { deadline = call.wrapup_deadline; label = t("wrap.left"); }
    cd.hidden = deadline == null;
    if (deadline != null) { $("countdown-label").textContent = label; $("countdown-value").textContent = dur(deadline - now()); }
    if (a.state === "on_call" && call.connected_at) {
      $("pop-wait-label").textContent = t("call.talk"); text("pop-wait", dur(now() - call.connected_at));
    } else {
      $("pop-wait-label").textContent = t("pop.wait");
      var since = call.queued_at || call.arrived_at;
      var until = call.connected_at || (a.state === "ringing" ? now() : call.ended_at || now());
      text("pop-wait", since ? dur(until - since) : null);
    }
  }

  function alertRinging(call) {
    try {
      if ("Notification" in window && Notification.permission === "granted") {
        new Notification(t("pop.title"), {body: call ? call.caller || "" : "", tag: "acd-ring"});
      }
    } catch (e) { /* notifications are a bonus */ }
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = 880; g.gain.value = 0.08; o.connect(g); g.connect(ctx.destination);
      o.start(); o.stop(ctx.currentTime + 0.4);
    } catch (e) { /* no audio device */ }
  }

  function connStatus(ok) {
    $("conn").dataset.state = ok ? "live" : "lost";
    $("conn-text").textContent = ok ? t("conn.ok") : t("conn.lost");
    $("banner").hidden = ok;
  }

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host +
      "/api/agents/" + encodeURIComponent(agent) + "/live";
    socket = new WebSocket(url);
    socket.onopen = function () { retry = 0; connStatus(true); };
    socket.onmessage = function (ev) {
      var msg = JSON.parse(ev.data);
      if (msg.type === "state") { state = msg.state; render(); }
    };
    socket.onclose = function (ev) {
      socket = null;
      if (ev.code === 4401) { location.href = "/login"; return; }
      connStatus(false);
      var delay = Math.min(10000, 500 * Math.pow(2, retry++)) * (0.75 + Math.random() / 2);
      setTimeout(checkThenConnect, delay);
    };
  }

  function checkThenConnect() {
    // A refused upgrade is invisible to scripts: ask the JSON route whether we are still signed in.
    fetch("/api/agents/" + encodeURIComponent(agent) + "/desktop", {credentials: "same-origin"})
      .then(function (r) {
        if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); return; }
        connect();
      })
      .catch(function () { connStatus(false); setTimeout(checkThenConnect, Math.min(10000, 500 * Math.pow(2, retry++))); });
  }

  function post(url, body) {
    var err = $("action-error");
    err.hidden = true;
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.status === 401) { location.href = "/login"; }
        if (!r.ok) { err.textContent = data.error || t("error.generic"); err.hidden = false; throw new Error(data.error); }
        return data;
      });
    });
  }
  function setState(s, reason) {
    return post("/api/agents/" + encodeURIComponent(agent) + "/state", reason ? {state: s, reason: reason} : {state: s});
  }

  $("btn-ready").addEventListener("click", function () {
    setState("ready");
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
  });
  $("btn-not-ready").addEventListener("click", function () { setState("not_ready", $("reason").value); });
  $("reason").addEventListener("change", render);
  $("btn-stop").addEventListener("click", function () { setState("logout"); });
  $("topic-pick").addEventListener("change", function () {
    $("topic").value = $("topic-pick").value;
    if (!$("topic-pick").value) $("topic").focus();
  });
  $("topic").addEventListener("input", function () {
    var v = $("topic").value, sel = $("topic-pick");
    sel.value = Array.prototype.some.call(sel.options, function (o) { return o.value === v; }) ? v : "";
  });
  $("wrapup").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!state.call) return;
    post("/api/calls/" + encodeURIComponent(state.call.call_id) + "/topic",
         {topic: $("topic").value, comment: $("comment").value || null,
          result: $("result").value || undefined})  // desk3: the result, where the queue has a list
      .then(function () { $("topic-saved").hidden = false; });
  });

  function control(action, body) {
    if (!state.call || !state.call.control) return Promise.resolve(null);
    return post("/api/calls/" + encodeURIComponent(state.call.call_id) + "/" + action, body || {})
      .then(function (status) {
        // Hold or a consultation starting is no CDR event: ask the server to re-send every tab's state.
        if (socket && socket.readyState === WebSocket.OPEN) socket.send("refresh");
        return status;
      }).catch(function () { return null; });
  }
  function target() {
    var v = $("cc-target").value;
    if (!v) { var err = $("action-error"); err.textContent = t("cc.no_target"); err.hidden = false; $("cc-target").focus(); }
    return v;
  }
  var actions = {
    "btn-hold": function () { control(state.call.control.held ? "resume" : "hold"); },
    "btn-mute": function () { control(state.call.control.muted ? "unmute" : "mute"); },
    "btn-keypad": function () {
      var pad = $("keypad"); pad.hidden = !pad.hidden;
      $("btn-keypad").setAttribute("aria-expanded", pad.hidden ? "false" : "true");
      if (!pad.hidden) pad.querySelector("button").focus();
    },
    "btn-consult": function () { var v = target(); if (v) control("consult", {target: v}); },
    "btn-blind": function () { var v = target(); if (v) control("transfer", {kind: "blind", target: v}); },
    "btn-complete": function () { control("transfer", {kind: "attended"}); },
    "btn-conference": function () { control("conference"); },
    "btn-cancel": function () { control("cancel-consult"); }
  };
  Object.keys(actions).forEach(function (id) { $(id).addEventListener("click", actions[id]); });
  $("keypad").addEventListener("click", function (ev) {
    var d = ev.target.closest("button[data-digit]");
    if (d) control("dtmf", {digits: d.dataset.digit});
  });
  document.addEventListener("keydown", function (ev) {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey || $("callctl").hidden) return;
    // ev.code, not ev.key: the same physical key on a Russian or Kazakh layout
    var b = document.querySelector('#callctl button[data-key="Alt+' + ev.code.replace(/^Key/, "") + '"]');
    if (!b || b.disabled || b.offsetParent === null) return;
    ev.preventDefault();
    b.click();
  });

  // desk3: what desktop-day.js needs of this page (it renders its own blocks after each state)
  var hooks = [];
  window.acdDesktop = {
    onRender: function (h) { hooks.push(h); h(state); },
    state: function () { return state; },
    post: post, control: control, t: t, now: now, dur: dur, fmtDate: fmtDate, agent: agent,
    csrf: csrf
  };

  render();
  connect();
  setInterval(tick, 1000);
})();
