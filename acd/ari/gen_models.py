"""Generate ``acd/ari/models.py`` from Asterisk's own ARI description (Swagger 1.1 api-docs).

Why generate: Asterisk declares 45 event types and about 40 resource models; writing them by hand invites
typos that only show up on a live call. The generated module is committed, so running the daemon never
needs ``../shared``; rerun this script when the api-docs change (new Asterisk version)::

    .venv/bin/python -m acd.ari.gen_models [API_DOCS_DIR] > acd/ari/models.py

Choices the generator makes (see docs/ari-client.md):
- every model accepts extra fields, since Asterisk adds fields over versions;
- a field the api-docs mark required is required, every other one is ``X | None = None``;
- ``Date`` stays the string Asterisk sends (``2026-11-22T21:59:35.660+0000``), so events round-trip exactly;
  ``parse_ari_time`` turns it into an aware datetime where needed;
- values with an ``allowableValues`` list stay plain strings (Asterisk sends values its docs do not list);
- each Event subtype gets ``type: Literal["Name"] = "Name"``.
"""

from __future__ import annotations

import json
import keyword
import sys
import textwrap
from pathlib import Path
from typing import Any

from pydantic import BaseModel

DEFAULT_DOCS = Path(__file__).resolve().parents[3] / "shared" / "asterisk-ari" / "api-docs"
PRIMITIVES = {
    "string": "str",
    "int": "int",
    "long": "int",
    "double": "float",
    "boolean": "bool",
    "Date": "str",
    "object": "dict[str, Any]",
    "binary": "str",
    "containers": "dict[str, Any]",
}
WIDTH = 110


def load_models(docs_dir: Path) -> dict[str, dict[str, Any]]:
    """All models of all api-docs files, keyed by name (names are unique across files)."""
    models: dict[str, dict[str, Any]] = {}
    for f in sorted(docs_dir.glob("*.json")):
        for name, model in json.loads(f.read_text()).get("models", {}).items():
            if name in models and models[name] != model:
                raise SystemExit(f"model {name} declared twice with different content ({f.name})")
            models[name] = model
    return models


def py_type(type_name: str) -> str:
    if type_name.startswith("List[") and type_name.endswith("]"):
        return f"list[{py_type(type_name[5:-1])}]"
    return PRIMITIVES.get(type_name, type_name)


def references(model: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for prop in model.get("properties", {}).values():
        t = prop["type"]
        while t.startswith("List["):
            t = t[5:-1]
        if t not in PRIMITIVES:
            out.add(t)
    return out


def order(models: dict[str, dict[str, Any]], parents: dict[str, str]) -> list[str]:
    """Names sorted so that every model comes after the models it uses or extends."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        deps = references(models[name]) | ({parents[name]} if name in parents else set())
        for dep in sorted(deps):
            if dep in models and dep != name:
                visit(dep)
        done.append(name)

    for name in sorted(models):
        visit(name)
    return done


def doc_lines(text: str, indent: str) -> list[str]:
    text = " ".join(text.split()).replace('"""', "'''").replace("\\", "\\\\")
    if not text:
        return []
    one = f'{indent}"""{text}"""'
    if len(one) <= WIDTH:
        return [one]
    body = textwrap.wrap(text, WIDTH - len(indent))
    return [f'{indent}"""', *(indent + line for line in body), f'{indent}"""']


def field_name(name: str) -> tuple[str, str | None]:
    """A Python-safe attribute name and the alias to keep the wire name."""
    if keyword.iskeyword(name) or hasattr(BaseModel, name) or name.startswith("model_"):
        return name + "_", name
    return name, None


def render_model(name: str, model: dict[str, Any], parent: str, own_type: str | None) -> list[str]:
    lines = [f"class {name}({parent}):"]
    lines += doc_lines(model.get("description", name), "    ")
    lines.append("")
    if own_type is not None:
        lines.append(f'    type: Literal["{own_type}"] = "{own_type}"')
    for prop_name, prop in model.get("properties", {}).items():
        if own_type is not None and prop_name == "type":
            continue
        attr, alias = field_name(prop_name)
        t = py_type(prop["type"])
        required = bool(prop.get("required"))
        if alias:
            default = f'Field(alias="{alias}")' if required else f'Field(default=None, alias="{alias}")'
        else:
            default = "" if required else "None"
        annotation = t if required else f"{t} | None"
        line = f"    {attr}: {annotation}" + (f" = {default}" if default else "")
        lines.append(line)
        desc = prop.get("description", "")
        allowed = prop.get("allowableValues", {})
        if allowed.get("valueType") == "LIST":
            desc = f"{desc} One of: {', '.join(map(str, allowed.get('values', [])))}.".strip()
        lines += doc_lines(desc, "    ")
    if lines[-1] == "":
        lines[-1] = "    pass"
    return lines


HEADER = '''"""ARI models: resources and one class per event type, generated from Asterisk 22's api-docs.

GENERATED by ``python -m acd.ari.gen_models`` from ../shared/asterisk-ari/api-docs; do not edit by hand.
Every model accepts fields it does not declare (Asterisk adds fields over versions); ``Date`` fields are
kept as the string Asterisk sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Union

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class AriModel(BaseModel):
    """Base of every ARI model: unknown fields are kept, wire names and Python names both accepted."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

'''


FOOTER = '''

class MalformedEvent(ValueError):
    """An event that is not JSON, not an object, has no type, or fails its model: carries the raw text."""

    def __init__(self, reason: str, raw: bytes | str | dict[str, Any]) -> None:
        if isinstance(raw, bytes):
            text = raw.decode("utf-8", "replace")
        elif isinstance(raw, str):
            text = raw
        else:
            text = repr(raw)
        super().__init__(f"malformed ARI event: {reason}")
        self.reason = reason
        self.raw = text


_EVENT_UNION: Any = Annotated[Union[tuple(EVENT_TYPES.values())], Field(discriminator="type")]  # noqa: UP007
_KNOWN_EVENT: TypeAdapter[Event] = TypeAdapter(_EVENT_UNION)
"""All known event types as one discriminated union: pydantic parses and validates JSON in one pass."""


def parse_event(raw: bytes | str | dict[str, Any]) -> Event:
    """One WebSocket message to its typed event; unknown types become GenericEvent, never dropped.

    Fast path: the discriminated union validates the JSON text in one pass in pydantic's core (about 1.5x
    faster than orjson then a model, see bench/ari.py). When it fails (unknown type, malformed JSON, a bad
    field), the slow path below finds out which and says so.
    """
    if not isinstance(raw, dict):
        try:
            return _KNOWN_EVENT.validate_json(raw)
        except ValidationError:
            pass
    if isinstance(raw, dict):
        data: Any = raw
    else:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise MalformedEvent(f"not JSON ({exc})", raw) from None
    if not isinstance(data, dict):
        raise MalformedEvent("not a JSON object", raw)
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise MalformedEvent("no type", raw)
    cls = EVENT_TYPES.get(kind)
    try:
        if cls is None:
            return GenericEvent.model_validate({**data, "raw": data})
        return cls.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MalformedEvent(f"{kind}: {where}: {first['msg']}", raw) from None


def parse_ari_time(value: str) -> datetime:
    """ARI's timestamp (``2026-11-22T21:59:35.660+0000``) as an aware datetime."""
    return datetime.fromisoformat(value)

'''


def generate(docs_dir: Path) -> str:
    models = load_models(docs_dir)
    parents = {sub: name for name, m in models.items() for sub in m.get("subTypes", [])}
    events = sorted(n for n, p in parents.items() if p == "Event")
    out = [HEADER]
    for name in order(models, parents):
        parent = parents.get(name, "AriModel")
        own_type = name if parent in ("Event", "Message") and not models[name].get("subTypes") else None
        out.append("\n".join(render_model(name, models[name], parent, own_type)) + "\n\n\n")
    out.append(
        "class GenericEvent(Event):\n"
        '    """An event of a type these models do not know: kept whole, never dropped."""\n\n'
        "    type: str\n"
        "    application: str | None = None  # type: ignore[assignment]\n"
        "    timestamp: str | None = None  # type: ignore[assignment]\n"
        "    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)\n"
        '    """The event exactly as received."""\n\n\n'
    )
    out.append("EVENT_TYPES: dict[str, type[Event]] = {\n")
    out += [f'    "{n}": {n},\n' for n in events]
    out.append("}\n")
    out.append('"""Every Event subtype the api-docs declare, by its ``type``."""\n\n')
    out.append(FOOTER)
    out.append("__all__ = [\n")
    extra = ["AriModel", "GenericEvent", "EVENT_TYPES", "MalformedEvent", "parse_event", "parse_ari_time"]
    out += [f'    "{n}",\n' for n in sorted([*models, *extra])]
    out.append("]\n")
    text = "".join(out)
    return text.rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    docs = Path(argv[1]) if len(argv) > 1 else DEFAULT_DOCS
    sys.stdout.write(generate(docs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
