"""The one place that builds the world: config, CDR writer, ACD core, ARI client and events, engine,
HTTP API, config reloader, signals.

Start-up order matters for R27: the CDR writer starts first (it replays its spool), then the core is
seeded with today's talk time from the CDR (fairness survives a restart), then ARI: credentials are
checked with one REST call (a wrong password is a clear error, not a retry storm), and only then the
WebSocket opens. On every (re)connect the engine resyncs from Asterisk before any event is handled.

SIGTERM stops taking new calls and leaves calls in Asterisk (the next daemon adopts them); SIGHUP
reloads the configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import datetime, time
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from acd import __version__
from acd.ari.client import AriClient
from acd.ari.errors import AriAuthError, AriError
from acd.ari.events import EventStream
from acd.clock import Clock
from acd.configset import ConfigSet, load_config
from acd.core import Acd
from acd.engine.engine import EVENT_TYPES, Engine
from acd.engine.resync import resync
from acd.logs import configure_logging
from acd.metrics import Metrics
from acd.runtime import tune_gc

log = structlog.get_logger(__name__)


class StartupError(Exception):
    """The daemon cannot start; the message says why, for a human."""


def _safe_url(url: str) -> str:
    """A database URL fit for a message: the password masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def local_midnight(now: float, tz: Any) -> float:
    local = datetime.fromtimestamp(now, tz)
    return datetime.combine(local.date(), time(0), tz).timestamp()


class Daemon:
    def __init__(
        self,
        config_dir: Path | str,
        *,
        clock: Clock | None = None,
        initial_agent_state: str = "logged_out",
        http_port: int | None = None,
        configure_logs: bool = True,
    ) -> None:
        self.config_dir = Path(config_dir)
        self.clock = clock or Clock.real()
        self.initial_agent_state = initial_agent_state
        self.http_port = http_port
        self.configure_logs = configure_logs
        self.metrics = Metrics()
        self.stopped = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Start everything; on failure close what was opened, so the error is the last thing printed
        (no aiohttp "Unclosed client session" after it), and re-raise."""
        try:
            await self._start()
        except BaseException:
            await self._close_partial()
            raise

    async def _close_partial(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            if self._runner is not None:
                await self._runner.cleanup()
        writer = getattr(self, "writer", None)
        with contextlib.suppress(Exception):
            if writer is not None and self._writer_started:
                await writer.close()
            elif writer is not None:  # its start failed: nothing to flush, only files and connections
                writer.journal.close()
                await writer.engine.dispose()
        db, ari = getattr(self, "db", None), getattr(self, "ari", None)
        with contextlib.suppress(Exception):
            if db is not None:
                await db.dispose()
        with contextlib.suppress(Exception):
            if ari is not None:
                await ari.close()

    _writer_started = False

    async def _start(self) -> None:
        config: ConfigSet = load_config(self.config_dir)  # ConfigError: file:line messages
        self.config = config
        settings = self.settings = config.settings
        if self.configure_logs:
            configure_logging(settings.log.format, settings.log.level, cache=True)
        if not settings.ari.password.get_secret_value():
            raise StartupError(
                f"no ARI password for user {settings.ari.user!r}: set ACD_ARI_PASSWORD (or ari.password in"
                " acd.yaml) to that user's password in Asterisk's ari.conf"
            )
        for warning in config.warnings:  # `acd check` prints them too; they do not stop the start
            log.warning("config.warning", problem=str(warning))
        from cdr.db import make_engine
        from cdr.writer import CdrWriter

        db_url = settings.database.url.get_secret_value()
        settings.paths.var.mkdir(parents=True, exist_ok=True)
        settings.paths.recordings.mkdir(parents=True, exist_ok=True)
        from cdr.regions import load_regions

        regions_file = self.config_dir / "regions.yaml"
        regions = load_regions(regions_file) if regions_file.is_file() else None  # ConfigError: file:line
        self.writer = CdrWriter(
            db_url,
            settings.database.spool_dir,
            short_abandon_s=settings.reports.short_abandon_s,
            clock=self.clock.now,
            regions=regions,
        )
        try:
            await self.writer.start()  # an unreachable database is no error (the spool); a refusal is
        except Exception as exc:
            first = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
            raise StartupError(f"cannot open the database {_safe_url(db_url)}: {type(exc).__name__}: {first}"
                               " (check database.url / ACD_DB_URL)") from exc
        self._writer_started = True
        self.db = make_engine(db_url)
        now = self.clock.now()
        self.acd = Acd(
            list(config.queues.values()), list(config.agents.values()), tz=settings.timezone, now=now
        )
        try:
            totals = await self.writer.agent_totals(local_midnight(now, settings.tz))
        except Exception as exc:  # the database may be down: fairness starts from zero, calls still flow
            log.warning("agent_totals_unavailable", error=str(exc))
            totals = {}
        for agent_id, (talk_s, calls) in totals.items():
            if agent_id in config.agents:
                self.acd.set_agent_totals(agent_id, talk_s, calls)
        from cdr.history import queue_history

        try:  # each queue's last days: spoken waits start from them, not from a generic prior
            for queue_name, history in (await queue_history(self.db, now)).items():
                self.acd.seed_statistics(queue_name, history)
        except Exception as exc:  # the database may be down: the estimator starts from its prior
            log.warning("queue_history_unavailable", error=str(exc))

        from acd.web.wallboard import TodayFigures, today_from_cdr

        self._today: dict[str, TodayFigures] = {}
        try:  # R23: a restart does not zero the wallboard's figures of today (local day)
            self._today = await today_from_cdr(self.db, local_midnight(now, settings.tz),
                                               {n: q.sl_threshold_s for n, q in config.queues.items()})
        except Exception as exc:  # the database may be down: today's figures start from zero
            log.warning("today_figures_unavailable", error=str(exc))
        for queue_name, f in self._today.items():
            self.acd.seed_day_figures(queue_name, offered=f.offered, answered=f.answered,
                                      answered_in_sl=f.answered_in_sl, abandoned=f.lost,
                                      overflowed=f.overflowed)

        self.ari = AriClient(
            settings.ari.url, settings.ari.user, settings.ari.password.get_secret_value(), settings.ari.app,
            max_concurrent=settings.ari.max_concurrent_requests,
        )
        try:
            info = await self.ari.asterisk.info()
        except AriAuthError as exc:
            raise StartupError(
                f"ARI refused the credentials of user {settings.ari.user!r} at {settings.ari.url} "
                "(check ari.conf, ACD_ARI_USER and ACD_ARI_PASSWORD)"
            ) from exc
        except AriError as exc:
            raise StartupError(f"cannot reach ARI at {settings.ari.url}: {exc}") from exc
        version = info.system.version if info.system else "?"
        log.info("ari_ready", url=settings.ari.url, asterisk=version, app=settings.ari.app)

        from acd.web.live import LiveFeed, LiveHub

        self.live = LiveHub(lambda: self.config.queues)  # the agent desktop: teed from the CDR stream
        self.engine = Engine(
            settings=settings,
            config=config,
            ari=self.ari,
            clock=self.clock,
            writer=LiveFeed(self.writer, self.live),
            acd=self.acd,
            metrics=self.metrics,
        )
        from acd.engine.recorder import RecordingIndex

        self.recorder = RecordingIndex(self.db, settings.paths.recordings, self.writer, clock=self.clock.now)
        self.recorder.start()
        self.engine.recorder = self.recorder
        from acd.engine.orphans import OpenCallsInDb  # calls that ended while no daemon listened

        self.engine.orphans.source = OpenCallsInDb(self.db)
        from acd.engine.keep_place import CallbackRowsInDb  # "keep my place" callbacks (outbound)

        self.engine.kept.store = kept_rows = CallbackRowsInDb(self.db)
        # the places a previous daemon kept, put back at the first resync (docs/outbound.md)
        writer = self.writer
        await self.engine.kept.recover(kept_rows, ready=lambda: writer.db_writable and not writer.spooled,
                                       wait_ready=writer.wait_healthy)
        # Agents come back as the previous daemon left them (agent_state_log); the initial state is for
        # agents the database has never seen (docs/decisions/engine-04-agent-states-survive.md).
        from acd.engine.agent_states import last_agent_states, last_queue_choices

        known = await last_agent_states(self.db)
        choices = await last_queue_choices(self.db)
        for agent_id in config.agents:
            if agent_id in known:
                last = known[agent_id]
                if last.state != "logged_out" and agent_id in choices:  # the queues chosen at sign-in
                    self.engine.restore_queue_choice(agent_id, choices[agent_id])
                self.engine.restore_agent_state(agent_id, last.state, last.reason, ended_wrapup=last.wrapup)
            elif self.initial_agent_state != "logged_out":
                self.engine.apply(self.acd.set_agent_state(agent_id, self.initial_agent_state, now))
        self.stream = EventStream(self.ari, on_connect=self._on_connect, on_event=self.engine.on_event,
                                  event_types=EVENT_TYPES)
        self.engine.start()
        await self._start_http()
        self._tasks.append(asyncio.create_task(self._run_stream(), name="ari-events"))
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="housekeeping"))
        self._tasks.append(asyncio.create_task(self._retention(), name="retention"))
        from acd.web.campaigns import load_checked  # the campaign files are part of a reload
        from routing.reload import ConfigReloader

        self.reloader = ConfigReloader(self.config_dir, self._reloaded, loader=load_checked)
        await self.reloader.start()
        log.info("daemon_started", version=__version__, http_port=self.port,
                 event_loop=type(asyncio.get_running_loop()).__module__.split(".")[0])

    async def _start_http(self) -> None:
        from acd.web.app import create_app
        from recording.qa import load_forms

        qa_dir = self.config_dir / "qa"
        forms = load_forms(qa_dir) if qa_dir.is_dir() else {}
        app = create_app(
            settings=self.settings,
            engine=EnginePortAdapter(self),
            db=self.db,
            metrics=self.metrics.registry,
            clock=self.clock,
            qa_forms=forms,
            live=self.live,
            regions=self.writer.regions,
        )
        from acd.web.admin import install_admin  # R24: config edits, history, reload

        install_admin(app, self.config_dir, self.settings.paths.var, clock=self.clock.now,
                      reloader=lambda: self.reloader)
        from acd.web.call_control import CALL_CONTROL

        app[CALL_CONTROL] = self.engine.control  # agents' call control and supervisors' listening
        from acd.web.callbacks import start_callbacks  # R25: deadlines, escalation webhook outbox

        self._tasks.extend(start_callbacks(app, self.config_dir, self.config.schedules, self.db,
                                           self.clock.now, writer=self.writer,
                                           agent_acted=self.engine.kept.agent_acted))
        from acd.web.outbound import OUTBOUND, outcome_recorder  # R25: click-to-call, callback dialling

        app[OUTBOUND] = self.engine.outbound
        self.engine.outbound.on_done = outcome_recorder(app)
        from acd.web.wallboard import BOARD  # R23: the wallboard's roster and call moves

        app[BOARD].supervisor = EnginePortAdapter(self)
        app[BOARD].seed_short_lost({q: f.short_lost for q, f in self._today.items()}, self.clock.now())
        from acd.web.campaigns import start_campaigns  # issue 15: outbound campaigns dialled

        self._tasks.extend(start_campaigns(app, self.engine, self.db, self.config_dir))
        from acd.web.callback_offers import start_offers  # R25: due callbacks offered to free agents
        from acd.web.callbacks import CALLBACKS

        self._tasks.extend(start_offers(app, self.engine, self.db, self.live,
                                        app[CALLBACKS].plan.config.offers))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = self.settings.http.port if self.http_port is None else self.http_port
        site = web.TCPSite(self._runner, self.settings.http.host, port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def _run_stream(self) -> None:
        try:
            await self.stream.run()
        except AriAuthError:
            log.error("ari_auth_failed", url=self.settings.ari.url, user=self.settings.ari.user)
            self.fatal = "ARI refused our credentials"
        except Exception:
            log.exception("ari_stream_failed")
            self.fatal = "the ARI event stream failed"
        if self.stream.replaced:
            self.fatal = "another process took over the ARI application (ApplicationReplaced)"
        self.stopped.set()

    async def _on_connect(self) -> None:
        self.metrics.connected.set(1)
        await resync(self.engine)
        await self.engine.poll_endpoints()

    async def _housekeeping(self) -> None:
        """Every few seconds: endpoint states, metrics gauges."""
        while True:
            await asyncio.sleep(5)
            self.metrics.connected.set(1 if self.stream.connected else 0)
            self.metrics.malformed.set(self.stream.malformed)
            self.metrics.dropped.set(self.stream.dropped)
            self.metrics.reconnects.set(self.stream.reconnects)
            self.metrics.ari_waiting.set(self.ari.limiter.waiting)
            self.metrics.ari_retries.set(self.ari.retries)
            for kind, sent in list(self.ari.sent.items()):
                self.metrics.ari_sent.labels(kind).set(sent)
            self.metrics.cdr_spooled.set(self.writer.spooled)
            with contextlib.suppress(Exception):
                snap = self.acd.snapshot(self.clock.now())
                for name, q in snap.get("queues", {}).items():
                    self.metrics.waiting.labels(name).set(q.get("waiting", 0))
            if self.stream.connected:
                await self.engine.poll_endpoints()

    async def _retention(self) -> None:
        """R14: purge recordings past the retention period, hourly (virtual time); held or disputed stay."""
        from recording.retention import purge

        while True:
            try:
                result = await purge(
                    self.db,
                    self.clock.now_dt(),
                    False,
                    root=self.settings.paths.recordings,
                    retention_days=self.settings.recording.retention_days,
                )
                if result.purged:
                    log.info("recordings_purged", count=len(result.purged), cutoff=str(result.cutoff))
            except Exception as exc:
                log.warning("retention_failed", error=str(exc))
            await self.clock.sleep(3600)

    def _reloaded(self, config: ConfigSet) -> None:
        """A new valid configuration: swap it in; calls in flight keep the scenario they started with."""
        self.config = config
        self.engine.config = config
        self.engine.apply(
            self.acd.reconfigure(list(config.queues.values()), list(config.agents.values()), self.clock.now())
        )
        if self.engine.campaigns is not None and self.engine.campaigns.on_reload is not None:
            self.engine.campaigns.on_reload()  # changed, new and removed campaigns (acd/web/campaigns.py)
        log.info("config_reloaded", scenarios=len(config.scenarios))

    fatal: str | None = None

    def install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stopped.set)
        loop.add_signal_handler(signal.SIGINT, self.stopped.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: self.reloader.trigger())

    async def stop(self) -> None:
        """Stop taking calls, leave the calls in Asterisk, flush the CDR writer."""
        log.info("daemon_stopping")
        self.stream.stop()
        await self.reloader.stop()
        await self.engine.stop()
        await self.recorder.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
        await self.writer.flush()
        await self.writer.close()
        await self.db.dispose()
        await self.ari.close()
        log.info("daemon_stopped")


class EnginePortAdapter:
    """``acd.web.ports.EnginePort`` over the daemon's engine."""

    def __init__(self, daemon: Daemon) -> None:
        self.d = daemon

    def snapshot(self) -> dict[str, Any]:
        return self.d.engine.snapshot()

    def ari_connected(self) -> bool:
        return bool(self.d.stream.connected)

    def db_writable(self) -> bool | None:
        return self.d.writer.db_writable

    def not_ready_reasons(self) -> list[str]:
        return list(self.d.config.settings.not_ready_reasons)  # the reloaded ones (admin console)

    def agent_of_call(self, call_id: str) -> str | None:
        return self.d.engine.agent_of_call(call_id)

    async def set_agent_state(self, agent_id: str, state: str, reason: str | None, by: str | None) -> None:
        if agent_id not in self.d.config.agents:
            raise KeyError(agent_id)
        self.d.engine.set_agent_state(agent_id, state, reason, by)

    async def set_topic(self, call_id: str, topic: str, comment: str | None, by: str,
                        result: str | None = None) -> None:
        self.d.engine.set_topic(call_id, topic, comment, by, result)

    async def set_agent_queues(self, agent_id: str, queues: list[str], by: str | None) -> None:
        if agent_id not in self.d.config.agents:
            raise KeyError(agent_id)
        self.d.engine.set_agent_queues(agent_id, queues, by)

    async def extend_wrapup(self, agent_id: str) -> float:
        return self.d.engine.extend_wrapup(agent_id)

    def roster(self) -> Any:
        """``acd.web.wallboard.Roster``: thresholds and teams of the live (reloaded) configuration."""
        from acd.web.wallboard import QueueBoardConfig, Roster

        config = self.d.config
        return Roster(
            queues={n: QueueBoardConfig(q.sl_threshold_s, q.wallboard.model_dump())
                    for n, q in config.queues.items()},
            teams={a.id: list(a.teams) for a in config.agents.values()},
            member_of={a.id: list(a.queues) for a in config.agents.values()},
            short_abandon_s=float(config.settings.reports.short_abandon_s),
        )

    def move_call(self, call_id: str, queue: str, *, to_head: bool, by: str) -> None:
        self.d.engine.move_call(call_id, queue, to_head=to_head, by=by)


async def run_daemon(config_dir: Path, clock: Clock, initial_agent_state: str = "logged_out") -> int:
    daemon = Daemon(config_dir, clock=clock, initial_agent_state=initial_agent_state)
    await daemon.start()
    tune_gc()  # after start-up: its heap frozen out of every collection (acd/runtime.py)
    daemon.install_signals()
    await daemon.stopped.wait()
    await daemon.stop()
    if daemon.fatal:
        log.error("daemon_failed", reason=daemon.fatal)
        return 1
    return 0
