/* The supervisor's wallboard and its TV mode: renders the board the server sends over one WebSocket
   (sent whole after every change, never polled), ticks durations locally, reconnects by itself.
   Actions go through the JSON API with the session's CSRF token; the server audits them. */
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("boot").textContent);
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var csrfMeta = document.querySelector('meta[name="csrf"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var board = boot.board, tv = boot.tv, offset = 0, retry = 0, revoked = false;
  var STATES = ["ready", "ringing", "on_call", "wrap_up", "not_ready", "logged_out"];

  function $(id) { return document.getElementById(id); }
  function t(key) { return T[key] || key; }
  function tr(prefix, value) { var k = prefix + value; return T[k] ? T[k] : value; }
  function now() { return Date.now() / 1000 + offset; }
  /* The clock shows the centre's time (boot.tz, from the daemon's settings), not the browser's zone. */
  var clockFormat = null;
  try {
    clockFormat = new Intl.DateTimeFormat("en-GB", {timeZone: boot.tz, hour: "2-digit", minute: "2-digit",
      second: "2-digit", hourCycle: "h23"});
  } catch (e) { clockFormat = null; }
  function clockText(at) {
    if (clockFormat) return clockFormat.format(new Date(at * 1000));
    var d = new Date((at + (boot.tz_offset || 0)) * 1000), p = function (x) { return String(x).padStart(2, "0"); };
    return p(d.getUTCHours()) + ":" + p(d.getUTCMinutes()) + ":" + p(d.getUTCSeconds());
  }
  function dur(s) {
    if (s == null) return "—";
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(r).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }
  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (txt != null) e.textContent = txt;
    return e;
  }
  /* "ok", "warn" or "alarm" for a figure against a queue's thresholds (higher is worse, or lower). */
  function level(value, warn, alarm, lowerIsWorse) {
    if (value == null) return "ok";
    var worse = function (v, limit) { return limit != null && (lowerIsWorse ? v < limit : v >= limit); };
    return worse(value, alarm) ? "alarm" : worse(value, warn) ? "warn" : "ok";
  }
  function filters() {
    return {queue: tv || !$("f-queue") ? "" : $("f-queue").value, team: tv || !$("f-team") ? "" : $("f-team").value};
  }
  function fillSelect(id, values) {
    var s = $(id);
    if (!s) return;
    var keep = s.value, have = Array.prototype.map.call(s.options, function (o) { return o.value; }).join("|");
    if (have === [""].concat(values).join("|")) return;
    while (s.options.length > 1) s.remove(1);
    values.forEach(function (v) { var o = el("option", null, v); o.value = v; s.appendChild(o); });
    s.value = values.indexOf(keep) >= 0 ? keep : "";
  }

  function figure(label, value, lvl, extra, id) {
    var box = el("div", "fig lvl-" + (lvl || "ok"));
    var v = el("span", "v", value);
    if (id) v.dataset.fig = id;
    box.appendChild(v);
    box.appendChild(el("span", "l", label));
    if (extra) box.appendChild(el("span", "x", extra));
    return box;
  }

  function renderQueues() {
    var f = filters(), host = $("queues");
    host.textContent = "";
    board.queues.forEach(function (q) {
      if (f.queue && q.name !== f.queue) return;
      var th = q.thresholds || {};
      var tile = el("article", "tile");
      tile.dataset.queue = q.name;
      var head = el("header", "tile-head");
      head.appendChild(el("h3", null, q.name));
      head.appendChild(el("span", "muted", q.ready + " " + t("wb.ready") + " · " + q.busy + " " + t("wb.busy")));
      tile.appendChild(head);
      var figs = el("div", "figs");
      figs.appendChild(figure(t("wb.waiting"), String(q.waiting),
        level(q.waiting, th.waiting_warn, th.waiting_alarm, false), null, "waiting"));
      var longest = q.waiting ? q.longest_wait_s + (now() - board.now) : 0;
      var lw = figure(t("wb.longest"), q.waiting ? dur(longest) : "—",
        level(q.waiting ? longest : null, th.longest_wait_warn_s, th.longest_wait_alarm_s, false), null, "longest");
      lw.dataset.base = String(q.longest_wait_s); lw.dataset.waiting = String(q.waiting);
      lw.dataset.warn = th.longest_wait_warn_s == null ? "" : th.longest_wait_warn_s;
      lw.dataset.alarm = th.longest_wait_alarm_s == null ? "" : th.longest_wait_alarm_s;
      lw.classList.add("ticking-wait");
      figs.appendChild(lw);
      figs.appendChild(figure(t("wb.ewt"), q.ewt_known ? dur(q.ewt_s) : "—", "ok",
        q.ewt_known ? null : t("wb.unknown"), "ewt"));
      figs.appendChild(figure(t("wb.answered"), String(q.answered), "ok", null, "answered"));
      figs.appendChild(figure(t("wb.lost"), String(q.lost), q.lost ? "warn" : "ok",
        q.short_lost ? q.short_lost + " " + t("wb.short_lost") : null, "lost"));
      figs.appendChild(figure(t("wb.sl"), q.sl_pct == null ? "—" : Math.round(q.sl_pct) + "%",
        level(q.sl_pct, th.service_level_warn_pct, th.service_level_alarm_pct, true),
        q.sl_threshold_s != null ? t("wb.sl_target").replace("{s}", Math.round(q.sl_threshold_s)) : null, "sl"));
      tile.appendChild(figs);
      host.appendChild(tile);
    });
  }

  function visibleAgents() {
    var f = filters();
    return board.agents.filter(function (a) {
      if (f.team && (a.teams || []).indexOf(f.team) < 0) return false;
      if (f.queue && (a.queues || []).indexOf(f.queue) < 0 && a.queue !== f.queue) return false;
      return true;
    });
  }

  function renderTeams() {
    var teams = board.teams || [];
    $("teams-section").hidden = !teams.length;
    var host = $("teams");
    host.textContent = "";
    teams.forEach(function (name) {
      var members = board.agents.filter(function (a) { return (a.teams || []).indexOf(name) >= 0; });
      var box = el("div", "team");
      box.dataset.team = name;
      box.appendChild(el("strong", null, name));
      var counts = el("div", "chips");
      STATES.forEach(function (s) {
        var n = members.filter(function (a) { return a.state === s; }).length;
        if (n) counts.appendChild(el("span", "chip state-" + s, n + " " + t("state." + s)));
      });
      box.appendChild(counts);
      var calls = members.reduce(function (x, a) { return x + a.calls; }, 0);
      var talk = members.reduce(function (x, a) { return x + a.talk_s; }, 0);
      box.appendChild(el("span", "muted small", calls + " " + t("wb.calls_today").toLowerCase() + " · " + dur(talk)));
      host.appendChild(box);
    });
  }

  function renderAgents() {
    var agents = visibleAgents(), body = $("agents").tBodies[0];
    body.textContent = "";
    var counts = {};
    agents.forEach(function (a) {
      counts[a.state] = (counts[a.state] || 0) + 1;
      var row = el("tr");
      row.dataset.agent = a.id;
      row.dataset.state = a.state;
      var name = el("td");
      name.appendChild(el("strong", null, a.name));
      if (a.name !== a.id) name.appendChild(el("span", "muted small", " " + a.id));
      // the queues the agent works now (chosen at sign-in where the queue is optional)
      if (a.state !== "logged_out" && (a.queues || []).length) {
        var qs = el("div", "muted small agent-queues", a.queues.join(", "));
        name.appendChild(qs);
      }
      row.appendChild(name);
      var st = el("td");
      st.appendChild(el("span", "badge state-" + a.state, t("state." + a.state)));
      if (a.reason) st.appendChild(el("span", "muted small", " " + tr("reason.", a.reason)));
      row.appendChild(st);
      var since = el("td", "ticking", a.since ? dur(now() - a.since) : "—");
      if (a.since) since.dataset.since = String(a.since);
      row.appendChild(since);
      row.appendChild(el("td", "num", String(a.calls)));
      row.appendChild(el("td", "num", dur(a.talk_s)));
      if (!tv) {
        var act = el("td", "acts");
        var ready = el("button", "small-btn", t("wb.force_ready"));
        ready.type = "button"; ready.dataset.force = "ready";
        ready.disabled = ["ready", "ringing", "on_call"].indexOf(a.state) >= 0;
        var out = el("button", "small-btn ghost", t("wb.force_logout"));
        out.type = "button"; out.dataset.force = "logout";
        out.disabled = a.state === "logged_out";
        act.appendChild(ready); act.appendChild(out);
        row.appendChild(act);
      }
      body.appendChild(row);
    });
    $("agent-counts").textContent = STATES.filter(function (s) { return counts[s]; })
      .map(function (s) { return counts[s] + " " + t("state." + s).toLowerCase(); }).join(" · ");
  }

  function renderCalls() {
    if (tv || !$("calls")) return;
    var f = filters(), body = $("calls").tBodies[0], calls = board.calls || [];
    body.textContent = "";
    var shown = 0;
    calls.forEach(function (c) {
      if (f.queue && c.queue !== f.queue) return;
      shown++;
      var row = el("tr");
      row.dataset.call = c.id;
      row.dataset.state = c.state;
      row.appendChild(el("td", null, c.caller || "—"));
      row.appendChild(el("td", null, c.queue || "—"));
      row.appendChild(el("td", null, c.agent_name || "—"));
      row.appendChild(el("td", null, tr("wb.call_state.", c.state)));
      var start = c.state === "waiting" || c.state === "ringing" ? (c.queued_at || c.arrived_at) :
        (c.connected_at || c.arrived_at);
      var d = el("td", "num ticking", start ? dur(now() - start) : "—");
      if (start) d.dataset.since = String(start);
      row.appendChild(d);
      var act = el("td", "acts");
      if (c.state === "waiting") {
        var head = el("button", "small-btn", t("wb.to_head"));
        head.type = "button"; head.dataset.head = "1";
        act.appendChild(head);
        var others = board.queues.map(function (q) { return q.name; }).filter(function (n) { return n !== c.queue; });
        if (others.length) {
          var sel = el("select", "narrow");
          others.forEach(function (n) { var o = el("option", null, n); o.value = n; sel.appendChild(o); });
          var mv = el("button", "small-btn ghost", t("wb.move"));
          mv.type = "button"; mv.dataset.move = "1";
          act.appendChild(sel); act.appendChild(mv);
        }
      }
      if (boot.listen && c.state === "talking") listenButtons(act, c);
      row.appendChild(act);
      body.appendChild(row);
    });
    $("calls-none").hidden = shown > 0;
  }

  function render() {
    offset = board.now - Date.now() / 1000;
    fillSelect("f-queue", board.queues.map(function (q) { return q.name; }));
    fillSelect("f-team", board.teams || []);
    renderQueues();
    renderTeams();
    renderAgents();
    renderCalls();
    tick();
  }

  function tick() {
    var n = now();
    Array.prototype.forEach.call(document.querySelectorAll(".ticking[data-since]"), function (e) {
      e.textContent = dur(n - Number(e.dataset.since));
    });
    Array.prototype.forEach.call(document.querySelectorAll(".ticking-wait"), function (e) {
      if (e.dataset.waiting === "0") return;
      var v = Number(e.dataset.base) + (n - board.now);
      e.querySelector(".v").textContent = dur(v);
      var lvl = level(v, e.dataset.warn === "" ? null : Number(e.dataset.warn),
        e.dataset.alarm === "" ? null : Number(e.dataset.alarm), false);
      e.className = e.className.replace(/lvl-\w+/, "lvl-" + lvl);
    });
    $("clock").textContent = clockText(n);
  }

  function connStatus(live) {
    $("conn").dataset.state = live ? "live" : "lost";
    $("conn-text").textContent = revoked ? t("wb.revoked") : live ? t("conn.ok") : t("conn.lost");
    $("banner").hidden = live;
    if (revoked) $("banner").textContent = t("wb.revoked");
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(proto + location.host + boot.live);
    socket.onopen = function () { retry = 0; connStatus(true); };
    socket.onmessage = function (ev) {
      var msg = JSON.parse(ev.data);
      if (msg.type === "board") { board = msg.board; render(); document.dispatchEvent(new Event("board")); }
    };
    socket.onclose = function (ev) {
      if (ev.code === 4403) revoked = true;
      connStatus(false);
      if (ev.code === 1008 || ev.code === 4401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); return; }
      setTimeout(connect, Math.min(15000, 500 * Math.pow(2, retry++)));
    };
  }

  function api(method, url, body) {
    var err = $("action-error");
    if (err) err.hidden = true;
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.status === 401) { location.href = "/login"; }
        if (!r.ok) { err.textContent = data.error || t("error.generic"); err.hidden = false; throw new Error(data.error); }
        return data;
      });
    });
  }

  if (!tv) {
    $("f-queue").addEventListener("change", render);
    $("f-team").addEventListener("change", render);
    $("agents").addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-force]");
      if (!b) return;
      var id = b.closest("tr").dataset.agent;
      api("POST", "/api/wallboard/agents/" + encodeURIComponent(id) + "/force", {state: b.dataset.force});
    });
    $("calls").addEventListener("click", function (ev) {
      var b = ev.target.closest("button");
      if (!b) return;
      var row = b.closest("tr"), id = row.dataset.call;
      if (b.dataset.head) api("POST", "/api/wallboard/calls/" + encodeURIComponent(id) + "/move", {to_head: true});
      if (b.dataset.move) api("POST", "/api/wallboard/calls/" + encodeURIComponent(id) + "/move",
        {queue: row.querySelector("select").value});
      if (b.dataset.listen) listenTo(id, b.dataset.listen);
    });
    $("btn-tv").addEventListener("click", function () {
      api("POST", "/api/wallboard/links", {label: "wallboard"}).then(function (data) {
        var p = $("tv-link");
        p.textContent = t("wb.tv_created") + " ";
        var a = el("a", null, location.origin + data.url);
        a.href = data.url; a.id = "tv-url";
        p.appendChild(a);
        p.hidden = false;
      });
    });
  }

  /* ---- listening (R23): one call to the supervisor's phone, modes switched in it without redialling ----
     The session comes from the API's answers; while the phone rings (at most its 30 s) the page re-reads
     GET /api/listen/{id} each second to see it answered, and re-reads it when the call leaves the board. */
  var listening = null, follow = null;

  function listenButtons(act, c) {
    var mine = listening && listening.call_id === c.id;
    if (mine) act.appendChild(el("span", "badge listening", t("wb." + listening.mode)));
    ["listen", "whisper", "barge"].forEach(function (mode) {
      var b = el("button", "small-btn ghost", t("wb." + mode));
      b.type = "button"; b.dataset.listen = mode;
      b.setAttribute("aria-pressed", mine && listening.mode === mode ? "true" : "false");
      act.appendChild(b);
    });
  }

  function renderListen() {
    var bar = $("listen-bar");
    if (!bar) return;
    bar.hidden = !listening;
    if (!listening) { bar.dataset.mode = ""; bar.dataset.state = ""; return; }
    var call = (board.calls || []).filter(function (c) { return c.id === listening.call_id; })[0];
    bar.dataset.mode = listening.mode;
    bar.dataset.state = listening.state;
    $("listen-what").textContent = t("wb.listen_to").replace("{agent}", call ? call.agent_name || listening.agent :
      listening.agent || "—").replace("{caller}", call ? call.caller || "—" : "—");
    $("listen-state").textContent = t("wb.listen_state." + listening.state);
    $("listen-hint").textContent = t("wb.listen_hint." + listening.mode);
    Array.prototype.forEach.call(bar.querySelectorAll("button[data-mode]"), function (b) {
      b.setAttribute("aria-pressed", b.dataset.mode === listening.mode ? "true" : "false");
      b.classList.toggle("primary", b.dataset.mode === listening.mode);
    });
  }

  function listenUpdate(status) {
    listening = status && status.state !== "ended" ? status : null;
    if (follow) { clearTimeout(follow); follow = null; }
    if (listening && listening.state === "ringing") follow = setTimeout(refreshListen, 1000);
    renderListen();
    renderCalls();
  }

  function refreshListen() {
    if (!listening) return;
    var id = listening.session_id;
    fetch("/api/listen/" + encodeURIComponent(id), {credentials: "same-origin"}).then(function (r) {
      if (!listening || listening.session_id !== id) return null;
      if (r.status === 404) { listenUpdate(null); return null; }
      return r.ok ? r.json().then(listenUpdate) : null;
    }).catch(function () { if (listening) follow = setTimeout(refreshListen, 2000); });
  }

  function listenTo(callId, mode) {
    if (listening && listening.call_id === callId) return listenMode(mode);
    var start = function () {
      return api("POST", "/api/calls/" + encodeURIComponent(callId) + "/listen", {mode: mode}).then(listenUpdate);
    };
    return listening ? listenEnd().then(start) : start();
  }

  function listenMode(mode) {
    if (!listening || listening.mode === mode) return Promise.resolve(null);
    return api("POST", "/api/listen/" + encodeURIComponent(listening.session_id) + "/mode", {mode: mode})
      .then(listenUpdate, function () { refreshListen(); });
  }

  function listenEnd() {
    if (!listening) return Promise.resolve(null);
    return api("DELETE", "/api/listen/" + encodeURIComponent(listening.session_id))
      .then(function () { listenUpdate(null); }, function () { listenUpdate(null); });
  }

  if (!tv && boot.listen) {
    $("listen-bar").addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-mode]");
      if (b) listenMode(b.dataset.mode);
    });
    $("listen-end").addEventListener("click", listenEnd);
    document.addEventListener("board", function () {  // the call left the board: the session ended with it
      if (!listening) return;
      var still = (board.calls || []).some(function (c) { return c.id === listening.call_id && c.state === "talking"; });
      if (still) renderListen(); else refreshListen();
    });
    fetch("/api/listen", {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.sessions && data.sessions.length) listenUpdate(data.sessions[0]); })
      .catch(function () { /* a reload without a session */ });
  }

  render();
  connect();
  setInterval(tick, 1000);
})();
