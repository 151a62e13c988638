"""Reading Asterisk's own configuration files (``/etc/asterisk/*.conf``) with file:line for every value.

Used by ``acd check asterisk`` (does every file the dialplan names exist?), by the ARI simulator (it takes
the fallback's apology, mailbox and queue from the same ``extensions.conf`` and ``voicemail.conf`` a real
Asterisk reads) and by ``acd prompts build`` (where are Asterisk's sounds?). Only what those need is parsed:
sections with template markers, ``key = value`` / ``key => value`` lines, ``;`` comments and ``;-- --;``
blocks, ``#include`` / ``#tryinclude``, and for the dialplan ``exten``/``same``/``include`` lines and
``[globals]``. It never executes anything; a construct it does not know is kept as a plain entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ASTERISK_ETC = Path("/etc/asterisk")
SOUNDS_CANDIDATES: tuple[tuple[Path, str], ...] = (
    (Path("/var/lib/asterisk/sounds"), "the default astdatadir of an Asterisk built from source"),
    (Path("/usr/share/asterisk/sounds"), "the astdatadir of Debian's and Ubuntu's asterisk packages"),
)
"""Where Asterisk keeps its sounds when asterisk.conf says nothing, most likely first."""

SOUND_EXTENSIONS = (".wav", ".WAV", ".wav16", ".sln", ".sln16", ".ulaw", ".alaw", ".gsm", ".g722", ".g729")
"""File formats a stock Asterisk plays (format_wav, format_pcm, format_sln, format_gsm, ...)."""

_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@dataclass(frozen=True)
class Loc:
    """Where a value was read: shown as ``file:line`` in every message."""

    file: Path
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Entry:
    key: str
    value: str
    loc: Loc


@dataclass
class Section:
    name: str
    loc: Loc
    template: bool = False
    """``[name](!)``: a template, not an object of its own."""
    entries: list[Entry] = field(default_factory=list)

    def get(self, key: str) -> Entry | None:
        """The last value of ``key`` (Asterisk keeps the last one for single-valued options)."""
        found = [e for e in self.entries if e.key == key]
        return found[-1] if found else None


@dataclass
class ConfFile:
    """One file with the files it includes, in order; ``missing`` names ``#include`` targets not found."""

    path: Path
    sections: list[Section] = field(default_factory=list)
    missing: list[tuple[Loc, Path]] = field(default_factory=list)

    def sections_named(self, name: str) -> list[Section]:
        return [s for s in self.sections if s.name == name]

    def entries(self) -> Iterator[Entry]:
        for section in self.sections:
            yield from section.entries


def _strip_comment(line: str) -> str:
    """Drop a ``;`` comment (``\\;`` is a literal semicolon)."""
    out, i = [], 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if ch == ";":
            break
        out.append(ch)
        i += 1
    return "".join(out).strip()


_SECTION = re.compile(r"^\[([^\]]+)\]\s*(?:\(([^)]*)\))?")


def read_conf(path: Path, *, _seen: frozenset[Path] = frozenset()) -> ConfFile:
    """Parse ``path`` as Asterisk does (sections, entries, includes relative to the file's directory)."""
    conf = ConfFile(path)
    _read_into(conf, path, _seen | {path.resolve()})
    return conf


def _read_into(conf: ConfFile, path: Path, seen: frozenset[Path]) -> None:
    current: Section | None = conf.sections[-1] if conf.sections else None
    in_block = False
    for number, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        line = raw
        if in_block:
            if "--;" not in line:
                continue
            line = line.split("--;", 1)[1]
            in_block = False
        if ";--" in line:
            before, _, after = line.partition(";--")
            if "--;" in after:
                line = before + after.split("--;", 1)[1]
            else:
                line, in_block = before, True
        text = _strip_comment(line)
        if not text:
            continue
        loc = Loc(path, number)
        if text.startswith(("#include", "#tryinclude")):
            directive, _, target = text.partition(" ")
            target = target.strip().strip('"').strip("<>")
            inc = Path(target) if target.startswith("/") else path.parent / target
            matches = sorted(inc.parent.glob(inc.name)) if any(c in inc.name for c in "*?[") else [inc]
            for m in matches:
                if m.is_file() and m.resolve() not in seen:
                    _read_into(conf, m, seen | {m.resolve()})
                    current = conf.sections[-1] if conf.sections else current
                elif not m.is_file() and directive == "#include":
                    conf.missing.append((loc, m))
            continue
        header = _SECTION.match(text)
        if header:
            marks = header.group(2) or ""
            current = Section(header.group(1).strip(), loc, template="!" in marks)
            conf.sections.append(current)
            continue
        if current is None:
            continue
        key, sep, value = text.partition("=")
        if not sep:
            current.entries.append(Entry(text, "", loc))
            continue
        current.entries.append(Entry(key.strip(), value.removeprefix(">").strip(), loc))


# ---- the dialplan ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AppCall:
    """One priority of the dialplan: ``Playback(acd/sorry_unavailable)`` in ``[acd-fallback-voicemail]``."""

    context: str
    exten: str
    app: str
    args: str
    """As written (``${VAR}`` not yet substituted)."""
    loc: Loc


@dataclass
class Dialplan:
    """``extensions.conf`` and its includes: contexts, ``[globals]`` and every application call."""

    path: Path
    contexts: dict[str, Loc] = field(default_factory=dict)
    globals: dict[str, str] = field(default_factory=dict)
    calls: list[AppCall] = field(default_factory=list)
    includes: list[tuple[str, str, Loc]] = field(default_factory=list)
    """(context, included context, where)."""
    missing_files: list[tuple[Loc, Path]] = field(default_factory=list)

    def substitute(self, text: str) -> str:
        """Replace ``${VAR}`` by its ``[globals]`` value; unknown variables stay as written."""
        for _ in range(5):  # globals may name globals
            new = _VAR.sub(lambda m: self.globals.get(m.group(1), m.group(0)), text)
            if new == text:
                break
            text = new
        return text


_APP = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.S)
_DIALPLAN_SECTIONS = {"general", "globals"}


def _split_app(text: str) -> tuple[str, str]:
    m = _APP.match(text)
    if m is None:
        return text.strip(), ""
    return m.group(1), m.group(2) or ""


def read_dialplan(path: Path) -> Dialplan:
    conf = read_conf(path)
    plan = Dialplan(path, missing_files=list(conf.missing))
    for section in conf.sections:
        if section.name == "globals":
            for e in section.entries:
                plan.globals[e.key] = e.value
            continue
        if section.name in _DIALPLAN_SECTIONS:
            continue
        plan.contexts.setdefault(section.name, section.loc)
        exten = ""
        for e in section.entries:
            if e.key == "include":
                plan.includes.append((section.name, e.value.split(",")[0].strip(), e.loc))
            elif e.key in ("exten", "same"):
                parts = e.value.split(",", 2 if e.key == "exten" else 1)
                if e.key == "exten" and len(parts) == 3:
                    exten, app_text = parts[0].strip(), parts[2]
                elif e.key == "same" and len(parts) == 2:
                    app_text = parts[1]
                else:
                    continue
                app, args = _split_app(app_text)
                plan.calls.append(AppCall(section.name, exten, app, args, e.loc))
    return plan


def split_args(args: str) -> list[str]:
    """Split application arguments on top-level commas (not inside ``${...}``, ``$[...]`` or quotes)."""
    out: list[str] = []
    cur: list[str] = []
    depth, quoted = 0, False
    for ch in args:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "{[(":
            depth += 1
        elif not quoted and ch in "}])":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0 and not quoted:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur).strip())
    return out


# ---- voicemail.conf ----------------------------------------------------------------------------------------
def read_mailboxes(path: Path) -> dict[str, Loc]:
    """``box@context`` -> where it is defined (each section but [general], [zonemessages] is a context)."""
    if not path.is_file():
        return {}
    boxes: dict[str, Loc] = {}
    for section in read_conf(path).sections:
        if section.name in ("general", "zonemessages"):
            continue
        for e in section.entries:
            if e.value:
                boxes[f"{e.key}@{section.name}"] = e.loc
    return boxes


def mailbox_key(spec: str) -> str:
    """``100`` -> ``100@default``; ``100@acd`` unchanged (app_voicemail's default context is ``default``)."""
    box, _, context = spec.strip().partition("@")
    return f"{box}@{context or 'default'}"


# ---- where Asterisk's sounds are ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SoundsDir:
    """Asterisk's sounds directory (``<astdatadir>/sounds``) and how it was found, for messages."""

    path: Path | None
    origin: str

    def describe(self) -> str:
        return f"{self.path} ({self.origin})" if self.path else f"none ({self.origin})"


def astdatadir(etc: Path) -> tuple[Path, Loc] | None:
    """``astdatadir`` of ``<etc>/asterisk.conf`` [directories], if it sets one."""
    conf_path = etc / "asterisk.conf"
    if not conf_path.is_file():
        return None
    for section in read_conf(conf_path).sections_named("directories"):
        entry = section.get("astdatadir")
        if entry and entry.value:
            return Path(entry.value), entry.loc
    return None


def find_sounds_dir(
    explicit: Path | None = None,
    etc: Path = ASTERISK_ETC,
    candidates: Sequence[tuple[Path, str]] = SOUNDS_CANDIDATES,
) -> SoundsDir:
    """The directory Asterisk plays ``sound:<name>`` from: given, else ``astdatadir`` of asterisk.conf, else
    the first existing usual place; ``path`` None when there is none."""
    if explicit is not None:
        return SoundsDir(explicit, "given")
    found = astdatadir(etc)
    if found is not None:
        return SoundsDir(found[0] / "sounds", f"astdatadir in {found[1]}")
    for path, why in candidates:
        if path.is_dir():
            return SoundsDir(path, why)
    looked = ", ".join(str(p) for p, _ in candidates)
    return SoundsDir(None, f"no astdatadir in {etc / 'asterisk.conf'}, none of {looked} exists")


def find_sound(sounds: Path, name: str, lang: str) -> Path | None:
    """The file Asterisk plays for ``name`` in ``lang`` (main/file.c: ``<lang>/<name>``, ``en/<name>``, then
    ``<name>``), or None: Asterisk then logs "File <name> does not exist in any format"."""
    name = name.removeprefix("sound:")
    if name.startswith("/"):
        bases = [Path(name)]
    else:
        langs = [lang, "en", ""] if lang and lang != "en" else ["en", ""]
        bases = [sounds / lg / name if lg else sounds / name for lg in dict.fromkeys(langs)]
    for base in bases:
        for ext in SOUND_EXTENSIONS:
            candidate = base.with_name(base.name + ext)
            if candidate.is_file():
                return candidate
    return None


def language_variants(sounds: Path, lang: str) -> list[str]:
    """``ru_RU_f_IvrvoiceRU`` and the like: Debian's sound packages install those and make the ``ru`` link
    in a recommended package; Asterisk only looks in ``ru``."""
    if not sounds.is_dir():
        return []
    return sorted(p.name for p in sounds.iterdir() if p.is_dir() and p.name.startswith(f"{lang}_"))


def placeholders(conf: ConfFile) -> list[tuple[Loc, str]]:
    """Every ``@NAME@`` left in a value (comments are not values)."""
    out = []
    for section in conf.sections:
        for e in section.entries:
            for m in re.finditer(r"@([A-Z0-9_]+)@", f"{e.key}={e.value}"):
                out.append((e.loc, m.group(0)))
    return out
