"""A scenario compiled into a flow graph: every step a node that knows where the call goes next.

Both the loader (labels, loops with no exit) and the interpreter (which step comes next) use it, so what
``acd check`` accepts is exactly what runs. A node's location is its path in the YAML (``("steps", 2,
"menu", "options", "1", 0)``), which also gives the file line of any problem. ``None`` as a successor
means the end of the scenario (the call is hung up).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from routing.model import (
    GotoStep,
    HoursStep,
    MenuStep,
    QueueStep,
    Scenario,
    TransferStep,
    step_kind,
)

Loc = tuple[str | int, ...]
EXIT = "exit"
"""A successor meaning "the call can end here" (queue completed, hangup, voicemail, transfer)."""


@dataclass(frozen=True)
class Node:
    loc: Loc
    step: Any
    kind: str
    next: Loc | None
    """Where the call goes when this step is done with it and does not branch."""
    branches: dict[str, Loc | None] = field(default_factory=dict)
    """Named branches (``option:1``, ``fallback``, ``open``, ``closed``, ``on_failure``) -> first node."""

    @property
    def label(self) -> str | None:
        return getattr(self.step, "label", None)


@dataclass(frozen=True)
class Flow:
    start: Loc | None
    nodes: dict[Loc, Node]
    labels: dict[str, Loc]
    duplicate_labels: list[tuple[str, Loc]]

    @classmethod
    def of(cls, scenario: Scenario) -> Flow:
        nodes: dict[Loc, Node] = {}
        labels: dict[str, Loc] = {}
        dups: list[tuple[str, Loc]] = []
        start = _walk(list(scenario.steps), ("steps",), None, nodes, labels, dups)
        return cls(start, nodes, labels, dups)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def successors(self, node: Node, overflow_label: str | None = None) -> set[Loc | str | None]:
        """Every place the call may go after ``node``: locations, None (end) or EXIT."""
        out: set[Loc | str | None] = set()
        step = node.step
        if isinstance(step, GotoStep):
            out.add(self.labels.get(step.goto, EXIT))  # an unknown label is reported elsewhere
            return out
        if node.kind in ("hangup", "info", "voicemail"):
            return {EXIT}
        if isinstance(step, QueueStep):
            out.add(EXIT)
            target = step.queue.overflow or overflow_label
            if target and target.startswith("label:"):
                out.add(self.labels.get(target.removeprefix("label:"), EXIT))
            elif not target:
                out.add(node.next)
            return out
        if isinstance(step, TransferStep):
            out.add(EXIT)
        out.update(node.branches.values())
        if isinstance(step, MenuStep | HoursStep | TransferStep):
            return out
        out.add(node.next)
        return out

    def dead_loops(self, overflow_labels: dict[str, str | None] | None = None) -> list[Node]:
        """Nodes the call can reach from the start but from which it can never leave the scenario: a cycle
        of gotos or menus with no exit. ``overflow_labels`` maps a queue to its config's ``overflow``."""
        overflow_labels = overflow_labels or {}

        def succ(n: Node) -> set[Loc | str | None]:
            target = overflow_labels.get(n.step.queue.name) if isinstance(n.step, QueueStep) else None
            return self.successors(n, target)

        reachable: list[Loc] = []
        seen: set[Loc] = set()
        todo = [self.start] if self.start is not None else []
        while todo:
            loc = todo.pop()
            if loc in seen:
                continue
            seen.add(loc)
            reachable.append(loc)
            todo += [s for s in succ(self.nodes[loc]) if isinstance(s, tuple)]
        can_exit: set[Loc] = set()
        changed = True
        while changed:
            changed = False
            for loc in reachable:
                if loc in can_exit:
                    continue
                if any(s is None or s == EXIT or s in can_exit for s in succ(self.nodes[loc])):
                    can_exit.add(loc)
                    changed = True
        stuck = set(reachable) - can_exit
        return [node for loc, node in self.nodes.items() if loc in stuck]  # in file order, deterministic


def _walk(steps: list[Any], prefix: Loc, after: Loc | None, nodes: dict[Loc, Node], labels: dict[str, Loc],
          dups: list[tuple[str, Loc]]) -> Loc | None:
    """Add the nodes of one list of steps; return the first node's location (``after`` when empty)."""
    locs: list[Loc] = [(*prefix, i) for i in range(len(steps))]
    for i, step in enumerate(steps):
        loc = locs[i]
        nxt = locs[i + 1] if i + 1 < len(steps) else after
        kind = step_kind(step) or "?"
        branches: dict[str, Loc | None] = {}
        for name, sub, sub_prefix in _branches_of(step, loc, kind):
            branches[name] = _walk(sub, sub_prefix, nxt, nodes, labels, dups) if sub else nxt
        nodes[loc] = Node(loc, step, kind, nxt, branches)
        if step.label:
            if step.label in labels:
                dups.append((step.label, loc))
            else:
                labels[step.label] = loc
    return locs[0] if steps else after


def _branches_of(step: Any, loc: Loc, kind: str) -> Iterator[tuple[str, list[Any] | None, Loc]]:
    if isinstance(step, MenuStep):
        for key, sub in step.menu.options.items():
            yield f"option:{key}", sub, (*loc, kind, "options", key)
        yield "fallback", step.menu.fallback, (*loc, kind, "fallback")
    elif isinstance(step, HoursStep):
        yield "open", step.hours.open, (*loc, kind, "open")
        yield "closed", step.hours.closed, (*loc, kind, "closed")
    elif isinstance(step, TransferStep):
        yield "on_failure", step.transfer.on_failure, (*loc, kind, "on_failure")
