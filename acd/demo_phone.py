"""The demo agent's desk phone, as a web page served by ``acd demo --by-hand``.

In production an agent answers on a desk phone or a softphone; the agent desktop only shows the call. In
the demo there is no SIP phone, only the ARI simulator, so the demo agent's simulated phone rings until
the person presses *Answer* here (or the queue's ring time-out), and *Hang up* ends the call from the
agent's side. The page talks to the demo process, which tells the simulator through its control API
(``/_sim/endpoints/PJSIP/<agent>/answer`` and ``/hangup``); the daemon sees what it would see from a real
phone. This is a prop of the demo, not part of the product, so it polls the simulator twice a second.
See docs/decisions/engine-09-demo-agent-by-hand.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

LABELS = {
    "en": ("Desk phone of", "Idle", "Ringing", "On a call", "Answer", "Hang up",
           "The demo's simulated phone: answer here, work the call on the agent desktop."),
    "ru": ("Телефон оператора", "Свободен", "Звонит", "Разговор", "Ответить", "Положить трубку",
           "Телефон демо: ответьте здесь, работайте со звонком на рабочем месте оператора."),
    "kk": ("Оператор телефоны", "Бос", "Шылдырлап тұр", "Сөйлесу", "Жауап беру", "Тұтқаны қою",
           "Демо телефоны: осында жауап беріңіз, қоңыраумен оператордың жұмыс орнында жұмыс істеңіз."),
}

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title} {agent}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 16px system-ui, sans-serif; background: #f3f4f8; color: #1b2330; margin: 0;
       display: flex; justify-content: center; align-items: flex-start; min-height: 100vh; }}
.phone {{ margin-top: 10vh; background: #fff; border: 1px solid #d9dde6; border-radius: 16px;
          padding: 28px 32px; width: 320px; box-shadow: 0 2px 10px rgba(0,0,0,.06); }}
h1 {{ font-size: 15px; font-weight: 600; color: #5b6576; margin: 0 0 12px; }}
#status {{ font-size: 26px; font-weight: 700; margin: 0; }}
#caller {{ font-size: 20px; min-height: 1.4em; margin: 6px 0 18px; font-variant-numeric: tabular-nums; }}
.phone[data-state=ringing] #status {{ color: #1d5fd0; animation: pulse 1s infinite; }}
.phone[data-state=talking] #status {{ color: #0f7b83; }}
@keyframes pulse {{ 50% {{ opacity: .45; }} }}
button {{ font: inherit; font-weight: 600; border: 0; border-radius: 8px; padding: 10px 18px;
          color: #fff; cursor: pointer; }}
button:disabled {{ opacity: .35; cursor: default; }}
#answer {{ background: #1f8a4c; }} #hangup {{ background: #c23b32; margin-left: 8px; }}
p.hint {{ color: #5b6576; font-size: 13px; margin: 18px 0 0; }}
nav {{ margin-bottom: 14px; }} nav a {{ color: #5b6576; font-size: 13px; margin-right: 8px; }}
</style></head>
<body><div class="phone" id="phone" data-state="idle">
<nav><a href="?lang=kk">KK</a><a href="?lang=ru">RU</a><a href="?lang=en">EN</a></nav>
<h1>{title} {agent}</h1>
<p id="status">{idle}</p><p id="caller"></p>
<button id="answer" disabled>{answer}</button><button id="hangup" disabled>{hangup}</button>
<p class="hint">{hint}</p></div>
<script>
var words = {{idle: "{idle}", ringing: "{ringing}", talking: "{talking}"}};
function show(s) {{
  document.getElementById("phone").dataset.state = s.state;
  document.getElementById("status").textContent = words[s.state];
  document.getElementById("caller").textContent = s.caller;
  document.getElementById("answer").disabled = s.state !== "ringing";
  document.getElementById("hangup").disabled = s.state !== "talking";
  document.title = (s.state === "ringing" ? "\\u260E " : "") + "{title} {agent}";
}}
function poll() {{
  fetch("state").then(function (r) {{ return r.json(); }}).then(show)
    .catch(function () {{}}).finally(function () {{ setTimeout(poll, 500); }});
}}
function act(what) {{ fetch(what, {{method: "POST"}}).then(function (r) {{ return r.json(); }}).then(show); }}
document.getElementById("answer").onclick = function () {{ act("answer"); }};
document.getElementById("hangup").onclick = function () {{ act("hangup"); }};
poll();
</script></body></html>
"""


@dataclass(frozen=True)
class PhoneState:
    state: str  # idle, ringing, talking
    caller: str


def phone_state(sim_state: dict[str, Any], agent: str) -> PhoneState:
    """The agent's phone as the simulator has it: its live leg ``PJSIP/<agent>-...``, ringing or up."""
    for ch in sim_state.get("channels", []):
        if not str(ch.get("name", "")).startswith(f"PJSIP/{agent}-") or ch.get("snoop"):
            continue
        who = ch.get("connected", {}).get("number") or ch.get("caller", {}).get("number") or ""
        if ch.get("state") == "Ringing":
            return PhoneState("ringing", who)
        if ch.get("state") == "Up":
            return PhoneState("talking", who)
    return PhoneState("idle", "")


def phone_app(http: aiohttp.ClientSession, sim_url: str, agent: str) -> web.Application:
    """The page and its three routes; ``http`` is the demo's session to the simulator."""

    async def read() -> PhoneState:
        async with http.get(f"{sim_url}/_sim/state") as r:
            return phone_state(await r.json(), agent)

    async def page(request: web.Request) -> web.Response:
        lang = request.query.get("lang", "en")
        words = LABELS.get(lang, LABELS["en"])
        title, idle, ringing, talking, answer, hangup, hint = words
        html = PAGE.format(lang=lang if lang in LABELS else "en", agent=agent, title=title, idle=idle,
                           ringing=ringing, talking=talking, answer=answer, hangup=hangup, hint=hint)
        return web.Response(text=html, content_type="text/html")

    async def state(request: web.Request) -> web.Response:
        s = await read()
        return web.json_response({"state": s.state, "caller": s.caller})

    def action(what: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            async with http.post(f"{sim_url}/_sim/endpoints/PJSIP/{agent}/{what}") as r:
                await r.read()
            s = await read()
            return web.json_response({"state": s.state, "caller": s.caller})

        return handler

    app = web.Application()
    app.add_routes([web.get("/", page), web.get("/state", state),
                    web.post("/answer", action("answer")), web.post("/hangup", action("hangup"))])
    return app
