"""Drives one call through its scenario, using nothing but ``routing.control.CallControl``.

The scenario is compiled into a flow graph (``routing/flow.py``) once, at load; here the call walks it
node by node. Every step is logged (with the call id) and emitted as a ``step`` call event, and the
steps that mean something to the CDR emit their own kinds (``language``, ``menu``, ``tag``, ``transfer``,
``voicemail``, ``handled_in_ivr``). The run holds the scenario object it started with, so a reload of the
configuration never changes a call in progress.

``run_scenario`` returns the outcome, one of ``OUTCOMES``.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import structlog

from acd.events import HandledInIvr, Language, Menu, Step, Tag, Transfer, Voicemail
from ivr.catalogue import media
from routing.control import CallControl, CallerHungUp, HoldSpec, QueueResult
from routing.flow import Flow, Loc, Node
from routing.loaded import LoadedScenario, RoutingConfig
from routing.model import (
    GotoStep,
    HangupStep,
    HoursStep,
    InfoStep,
    LanguageMenuStep,
    MenuStep,
    PlayStep,
    QueueArgs,
    QueueStep,
    Scenario,
    TagStep,
    TransferArgs,
    TransferStep,
    VoicemailArgs,
    VoicemailStep,
)

OUTCOMES = ("completed", "abandoned", "voicemail", "transferred", "handled_in_ivr", "hangup",
            "caller_hung_up", "loop_limit")
"""completed: served by an agent; abandoned: the queue reported the caller gone; voicemail: a message was
left; transferred: a transfer out was answered; handled_in_ivr: an information branch ended the call;
hangup: a hangup step or the end of the scenario; caller_hung_up: the caller left in the IVR;
loop_limit: the call went through ``MAX_STEPS`` steps (a safety net; ``acd check`` refuses endless loops)."""

MAX_STEPS = 500
MAX_OVERFLOW_HOPS = 5
"""An overflow from queue to queue is followed at most this many times, then the scenario goes on."""

_SEPARATORS = re.compile(r"[\s\-().]")


class _End(Exception):
    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def _play_media(refs: list[str] | None) -> list[str]:
    return [media(r) for r in refs or []]


class _Run:
    def __init__(self, call: CallControl, loaded: LoadedScenario | Scenario, config: RoutingConfig,
                 log: Any = None) -> None:
        self.call = call
        self.config = config
        if isinstance(loaded, LoadedScenario):
            self.scenario, self.flow = loaded.scenario, loaded.flow
            self.name, self.version = loaded.name, loaded.version
        else:
            self.scenario, self.flow = loaded, Flow.of(loaded)
            self.name, self.version = loaded.name or "scenario", ""
        base = log if log is not None else structlog.get_logger("routing")
        self.log = base.bind(call_id=call.info.call_id, scenario=self.name)

    # ---------------------------------------------------------------- driver
    async def run(self, start: Loc | None = None) -> str:
        # The engine emits the ``scenario`` event (name, version) as it starts the run.
        if not self.call.info.language:
            self.call.info.language = self.scenario.language
        resuming = start is not None and start in self.flow.nodes
        if not resuming and not any(n.kind == "language_menu" for n in self.flow):
            # No menu will choose: the CDR's language column is the scenario's own.
            self.call.emit(Language(lang=self.call.info.language, how="default"))
        loc: Loc | None = start if resuming else self.flow.start
        try:
            if not resuming:  # a call adopted after a restart is answered already
                await self.call.answer()
            for _ in range(MAX_STEPS):
                if loc is None:
                    await self.call.hangup()
                    raise _End("hangup")
                loc = await self.step(self.flow.nodes[loc])
            self.log.error("scenario.loop_limit", steps=MAX_STEPS)
            await self.call.hangup()
            return "loop_limit"
        except _End as end:
            self.log.info("scenario.end", outcome=end.outcome)
            return end.outcome
        except CallerHungUp:
            self.log.info("scenario.end", outcome="caller_hung_up")
            return "caller_hung_up"

    def trace(self, node: Node, detail: str = "") -> None:
        name = node.label or node.kind
        self.log.info("scenario.step", step=name, kind=node.kind, detail=detail)
        self.call.emit(Step(step=name, detail=detail))

    async def step(self, node: Node) -> Loc | None:
        s = node.step
        self.call.info.step = node.loc
        if isinstance(s, PlayStep):
            self.trace(node)
            await self.call.play(_play_media(s.play))
            return node.next
        if isinstance(s, LanguageMenuStep):
            return await self.language_menu(node, s)
        if isinstance(s, MenuStep):
            return await self.menu(node, s)
        if isinstance(s, HoursStep):
            schedule = self.config.schedule_for(self.scenario, s.hours.schedule)
            is_open = schedule.is_open(self.call.now())
            self.trace(node, f"{s.hours.schedule}: {'open' if is_open else 'closed'}")
            return node.branches["open" if is_open else "closed"]
        if isinstance(s, TagStep):
            tags = {k: v for k, v in s.tag.model_dump().items() if v is not None}
            self.trace(node, ", ".join(f"{k}={v}" for k, v in tags.items()))
            self.call.info.tags.update(tags)
            self.call.emit(Tag(service=s.tag.service, call_type=s.tag.call_type, topic=s.tag.topic))
            return node.next
        if isinstance(s, GotoStep):
            self.trace(node, s.goto)
            return self.flow.labels[s.goto]
        if isinstance(s, QueueStep):
            self.trace(node, s.queue.name)
            return await self.queue(node, s.queue, s.queue.overflow)
        if isinstance(s, TransferStep):
            self.trace(node, s.transfer.to)
            return await self.transfer(node, s.transfer)
        if isinstance(s, VoicemailStep):
            self.trace(node)
            await self.voicemail(s.voicemail or self.scenario.voicemail)
        if isinstance(s, InfoStep):
            self.trace(node)
            for _ in range(s.info.repeat):
                await self.call.play(_play_media(s.info.prompt))
            self.call.emit(HandledInIvr(step=node.label or "info"))
            await self.call.play(_play_media(s.info.goodbye))
            await self.call.hangup()
            raise _End("handled_in_ivr")
        if isinstance(s, HangupStep):
            self.trace(node)
            if s.hangup:
                await self.call.play(_play_media(s.hangup))
            await self.call.hangup()
            raise _End("hangup")
        raise AssertionError(f"unknown step {node.kind}")  # the model admits no other kind

    # ---------------------------------------------------------------- IVR
    async def language_menu(self, node: Node, s: LanguageMenuStep) -> Loc | None:
        args = s.language_menu
        self.trace(node)
        lang, how = args.default, "default"
        for attempt in range(args.retries + 1):
            digits = await self.call.collect_digits(_play_media(args.prompt), max_digits=1,
                                                    timeout_s=args.timeout_s, terminator="")
            if not digits:
                how = "timeout"
                break
            if digits[0] in args.options:
                lang, how = args.options[digits[0]], "dtmf"
                break
            if attempt < args.retries:
                await self.call.play([media("invalid_input")])
        self.call.info.language = lang
        self.call.emit(Language(lang=lang, how=how))
        self.log.info("scenario.language", lang=lang, how=how)
        return node.next

    async def menu(self, node: Node, s: MenuStep) -> Loc | None:
        args = s.menu
        name = args.name or node.label or "menu"
        self.trace(node, name)
        for attempt in range(1, args.retries + 2):
            # no terminator: '#' and '*' may be menu keys
            digits = await self.call.collect_digits(_play_media(args.prompt), max_digits=1,
                                                    timeout_s=args.timeout_s, terminator="")
            key = digits[:1]
            if key and key in args.options:
                self.call.emit(Menu(menu=name, choice=key, attempt=attempt))
                return node.branches[f"option:{key}"]
            choice = "invalid" if key else "timeout"
            self.call.emit(Menu(menu=name, choice=choice, attempt=attempt))
            self.log.info("scenario.menu", menu=name, choice=choice, attempt=attempt)
            await self.call.play(_play_media(args.invalid_prompt if key else args.timeout_prompt))
        return node.branches["fallback"]

    # ---------------------------------------------------------------- queue, overflow
    def hold_spec(self, args: QueueArgs | None, queue: str) -> HoldSpec:
        qconf = self.config.queues.get(queue)
        every = qconf.announce_every_s if qconf else 60.0
        if args and args.announce_every_s:
            every = args.announce_every_s
        if args is None:
            return HoldSpec(announce_every_s=every, recording_notice=(media("recording_notice"),))
        notice = args.recording_notice_prompt if args.recording_notice else []
        # "keep my place" needs a number to call back: a withheld or missing caller id is not offered it
        key = args.callback_key if any(ch.isdigit() for ch in self.call.info.caller or "") else None
        periodic = list(args.periodic_prompt) + (list(args.callback_prompt) if key else [])
        return HoldSpec(
            moh_class=args.moh_class, announce_every_s=every, announce_position=args.announce_position,
            announce_wait=args.announce_wait, periodic_media=tuple(_play_media(periodic)),
            recording_notice=tuple(_play_media(notice)), callback_key=key,
            callback_hold_s=args.callback_hold_s)

    async def queue(self, node: Node, args: QueueArgs | None, override: str | None, name: str | None = None,
                    hops: int = 0) -> Loc | None:
        queue = name or (args.name if args else "")
        priority = args.priority if args else 0
        hold = self.hold_spec(args, queue)
        result: QueueResult = await self.call.enqueue(queue, priority=priority, hold=hold)
        self.log.info("scenario.queue_result", queue=queue, outcome=result.outcome, target=result.target,
                      reason=result.reason, agent=result.agent)
        if result.outcome == "completed":
            raise _End("completed")
        if result.outcome == "abandoned":
            raise _End("abandoned")
        if result.outcome == "callback":  # "keep my place": confirmed, then the caller is let go
            confirm = args.callback_confirm_prompt if args else ["callback_confirmed"]
            with contextlib.suppress(CallerHungUp):
                await self.call.play(_play_media(confirm))
            await self.call.hangup()
            raise _End("callback_requested")
        qconf = self.config.queues.get(queue)
        target = override or result.target or (qconf.overflow if qconf else None)
        detail = f"overflow {queue} -> {target or 'next step'}"
        self.call.emit(Step(step=node.label or node.kind, detail=detail))
        if target is None:
            return node.next
        if target.startswith("queue:"):
            if hops >= MAX_OVERFLOW_HOPS:
                self.log.warning("scenario.overflow_hops", queue=queue, target=target)
                return node.next
            nxt = target.removeprefix("queue:")
            return await self.queue(node, None, None, nxt, hops + 1)
        return await self.go(node, target)

    async def go(self, node: Node, target: str) -> Loc | None:
        """Carry out a target string (overflow): label, voicemail, hangup, external or branch."""
        if target.startswith("label:"):
            label = target.removeprefix("label:")
            if label not in self.flow.labels:  # a queue reached by overflow may name another scenario's label
                self.log.warning("scenario.unknown_overflow_label", target=target)
                return node.next
            return self.flow.labels[label]
        if target == "voicemail":
            await self.voicemail(self.scenario.voicemail)
        if target == "hangup":
            await self.call.hangup()
            raise _End("hangup")
        return await self.transfer(node, TransferArgs(to=target, prompt=[]), via_overflow=True)

    # ---------------------------------------------------------------- voicemail, transfer
    async def voicemail(self, args: VoicemailArgs) -> None:
        # The moment the IVR sends the call to voicemail: the CDR's wait since answer stops here, not when
        # the message (which may last minutes) is saved.
        self.call.emit(Step(step="voicemail", detail="to voicemail", to="voicemail"))
        await self.call.play(_play_media(args.greeting))
        now = self.call.now()
        name = f"voicemail-{self.call.info.call_id}-{int(now)}"
        rec = await self.call.record_message(name, max_s=args.max_s, beep=args.beep)
        # callback_id makes the CDR writer open a callback request (R25); it is derived from the
        # recording's name so that a replayed event never opens a second one.
        # An empty message (the caller said nothing) is no voicemail: the CDR still says the caller went to
        # voicemail, but no callback is opened for it (docs/decisions/engine-11-empty-voicemail.md).
        self.call.emit(Voicemail(recording=rec.name, callback_id=None if rec.empty else f"cb-{rec.name}"[:64],
                                 path=rec.path, duration_s=rec.duration_s, caller=self.call.info.caller,
                                 callback_due_at=None if rec.empty else now + args.callback_within_h * 3600))
        self.log.info("scenario.voicemail", recording=rec.name, duration_s=rec.duration_s, empty=rec.empty)
        await self.call.play(_play_media(args.goodbye))
        await self.call.hangup()
        raise _End("voicemail")

    def endpoint(self, target: str) -> str:
        kind, _, rest = target.partition(":")
        number = self.scenario.branches.get(rest, rest) if kind == "branch" else rest
        if "/" in number:  # already an endpoint, e.g. PJSIP/branch-astana
            return number
        return self.scenario.trunk.format(number=_SEPARATORS.sub("", number))

    async def transfer(self, node: Node, args: TransferArgs, *, via_overflow: bool = False) -> Loc | None:
        await self.call.play(_play_media(args.prompt))
        if args.to.startswith("queue:"):
            # Routing to another queue (the second line) is a queue of this call, not a transfer out of it:
            # the CDR follows the caller there (queued, answered or abandoned in that queue).
            self.call.emit(Step(step=node.label or node.kind, detail=f"to {args.to}"))
            return await self.queue(node, None, None, args.to.removeprefix("queue:"))
        endpoint = self.endpoint(args.to)
        result = await self.call.dial_out(endpoint, timeout_s=args.timeout_s,
                                          caller_id=self.scenario.caller_id or self.call.info.caller or None)
        self.log.info("scenario.transfer", target=args.to, endpoint=endpoint, outcome=result.outcome)
        if result.outcome == "answered":
            # Only a transfer that reached the far end counts as one (R17 "Перев.").
            self.call.emit(Transfer(kind="blind", target=args.to, by="scenario"))
            raise _End("transferred")
        self.call.emit(Step(step=node.label or node.kind, detail=f"transfer {args.to}: {result.outcome}"))
        return node.next if via_overflow else node.branches.get("on_failure", node.next)


async def run_scenario(call: CallControl, scenario: LoadedScenario | Scenario, config: RoutingConfig, *,
                       log: Any = None, start: Loc | None = None) -> str:
    """Run ``call`` through ``scenario`` (as loaded in ``config``) and return the outcome (``OUTCOMES``).

    ``start``: a step to re-enter the scenario at, for a call adopted after a daemon restart (answered
    already), e.g. its queue step, so that hold, announcements and overflow are the scenario's own; an
    unknown location starts from the beginning. The caller hanging up at any point ends the run with
    ``caller_hung_up``; nothing else is raised for a call's ordinary course."""
    return await _Run(call, scenario, config, log).run(start)
