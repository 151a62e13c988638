"""``acd check asterisk ETC_DIR``: do the files Asterisk's dialplan names exist?

A real deployment met silence when the daemon was down: the fallback's apology was not installed and the
mailbox was not in voicemail.conf. Asterisk only warns at call time ("File ... does not exist in any
format", "No entry in voicemail config file for '100'") and carries on, so this check reads the same files
beforehand and says, as ``file:line``, what a call would miss:

- every sound ``Playback()``/``Background()`` names, in each of the ACD's languages (kk, ru, en), under
  Asterisk's sounds directory (``--sounds``, else ``astdatadir`` of asterisk.conf, else the usual place);
- every mailbox ``VoiceMail()``/``VoiceMailMain()`` names, in voicemail.conf, and the ``beep`` it plays;
- every queue ``Queue()`` names, in queues.conf, and its music class in musiconhold.conf;
- every music-on-hold class of ``mode = files`` has audio files in its directory (``<astdatadir>/moh`` for
  ``directory = moh``): with none, Asterisk drops the class at start ("No music on hold classes configured,
  disabling music on hold" when it was the only one) and every waiting caller hears silence;
- every context a ``Goto``/``GotoIf``/``Gosub``/``include`` or a PJSIP endpoint's ``context`` names;
- extension patterns that spell a word with one of the digit classes N, X, Z in it (``_agent[1-8]`` matches
  "age3t1", not "agent1": warnings);
- ARI switched on (http.conf, ari.conf), ``#include`` files present, and ``@...@`` placeholders left
  (warnings: the shipped samples have them by design).

Errors make the command exit 1; warnings don't unless ``--strict``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import typer

from acd.asterisk_conf import (
    ASTERISK_ETC,
    SOUND_EXTENSIONS,
    AppCall,
    ConfFile,
    Dialplan,
    Loc,
    SoundsDir,
    find_sound,
    find_sounds_dir,
    language_variants,
    mailbox_key,
    placeholders,
    read_conf,
    read_dialplan,
    read_mailboxes,
    split_args,
)

LANGUAGES = ("kk", "ru", "en")
PLAY_APPS = {"playback", "background"}
VOICEMAIL_APPS = {"voicemail", "voicemailmain"}
JUMP_APPS = {"goto", "gotoif", "gosub", "gosubif"}
OUR_PROMPTS = "acd/"
"""Sounds under ``acd/`` are the ACD's prompts: each language must have its own (``acd prompts build``)."""

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    level: Level
    loc: Loc | None
    message: str

    def __str__(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        return f"{where}{self.level}: {self.message}"


@dataclass
class CheckReport:
    etc: Path
    sounds: SoundsDir
    languages: tuple[str, ...]
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    """What was looked at: sounds, mailboxes, queues, contexts (for the summary line)."""

    def add(self, level: Level, loc: Loc | None, message: str) -> None:
        self.findings.append(Finding(level, loc, message))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    def count(self, what: str) -> None:
        self.checked[what] = self.checked.get(what, 0) + 1

    def summary(self) -> str:
        seen = ", ".join(f"{n} {what}" for what, n in self.checked.items()) or "nothing"
        return (
            f"{self.etc}: {len(self.errors)} error(s), {len(self.warnings)} warning(s); checked {seen}; "
            f"sounds: {self.sounds.describe()}"
        )


def _conf(etc: Path, name: str) -> ConfFile | None:
    path = etc / name
    return read_conf(path) if path.is_file() else None


def check_asterisk(
    etc: Path, sounds: Path | None = None, languages: Sequence[str] = LANGUAGES
) -> CheckReport:
    """Check ``etc`` (a copy of /etc/asterisk) against the sounds directory; see the module docstring."""
    report = CheckReport(etc, find_sounds_dir(sounds, etc), tuple(languages))
    ext_path = etc / "extensions.conf"
    if not ext_path.is_file():
        report.add(
            "error", None, f"{ext_path}: no such file (the dialplan: copy asterisk-conf/extensions.conf)"
        )
        return report
    plan = read_dialplan(ext_path)
    confs = {
        name: _conf(etc, name)
        for name in (
            "extensions.conf",
            "voicemail.conf",
            "queues.conf",
            "musiconhold.conf",
            "pjsip.conf",
            "http.conf",
            "ari.conf",
            "modules.conf",
        )
    }
    for loc, missing in plan.missing_files:
        report.add("error", loc, f"#include {missing}: no such file")
    _check_sounds_dir(report)
    _check_calls(report, plan, etc, confs)
    _check_contexts(report, plan, confs.get("pjsip.conf"))
    _check_moh(report, confs.get("musiconhold.conf"))
    _check_patterns(report, plan)
    _check_ari(report, confs)
    for name, conf in confs.items():
        if conf is None:
            continue
        for loc, placeholder in placeholders(conf):
            report.add("warning", loc, f"{placeholder} is a placeholder to replace ({name})")
    return report


def _check_sounds_dir(report: CheckReport) -> None:
    path = report.sounds.path
    if path is None:
        report.add(
            "error", None, f"no Asterisk sounds directory found ({report.sounds.origin}); give --sounds DIR"
        )
    elif not path.is_dir():
        report.add("error", None, f"sounds directory {path} ({report.sounds.origin}) does not exist")


def _check_calls(report: CheckReport, plan: Dialplan, etc: Path, confs: dict[str, ConfFile | None]) -> None:
    mailboxes = read_mailboxes(etc / "voicemail.conf")
    queues = confs.get("queues.conf")
    for call in plan.calls:
        app = call.app.lower()
        args = split_args(plan.substitute(call.args))
        if app in PLAY_APPS and args and args[0]:
            for name in args[0].split("&"):
                _check_sound(report, call, name.strip())
        elif app in VOICEMAIL_APPS and args and args[0]:
            for spec in args[0].split("&"):
                _check_mailbox(report, call, spec, mailboxes, etc)
            if app == "voicemail":
                _check_sound(report, call, "beep", why="VoiceMail() plays it before recording")
        elif app == "queue" and args and args[0]:
            _check_queue(report, call, args[0], queues, confs.get("musiconhold.conf"))
        elif app in JUMP_APPS and args:
            _check_jump(report, plan, call, ",".join(args))
        elif app == "dial" and args:
            _check_local_dial(report, plan, call, args[0])


def _check_sound(report: CheckReport, call: AppCall, name: str, why: str = "") -> None:
    sounds = report.sounds.path
    if not name or sounds is None or not sounds.is_dir():
        return
    if "${" in name:
        report.add(
            "warning", call.loc, f"{call.app}({name}): a variable the check cannot resolve; not checked"
        )
        return
    report.count("sounds")
    ours = name.startswith(OUR_PROMPTS)
    missing = [lang for lang in report.languages if find_sound(sounds, name, lang) is None]
    hint = (
        f"; build it with `acd prompts build --out {sounds}` "
        f"(prompt id {name.removeprefix(OUR_PROMPTS)!r} of "
        f"config/prompts/<lang>.yaml)"
        if ours
        else f"; install Asterisk's core sounds (ru, en) into {sounds}: docs/deploy-asterisk.md"
    )
    because = f" ({why})" if why else ""
    if missing:
        langs = missing[0] if len(missing) == 1 else "{" + ",".join(missing) + "}"
        looked = f"{sounds}/{langs}/{name}.*"
        links = [
            f"cp -rs {sounds / v} {sounds / lang}"
            for lang in missing
            for v in language_variants(sounds, lang)[:1]
        ]
        also = (
            "; Asterisk only looks in <lang>/, so copy the installed voice as links "
            f"(docs/deploy-asterisk.md, section 4): {'; '.join(links)}"
            if links
            else ""
        )
        report.add(
            "error",
            call.loc,
            f"{call.app}: File {name} does not exist in any format for {', '.join(missing)}{because} "
            f"(looked for {looked}){hint}{also}",
        )
        return
    if ours:
        fallback = [lang for lang in report.languages if lang != "en" and not _has_own(sounds, name, lang)]
        for lang in fallback:
            report.add(
                "warning",
                call.loc,
                f"{call.app}: {name} has no {lang} recording ({sounds / lang / name}.wav): {lang} callers "
                f"hear the English one{hint}",
            )


def _has_own(sounds: Path, name: str, lang: str) -> bool:
    found = find_sound(sounds, name, lang)
    return found is not None and found.parent.is_relative_to(sounds / lang)


def _check_mailbox(
    report: CheckReport, call: AppCall, spec: str, mailboxes: dict[str, Loc], etc: Path
) -> None:
    spec = spec.strip()
    if not spec or "${" in spec:
        return
    report.count("mailboxes")
    key = mailbox_key(spec)
    if key in mailboxes:
        return
    box, _, context = key.partition("@")
    vm = etc / "voicemail.conf"
    where = f"{vm} has no [{context}] entry {box}" if vm.is_file() else f"{vm} does not exist"
    report.add(
        "error",
        call.loc,
        f"{call.app}: No entry in voicemail config file for '{box}' ({where}; copy "
        f"asterisk-conf/voicemail.conf): Asterisk hangs up at once",
    )


def _check_queue(
    report: CheckReport, call: AppCall, name: str, queues: ConfFile | None, moh: ConfFile | None
) -> None:
    if "${" in name:
        return
    report.count("queues")
    found = queues.sections_named(name) if queues else []
    if not found:
        report.add("error", call.loc, f"Queue({name}): no [{name}] in queues.conf")
        return
    entry = found[-1].get("musicclass")
    cls = entry.value if entry else "default"
    if moh is None or not moh.sections_named(cls):
        report.add(
            "error",
            entry.loc if entry else found[-1].loc,
            f"queue {name}: music on hold class [{cls}] is not in musiconhold.conf: callers hear silence",
        )


def _check_moh(report: CheckReport, moh: ConfFile | None) -> None:
    """Each ``mode = files`` class needs audio files in its directory, relative to astdatadir.

    Seen on Asterisk 22.10.1 built offline: ``make install`` leaves ``<astdatadir>/moh`` empty when the
    MOH-OPSOUND-WAV download is off, res_musiconhold logs "No music on hold classes configured, disabling
    music on hold" and the ACD's queue music (``POST /channels/{id}/moh``) is silence.
    """
    sounds = report.sounds.path
    if moh is None or sounds is None:
        return
    datadir = sounds.parent  # astdatadir: <astdatadir>/sounds is where the sounds are
    for section in moh.sections:
        if section.template or section.name == "general":
            continue
        mode = section.get("mode")
        if mode is not None and mode.value.lower() != "files":
            continue  # custom (an external player) or playlist (URLs/paths listed in the file)
        entry = section.get("directory")
        raw = entry.value if entry else "moh"
        directory = Path(raw) if raw.startswith("/") else datadir / raw
        report.count("music classes")
        has_audio = directory.is_dir() and any(
            f.suffix in SOUND_EXTENSIONS and f.is_file() for f in directory.iterdir()
        )
        if not has_audio:
            report.add(
                "error",
                entry.loc if entry else section.loc,
                f"music on hold class [{section.name}]: no audio files in {directory}: Asterisk drops the "
                f"class at start (\"No music on hold classes configured, disabling music on hold\") and "
                f"waiting callers hear silence; install hold music there (docs/deploy-asterisk.md section 4)",
            )


_CLASS_LETTERS = set("nNxXzZ")


def _word_class_letter(pattern: str) -> str | None:
    """The first N/X/Z (either case) of ``pattern`` that stands next to a letter outside ``[...]``: in a
    pattern it is a digit class, though the author most likely meant the letter (``_agent1``)."""
    outside = re.sub(r"\[[^\]]*\]", "[]", pattern[1:])
    for i, ch in enumerate(outside):
        if ch not in _CLASS_LETTERS:
            continue
        neighbours = outside[max(0, i - 1):i] + outside[i + 1:i + 2]
        if any(n.isalpha() and n not in _CLASS_LETTERS for n in neighbours):
            return ch
    return None


def _check_patterns(report: CheckReport, plan: Dialplan) -> None:
    """Asterisk 22.10.1: ``_agent[1-8]`` of the shipped [agents] matched "age3t3" and never "agent3"."""
    seen: set[tuple[str, str]] = set()
    for call in plan.calls:
        key = (call.context, call.exten)
        if key in seen or not call.exten.startswith("_"):
            continue
        seen.add(key)
        letter = _word_class_letter(call.exten)
        if letter is not None:
            report.add(
                "warning",
                call.loc,
                f"extension {call.exten} of [{call.context}]: '{letter}' is the digit class "
                f"{letter.upper()} in a pattern, not a letter; write [{letter}] for the letter itself",
            )


def _targets(expr: str) -> list[str]:
    """The labels of Goto/GotoIf/Gosub arguments: ``cond?a:b`` gives a and b."""
    if "?" in expr:
        expr = expr.split("?", 1)[1]
        return [t for t in expr.split(":") if t]
    return [expr]


def _check_jump(report: CheckReport, plan: Dialplan, call: AppCall, expr: str) -> None:
    for target in _targets(expr):
        parts = [p.strip() for p in target.split("(")[0].split(",")]
        if len(parts) != 3 or "${" in parts[0] or "$[" in parts[0]:
            continue
        report.count("contexts")
        if parts[0] not in plan.contexts:
            report.add("error", call.loc, f"{call.app}: context [{parts[0]}] does not exist in the dialplan")


def _check_local_dial(report: CheckReport, plan: Dialplan, call: AppCall, targets: str) -> None:
    """``Dial(Local/200@agent-phone)``: the Local channel runs that context, which must exist."""
    for target in targets.split("&"):
        tech, _, rest = target.strip().partition("/")
        context = rest.partition("@")[2].partition("/")[0]
        if tech.lower() != "local" or not context or "${" in context:
            continue
        report.count("contexts")
        if context not in plan.contexts:
            report.add(
                "error",
                call.loc,
                f"Dial: {target.strip()}: context [{context}] does not exist in the dialplan",
            )


def _check_contexts(report: CheckReport, plan: Dialplan, pjsip: ConfFile | None) -> None:
    for context, included, loc in plan.includes:
        report.count("contexts")
        if included not in plan.contexts:
            report.add("error", loc, f"[{context}] includes [{included}], which does not exist")
    if pjsip is None:
        return
    for section in pjsip.sections:
        typ, ctx = section.get("type"), section.get("context")
        if ctx is None or (typ is not None and typ.value != "endpoint"):
            continue
        report.count("contexts")
        if ctx.value not in plan.contexts:
            report.add(
                "error",
                ctx.loc,
                f"endpoint [{section.name}]: context {ctx.value} is not in the dialplan "
                "(its calls would be rejected)",
            )


def _check_ari(report: CheckReport, confs: dict[str, ConfFile | None]) -> None:
    for name in ("http.conf", "ari.conf"):
        conf = confs.get(name)
        if conf is None:
            report.add(
                "error", None, f"{report.etc / name}: no such file (ARI needs it: asterisk-conf/{name})"
            )
            continue
        general = conf.sections_named("general")
        enabled = general[-1].get("enabled") if general else None
        if enabled is None or enabled.value.lower() not in ("yes", "true", "1", "on"):
            loc = enabled.loc if enabled else (general[-1].loc if general else None)
            report.add("error", loc, f"{name} [general] needs enabled = yes (ARI is off otherwise)")


# ---- command line ------------------------------------------------------------------------------------------
def check_asterisk_cli(
    etc: Path = ASTERISK_ETC,
    sounds: Path | None = None,
    languages: str = ",".join(LANGUAGES),
    strict: bool = False,
) -> int:
    """Print the findings (stderr) and the summary; the exit code."""
    report = check_asterisk(etc, sounds, [lang.strip() for lang in languages.split(",") if lang.strip()])
    for finding in report.findings:
        typer.echo(str(finding), err=True)
    typer.echo(report.summary())
    failed = bool(report.errors) or (strict and bool(report.warnings))
    return 1 if failed else 0


def check(
    target: Annotated[
        str,
        typer.Argument(help="The ACD's config directory, or the word 'asterisk' to check Asterisk's files"),
    ] = "config",
    etc_dir: Annotated[
        Path | None,
        typer.Argument(
            help="With 'asterisk': Asterisk's configuration directory", show_default="/etc/asterisk"
        ),
    ] = None,
    sounds: Annotated[
        Path | None,
        typer.Option(
            help="With 'asterisk': Asterisk's sounds directory (default: asterisk.conf's astdatadir/sounds)"
        ),
    ] = None,
    languages: Annotated[
        str, typer.Option(help="With 'asterisk': the languages every ACD prompt needs")
    ] = ",".join(LANGUAGES),
    strict: Annotated[
        bool, typer.Option(help="Warnings fail the check too (placeholders, missing sounds, ...)")
    ] = False,
) -> None:
    """Validate the config directory (every problem as file:line), or with `acd check asterisk ETC_DIR`
    that every sound, mailbox, queue and context Asterisk's dialplan names exists."""
    if target == "asterisk" and (etc_dir is not None or not Path(target).is_dir()):
        raise typer.Exit(check_asterisk_cli(etc_dir or ASTERISK_ETC, sounds, languages, strict))
    if etc_dir is not None:
        typer.echo(f"error: {etc_dir}: only `acd check asterisk ETC_DIR` takes a second argument", err=True)
        raise typer.Exit(2)
    from acd.config_cli import check as check_config

    check_config(Path(target), strict)
