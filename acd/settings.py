"""The daemon's own configuration, ``config/acd.yaml``: where Asterisk and the database are, paths,
time zone, logging, the HTTP server and its users.

Secrets may be written here for a lab, but belong in the environment in production:
``ACD_ARI_USER``, ``ACD_ARI_PASSWORD`` and ``ACD_DB_URL`` override the file, and a user's API token can
be read from a named environment variable (``token_env``). ``SecretStr`` keeps them out of reprs and logs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from acd.yamlconf import load_model

Role = Literal["agent", "supervisor", "admin", "reporting"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class AriSettings(Strict):
    url: str = "http://127.0.0.1:8088/ari"
    """Base URL of ARI, up to and including /ari."""
    app: str = "acd"
    user: str = "acd"
    password: SecretStr = SecretStr("")
    reconnect_max_s: float = Field(30.0, gt=0)
    ping_interval_s: float = Field(20.0, gt=0)
    max_concurrent_requests: int = Field(32, ge=1, le=1000)
    """ARI requests in flight at once; the rest wait, state writes and hang-ups first, playbacks last
    (docs/ari-client.md). Keep it under Asterisk's http.conf ``sessionlimit`` (100 by default)."""


class DatabaseSettings(Strict):
    url: SecretStr = SecretStr("sqlite+aiosqlite:///var/acd.db")
    spool_dir: Path = Path("var/spool")
    """CDR events go here (fsync'd) while the database is unreachable, and are replayed in order."""


class PathSettings(Strict):
    var: Path = Path("var")
    recordings: Path = Path("var/recordings")
    """Where Asterisk's recordings (``/var/spool/asterisk/recording`` on a real box) are read from."""
    sounds: Path = Path("var/sounds")
    """Where ``acd prompts build`` writes prompts, in Asterisk's sounds layout (<lang>/acd/<id>.wav). On the
    Asterisk host: Asterisk's own sounds directory (<astdatadir>/sounds), which sound:acd/<id> plays from."""
    asterisk_sounds: Path | None = None
    """Asterisk's sounds directory (absolute), whose core digits the build reuses; None: astdatadir of
    /etc/asterisk/asterisk.conf, else /var/lib/asterisk/sounds or /usr/share/asterisk/sounds."""


class LogSettings(Strict):
    format: Literal["auto", "json", "console"] = "auto"
    """auto: pretty on a terminal, JSON lines otherwise."""
    level: Literal["debug", "info", "warning", "error"] = "info"


class HttpSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)


class User(Strict):
    name: str
    role: Role
    agent: str | None = None
    """For role 'agent': the agent id (agents.yaml) this user works as."""
    token: SecretStr | None = None
    token_env: str | None = None
    endpoint: str | None = None
    """A supervisor's phone (``PJSIP/sup1``), called when they listen to a call (R23)."""

    @model_validator(mode="after")
    def _one_token(self) -> User:
        if (self.token is None) == (self.token_env is None):
            raise ValueError("give exactly one of token or token_env")
        if self.role == "agent" and not self.agent:
            raise ValueError("a user with role 'agent' needs 'agent: <agent id>'")
        return self

    def resolved_token(self) -> str | None:
        if self.token is not None:
            return self.token.get_secret_value()
        return os.environ.get(self.token_env or "") or None


class ReportSettings(Strict):
    sl_threshold_s: float = Field(30.0, gt=0)
    """Service level: answered within this many seconds (R17, R21)."""
    short_abandon_s: float = Field(5.0, ge=0)
    """A caller who hangs up in the queue before this is a short abandon (R17)."""


class RecordingSettings(Strict):
    format: Literal["wav", "gsm", "ulaw", "alaw", "sln"] = "wav"
    retention_days: int = Field(90, gt=0)
    """R14: 3 months in one tender, 2 years (730) in another."""


class DirectoryEntry(Strict):
    """A number agents may consult or transfer to (R13): a branch, the second line, an external number."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str = ""
    endpoint: str
    """What Asterisk dials: ``PJSIP/7172555000@trunk``, ``PJSIP/secondline``."""
    kind: Literal["branch", "external", "supervisor", "other"] = "external"


class OutboundSettings(Strict):
    """Calls the agents place (click-to-call, callbacks; docs/outbound.md): the agent's phone rings first,
    then the number is dialled through the trunk with the service's caller id."""

    trunk: str = "PJSIP/{number}@trunk"
    """What Asterisk dials for an external number; ``{number}`` is replaced by the canonical number."""
    caller_id: str = ""
    """The service's number shown to the called party (any spelling; empty: the trunk's default)."""
    caller_name: str = ""
    agent_ring_s: float = Field(30.0, gt=0, le=300)
    """How long the agent's own phone rings before the call is given up."""
    number_ring_s: float = Field(45.0, gt=0, le=300)
    """How long the external number rings before the attempt counts as no answer."""
    allowed_prefixes: list[str] = ["7"]
    """Dialling rules (outbound/dialrules.py): canonical numbers must start with one of these."""
    refused_prefixes: list[str] = []
    """More ranges never to dial, on top of the built-in emergency, short and premium numbers."""
    queue: str | None = None
    """The queue whose wrap-up time follows an outbound call; None: the agent's first queue."""

    def dial_string(self, number: str) -> str:
        return self.trunk.replace("{number}", number)

    def caller_id_header(self) -> str | None:
        if not self.caller_id:
            return None
        return f'"{self.caller_name}" <{self.caller_id}>' if self.caller_name else self.caller_id


class SoftphoneSettings(Strict):
    """The browser softphone (issue 13): where it registers. The SIP password of each agent comes from the
    environment (``<password_env_prefix><AGENT ID>``, upper-cased, non-alphanumerics as ``_``), never from
    this file, and is never logged."""

    ws_url: str = Field(pattern=r"^wss?://")
    """Asterisk's SIP-over-WebSocket URL, e.g. wss://pbx.example.kz:8089/ws (ws:// only for a lab)."""
    domain: str = Field(min_length=1)
    """The SIP domain of the agents' URIs: sip:<user>@<domain>."""
    sip_user: str = "{agent}"
    """The PJSIP endpoint (and auth user name) of an agent; ``{agent}`` is replaced by the agent id."""
    password_env_prefix: str = Field("ACD_SIP_PASSWORD_", pattern=r"^[A-Z_][A-Z0-9_]*$")
    ice_servers: list[str] = []
    """STUN/TURN URLs given to the browser, e.g. stun:stun.example.kz:3478 (empty: host candidates only)."""
    auto_answer: bool = False
    """Answer calls the ACD offers (marked with an X-ACD-Call header) without a click."""
    register_timeout_s: float = Field(15.0, gt=0, le=120)
    """How long the browser waits for the registrar before it shows a time-out."""
    agents: list[str] = []
    """Agent ids whose phone is the browser softphone (a ``webrtc=yes`` PJSIP endpoint): their desktop
    embeds the phone and registers it when they sign in. Others answer on a desk phone."""

    def embedded_for(self, agent: str) -> bool:
        return agent in self.agents

    def sip_user_of(self, agent: str) -> str:
        return self.sip_user.replace("{agent}", agent)

    def password_env_of(self, agent: str) -> str:
        return self.password_env_prefix + re.sub(r"[^A-Z0-9]", "_", agent.upper())


class Settings(Strict):
    ari: AriSettings = AriSettings()
    database: DatabaseSettings = DatabaseSettings()
    paths: PathSettings = PathSettings()
    timezone: str = "Asia/Almaty"
    log: LogSettings = LogSettings()
    http: HttpSettings = HttpSettings()
    users: list[User] = []
    reports: ReportSettings = ReportSettings()
    recording: RecordingSettings = RecordingSettings()
    softphone: SoftphoneSettings | None = None
    """The browser softphone's registrar (issue 13); None: the softphone is not offered."""
    not_ready_reasons: list[str] = ["break", "lunch", "training", "meeting", "no_answer"]
    """R4: the reasons an agent (or the system, for a missed call) may give for not being ready."""
    directory: list[DirectoryEntry] = []
    """Consultation and transfer targets besides agents and queues (docs/call-control.md)."""
    outbound: OutboundSettings = OutboundSettings()
    """Click-to-call and callback dialling (docs/outbound.md)."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Almaty)") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def with_environment(self, env: dict[str, str] | None = None) -> Settings:
        """Apply ACD_ARI_USER, ACD_ARI_PASSWORD and ACD_DB_URL over the file's values."""
        env = dict(os.environ) if env is None else env
        ari = self.ari.model_copy(
            update={
                k: v
                for k, v in (
                    ("user", env.get("ACD_ARI_USER")),
                    ("password", SecretStr(env["ACD_ARI_PASSWORD"]) if "ACD_ARI_PASSWORD" in env else None),
                )
                if v is not None
            }
        )
        db = self.database
        if env.get("ACD_DB_URL"):
            db = db.model_copy(update={"url": SecretStr(env["ACD_DB_URL"])})
        return self.model_copy(update={"ari": ari, "database": db})

    def relative_to(self, base: Path) -> Settings:
        """Resolve relative paths (and a relative SQLite file) against ``base``, the config's parent's parent
        for ``config/acd.yaml``, so the daemon behaves the same whatever directory it is started from."""

        def fix(p: Path) -> Path:
            return p if p.is_absolute() else base / p

        paths = self.paths.model_copy(
            update={k: fix(getattr(self.paths, k)) for k in ("var", "recordings", "sounds")}
        )
        url = self.database.url.get_secret_value()
        prefix = "sqlite+aiosqlite:///"
        if url.startswith(prefix) and not url[len(prefix) :].startswith("/") and ":memory:" not in url:
            url = prefix + str(base / url[len(prefix) :])
        db = self.database.model_copy(
            update={"url": SecretStr(url), "spool_dir": fix(self.database.spool_dir)}
        )
        return self.model_copy(update={"paths": paths, "database": db})


def load_settings(path: Path | str) -> Settings:
    """Load acd.yaml (ConfigError with file:line on any problem), apply the environment, resolve paths
    against the directory above the config folder."""
    p = Path(path)
    settings = load_model(p, Settings)
    return settings.with_environment().relative_to(p.resolve().parent.parent)
