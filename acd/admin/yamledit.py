"""Round-trip YAML editing that changes only what an edit changes.

ruamel's round-trip mode keeps comments, key order, flow/block style and quotes, but it dumps a whole file
with one indentation and may respell a few constructs (``[{play: x}]`` as ``[play: x]``). So the new text is
not the dump itself: the edit is the difference between the dump of the untouched tree and the dump of the
edited tree, and that difference is merged line by line (``merge3``) into the file as it was. Lines the
edit did not touch stay byte for byte as the admin wrote them.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

_INDENTS: tuple[tuple[int, int, int], ...] = (
    (2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 4, 0))
"""(mapping, sequence, offset) tried in turn: the first that reproduces the file is the file's style."""


def _yaml(indent: tuple[int, int, int]) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a long flow-style line
    y.allow_unicode = True
    y.representer.add_representer(type(None), _null)
    mapping, sequence, offset = indent
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    return y


def _null(representer: Any, data: None) -> Any:
    """``null`` spelled out (``announce_every_s: null``), not an empty value an admin may take for a slip."""
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


@dataclass
class RoundTrip:
    """A file's text, its ruamel tree (edit it in place), and the style that dumps it back."""

    original: str
    tree: Any
    indent: tuple[int, int, int]
    baseline: str
    """The dump of the untouched tree (equal to ``original`` when the style was recognised)."""

    def dump(self) -> str:
        """The file's new text: the tree's changes merged into the original lines."""
        edited = _dump(self.tree, self.indent)
        if self.baseline == self.original:
            return edited
        merged = merge3(self.baseline, self.original, edited)
        return merged if merged is not None else edited


def _dump(tree: Any, indent: tuple[int, int, int]) -> str:
    out = io.StringIO()
    _yaml(indent).dump(tree, out)
    return out.getvalue()


def load(text: str) -> RoundTrip:
    """Parse ``text`` (a ruamel error propagates: the loader reports it with its line)."""
    tree = _yaml(_INDENTS[0]).load(text) if text.strip() else None
    if tree is None:
        tree = CommentedMap()
    for indent in _INDENTS:
        baseline = _dump(tree, indent) if len(tree) else ""
        if baseline == text:
            return RoundTrip(text, tree, indent, baseline)
    return RoundTrip(text, tree, _INDENTS[0], _dump(tree, _INDENTS[0]))


def merge3(base: str, ours: str, theirs: str) -> str | None:
    """Line-based three-way merge: ``ours`` and ``theirs`` both derive from ``base``; the result has both
    sets of changes, or None when they touch the same or adjacent lines (a conflict)."""
    b, o, t = base.splitlines(keepends=True), ours.splitlines(keepends=True), theirs.splitlines(keepends=True)
    changes = [(s, e, rep, 0) for s, e, rep in _hunks(b, o)] + [(s, e, rep, 1) for s, e, rep in _hunks(b, t)]
    changes.sort(key=lambda c: (c[0], c[1]))
    kept: list[tuple[int, int, list[str]]] = []
    last: tuple[int, int, list[str], int] | None = None
    for change in changes:
        if last is not None and change[0] <= last[1] and last[0] <= change[1]:
            if last[3] != change[3] and (last[0], last[1], last[2]) == change[:3]:
                continue  # the same change on both sides
            return None
        kept.append(change[:3])
        last = change
    out: list[str] = []
    pos = 0
    for start, end, rep in kept:
        out += b[pos:start]
        out += rep
        pos = end
    out += b[pos:]
    return "".join(out)


def _hunks(base: Sequence[str], other: Sequence[str]) -> list[tuple[int, int, list[str]]]:
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    return [(i1, i2, list(other[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def unified_diff(before: str, after: str, name: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}"))


def to_node(value: Any, *, flow: bool) -> Any:
    """A plain value as a ruamel node; nested collections in flow style (``{general: 7}``) when ``flow``."""
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = to_node(v, flow=True)
        if flow:
            m.fa.set_flow_style()
        return m
    if isinstance(value, (list, tuple)):
        s = CommentedSeq(to_node(v, flow=True) for v in value)
        s.fa.set_flow_style()
        return s
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)  # a script of several lines reads as written: `script: |`
    if isinstance(value, float) and value.is_integer():
        return int(value)  # JSON says 15 or 15.0; the admin wrote 15
    return value


def assign(parent: Any, key: Any, value: Any) -> None:
    """``parent[key] = value``, changing as little of the existing node as possible: equal scalars are left
    alone (their quoting stays), maps are updated key by key (comments on untouched keys stay), lists keep
    their style and the items that stay."""
    if isinstance(parent, CommentedMap) and key not in parent:
        parent[key] = to_node(value, flow=True)
        return
    old = parent[key]
    if isinstance(old, CommentedMap) and isinstance(value, dict):
        for k in [k for k in old if k not in value and str(k) not in value]:
            del old[k]
        for k, v in value.items():
            existing = next((ok for ok in old if str(ok) == str(k)), k)
            assign(old, existing, v)
        return
    if isinstance(old, CommentedSeq) and isinstance(value, (list, tuple)):
        if _plain(old) == list(value):
            return
        quoted = next((type(o) for o in old if isinstance(o, str) and type(o) is not str), None)
        new = CommentedSeq()
        for v in value:
            same = next((o for o in old if _plain(o) == v), None)
            if same is None and quoted is not None and isinstance(v, str):
                same = quoted(v)  # the list quotes its strings ("09:00-19:00"): so do the new ones
            new.append(same if same is not None else to_node(v, flow=True))
        if old.fa.flow_style():
            new.fa.set_flow_style()
        parent[key] = new
        return
    current = _plain(old)
    if current == value and isinstance(current, bool) == isinstance(value, bool):
        return
    parent[key] = to_node(value, flow=True)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


plain = _plain
