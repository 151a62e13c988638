/* The browser phone inside the agent desktop (issue 13), for agents whose phone is a WebRTC endpoint
   (acd.yaml softphone.agents). Registers as soon as the desktop opens (after sign-in), shows the
   registration state and errors, rings in the page for the call the ACD offers (the INVITE's X-ACD-Call
   header names the call id the desktop shows) and answers / hangs up from its buttons or Alt+A / Alt+Q.
   Kept apart from desktop.js: it only listens to desktop.js's "acd:state" events. */
(function () {
  "use strict";
  var T = {}, lang = document.documentElement.lang || "en";
  var desk = null, phone = null, ring = null, lastCall = "idle";

  function $(id) { return document.getElementById(id); }
  function t(key) { return T[key] || key; }
  function msg(code) { return window.AcdSoftphone.message(code, lang); }

  /* The desktop's call, when the agent is being offered or talking: {call_id, caller} or null. */
  function offered() {
    if (!desk || !desk.call) return null;
    var st = desk.agent && desk.agent.state;
    return st === "ringing" || st === "on_call" ? desk.call : null;
  }

  var audioCtx = null;  // one for the page: closing an AudioContext while the call opens the microphone
                       // can stall Chromium's audio, so it is kept and only left silent
  function startRing() {
    if (ring) return;
    try { audioCtx = audioCtx || new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { return; }
    var ctx = audioCtx;
    function burst() {  // two short tones every three seconds: unmistakably a phone, not the desktop's beep
      [0, 0.5].forEach(function (at) {
        var o = ctx.createOscillator(), g = ctx.createGain();
        o.frequency.value = 480; g.gain.value = 0.07; o.connect(g); g.connect(ctx.destination);
        o.start(ctx.currentTime + at); o.stop(ctx.currentTime + at + 0.35);
      });
    }
    burst();
    ring = {timer: setInterval(burst, 3000)};
  }
  function stopRing() {
    if (!ring) return;
    clearInterval(ring.timer);
    ring = null;
  }

  function render(s) {
    var box = $("sp");
    box.dataset.registration = s.registration;
    box.dataset.call = s.call;
    var status = s.error ? msg(s.registration === "registered" ? "registered" :
      s.registration === "connecting" ? "connecting" : "not_registered") : s.message;
    if (s.call !== "idle") status = s.message;
    $("sp-status").textContent = status;
    $("sp-error").hidden = !s.error;
    $("sp-error").textContent = s.error ? s.error.message : "";
    $("sp-retry").hidden = s.registration !== "failed";
    $("sp-answer").disabled = s.call !== "ringing";
    $("sp-hangup").disabled = s.call === "idle";
    var mine = offered();
    var ours = s.call !== "idle" && !!s.acdCallId && !!mine && s.acdCallId === mine.call_id;
    box.dataset.acd = ours ? "offer" : s.call !== "idle" ? "other" : "";
    var line = $("sp-call");
    line.hidden = s.call === "idle";
    if (s.call !== "idle") {
      var from = s.remote ? (s.remote.name || s.remote.user) : "";
      line.textContent = ours ? t("sp.acd_call") + ": " + (mine.caller || from)
        : t("sp.other_call").replace("{from}", from);
    }
    if (s.call === "ringing") startRing(); else stopRing();
    if (s.call === "ringing" && lastCall !== "ringing" && ours) $("sp-answer").focus();
    lastCall = s.call;
  }

  function fail(text) {
    var box = $("sp");
    box.dataset.registration = "failed";
    $("sp-status").textContent = window.AcdSoftphone ? msg("not_registered") : "";
    $("sp-error").textContent = text;
    $("sp-error").hidden = false;
    $("sp-retry").hidden = false;
  }

  function start() {
    if (phone) { phone.unregister(); phone.register(); return; }  // a fresh start, no stale reconnects
    if (!window.AcdSoftphone) { fail(t("error.generic")); return; }
    $("sp-retry").hidden = true;
    fetch("/api/softphone/config", {credentials: "same-origin", cache: "no-store"}).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (conf) {
        if (!r.ok) { fail(t("sp.no_config").replace("{e}", conf.error || r.status)); return; }
        phone = window.AcdSoftphone.create({
          wsUrl: conf.ws_url, sipUri: conf.sip_uri, password: conf.password,
          authorizationUser: conf.authorization_user, displayName: conf.display_name, lang: lang,
          autoAnswer: !!conf.auto_answer, iceServers: conf.ice_servers || [],
          registerTimeoutMs: Math.round((conf.register_timeout_s || 15) * 1000),
          audioElement: $("sp-audio"), onState: render
        });
        window.acdSoftphone = phone;  // for the browser tests and an administrator's console
        render(phone.state);
        phone.register();
      });
    }, function () { fail(t("error.generic")); });
  }

  document.addEventListener("acd:state", function (ev) {
    desk = ev.detail;
    if (phone) render(phone.state);
  });
  document.addEventListener("DOMContentLoaded", function () {
    var cat = $("i18n");
    if (cat) T = JSON.parse(cat.textContent);
    var hint = $("answer-hint");
    if (hint) hint.textContent = t("sp.answer_hint");
    $("sp-answer").addEventListener("click", function () { if (phone) phone.answer(); });
    $("sp-hangup").addEventListener("click", function () { if (phone) phone.hangup(); });
    $("sp-retry").addEventListener("click", start);
    document.addEventListener("keydown", function (ev) {
      if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
      // Alt+Q is the desktop's hang-up too: on a call the call-control panel's button ends it (desktop.js)
      var panel = $("callctl");
      var b = ev.code === "KeyA" ? $("sp-answer")
        : ev.code === "KeyQ" && (!panel || panel.hidden) ? $("sp-hangup") : null;
      if (!b || b.disabled) return;
      ev.preventDefault();
      b.click();
    });
    Array.prototype.forEach.call(document.querySelectorAll('form[action^="/logout"]'), function (f) {
      f.addEventListener("submit", function () { if (phone) phone.unregister(); });
    });
    window.addEventListener("pagehide", function () { if (phone) phone.unregister(); });
    start();
  });
})();
