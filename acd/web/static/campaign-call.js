/* The campaign part of the agent desktop (templates/_campaign_call.html): when the call shown is a
   campaign call, fetch its contact, script and form, and save the answers. desktop.js writes the current
   call id on #callview (data-call-id); this file only watches it, so the two stay independent. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var csrf = document.querySelector('meta[name="csrf"]').content;
  var view = document.getElementById("callview");
  var box = document.getElementById("campaign-call");
  var shown = null;

  function $(id) { return document.getElementById(id); }
  function t(key) { return T[key] || key; }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text != null) e.textContent = text;
    return e;
  }

  function input(q, saved) {
    var wrap = el("div", {"class": "question", "data-question": q.id});
    var id = "q-" + q.id;
    wrap.appendChild(el("label", {"for": id}, q.text + (q.required ? " *" : "")));
    var field;
    if (q.type === "yes_no" || q.type === "single_choice") {
      field = el("select", {id: id, name: q.id});
      field.appendChild(el("option", {value: ""}, "—"));
      var opts = q.type === "yes_no" ? [["true", t("camp.yes")], ["false", t("camp.no")]] :
        q.options.map(function (o) { return [o, o]; });
      opts.forEach(function (o) { field.appendChild(el("option", {value: o[0]}, o[1])); });
      if (saved !== undefined && saved !== null) field.value = String(saved);
    } else if (q.type === "multiple_choice") {
      field = el("div", {id: id, role: "group"});
      q.options.forEach(function (o) {
        var lab = el("label", {"class": "check"});
        var box = el("input", {type: "checkbox", name: q.id, value: o});
        if (saved && saved.indexOf(o) >= 0) box.checked = true;
        lab.appendChild(box); lab.appendChild(document.createTextNode(" " + o));
        field.appendChild(lab);
      });
    } else if (q.type === "number" || q.type === "rating") {
      field = el("input", {id: id, name: q.id, type: "number", step: q.type === "rating" ? "1" : "any"});
      if (q.min != null) field.setAttribute("min", q.min);
      if (q.max != null) field.setAttribute("max", q.max);
      if (saved != null) field.value = saved;
    } else {
      field = el("textarea", {id: id, name: q.id, rows: "2", maxlength: "2000"});
      if (saved != null) field.value = saved;
    }
    wrap.appendChild(field);
    wrap.appendChild(el("span", {"class": "error", id: "err-" + q.id}));
    return wrap;
  }

  function value(q) {
    if (q.type === "multiple_choice") {
      return Array.prototype.filter.call(document.querySelectorAll('input[name="' + q.id + '"]'),
        function (b) { return b.checked; }).map(function (b) { return b.value; });
    }
    var v = $("q-" + q.id).value;
    if (v === "") return null;
    if (q.type === "yes_no") return v === "true";
    if (q.type === "number" || q.type === "rating") return Number(v);
    return v;
  }

  function show(data) {
    $("campaign-name").textContent = data.campaign;
    var dl = $("campaign-contact");
    dl.textContent = "";
    ["name", "phone"].concat(data.fields).forEach(function (f) {
      var d = el("div"); d.appendChild(el("dt", {}, f)); d.appendChild(el("dd", {}, data.contact[f] || "—"));
      dl.appendChild(d);
    });
    $("campaign-script").innerHTML = data.script_html || ""; // escaped and rendered by the server
    var qs = $("campaign-questions");
    qs.textContent = "";
    data.form.forEach(function (q) { qs.appendChild(input(q, data.answers[q.id])); });
    $("campaign-form").onsubmit = function (ev) {
      ev.preventDefault();
      var answers = {};
      data.form.forEach(function (q) { var v = value(q); if (v !== null && !(v instanceof Array && !v.length)) answers[q.id] = v; });
      data.form.forEach(function (q) { $("err-" + q.id).textContent = ""; });
      $("campaign-error").hidden = true; $("campaign-saved").hidden = true;
      fetch("/api/calls/" + encodeURIComponent(data.call) + "/campaign/answers", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
        body: JSON.stringify({answers: answers})
      }).then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); })
        .then(function (res) {
          if (res[0] === 200) { $("campaign-saved").hidden = false; return; }
          var problems = res[1].problems || {};
          Object.keys(problems).forEach(function (k) { var e = $("err-" + k); if (e) e.textContent = problems[k]; });
          $("campaign-error").textContent = res[1].error || String(res[0]);
          $("campaign-error").hidden = false;
        });
    };
    box.hidden = false;
  }

  function check() {
    var call = view.hidden ? "" : (view.dataset.callId || "");
    if (call === shown) return;
    shown = call;
    box.hidden = true;
    if (!call) return;
    fetch("/api/calls/" + encodeURIComponent(call) + "/campaign", {credentials: "same-origin"})
      .then(function (r) { return r.status === 200 ? r.json() : null; })
      .then(function (data) { if (data && shown === call) { data.call = call; show(data); } });
  }

  new MutationObserver(check).observe(view, {attributes: true, attributeFilter: ["hidden", "data-call-id"]});
  check();
})();

/* Preview campaigns on the idle desktop (templates/_campaign_preview.html): take the next contact, read
   it, Dial (the agent's phone rings first, then the contact's) or Skip. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var csrf = document.querySelector('meta[name="csrf"]').content;
  var box = document.getElementById("campaign-preview");
  var held = null; // {campaign, attempt}

  function $(id) { return document.getElementById(id); }
  function t(key) { return T[key] || key; }
  function post(url) {
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: "{}"})
      .then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); });
  }
  function note(text) { $("preview-note").textContent = text || ""; }

  function show(campaign, data) {
    held = {campaign: campaign, attempt: data.attempt};
    var dl = $("preview-facts");
    dl.textContent = "";
    ["name", "phone"].concat(data.fields).forEach(function (f) {
      var d = document.createElement("div"), dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = f; dd.textContent = data.contact[f] || "—";
      d.appendChild(dt); d.appendChild(dd); dl.appendChild(d);
    });
    $("preview-script").innerHTML = data.script_html || ""; // escaped and rendered by the server
    $("preview-contact").hidden = false;
  }

  function take(campaign) {
    note("");
    post("/api/campaigns/" + encodeURIComponent(campaign) + "/preview").then(function (res) {
      if (res[0] === 200) show(campaign, res[1]); else note(res[1].error || String(res[0]));
    });
  }

  $("btn-preview-dial").addEventListener("click", function () {
    if (!held) return;
    post("/api/campaigns/" + encodeURIComponent(held.campaign) + "/preview/" + held.attempt + "/dial")
      .then(function (res) {
        if (res[0] === 200) { $("preview-contact").hidden = true; held = null; note(t("camp.dialling")); }
        else note(res[1].error || String(res[0]));
      });
  });
  $("btn-preview-skip").addEventListener("click", function () {
    if (!held) return;
    var campaign = held.campaign;
    post("/api/campaigns/" + encodeURIComponent(campaign) + "/preview/" + held.attempt + "/skip")
      .then(function () { $("preview-contact").hidden = true; held = null; });
  });

  fetch("/api/campaigns/previews", {credentials: "same-origin"})
    .then(function (r) { return r.status === 200 ? r.json() : {campaigns: []}; })
    .then(function (data) {
      if (!data.campaigns.length) return;
      var list = $("preview-campaigns");
      data.campaigns.forEach(function (c) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "preview-take"; b.dataset.campaign = c.name;
        b.textContent = t("camp.take") + ": " + c.name;
        b.addEventListener("click", function () { take(c.name); });
        list.appendChild(b);
      });
      box.hidden = false;
    });
})();
