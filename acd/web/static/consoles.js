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
    function barSeries(label, color, size) {
      return {label: label, stroke: color, fill: color + "cc", width: 0,
              paths: bars({size: [size, 60], gap: 0})};
    }
    function idx(n) { var a = []; for (var i = 0; i < n; i++) a.push(i); return a; }
    function catAxis(labels) {
      return {values: function (u, vals) { return vals.map(function (v) { return labels[v] !== undefined && v === Math.round(v) ? labels[v] : ""; }); },
              space: 30, grid: {show: false}};
    }

    var hours = idx(24);
    var hourLabels = hours.map(function (h) { return (h < 10 ? "0" : "") + h; });
    plot("chart-hours", {
      scales: {x: {time: false, range: [-0.5, 23.5]}},
      axes: [catAxis(hourLabels), {label: tx.calls, size: 50}],
      series: [{label: tx.hour, value: function (u, v) { return v == null ? "" : hourLabels[v] + ":00"; }},
               barSeries(tx.answered, green, 0.4), barSeries(tx.lost, red, 0.4)],
      bands: []
    }, [hours, d.hours.answered, d.hours.lost]);

    var days = idx(d.days.labels.length);
    var shortDays = d.days.labels.map(function (s) { return s.slice(5); });
    plot("chart-sl", {
      scales: {x: {time: false, range: [-0.5, Math.max(0.5, days.length - 0.5)]}, y: {range: [0, 100]}},
      axes: [catAxis(shortDays), {label: "%", size: 50}],
      series: [{label: tx.day, value: function (u, v) { return v == null ? "" : d.days.labels[v]; }},
               {label: tx.sl, stroke: blue, width: 2, fill: "rgba(31,95,191,.08)",
                points: {show: true, size: 7}, spanGaps: true},
               {label: tx.target, stroke: amber, width: 2, dash: [6, 4], points: {show: false}}]
    }, [days, d.days.sl, days.map(function () { return d.days.target; })]);

    var buckets = idx(d.waits.labels.length);
    plot("chart-waits", {
      scales: {x: {time: false, range: [-0.5, buckets.length - 0.5]}},
      axes: [catAxis(d.waits.labels.map(function (l) { return l + " s"; })), {label: tx.calls, size: 50}],
      series: [{label: tx.wait, value: function (u, v) { return v == null ? "" : d.waits.labels[v] + " s"; }},
               barSeries(tx.answered, green, 0.4), barSeries(tx.lost, red, 0.4)]
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
  Array.prototype.forEach.call(document.querySelectorAll("form.qa-form"), function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var scores = {}, comment = null;
      Array.prototype.forEach.call(form.querySelectorAll("input[type=number]"), function (i) { scores[i.name] = Number(i.value); });
      var c = form.querySelector("textarea");
      if (c && c.value.trim()) comment = c.value.trim();
      var err = form.querySelector(".error");
      err.hidden = true;
      post(form.dataset.url, {form: form.dataset.form, scores: scores, comment: comment})
        .then(function () { window.location.reload(); })
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
