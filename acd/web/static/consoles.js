/* Reports and recordings consoles: the report charts (uPlot, vendored), the recording player's progress
   bar, the QA form and disputes. The server renders every figure; this only draws and posts to the API
   with the session's CSRF token. */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  /* ---- charts ---- */
  var dataEl = $("chart-data");
  if (dataEl && window.uPlot) {
    var d = JSON.parse(dataEl.textContent);
    var tx = d.text;
    var green = "#1b8a4b", red = "#c0392b", blue = "#1f5fbf", amber = "#c27c0e";
    var bars = uPlot.paths.bars;

    function width(el) { return Math.max(280, el.clientWidth); }
    function plot(id, opts, data) {
      var el = $(id);
      if (!el) return;
      opts.width = width(el);
      opts.height = 220;
      var u = new uPlot(opts, data, el);
      window.addEventListener("resize", function () { u.setSize({width: width(el), height: 220}); });
    }
    function barSeries(label, color, align) {
      return {label: label, stroke: color, fill: color, width: 0, points: {show: false},
              paths: bars({size: [0.38, 40], align: align, gap: 1})};
    }
    function idx(n) { var a = []; for (var i = 0; i < n; i++) a.push(i); return a; }
    function catAxis(labels, label, font) {
      return {label: label, labelSize: 20, space: 24, grid: {show: false}, font: font || "12px system-ui, sans-serif",
              incrs: [1, 2, 3, 4, 6, 12],
              values: function (u, vals) { return vals.map(function (v) { return labels[v] !== undefined && v === Math.round(v) ? labels[v] : ""; }); }};
    }
    var counts = {label: tx.calls, size: 50, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]};
    var legend = {live: false};

    var hours = idx(24);
    var hourLabels = hours.map(function (h) { return (h < 10 ? "0" : "") + h; });
    plot("chart-hours", {
      legend: legend,
      scales: {x: {time: false, range: [-0.6, 23.6]}, y: {range: function (u, lo, hi) { return [0, Math.max(2, hi)]; }}},
      axes: [catAxis(hourLabels, tx.hour), counts],
      series: [{label: tx.hour}, barSeries(tx.answered, green, -1), barSeries(tx.lost, red, 1)]
    }, [hours, d.hours.answered, d.hours.lost]);

    var days = idx(d.days.labels.length);
    var shortDays = d.days.labels.map(function (s) { return s.slice(5); });
    var target = d.days.target;
    plot("chart-sl", {
      legend: legend,
      scales: {x: {time: false, range: [-0.6, Math.max(0.6, days.length - 0.4)]}, y: {range: [0, 100]}},
      axes: [catAxis(shortDays, tx.day), {label: "%", size: 50, incrs: [10, 20, 25, 50]}],
      series: [{label: tx.day},
               {label: tx.sl, stroke: blue, width: 2, fill: "rgba(31,95,191,.10)", spanGaps: true,
                points: {show: true, size: 9, fill: blue}},
               {label: tx.target + " " + target + " %", stroke: amber, width: 2, dash: [6, 4],
                points: {show: false}, paths: function () { return null; }}],
      hooks: {draw: [function (u) {  /* the target as a line across the whole plot, even for one day */
        var y = Math.round(u.valToPos(target, "y", true)), ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = amber; ctx.lineWidth = 2 * devicePixelRatio; ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
        ctx.restore();
      }]}
    }, [days, d.days.sl, days.map(function () { return null; })]);

    var buckets = idx(d.waits.labels.length);
    plot("chart-waits", {
      legend: legend,
      scales: {x: {time: false, range: [-0.6, buckets.length - 0.4]}, y: {range: function (u, lo, hi) { return [0, Math.max(2, hi)]; }}},
      axes: [catAxis(d.waits.labels, tx.wait_s), counts],
      series: [{label: tx.wait}, barSeries(tx.answered, green, -1), barSeries(tx.lost, red, 1)]
    }, [buckets, d.waits.answered, d.waits.lost]);
  }

  /* ---- player ---- */
  var audio = $("audio");
  if (audio) {
    var play = $("play"), bar = $("bar"), progress = $("progress"), time = $("time");
    function fmt(s) { s = Math.max(0, Math.floor(s || 0)); return Math.floor(s / 60) + ":" + ("0" + s % 60).slice(-2); }
    function update() {
      var dur = isFinite(audio.duration) ? audio.duration : 0;
      var pct = dur ? 100 * audio.currentTime / dur : 0;
      bar.style.width = pct + "%";
      progress.setAttribute("aria-valuenow", String(Math.round(pct)));
      time.textContent = fmt(audio.currentTime) + " / " + fmt(dur);
      play.textContent = audio.paused ? "▶" : "❚❚";
      play.setAttribute("aria-label", audio.paused ? play.dataset.play : play.dataset.pause);
    }
    ["timeupdate", "loadedmetadata", "play", "pause", "ended", "seeked"].forEach(function (e) { audio.addEventListener(e, update); });
    play.addEventListener("click", function () { if (audio.paused) audio.play(); else audio.pause(); });
    function seekTo(fraction) {
      if (isFinite(audio.duration) && audio.duration > 0) audio.currentTime = Math.min(1, Math.max(0, fraction)) * audio.duration;
    }
    progress.addEventListener("click", function (ev) {
      var r = progress.getBoundingClientRect();
      seekTo((ev.clientX - r.left) / r.width);
    });
    progress.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowRight") audio.currentTime = Math.min(audio.duration || 0, audio.currentTime + 5);
      if (ev.key === "ArrowLeft") audio.currentTime = Math.max(0, audio.currentTime - 5);
    });
    update();
  }

  /* ---- QA form and disputes (the recordings API) ---- */
  var csrfMeta = document.querySelector('meta[name="csrf"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                       body: JSON.stringify(body)})
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.status); return j; }); });
  }
  function addEvaluation(e) {
    var table = $("evals"), body = table.tBodies[0];
    var empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    var when = "";
    try {
      var p = {};
      new Intl.DateTimeFormat("en-CA", {timeZone: table.dataset.tz, year: "numeric", month: "2-digit", day: "2-digit",
                                         hour: "2-digit", minute: "2-digit", hourCycle: "h23"})
        .formatToParts(new Date(e.created_at)).forEach(function (x) { p[x.type] = x.value; });
      when = p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
    } catch (ex) { when = String(e.created_at).slice(0, 16).replace("T", " "); }
    var tr = document.createElement("tr");
    tr.dataset.id = e.id;
    [when, e.evaluator, e.form_id + " v" + e.form_version, e.total.toFixed(1), e.comment || ""].forEach(function (v, i) {
      var td = document.createElement("td");
      if (i === 3) { td.className = "num"; var b = document.createElement("strong"); b.textContent = v; td.appendChild(b); }
      else td.textContent = v;
      tr.appendChild(td);
    });
    var last = document.createElement("td"), pill = document.createElement("span");
    pill.className = "pill dispute-none"; pill.textContent = table.dataset.none;
    last.appendChild(pill); tr.appendChild(last);
    body.appendChild(tr);
  }
  Array.prototype.forEach.call(document.querySelectorAll("form.qa-form"), function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var scores = {}, comment = null;
      Array.prototype.forEach.call(form.querySelectorAll("input[type=number]"), function (i) { scores[i.name] = Number(i.value); });
      var c = form.querySelector("textarea");
      if (c && c.value.trim()) comment = c.value.trim();
      var err = form.querySelector(".error");
      err.hidden = true;
      var ok = form.querySelector(".ok");
      ok.hidden = true;
      /* no reload: the recording keeps playing while the supervisor scores the next call part */
      post(form.dataset.url, {form: form.dataset.form, scores: scores, comment: comment})
        .then(function (saved) { addEvaluation(saved); form.reset(); ok.textContent = ok.dataset.text.replace("{total}", saved.total.toFixed(1)); ok.hidden = false; })
        .catch(function (e) { err.textContent = e.message; err.hidden = false; });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.dispute"), function (b) {
    b.addEventListener("click", function () {
      post("/api/qa/evaluations/" + b.dataset.id + "/dispute", {status: b.dataset.status})
        .then(function () { window.location.reload(); })
        .catch(function (e) { var err = $("dispute-error"); err.textContent = e.message; err.hidden = false; });
    });
  });
})();
