"""The field reference of docs/scenarios.md, generated from the models so that it cannot drift.

``python -m routing.docgen`` prints it; ``tests/routing/test_docs.py`` checks that the doc holds the
current text between the markers ``<!-- fields:begin -->`` and ``<!-- fields:end -->``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from routing.model import (
    HoursArgs,
    InfoArgs,
    LanguageMenuArgs,
    MenuArgs,
    QueueArgs,
    Scenario,
    TagArgs,
    TransferArgs,
    VoicemailArgs,
)
from routing.schedule import Schedule

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("Scenario file (`config/scenarios/<name>.yaml`)", Scenario),
    ("`language_menu`", LanguageMenuArgs),
    ("`menu`", MenuArgs),
    ("`hours`", HoursArgs),
    ("`queue`", QueueArgs),
    ("`voicemail`", VoicemailArgs),
    ("`transfer`", TransferArgs),
    ("`tag`", TagArgs),
    ("`info`", InfoArgs),
    ("Schedule (under `schedules:`)", Schedule),
]
BEGIN, END = "<!-- fields:begin -->", "<!-- fields:end -->"


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"])
    if "enum" in prop:
        return " / ".join(str(v) for v in prop["enum"])
    if "const" in prop:
        return str(prop["const"])
    t = str(prop.get("type", "any"))
    if t == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if t == "object":
        return "mapping"
    return {"string": "text", "integer": "integer", "number": "number", "boolean": "true/false",
            "null": "null"}.get(t, t)


def _default(name: str, model: type[BaseModel]) -> str:
    field = model.model_fields[name]
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return f"`{json.dumps(value, ensure_ascii=False, default=str)}`"


def reference() -> str:
    out: list[str] = []
    for title, model in SECTIONS:
        schema = model.model_json_schema()
        if "$ref" in schema:  # recursive models (menus hold steps) come back as a reference
            schema = schema["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
        out += [f"#### {title}", "", "| field | type | default | meaning |", "|---|---|---|---|"]
        for name, prop in schema.get("properties", {}).items():
            if name == "steps":
                kind = "list of steps"
            elif name == "options" and model is MenuArgs:
                kind = "key -> steps"
            elif name in ("open", "closed", "fallback", "on_failure"):
                kind = "steps (a list, or one step)"
            else:
                kind = _type(prop)
            desc = " ".join((prop.get("description") or "").split()).replace("|", "\\|")
            out.append(f"| `{name}` | {kind} | {_default(name, model)} | {desc} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(reference(), end="")
