"""The ARI events WebSocket: connect, resync, dispatch, and reconnect for as long as the daemon runs.

Theory of operation. ``run()`` owns two tasks:

- the *reader* (``run`` itself) keeps one WebSocket open to ``/events?app=NAME``, parses every message
  with ``parse_event`` and appends it to a bounded queue; it never runs handlers, so a slow handler can
  never stall the socket (and with it aiohttp's heartbeat). When the socket drops it reconnects with
  exponential back-off and jitter, forever, until ``stop()``.
- the *dispatcher* takes events off the queue in arrival order and awaits each handler registered for
  the event's type, then the ``'*'`` handlers.

Back-off. Failed attempts (no upgrade, refused upgrade, a connection that dropped before its resync
completed) double the delay up to ``backoff_max_s`` (5 s by default: an Asterisk restart is noticed within
seconds), each delay jittered to 50-100 % so several daemons do not reconnect in step. A connection whose
resync completed resets the back-off, however short it lived: under a flapping link (drops a second after
each connect) recovery stays at the initial delay instead of growing to the cap
(docs/decisions/ari-01-reconnect-backoff.md).

Events lost during a gap are never replayed by Asterisk (BEHAVIOUR.md 2), so on every (re)connect the
reader puts a "connected" marker in the queue; the dispatcher, on reaching it, awaits ``on_connect()``
(where the daemon resyncs from ``GET /channels`` and ``GET /bridges``) before the first event of the new
connection is dispatched. Events of the old connection still queued are dispatched before it.

Fatal, not retried: HTTP 401 on the upgrade (``AriAuthError`` out of ``run()``), and
``ApplicationReplaced`` (another process took our app: we log, dispatch it, and stop; fighting over the
app would make both processes lose events).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import random
import time
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING

import aiohttp
import structlog

from acd.ari.errors import AriAuthError, AriError
from acd.ari.models import Event, MalformedEvent, parse_event

if TYPE_CHECKING:
    from acd.ari.client import AriClient

log = structlog.get_logger(__name__)

Handler = Callable[[Event], Awaitable[None] | None]
OnConnect = Callable[[], Awaitable[None]]
RAW_LOG_CHARS = 500
"""How much of a malformed message, and of the reason it was refused, goes into the log."""


class _Connected:
    """Queue marker: a new connection is open; run on_connect before what follows."""

    __slots__ = ("generation",)

    def __init__(self, generation: int) -> None:
        self.generation = generation


class _Stop:
    """Queue marker: stop the dispatcher once everything before it is handled."""

    __slots__ = ()


_Item = Event | _Connected | _Stop


class EventStream:
    """ARI events of one Stasis app, delivered to handlers in order, across reconnects.

    Counters for /metrics are plain attributes: ``events_received``, ``malformed``, ``dropped``,
    ``reconnects``, ``handler_errors``, ``connected``, ``last_connect_at`` (epoch seconds), ``replaced``.
    """

    def __init__(
        self,
        client: AriClient,
        *,
        on_connect: OnConnect | None = None,
        on_event: Handler | None = None,
        queue_size: int = 10000,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 5.0,
        heartbeat_s: float = 10.0,
        subscribe_all: bool = False,
        event_types: Collection[str] | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.on_connect = on_connect
        self.queue_size = queue_size
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.heartbeat_s = heartbeat_s
        self.subscribe_all = subscribe_all
        self.event_types = None if event_types is None else sorted({*event_types, "ApplicationReplaced"})
        """The only event types asked of Asterisk (its app eventFilter, set on every connection); None: all.
        A call brings about 35 events and the engine acts on 13 of them (docs/benchmarks.md)."""
        self._clock = clock
        self._rng = rng or random.Random()
        self._handlers: dict[str, list[Handler]] = {}
        if on_event is not None:
            self.on("*", on_event)
        # counters read by /metrics
        self.events_received = 0
        self.malformed = 0
        self.dropped = 0
        self.reconnects = 0
        self.handler_errors = 0
        self.connected = False
        self.last_connect_at: float | None = None
        self.replaced = False
        # internals
        self._queue: collections.deque[_Item] = collections.deque()
        self._queue_not_empty = asyncio.Event()
        self._ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._finished = asyncio.Event()
        self._failure: BaseException | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._closing: asyncio.Task[bool] | None = None
        self._generation = 0
        self._resynced_generation = 0
        """The last connection whose ``on_connect`` completed: ARI is healthy, the back-off resets."""
        self._running = False

    def __repr__(self) -> str:
        return f"EventStream(app={self.client.app!r}, connected={self.connected})"

    # ---- handlers ----------------------------------------------------------------------------------
    def on(self, event_type: str, handler: Handler) -> None:
        """Call ``handler(event)`` for every event of ``event_type`` (``'*'``: every event), in order."""
        self._handlers.setdefault(event_type, []).append(handler)

    def off(self, event_type: str, handler: Handler) -> None:
        handlers = self._handlers.get(event_type, [])
        if handler in handlers:
            handlers.remove(handler)

    @property
    def queued(self) -> int:
        """Events waiting for the dispatcher (a gauge for /metrics)."""
        return len(self._queue)

    # ---- life cycle --------------------------------------------------------------------------------
    async def wait_connected(self) -> None:
        """Return once a connection is open and its ``on_connect`` has completed.

        Raises what ended ``run()`` (e.g. ``AriAuthError``), or RuntimeError if it ended by ``stop()``
        or ApplicationReplaced, so that start-up code waiting here never hangs on a dead stream.
        """
        ready = asyncio.ensure_future(self._ready.wait())
        finished = asyncio.ensure_future(self._finished.wait())
        try:
            await asyncio.wait({ready, finished}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
            finished.cancel()
        if self._ready.is_set():
            return
        if self._failure is not None:
            raise self._failure
        raise RuntimeError("the ARI event stream has stopped")

    def stop(self) -> None:
        """Ask ``run()`` to return: closes the socket; events still queued are not dispatched."""
        self._stopping.set()
        if self._ws is not None and not self._ws.closed:
            # Keep a reference: the loop holds tasks only weakly.
            self._closing = asyncio.get_running_loop().create_task(self._ws.close())

    async def run(self) -> None:
        """Read and dispatch until ``stop()``; raises ``AriAuthError`` if ARI refuses our credentials."""
        if self._running:
            raise RuntimeError("EventStream.run() is already running")
        self._running = True
        self._stopping.clear()
        self._finished.clear()
        self._failure = None
        self._queue.clear()
        dispatcher = asyncio.create_task(self._dispatch_loop(), name="ari-event-dispatcher")
        try:
            await self._read_loop()
        except AriAuthError as exc:
            self._failure = exc
            raise
        finally:
            self._finished.set()
            self.connected = False
            self._ready.clear()
            if self.replaced and not dispatcher.done():
                # Let the handlers see everything up to and including ApplicationReplaced.
                await asyncio.wait([dispatcher], timeout=5.0)
            if not dispatcher.done():
                dispatcher.cancel()
                await asyncio.gather(dispatcher, return_exceptions=True)
            self._queue.clear()
            self._running = False

    # ---- reader ------------------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        attempt = 0
        counted = 0  # the resynced connection that last reset the back-off
        while not self._stopping.is_set():
            try:
                await self._read_one_connection()
            except AriAuthError:
                raise
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("ari.events.connect_failed", app=self.client.app,
                            error=f"{type(exc).__name__}: {exc}")
            except Exception:
                # A bug here must not end the daemon's only event source: log it and reconnect.
                log.exception("ari.events.reader_failed", app=self.client.app)
            if self._stopping.is_set():
                return
            if self._resynced_generation > counted:
                # A connection since the last reset resynced: ARI is up, reconnect at once (jittered).
                counted = self._resynced_generation
                attempt = 0
            delay = min(self.backoff_max_s, self.backoff_initial_s * (2**attempt))
            delay *= 0.5 + self._rng.random() / 2
            attempt = min(attempt + 1, 30)
            log.info("ari.events.reconnect_in", app=self.client.app, delay_s=round(delay, 3))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _read_one_connection(self) -> None:
        """One connection, from upgrade to close."""
        url = self.client.url("/events")
        params = {"app": self.client.app, "subscribeAll": "true" if self.subscribe_all else "false"}
        connecting = asyncio.ensure_future(self.client.session.ws_connect(
            url, params=params, headers=self.client.auth_headers, heartbeat=self.heartbeat_s,
            timeout=aiohttp.ClientWSTimeout(ws_close=5.0), max_msg_size=16 * 1024 * 1024,
        ))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            # A connect that hangs (Asterisk host down) must neither outlive stop() nor last forever.
            await asyncio.wait({connecting, stopping}, timeout=self.client.timeout_s,
                               return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            connecting.cancel()
            raise
        finally:
            stopping.cancel()
        if not connecting.done():
            connecting.cancel()
            await asyncio.gather(connecting, return_exceptions=True)
            if self._stopping.is_set():
                return
            raise TimeoutError(f"no WebSocket upgrade within {self.client.timeout_s} s")
        try:
            ws = connecting.result()
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status == 401:
                log.error("ari.events.auth_failed", app=self.client.app, user=self.client.user)
                raise AriAuthError(
                    401,
                    f"ARI refused user {self.client.user!r} on the events WebSocket: check the user and"
                    " password in Asterisk's ari.conf and ACD_ARI_USER / ACD_ARI_PASSWORD",
                    "GET",
                    "/events",
                ) from None
            log.error("ari.events.upgrade_refused", app=self.client.app, status=exc.status,
                      message=exc.message)
            return
        if self._stopping.is_set():
            await ws.close()
            return
        self._ws = ws
        self._generation += 1
        if self.last_connect_at is not None:
            self.reconnects += 1
        self.connected = True
        self.last_connect_at = self._clock()
        log.info("ari.events.connected", app=self.client.app, reconnects=self.reconnects)
        self._enqueue(_Connected(self._generation), force=True)
        try:
            async for msg in ws:
                if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    self._on_message(msg.data)
                    if self.replaced:
                        break
                elif msg.type == aiohttp.WSMsgType.ERROR:
                    log.warning("ari.events.socket_error", app=self.client.app, error=str(ws.exception()))
                    break
        finally:
            self.connected = False
            self._ready.clear()
            self._ws = None
            if not ws.closed:
                await ws.close()
            if not self._stopping.is_set():
                log.warning("ari.events.disconnected", app=self.client.app, close_code=ws.close_code)

    def _on_message(self, data: str | bytes) -> None:
        self.events_received += 1
        try:
            event = parse_event(data)
        except MalformedEvent as exc:
            self.malformed += 1
            log.warning("ari.events.malformed", app=self.client.app, reason=exc.reason[:RAW_LOG_CHARS],
                        raw=exc.raw[:RAW_LOG_CHARS], malformed=self.malformed)
            return
        self._enqueue(event)
        if event.type == "ApplicationReplaced":
            self.replaced = True
            log.error("ari.events.application_replaced", app=self.client.app,
                      detail="another process took this Stasis app; stopping so as not to fight over it")
            self._stopping.set()
            self._enqueue(_Stop(), force=True)

    def _enqueue(self, item: _Item, *, force: bool = False) -> None:
        if not force and len(self._queue) >= self.queue_size:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                kind = item.type if isinstance(item, Event) else type(item).__name__
                log.error("ari.events.queue_full", app=self.client.app, dropped=self.dropped,
                          queue_size=self.queue_size, event_type=kind)
            return
        self._queue.append(item)
        self._queue_not_empty.set()

    # ---- dispatcher --------------------------------------------------------------------------------
    async def _dispatch_loop(self) -> None:
        while True:
            if not self._queue:
                self._queue_not_empty.clear()
                await self._queue_not_empty.wait()
                continue
            item = self._queue.popleft()
            if isinstance(item, _Stop):
                return
            if isinstance(item, _Connected):
                await self._connected(item.generation)
                continue
            await self._dispatch(item)

    async def _connected(self, generation: int) -> None:
        if self.event_types is not None:
            try:
                await self.client.applications.filter(self.event_types)
            except AriError as exc:  # an Asterisk older than 16.3, or refused: every event still comes
                log.warning("ari.events.filter_refused", app=self.client.app, status=exc.status,
                            error=str(exc)[:200])
        if self.on_connect is not None:
            try:
                await self.on_connect()
            except Exception:
                self.handler_errors += 1
                log.exception("ari.events.on_connect_failed", app=self.client.app)
                # Without a resync the state would drift: drop this connection and try again.
                ws = self._ws
                if ws is not None and generation == self._generation:
                    await ws.close()
                return
        if generation == self._generation and self.connected:
            self._resynced_generation = generation
            self._ready.set()

    async def _dispatch(self, event: Event) -> None:
        for handler in (*self._handlers.get(event.type, ()), *self._handlers.get("*", ())):
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self.handler_errors += 1
                log.exception("ari.events.handler_failed", app=self.client.app, event_type=event.type,
                              handler=getattr(handler, "__qualname__", repr(handler)))
