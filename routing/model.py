"""The scenario model: the single source of truth for ``config/scenarios/*.yaml``, their validation
errors and their JSON Schema (``acd schema``).

A scenario serves one dialled number or several (R11) and is a list of steps. Each step is a mapping with
exactly one *kind* key (``play``, ``menu``, ``queue``, ...) and an optional ``label`` that ``goto`` and
overflow targets (``label:<name>``) jump to. Branches (menu options, open/closed hours, a failed transfer)
are lists of steps; when a branch ends without leaving the call, the call goes on after the step that
branched. Everything a model can judge alone is checked here; cross-references (queues, prompts, labels,
schedules) are checked by ``acd/configset.py``, which sees the whole configuration.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from routing.numbers import BadNumber, normalise
from routing.schedule import Schedule

Language = Literal["kk", "ru", "en"]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]+$", min_length=1)]
PromptRef = Annotated[str, Field(min_length=1)]
"""A prompt id of the catalogue (``greeting``), or a full media URI (``sound:...``) or absolute path."""
DTMF_KEYS = set("0123456789*#")


def _int_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


NumberText = Annotated[str, BeforeValidator(_int_as_text)]
"""A telephone number; YAML may read an unquoted one as an integer (quote numbers with a leading 0)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _as_list(value: Any) -> Any:
    """Let admins write one item where a list is expected (``play: greeting``, ``open: {goto: x}``)."""
    if value is None:
        return value
    return value if isinstance(value, list) else [value]


def _check_target(value: str) -> str:
    kind, sep, rest = value.partition(":")
    if value in ("voicemail", "hangup") or (sep and rest and kind in ("queue", "external", "label",
                                                                        "branch")):
        return value
    raise ValueError(f"target {value!r} must be queue:<name>, label:<label>, external:<number>, "
                     "branch:<name>, voicemail or hangup")


class _Step(_Strict):
    label: Name | None = None
    """Name of this step, for ``goto`` and ``label:`` targets; unique in the scenario."""


Prompts = Annotated[list[PromptRef], BeforeValidator(_as_list)]


# ---------------------------------------------------------------- step arguments
class LanguageMenuArgs(_Strict):
    prompt: Prompts = ["language_menu"]
    """What is played while the caller chooses (a key press interrupts it)."""
    options: dict[str, Language] = {"1": "kk", "2": "ru"}
    """Key -> language (kk, ru, en)."""
    timeout_s: float = Field(5.0, gt=0)
    """Seconds to wait for a key after the prompt."""
    retries: int = Field(1, ge=0)
    """How many more times the prompt is played after an invalid key."""
    default: Language = "kk"
    """The language taken on time-out or when the retries are used up."""

    @field_validator("options")
    @classmethod
    def _keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if len(key) != 1 or key not in DTMF_KEYS:
                raise ValueError(f"option key {key!r} must be one DTMF key: 0-9, * or #")
        return value


class MenuArgs(_Strict):
    name: Name | None = None
    """Menu name for reports (the CDR's ``menu`` event); default the step's label."""
    prompt: Prompts
    """What is played while the caller chooses (a key press interrupts it)."""
    options: dict[str, Branch]
    """Key -> the steps to run (or one step, e.g. ``{goto: billing}``)."""
    timeout_s: float = Field(5.0, gt=0)
    """Seconds to wait for a key after the prompt."""
    retries: int = Field(2, ge=0)
    """How many more times the menu is offered after a time-out or an invalid key."""
    invalid_prompt: Prompts = ["invalid_input"]
    """Played after a key that is not an option."""
    timeout_prompt: Prompts = ["timeout"]
    """Played after no key at all."""
    fallback: Branch | None = None
    """Steps when the retries are used up; default: go on with the next step."""

    @field_validator("options")
    @classmethod
    def _keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("a menu needs at least one option")
        for key in value:
            if len(key) != 1 or key not in DTMF_KEYS:
                raise ValueError(f"option key {key!r} must be one DTMF key: 0-9, * or #")
        return value


class HoursArgs(_Strict):
    schedule: Name
    """A schedule's name (this file's ``schedules`` or a shared ``scenarios/_*.yaml``)."""
    open: Branch | None = None
    """Steps while open; default: go on with the next step."""
    closed: Branch | None = None
    """Steps while closed; default: go on with the next step."""


class QueueArgs(_Strict):
    name: Name
    """The queue (``config/queues.yaml``)."""
    priority: int = Field(0, ge=0, le=100)
    """Higher is served first; FIFO within a priority."""
    moh_class: str = "default"
    """Asterisk music-on-hold class."""
    announce_every_s: float | None = Field(None, gt=0)
    """Seconds between position/wait announcements; default the queue's ``announce_every_s``."""
    announce_position: bool = True
    """Say the caller's position in the queue."""
    announce_wait: bool = True
    """Say the expected wait."""
    periodic_prompt: Prompts = []
    """Played with each announcement (e.g. ``please_hold``)."""
    recording_notice: bool = True
    """R10: tell the caller the call is recorded at the moment an agent is connected."""
    recording_notice_prompt: Prompts = ["recording_notice"]
    """What the recording notice plays."""
    overflow: str | None = None
    """Where the call goes when the queue gives it back (max wait, nobody logged in); default the queue's
    ``overflow``, and without one the next step."""
    callback_key: str | None = None
    """"Keep my place" (R25): the key (one of 0-9, ``*``, ``#``) a waiting caller presses to be called back
    instead of waiting; they keep their place, and the agent their turn reaches gets the callback. None:
    not offered."""
    callback_prompt: Prompts = ["callback_offer"]
    """Says the key, with each hold announcement (only with ``callback_key``)."""
    callback_confirm_prompt: Prompts = ["callback_confirmed"]
    """Played after the key, before the caller is hung up."""
    callback_hold_s: float = Field(30.0, gt=0, le=600)
    """How long the agent who gets the callback is kept from inbound calls to take it (or until they act)."""

    @field_validator("overflow")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        return None if value is None else _check_target(value)

    @field_validator("callback_key")
    @classmethod
    def _one_key(cls, value: str | None) -> str | None:
        if value is None or (len(value) == 1 and value in "0123456789*#"):
            return value
        raise ValueError(f"callback_key {value!r} must be one key: 0-9, * or #")


class VoicemailArgs(_Strict):
    greeting: Prompts = ["voicemail_greeting"]
    """Played before the beep."""
    max_s: float = Field(120.0, gt=0, le=3600)
    """Longest message in seconds."""
    beep: bool = True
    """Beep before recording."""
    goodbye: Prompts = ["goodbye"]
    """Played after the message, before hanging up."""
    callback_within_h: float = Field(24.0, gt=0)
    """R25: the callback request is due this many hours after the message."""


class TransferArgs(_Strict):
    to: str
    """``external:<number>`` (through the trunk), ``branch:<name>`` (this scenario's ``branches``),
    ``queue:<name>`` (e.g. the second line)."""
    prompt: Prompts = ["transfer"]
    """Played before the transfer."""
    timeout_s: float = Field(30.0, gt=0)
    """Seconds the far end may ring."""
    on_failure: Branch | None = None
    """Steps when the far end is busy, does not answer or fails; default: the next step."""

    @field_validator("to")
    @classmethod
    def _target(cls, value: str) -> str:
        kind, sep, rest = value.partition(":")
        if sep and rest and kind in ("external", "branch", "queue"):
            if kind == "external":
                try:
                    normalise(rest)
                except BadNumber as exc:
                    raise ValueError(str(exc)) from exc
            return value
        raise ValueError(f"transfer target {value!r} must be external:<number>, branch:<name> "
                         "or queue:<name>")


class TagArgs(_Strict):
    service: str | None = None
    """Service the call is about (monthly report R19)."""
    call_type: str | None = None
    """Call type (R19)."""
    topic: str | None = None
    """Topic (R18); the agent may override it."""

    @model_validator(mode="after")
    def _some(self) -> TagArgs:
        if not (self.service or self.call_type or self.topic):
            raise ValueError("a tag needs at least one of service, call_type, topic")
        return self


class InfoArgs(_Strict):
    prompt: Prompts
    """The information played; then the call ends as handled in the IVR."""
    repeat: int = Field(1, ge=1, le=5)
    """How many times it is played."""
    goodbye: Prompts = ["goodbye"]
    """Played last."""


# ---------------------------------------------------------------- steps
class PlayStep(_Step):
    play: Prompts
    """Prompts played in order, e.g. ``[greeting]``."""


class LanguageMenuStep(_Step):
    language_menu: LanguageMenuArgs = LanguageMenuArgs()
    """R7: the caller picks a language; it applies to every later prompt, the announcements and the agent
    skill."""


class MenuStep(_Step):
    menu: MenuArgs
    """R9: a DTMF menu."""


class HoursStep(_Step):
    hours: HoursArgs
    """R12: branch on business hours."""


class QueueStep(_Step):
    queue: QueueArgs
    """Put the caller in a queue (R1, R2, R8, R10); the call ends when the conversation does."""

    @model_validator(mode="before")
    @classmethod
    def _short(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("queue"), str):
            return {**data, "queue": {"name": data["queue"]}}
        return data


class VoicemailStep(_Step):
    voicemail: VoicemailArgs | None = None
    """R8, R25: record a message and create a callback request; then hang up. Empty: the scenario's
    defaults."""


class TransferStep(_Step):
    transfer: TransferArgs
    """R13: a blind transfer to an external number, a branch or another queue."""

    @model_validator(mode="before")
    @classmethod
    def _short(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("transfer"), str):
            return {**data, "transfer": {"to": data["transfer"]}}
        return data


class TagStep(_Step):
    tag: TagArgs
    """Tag the call for reports."""


class GotoStep(_Step):
    goto: Name
    """Continue at the step with this label."""


class HangupStep(_Step):
    hangup: Prompts | None = None
    """Optional prompts (e.g. ``[goodbye]``), then hang up."""


class InfoStep(_Step):
    info: InfoArgs
    """An information branch: play, then end the call as handled in the IVR (R19)."""


STEP_KINDS: dict[str, type[_Step]] = {
    "play": PlayStep, "language_menu": LanguageMenuStep, "menu": MenuStep, "hours": HoursStep,
    "queue": QueueStep, "voicemail": VoicemailStep, "transfer": TransferStep, "tag": TagStep,
    "goto": GotoStep, "hangup": HangupStep, "info": InfoStep,
}
TERMINAL_KINDS = ("queue", "voicemail", "transfer", "hangup", "info")
"""Steps that can end the call (a transfer may also fail and go on)."""


def step_kind(value: Any) -> str | None:
    """The kind key of a step mapping (or model); None when it has none or several."""
    if isinstance(value, BaseModel):
        for kind, cls in STEP_KINDS.items():
            if isinstance(value, cls):
                return kind
        return None
    if isinstance(value, dict):
        kinds = [k for k in value if k in STEP_KINDS]
        return kinds[0] if len(kinds) == 1 else None
    return None


Step = Annotated[
    Annotated[PlayStep, Tag("play")] | Annotated[LanguageMenuStep, Tag("language_menu")]
    | Annotated[MenuStep, Tag("menu")] | Annotated[HoursStep, Tag("hours")]
    | Annotated[QueueStep, Tag("queue")]
    | Annotated[VoicemailStep, Tag("voicemail")] | Annotated[TransferStep, Tag("transfer")]
    | Annotated[TagStep, Tag("tag")] | Annotated[GotoStep, Tag("goto")] | Annotated[HangupStep, Tag("hangup")]
    | Annotated[InfoStep, Tag("info")],
    Discriminator(
        step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs exactly one of: " + ", ".join(STEP_KINDS),
    ),
]
Branch = Annotated[list[Step], BeforeValidator(_as_list)]

MenuArgs.model_rebuild()
HoursArgs.model_rebuild()
TransferArgs.model_rebuild()


class Scenario(_Strict):
    """One routing scenario: the numbers it serves and the steps every call to them goes through."""

    name: Name | None = None
    """Name shown in logs and the CDR; default the file name without ``.yaml``."""
    description: str = ""
    """Free text for admins."""
    numbers: Annotated[list[NumberText], Field(min_length=1)]
    """Dialled numbers served, written any usual way (``193``, ``8 8000 800 193``, ``+7 727 258 15 00``)."""
    language: Language = "kk"
    """The call's language until a language menu changes it."""
    languages: list[Language] = ["kk", "ru"]
    """Languages callers may get; each needs every prompt the scenario plays."""
    trunk: str = "PJSIP/{number}@trunk"
    """Endpoint template for external numbers; ``{number}`` is replaced by the number."""
    caller_id: str | None = None
    """Caller id shown on outgoing transfers; default the caller's own number."""
    branches: dict[Name, NumberText] = {}
    """Customer branches for ``transfer: branch:<name>``: name -> number or endpoint (``PJSIP/...``)."""
    voicemail: VoicemailArgs = VoicemailArgs()
    """Defaults for ``voicemail`` steps and for an overflow to ``voicemail``."""
    schedules: dict[Name, Schedule] = {}
    """Schedules defined in this file (shared ones live in ``scenarios/_*.yaml``)."""
    steps: Annotated[list[Step], Field(min_length=1)]
    """What a call goes through, in order."""

    @field_validator("numbers")
    @classmethod
    def _numbers(cls, value: list[str]) -> list[str]:
        out = []
        for raw in value:
            try:
                out.append(normalise(str(raw)))
            except BadNumber as exc:
                raise ValueError(str(exc)) from exc
        return out

    @field_validator("trunk")
    @classmethod
    def _trunk(cls, value: str) -> str:
        if "{number}" not in value:
            raise ValueError("trunk must contain {number}, e.g. PJSIP/{number}@trunk")
        return value

    @model_validator(mode="after")
    def _language_offered(self) -> Scenario:
        if self.language not in self.languages:
            raise ValueError(f"language {self.language!r} is not in languages {self.languages}")
        return self


class ScheduleLibrary(_Strict):
    """A shared file ``config/scenarios/_<anything>.yaml``: schedules every scenario may use."""

    schedules: dict[Name, Schedule] = {}
    """Schedules by name."""
