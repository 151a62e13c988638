"""Prometheus metrics of the daemon, in a registry of its own (tests make as many daemons as they like)."""

from __future__ import annotations

from collections.abc import Collection

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from acd.ari.models import EVENT_TYPES

OTHER = "other"
"""The label of every value outside a metric's known set."""


class BoundedLabelCounter:
    """A one-label counter whose label takes only known values; anything else counts as ``other``.

    Why: a label value is a time series kept forever. ARI event types come from the network, so 30,000
    fuzzed events of made-up types made 799 series and a 2.4 MB /metrics (issue 12). The set of series stays
    ``len(known) + 1`` whatever arrives.
    """

    def __init__(self, counter: Counter, known: Collection[str]) -> None:
        self.counter = counter
        self.known = frozenset(known)
        self._children: dict[str, Counter] = {}
        """Child counters by label: ``Counter.labels`` takes a lock and builds a key on every event."""

    def labels(self, value: str) -> Counter:
        child = self._children.get(value)
        if child is None:
            label = value if value in self.known else OTHER
            child = self.counter.labels(label)
            if label != OTHER:  # unknown values are unbounded: never keep them as keys
                self._children[value] = child
        return child


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.calls = Counter("acd_calls", "Calls that entered the engine", registry=r)
        self.events = BoundedLabelCounter(
            Counter("acd_ari_events", "ARI events dispatched, by type (unknown types: other)", ["type"],
                    registry=r),
            EVENT_TYPES,
        )
        self.malformed = Gauge(
            "acd_ari_malformed_events", "ARI events that could not be parsed (skipped)", registry=r
        )
        self.dropped = Gauge(
            "acd_ari_dropped_events", "ARI events dropped because the queue was full", registry=r
        )
        self.reconnects = Gauge("acd_ari_reconnects", "ARI WebSocket reconnections", registry=r)
        self.ari_waiting = Gauge(
            "acd_ari_requests_waiting",
            "ARI requests waiting for a slot (ari.max_concurrent_requests in flight)", registry=r
        )
        self.ari_retries = Gauge(
            "acd_ari_request_retries", "ARI requests resent after a time-out or a 5xx (set_var, hang-up)",
            registry=r
        )
        self.call_setup = Histogram(
            "acd_call_setup_seconds",
            "From a caller's StasisStart, as the engine dispatches it, to the daemon's first request for the"
            " call (its answer): the daemon's own reaction time, Asterisk's side excluded",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
            registry=r,
        )
        self.ari_sent = Gauge(
            "acd_ari_requests_sent", "ARI requests sent, by kind (method, resource, action)", ["request"],
            registry=r
        )
        self.connected = Gauge("acd_ari_connected", "1 while the ARI WebSocket is connected", registry=r)
        self.recording_failures = Counter("acd_recording_failures", "Recordings that failed", registry=r)
        self.agents = Gauge(
            "acd_agent_state", "1 for each agent's current state", ["agent", "state"], registry=r
        )
        self.waiting = Gauge("acd_queue_waiting", "Callers waiting, by queue", ["queue"], registry=r)
        self.cdr_spooled = Gauge(
            "acd_cdr_spooled", "CDR records in the disk spool (database unreachable)", registry=r
        )
        self._agent_state: dict[str, str] = {}

    def agent_state(self, agent: str, state: str) -> None:
        old = self._agent_state.get(agent)
        if old is not None:
            self.agents.labels(agent, old).set(0)
        self.agents.labels(agent, state).set(1)
        self._agent_state[agent] = state
