"""What every report returns, whatever it computes: titled columns, rows, totals, notes, warnings.

Columns carry a key (stable, for JSON/CSV consumers) and Russian and English titles (the tenders' forms
are Russian; ``--lang en`` switches). Extra tables (the monthly report's breakdowns) are ``sections``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cdr.sla import SlaTargets

Kind = Literal["str", "int", "float", "pct", "s", "date", "time"]
SlVariant = Literal["offered", "offered_no_short", "answered_and_lost", "answered"]

SL_VARIANTS: dict[str, tuple[str, str]] = {
    "offered": ("отвечено до порога / поступило в очередь", "answered within threshold / offered"),
    "offered_no_short": ("отвечено до порога / (поступило - короткие)",
                         "answered within threshold / (offered - short abandons)"),
    "answered_and_lost": ("отвечено до порога / (принято + потеряно)",
                          "answered within threshold / (answered + abandoned)"),
    "answered": ("отвечено до порога / принято", "answered within threshold / answered"),
}


class ReportOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sl_threshold_s: float = Field(30.0, gt=0)
    """Service-level threshold; also the line between answered/lost "before" and "after the threshold"."""
    short_abandon_s: float = Field(5.0, ge=0)
    """Kept for the record in notes; the split is made when the CDR row is written (CdrWriter)."""
    sl_variant: SlVariant = "offered"
    sla: SlaTargets = SlaTargets()
    queues: list[str] | None = None
    """Only calls of these queues (None: all)."""
    now: float | None = None
    """Epoch seconds; agent states are counted up to this instant, or to the period's end if that comes
    first (None: ``run_report`` fills in its clock's now)."""
    chart: bool = True


@dataclass(frozen=True)
class Column:
    key: str
    ru: str
    en: str
    kind: Kind = "str"

    def title(self, lang: str = "ru") -> str:
        return self.en if lang == "en" else self.ru


@dataclass
class Section:
    key: str
    ru: str
    en: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] | None = None

    def title(self, lang: str = "ru") -> str:
        return self.en if lang == "en" else self.ru

    def to_json(self) -> dict[str, Any]:
        columns = [{"key": c.key, "kind": c.kind, "title": {"ru": c.ru, "en": c.en}} for c in self.columns]
        return {"key": self.key, "title": {"ru": self.ru, "en": self.en}, "columns": columns,
                "rows": [_plain(r) for r in self.rows],
                "totals": _plain(self.totals) if self.totals else None}


@dataclass
class ReportResult:
    name: str
    ru: str
    en: str
    start: date
    end: date
    tz: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    chart_png: bytes | None = None
    sections: list[Section] = field(default_factory=list)

    def title(self, lang: str = "ru") -> str:
        return self.en if lang == "en" else self.ru

    def tables(self) -> list[Section]:
        """The main table first, then the sections: what renderers walk."""
        main = Section(self.name, self.ru, self.en, self.columns, self.rows, self.totals)
        return [main, *self.sections]

    def to_json(self) -> dict[str, Any]:
        main = self.tables()[0].to_json()
        return {
            "report": self.name, "title": {"ru": self.ru, "en": self.en},
            "from": self.start.isoformat(), "to": self.end.isoformat(), "tz": self.tz,
            "columns": main["columns"], "rows": main["rows"], "totals": main["totals"],
            "sections": [s.to_json() for s in self.sections],
            "notes": self.notes, "warnings": self.warnings,
            "chart_png_base64": base64.b64encode(self.chart_png).decode() if self.chart_png else None,
        }


def _plain(row: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in (row or {}).items():
        out[k] = v.isoformat() if hasattr(v, "isoformat") else v
    return out
