"""The dialplan a fake Asterisk runs: which number goes to Stasis, what happens when the app is away,
and how the far end of a Local channel behaves in each context.

It mirrors ``asterisk-conf/extensions.conf``: every dialled number runs ``Stasis(acd,inbound,${EXTEN})``;
when that fails (``STASISSTATUS=FAILED``: the app has no WebSocket, BEHAVIOUR.md 2) the call goes on to the
fallback, an apology and ``VoiceMail()`` or a plain ``Queue()``. That fallback fails as Asterisk's does when
a file is missing: no apology sound is a warning and no sound; no mailbox in voicemail.conf is a hang-up.
``--asterisk-conf DIR`` reads the fallback's names from the same extensions.conf ``[globals]`` and
voicemail.conf a real Asterisk reads, so a file the deployment lacks fails here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from acd.ari_sim.model import CALLED_BEHAVIOURS, CalledParty, Endpoint
from acd.asterisk_conf import mailbox_key, read_dialplan, read_mailboxes

FALLBACKS = ("voicemail", "queue", "hangup")
SHIPPED_MAILBOXES = ("100@acd",)
"""What asterisk-conf/voicemail.conf defines."""
GLOBALS = {"ACD_APP": "app", "ACD_FALLBACK": "fallback", "ACD_APOLOGY": "apology",
           "ACD_MAILBOX": "voicemail_box"}
"""extensions.conf [globals] -> the Route field it sets."""
LOCAL_KINDS = ("answer", "stasis", "ring", "busy", "congestion", "noanswer")


@dataclass(frozen=True)
class Route:
    """What ``[acd-inbound]`` does with one dialled number."""

    app: str = "acd"
    args: tuple[str, ...] = ("inbound", "${EXTEN}")
    fallback: str = "voicemail"
    apology: str = "acd/sorry_unavailable"
    """ACD_APOLOGY: the prompt ``acd prompts build`` makes as <sounds>/<lang>/acd/sorry_unavailable.wav."""
    voicemail_box: str = "100@acd"
    fallback_queue: str = "acd-fallback"

    def stasis_args(self, exten: str) -> list[str]:
        return [a.replace("${EXTEN}", exten) for a in self.args]


@dataclass(frozen=True)
class LocalContext:
    """How the ``;2`` half of ``Local/exten@context`` behaves (the contexts of rest-samples.jsonl)."""

    kind: str = "answer"
    answer_after_s: float = 0.0
    pattern: str = "_X."
    """The context's one extension (asterisk-conf/lab/extensions-lab.conf: ``exten => _X.,1,...``)."""


DEFAULT_CONTEXTS: dict[str, LocalContext] = {
    "caller": LocalContext("answer"),
    "acd-inbound": LocalContext("stasis"),
    "from-trunk": LocalContext("stasis"),
    "agent-phone": LocalContext("ring", 1.0),
    "agent-phone-slow": LocalContext("ring", 3.0),
    "agent-busy": LocalContext("busy"),
    "agent-congestion": LocalContext("congestion"),
    "agent-noanswer": LocalContext("noanswer"),
}


@dataclass
class Dialplan:
    inbound_context: str = "from-trunk"
    default_route: Route = field(default_factory=Route)
    numbers: dict[str, Route] = field(default_factory=dict)
    contexts: dict[str, LocalContext] = field(default_factory=lambda: dict(DEFAULT_CONTEXTS))
    trunk: str = "trunk"
    mailboxes: set[str] = field(default_factory=lambda: set(SHIPPED_MAILBOXES))
    """``box@context`` entries of voicemail.conf; VoiceMail() of any other fails (VMSTATUS=FAILED)."""

    def route(self, number: str) -> Route:
        return self.numbers.get(number, self.default_route)

    def has_mailbox(self, spec: str) -> bool:
        return mailbox_key(spec) in self.mailboxes

    def local(self, context: str) -> LocalContext:
        return self.contexts.get(context, LocalContext("answer"))

    def local_exists(self, context: str, exten: str) -> bool:
        """Whether ``Local/<exten>@<context>`` finds its extension. A context the simulator does not know
        answers anything (as before); a known one matches only its pattern, as Asterisk 22.10.1 did:
        ``Local/1@agent-phone`` against ``_X.`` is "No such extension/context" (docs/deploy-tested.md)."""
        ctx = self.contexts.get(context)
        return ctx is None or exten_matches(ctx.pattern, exten)


_PATTERN_CLASSES = {"X": "0123456789", "Z": "123456789", "N": "23456789"}


def exten_matches(pattern: str, exten: str) -> bool:
    """Asterisk's extension match (main/pbx.c): a literal, or ``_`` then X, Z, N (digit classes in either
    case: ``_agent1`` has an N), ``[...]``, ``.`` (one or more characters) and ``!`` (zero or more)."""
    if not pattern.startswith("_"):
        return pattern == exten
    regex = []
    rest = pattern[1:]
    i = 0
    while i < len(rest):
        c = rest[i]
        if c.upper() in _PATTERN_CLASSES:
            regex.append(f"[{_PATTERN_CLASSES[c.upper()]}]")
        elif c == "[":
            end = rest.index("]", i)
            regex.append("[" + re.escape(rest[i + 1:end]).replace("\\-", "-") + "]")
            i = end
        elif c == ".":
            regex.append(".+")
        elif c == "!":
            regex.append(".*")
        else:
            regex.append(re.escape(c))
        i += 1
    return re.fullmatch("".join(regex), exten) is not None


def default_endpoints(agents: int = 8) -> list[Endpoint]:
    eps = [Endpoint("PJSIP", f"agent{i}", name=f"Agent {i}") for i in range(1, agents + 1)]
    eps.append(Endpoint("PJSIP", "trunk", answer_after_s=3.0, talk_s=60.0, name="Trunk"))
    return eps


def _route(raw: dict[str, Any], base: Route) -> Route:
    fb = str(raw.get("fallback", base.fallback))
    if fb not in FALLBACKS:
        raise ValueError(f"dialplan: fallback must be one of {FALLBACKS}, got {fb!r}")
    return Route(
        app=str(raw.get("app", base.app)),
        args=tuple(str(a) for a in raw.get("args", base.args)),
        fallback=fb,
        apology=str(raw.get("apology", base.apology)),
        voicemail_box=str(raw.get("voicemail_box", base.voicemail_box)),
        fallback_queue=str(raw.get("fallback_queue", base.fallback_queue)),
    )


def endpoint_from(key: str, raw: dict[str, Any], base: Endpoint | None = None) -> Endpoint:
    tech, _, resource = key.partition("/")
    ep = base or Endpoint(tech, resource)
    apply_endpoint_settings(ep, raw)
    return ep


def apply_endpoint_settings(ep: Endpoint, raw: dict[str, Any]) -> None:
    """Validate and apply ``{state, behaviour, answer_after_s, talk_s, hangup, called, answer_probability}``
    (control API and config). ``called`` adds or replaces called parties of a trunk by number:
    ``{"7011234567": {"behaviour": "busy"}}`` (answer, no_answer, busy, congestion, unavailable, invalid)."""
    state = raw.get("state", ep.state)
    behaviour = raw.get("behaviour", ep.behaviour)
    hangup = raw.get("hangup", ep.hangup)
    if state not in ("online", "offline"):
        raise ValueError(f"state must be online or offline, got {state!r}")
    if behaviour not in ("answer", "no_answer", "busy", "congestion"):
        raise ValueError(f"behaviour must be answer, no_answer, busy or congestion, got {behaviour!r}")
    if hangup not in ("agent", "caller"):
        raise ValueError(f"hangup must be agent or caller, got {hangup!r}")
    ep.state, ep.behaviour, ep.hangup = state, behaviour, hangup
    ep.answer_after_s = float(raw.get("answer_after_s", ep.answer_after_s))
    ep.talk_s = float(raw.get("talk_s", ep.talk_s))
    if "name" in raw:
        ep.name = str(raw["name"])
    if "answer_probability" in raw:
        p = float(raw["answer_probability"])
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"answer_probability must be between 0 and 1, got {p}")
        ep.answer_probability = p
    for number, spec in (raw.get("called") or {}).items():
        spec = spec or {}
        kind = spec.get("behaviour", "answer")
        if kind not in CALLED_BEHAVIOURS:
            raise ValueError(f"called {number}: behaviour must be one of {CALLED_BEHAVIOURS}, got {kind!r}")
        ep.called[str(number)] = CalledParty(kind, float(spec.get("answer_after_s", 3.0)),
                                             float(spec.get("talk_s", 20.0)))


def apply_asterisk_conf(dp: Dialplan, etc: Path) -> None:
    """Take the fallback from ``<etc>/extensions.conf`` [globals] and the mailboxes from voicemail.conf."""
    plan = read_dialplan(etc / "extensions.conf")
    values = {field_name: plan.substitute(plan.globals[name])
              for name, field_name in GLOBALS.items() if name in plan.globals}
    dp.default_route = _route(values, dp.default_route)
    dp.mailboxes = set(read_mailboxes(etc / "voicemail.conf"))


def load_config(path: Path | None, asterisk_conf: Path | None = None
                ) -> tuple[Dialplan, list[Endpoint], dict[str, Any]]:
    """Read ``--config`` (YAML or JSON), after ``--asterisk-conf`` when given. Returns the dialplan, the
    endpoints and the caller defaults."""
    raw: dict[str, Any] = {}
    if path is not None:
        raw = YAML(typ="safe").load(path.read_text()) or {}
    dp = Dialplan()
    if asterisk_conf is not None:
        apply_asterisk_conf(dp, asterisk_conf)
    if "voicemail_boxes" in raw:
        dp.mailboxes = {mailbox_key(str(b)) for b in raw["voicemail_boxes"] or []}
    if "default_route" in raw:
        dp.default_route = _route(raw["default_route"], dp.default_route)
    if "fallback" in raw:
        dp.default_route = _route({"fallback": raw["fallback"]}, dp.default_route)
    for number, r in (raw.get("numbers") or {}).items():
        dp.numbers[str(number)] = _route(r or {}, dp.default_route)
    for name, c in (raw.get("contexts") or {}).items():
        kind = c.get("kind", "answer")
        if kind not in LOCAL_KINDS:
            raise ValueError(f"dialplan: context {name}: kind must be one of {LOCAL_KINDS}")
        dp.contexts[name] = LocalContext(kind, float(c.get("answer_after_s", 0.0)))
    dp.inbound_context = str(raw.get("inbound_context", dp.inbound_context))
    eps = {e.key: e for e in default_endpoints(int(raw.get("agents", 8)))}
    for key, settings in (raw.get("endpoints") or {}).items():
        eps[key] = endpoint_from(key, settings or {}, eps.get(key))
    callers = {"patience_s": 180.0, "talk_s": 60.0, "linger_s": 30.0, "voicemail_s": 20.0}
    callers.update(raw.get("callers") or {})
    return dp, list(eps.values()), callers
