"""The ``/ari/...`` REST interface: routing, Basic auth, parameters, and one handler per operation.

Status codes and error bodies are Asterisk's as captured in rest-samples.jsonl (BEHAVIOUR.md 19), including
its undeclared 500s, but not its false 409 after a duplicate id (``originate_bad_tech``). Parameters come from
the query string or a JSON body (a repeated query parameter keeps the last value, item 8).
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from acd.ari_sim.dialing import Dialer
from acd.ari_sim.media import RECORD_FORMATS, Media
from acd.ari_sim.model import HANGUP_REASONS, Channel, ari_time
from acd.ari_sim.world import INVALID_STATE, AriError, World, alloc_failed

Params = dict[str, Any]
Handler = Callable[[web.Request, dict[str, str], Params], Awaitable[web.StreamResponse]]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    if status == 204 or body is None:
        return web.Response(status=status, headers=headers)
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json",
                        headers=headers)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"message": message}, status, headers)


AUTH_HEADERS = {"WWW-Authenticate": 'Basic realm="Asterisk REST Interface"'}


def authorized(request: web.Request, user: str, password: str) -> bool:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        return decoded == f"{user}:{password}"
    return request.query.get("api_key") == f"{user}:{password}"


def _bool(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "yes")


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


class Rest:
    def __init__(self, world: World, dialer: Dialer, media: Media, user: str, password: str) -> None:
        self.world = world
        self.dialer = dialer
        self.media = media
        self.user = user
        self.password = password
        self.routes: list[tuple[re.Pattern[str], str, dict[str, Handler]]] = []
        self._table()

    # ---- routing ----------------------------------------------------------------------------------
    def _add(self, template: str, **methods: Handler) -> None:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")
        self.routes.append((regex, template, {m.upper(): h for m, h in methods.items()}))

    def _table(self) -> None:
        a = self._add
        a("/asterisk/info", get=self.asterisk_info)
        a("/asterisk/ping", get=self.asterisk_ping)
        a("/asterisk/variable", get=self.global_get, post=self.global_set)
        a("/applications", get=self.apps_list)
        a("/applications/{app}", get=self.app_get)
        a("/applications/{app}/subscription", post=self.app_subscribe, delete=self.app_unsubscribe)
        a("/applications/{app}/eventFilter", put=self.app_filter)
        a("/channels", get=self.channels_list, post=self.originate)
        a("/channels/create", post=self.create)
        a("/channels/{channelId}", get=self.channel_get, post=self.originate, delete=self.hangup)
        a("/channels/{channelId}/continue", post=self.cont)
        a("/channels/{channelId}/dial", post=self.dial)
        a("/channels/{channelId}/answer", post=self.answer)
        a("/channels/{channelId}/ring", post=self.ring, delete=self.ring_stop)
        a("/channels/{channelId}/progress", post=self.progress)
        a("/channels/{channelId}/dtmf", post=self.dtmf)
        a("/channels/{channelId}/mute", post=self.mute, delete=self.mute)
        a("/channels/{channelId}/hold", post=self.hold, delete=self.unhold)
        a("/channels/{channelId}/moh", post=self.moh, delete=self.moh_stop)
        a("/channels/{channelId}/silence", post=self.silence, delete=self.silence)
        a("/channels/{channelId}/play", post=self.channel_play)
        a("/channels/{channelId}/play/{playbackId}", post=self.channel_play)
        a("/channels/{channelId}/record", post=self.channel_record)
        a("/channels/{channelId}/variable", get=self.var_get, post=self.var_set)
        a("/channels/{channelId}/snoop", post=self.snoop)
        a("/channels/{channelId}/snoop/{snoopId}", post=self.snoop)
        a("/bridges", get=self.bridges_list, post=self.bridge_create)
        a("/bridges/{bridgeId}", get=self.bridge_get, post=self.bridge_create, delete=self.bridge_destroy)
        a("/bridges/{bridgeId}/addChannel", post=self.bridge_add)
        a("/bridges/{bridgeId}/removeChannel", post=self.bridge_remove)
        a("/bridges/{bridgeId}/moh", post=self.bridge_moh, delete=self.bridge_moh_stop)
        a("/bridges/{bridgeId}/play", post=self.bridge_play)
        a("/bridges/{bridgeId}/play/{playbackId}", post=self.bridge_play)
        a("/bridges/{bridgeId}/record", post=self.bridge_record)
        a("/playbacks/{playbackId}", get=self.playback_get, delete=self.playback_stop)
        a("/playbacks/{playbackId}/control", post=self.playback_control)
        a("/recordings/stored", get=self.stored_list)
        a("/recordings/stored/{recordingName}", get=self.stored_get, delete=self.stored_delete)
        a("/recordings/stored/{recordingName}/file", get=self.stored_file)
        a("/recordings/live/{recordingName}", get=self.live_get, delete=self.live_cancel)
        a("/recordings/live/{recordingName}/stop", post=self.live_stop)
        a("/recordings/live/{recordingName}/pause", post=self.live_noop, delete=self.live_noop)
        a("/recordings/live/{recordingName}/mute", post=self.live_noop, delete=self.live_noop)
        a("/endpoints", get=self.endpoints_list)
        a("/endpoints/{tech}", get=self.endpoints_tech)
        a("/endpoints/{tech}/{resource}", get=self.endpoint_get)
        a("/deviceStates", get=self.device_states)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        if not authorized(request, self.user, self.password):
            return error(401, "Authentication required", AUTH_HEADERS)
        # As res_ari: the path is split on "/" BEFORE each segment is percent-decoded (it registers with
        # no_decode_uri), so a recording named "2026/11/24/x" is addressed as 2026%2F11%2F24%2Fx.
        raw = request.rel_url.raw_path
        path = "/" + raw.split("/ari/", 1)[-1].strip("/") if "/ari/" in raw else "/"
        for regex, _template, methods in self.routes:
            m = regex.match(path)
            if m is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                allow = ",".join(["OPTIONS", *[x for x in ("GET", "POST", "PUT", "DELETE") if x in methods]])
                return error(405, "Invalid method", {"Allow": allow})
            try:
                params = await self._params(request)
            except ValueError:
                return error(400, "Error parsing request body")
            try:
                return await handler(request, {k: unquote(v) for k, v in m.groupdict().items()}, params)
            except AriError as e:
                return json_response(e.body, e.status)
        return error(404, "Resource not found")

    @staticmethod
    async def _params(request: web.Request) -> Params:
        params: Params = {}
        for key in request.query:
            params[key] = request.query.getall(key)[-1]
        if request.can_read_body:
            raw = await request.read()
            if raw.strip():
                body = orjson.loads(raw)
                if isinstance(body, dict):
                    params.update(body)
        params.pop("api_key", None)
        return params

    # ---- asterisk ---------------------------------------------------------------------------------
    async def asterisk_info(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        start = ari_time(self.world.clock.start)
        return json_response({
            "build": {"os": "Linux", "kernel": "6.0.0-sim", "machine": "x86_64", "options": "OPTIONAL_API",
                      "date": "2026-11-22 21:52:40 UTC", "user": "acd-ari-sim"},
            "system": {"version": "22.10.1", "entity_id": self.world.hub.asterisk_id},
            "config": {"name": "", "default_language": "en", "setid": {"user": "", "group": ""}},
            "status": {"startup_time": start, "last_reload_time": start},
        })

    async def asterisk_ping(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response({"ping": "pong", "timestamp": ari_time(self.world.clock.now()),
                              "asterisk_id": self.world.hub.asterisk_id})

    async def global_get(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        if not p.get("variable"):
            raise AriError(400, "Variable name is required")
        return json_response({"value": self.world.global_vars.get(p["variable"], "")})

    async def global_set(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        if not p.get("variable"):
            raise AriError(400, "Variable name is required")
        self.world.global_vars[p["variable"]] = str(p.get("value", ""))
        return json_response(None, 204)

    # ---- applications -----------------------------------------------------------------------------
    def _app(self, name: str) -> Any:
        app = self.world.hub.apps.get(name)
        if app is None:
            raise AriError(404, "Application not found")
        return app

    async def apps_list(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response([a.to_json() for a in self.world.hub.apps.values()])

    async def app_get(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response(self._app(ids["app"]).to_json())

    async def app_filter(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        """res/stasis/app.c ``stasis_app_event_filter_set``: no key resets both lists, a list given replaces
        that list only; a list that is not an array of objects with a ``type`` is a 400."""
        app = self._app(ids["app"])
        given = {k: p[k] for k in ("allowed", "disallowed") if k in p}
        for value in given.values():
            if not isinstance(value, list) or not all(isinstance(f, dict) and f.get("type") for f in value):
                raise AriError(400, "Invalid format definition")
        if not given:
            app.events_allowed, app.events_disallowed = [], []
        if "allowed" in given:
            app.events_allowed = list(given["allowed"])
        if "disallowed" in given:
            app.events_disallowed = list(given["disallowed"])
        return json_response(app.to_json())

    def _sources(self, p: Params) -> list[tuple[str, str]]:
        raw = p.get("eventSource")
        if not raw:
            raise AriError(400, "Missing parameter eventSource")
        items = raw if isinstance(raw, list) else str(raw).split(",")
        out = []
        for item in items:
            scheme, _, name = str(item).partition(":")
            if scheme not in ("channel", "bridge", "endpoint", "deviceState"):
                raise AriError(400, "Invalid event source URI scheme")
            out.append((scheme, name))
        return out

    async def app_subscribe(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        app = self._app(ids["app"])
        w = self.world
        eps = w.endpoints.values()
        for scheme, name in self._sources(p):
            exists = {
                "channel": name in w.channels,
                "bridge": name in w.bridges,
                "endpoint": name in w.endpoints or name.rstrip("/") in {e.technology for e in eps},
                "deviceState": bool(name),
            }[scheme]
            if not exists:
                raise AriError(422, "Event source does not exist")
            if scheme == "channel":
                app.channel_ids.add(name)
            elif scheme == "bridge":
                app.bridge_ids.add(name)
                w.bridges[name].subscribed = True
            elif scheme == "endpoint":
                app.endpoint_ids.add(name.rstrip("/"))
            else:
                app.device_names.add(name)
        return json_response(app.to_json())

    async def app_unsubscribe(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        app = self._app(ids["app"])
        for scheme, name in self._sources(p):
            bucket = {"channel": app.channel_ids, "bridge": app.bridge_ids, "endpoint": app.endpoint_ids,
                      "deviceState": app.device_names}[scheme]
            if name not in bucket:
                raise AriError(422, "Event source was not subscribed to")  # docs say 409 (item 19)
            bucket.discard(name)
        return json_response(app.to_json())

    # ---- channels ---------------------------------------------------------------------------------
    async def channels_list(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response([c.to_json() for c in self.world.channels.values() if not c.gone])

    async def channel_get(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response(self.world.channel(ids["channelId"]).to_json())

    async def originate(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        if "channelId" in ids:
            p["channelId"] = ids["channelId"]
        return json_response(self.dialer.originate(p).to_json())

    async def create(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response(self.dialer.create(p))

    async def hangup(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        ch = self.world.channel(ids["channelId"])
        reason, code = p.get("reason"), p.get("reason_code")
        if reason and code:
            raise AriError(400, "The reason and reason_code can't both be specified")
        cause = ch.hangup_cause
        if reason:
            if reason not in HANGUP_REASONS:
                raise AriError(400, "Invalid reason for hangup reason provided")
            cause = HANGUP_REASONS[reason]
        elif code:
            if not str(code).isdigit():
                raise AriError(400, "Invalid reason for hangup reason code provided")
            cause = int(code)
        self.world.hangup(ch, cause)
        return json_response(None, 204)

    async def cont(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        ch = self.world.channel(ids["channelId"], stasis=True)
        prio = p.get("priority")
        self.dialer.continue_(ch, p.get("context"), p.get("extension"), _int(prio) if prio else None,
                              p.get("label"))
        return json_response(None, 204)

    async def dial(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        ch = self.world.channel(ids["channelId"], stasis=True)
        caller = self.world.channels.get(str(p.get("caller") or ""))
        if caller is not None:
            ch.dial_caller = caller.id
            ch.connected_name, ch.connected_number = caller.caller_name, caller.caller_number
        self.dialer.dial(ch, float(_int(p.get("timeout"), 0)))
        return json_response(None, 204)

    async def answer(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self.dialer.answer(self.world.channel(ids["channelId"], stasis=True))
        await self.world.hub.drain()
        return json_response(None, 204)

    async def ring(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self.dialer.indicate(self.world.channel(ids["channelId"], stasis=True), "ring")
        return json_response(None, 204)

    async def ring_stop(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self.world.channel(ids["channelId"], stasis=True)
        return json_response(None, 204)

    async def progress(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self.dialer.indicate(self.world.channel(ids["channelId"], stasis=True), "progress")
        return json_response(None, 204)

    async def dtmf(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        ch = self.world.channel(ids["channelId"], stasis=True)
        if not p.get("dtmf"):
            raise AriError(400, "DTMF is required")
        self.dialer.send_dtmf(ch, str(p["dtmf"]), _int(p.get("between"), 100), _int(p.get("duration"), 100))
        return json_response(None, 204)

    async def mute(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        ch = self.world.channel(ids["channelId"], stasis=True)
        direction = p.get("direction")
        if not direction:
            raise AriError(400, "Direction is required")  # item 12: even though the docs say "both"
        if direction not in ("both", "in", "out"):
            raise AriError(400, "Invalid direction specified")
        dirs = {"in", "out"} if direction == "both" else {direction}
        if r.method == "POST":
            ch.muted |= dirs
        else:
            ch.muted -= dirs
        return json_response(None, 204)

    def _up_in_stasis(self, channel_id: str) -> Channel:
        ch = self.world.channel(channel_id, stasis=True)
        if ch.state in ("Down", "Ringing"):
            raise AriError(412, INVALID_STATE)
        return ch

    async def hold(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        """The channel puts its bridge peers on hold: they hear music (acd/ari_sim/audio.py); Asterisk
        raises ChannelHold for it (res/ari/resource_channels.c queues AST_CONTROL_HOLD)."""
        ch = self._up_in_stasis(ids["channelId"])
        ch.held = True
        self.world.emit_channel(ch, "ChannelHold")
        await self.world.hub.drain()
        return json_response(None, 204)

    async def unhold(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        ch = self.world.channel(ids["channelId"], stasis=True)
        ch.held = False
        self.world.emit_channel(ch, "ChannelUnhold")
        await self.world.hub.drain()
        return json_response(None, 204)

    async def moh(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self.world.channel(ids["channelId"], stasis=True).moh = True  # plays until stopped
        return json_response(None, 204)

    async def moh_stop(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self.world.channel(ids["channelId"], stasis=True).moh = False
        return json_response(None, 204)

    async def silence(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self.world.channel(ids["channelId"], stasis=True).silence = r.method == "POST"
        return json_response(None, 204)

    # ---- media ------------------------------------------------------------------------------------
    @staticmethod
    def _media_list(p: Params) -> list[str]:
        raw = p.get("media")
        items = raw if isinstance(raw, list) else str(raw or "").split(",")
        return [str(m).strip() for m in items if str(m).strip()]

    def _play(self, target_uri: str, lang: str, ids: dict[str, str], p: Params,
              no_media: AriError) -> web.Response:
        media = self._media_list(p)
        if not media:
            raise no_media
        if _int(p.get("skipms"), 0) < 0:
            raise AriError(400, "skipms cannot be negative")
        if _int(p.get("offsetms"), 0) < 0:
            raise AriError(400, "offsetms cannot be negative")
        pid = ids.get("playbackId") or p.get("playbackId") or str(uuid.uuid4())
        pb = self.media.play(target_uri, media, lang, pid, _int(p.get("skipms"), 3000))
        return json_response(pb.to_json(), 201, {"Location": f"/ari/playbacks/{pb.id}"})

    async def channel_play(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        ch = self._up_in_stasis(ids["channelId"])
        return self._play(f"channel:{ch.id}", str(p.get("lang") or ch.language), ids, p,
                          AriError(500, "Failed to queue media for playback"))

    async def bridge_play(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        br = self.world.bridge(ids["bridgeId"])
        return self._play(f"bridge:{br.id}", str(p.get("lang") or "en"), ids, p, alloc_failed())

    def _record_checks(self, p: Params) -> tuple[str, str, float]:
        name = p.get("name")
        if not name:
            raise AriError(500, "Error parsing request")
        fmt = str(p.get("format") or "")
        if fmt not in RECORD_FORMATS:
            raise AriError(422, "specified format is unknown on this system")
        if_exists = str(p.get("ifExists") or "fail")
        if if_exists not in ("fail", "overwrite", "append"):
            raise AriError(400, "ifExists invalid")
        max_d = _int(p.get("maxDurationSeconds"), 0)
        if max_d < 0:
            raise AriError(400, "max_duration_seconds cannot be negative")
        if _int(p.get("maxSilenceSeconds"), 0) < 0:
            raise AriError(400, "max_silence_seconds cannot be negative")
        if name in self.media.live or (if_exists == "fail" and self.media.stored_path(name) is not None):
            raise AriError(409, f"Recording '{name}' already exists and can not be overwritten")
        return str(name), fmt, float(max_d)

    async def channel_record(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        ch = self.world.channel(ids["channelId"], stasis=True)
        name, fmt, max_d = self._record_checks(p)
        fail = "Cannot record channel while in bridge" if ch.bridge_id else None
        rec = self.media.record(f"channel:{ch.id}", name, fmt, max_d, fail)
        if not fail:
            ch.recording = name
        return json_response(rec.to_json(), 201, {"Location": f"/ari/recordings/live/{name}"})

    async def bridge_record(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        br = self.world.bridge(ids["bridgeId"])
        name, fmt, max_d = self._record_checks(p)
        br.recording = name
        br.extra_members += 1  # the Recorder channel joins: simple_bridge becomes softmix (item 10)
        self.world.bridgepeer_noise(br, extra=f"Recorder/ARI-{self.world.seq('ARI')};2")
        rec = self.media.record(f"bridge:{br.id}", name, fmt, max_d)
        await self.world.hub.drain()
        return json_response(rec.to_json(), 201, {"Location": f"/ari/recordings/live/{name}"})

    # ---- variables --------------------------------------------------------------------------------
    async def var_get(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        ch = self.world.channel(ids["channelId"], missing="Provided channel was not found")
        name = p.get("variable")
        if not name:
            raise AriError(400, "Variable name is required")
        if "(" in name:
            funcs = {
                "CALLERID(num)": ch.caller_number, "CALLERID(name)": ch.caller_name,
                "CALLERID(all)": f'"{ch.caller_name}" <{ch.caller_number}>',
                "CONNECTEDLINE(num)": ch.connected_number, "CONNECTEDLINE(name)": ch.connected_name,
                "CHANNEL(language)": ch.language, "CHANNEL(name)": ch.name, "CHANNEL(state)": ch.state,
                "CHANNEL(uniqueid)": ch.id,
            }
            if name not in funcs:
                raise AriError(500, "Unable to read provided function")
            return json_response({"value": funcs[name]})
        if name not in ch.variables:
            raise AriError(404, "Provided variable was not found")
        return json_response({"value": ch.variables[name]})

    async def var_set(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        ch = self.world.channel(ids["channelId"], stasis=True)
        name = p.get("variable")
        if not name:
            raise AriError(400, "Variable name is required")
        value = str(p.get("value") if p.get("value") is not None else "")
        if name == "CHANNEL(language)":
            ch.language = value
        elif name == "CALLERID(name)":
            ch.caller_name = value
        elif name == "CALLERID(num)":
            ch.caller_number = value
        elif value:
            ch.variables[name] = value
        else:
            ch.variables.pop(name, None)  # no value unsets (``var_set_no_value``)
        if "(" not in name:
            self.world.varset(ch, name, value)
        return json_response(None, 204)

    async def snoop(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        target = self.world.channel(ids["channelId"], missing="Provided channel was not found")
        if "snoopId" in ids:
            p["snoopId"] = ids["snoopId"]
        return json_response(self.dialer.snoop(target, p).to_json())

    # ---- bridges ----------------------------------------------------------------------------------
    async def bridges_list(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response([b.to_json() for b in self.world.bridges.values()])

    async def bridge_get(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response(self.world.bridge(ids["bridgeId"]).to_json())

    async def bridge_create(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        bid = ids.get("bridgeId") or p.get("bridgeId")
        br = self.world.create_bridge(bid, p.get("type"), str(p.get("name") or ""))
        return json_response(br.to_json())

    async def bridge_destroy(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self.world.destroy_bridge(self.world.bridge(ids["bridgeId"]))
        await self.world.hub.drain()
        return json_response(None, 204)

    def _members(self, p: Params) -> list[Channel]:
        raw = p.get("channel")
        if not raw:
            raise AriError(400, "Missing parameter channel")
        names = raw if isinstance(raw, list) else str(raw).split(",")
        chans = []
        for cid in names:
            ch = self.world.channels.get(str(cid).strip())
            if ch is None or ch.gone:
                raise AriError(400, "Channel not found")
            chans.append(ch)
        for ch in chans:
            if not ch.in_stasis:
                raise AriError(422, "Channel not in Stasis application")
        return chans

    async def bridge_add(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        br = self.world.bridge(ids["bridgeId"])
        chans = self._members(p)
        for ch in chans:
            if self.world.is_recording(ch):
                raise AriError(409, f"Channel {ch.id} currently recording")
        for ch in chans:
            self.world.join_bridge(br, ch)
        await self.world.hub.drain()  # item 6: the events come before the 204
        return json_response(None, 204)

    async def bridge_remove(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        br = self.world.bridge(ids["bridgeId"])
        chans = self._members(p)
        for ch in chans:
            if ch.id not in br.channels:
                raise AriError(422, "Channel not in this bridge")
        for ch in chans:
            self.world.leave_bridge(br, ch)
        await self.world.hub.drain()
        return json_response(None, 204)

    async def bridge_moh(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        br = self.world.bridge(ids["bridgeId"])
        if not br.moh:
            br.moh = True
            if br.bridge_type != "holding":
                br.extra_members += 1
                self.world.bridgepeer_noise(br, extra=f"Announcer/ARI_MOH-{self.world.seq('ARI')};2")
        return json_response(None, 204)

    async def bridge_moh_stop(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        br = self.world.bridge(ids["bridgeId"])
        if not br.moh:
            raise AriError(409, "Bridge isn't playing music")
        br.moh = False
        if br.bridge_type != "holding":
            br.extra_members = max(0, br.extra_members - 1)
            self.world.bridgepeer_noise(br)
        return json_response(None, 204)

    # ---- playbacks --------------------------------------------------------------------------------
    def _playback(self, pid: str) -> Any:
        pb = self.media.playbacks.get(pid)
        if pb is None:
            raise AriError(404, "Playback not found")
        return pb

    async def playback_get(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response(self._playback(ids["playbackId"]).to_json())

    async def playback_stop(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self.media.stop(self._playback(ids["playbackId"]))
        return json_response(None, 204)

    async def playback_control(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        pb = self._playback(ids["playbackId"])
        op = p.get("operation")
        if not op:
            raise AriError(400, "Missing operation")
        if op not in ("pause", "unpause", "restart", "reverse", "forward"):
            raise AriError(400, f"Invalid operation {op}")
        self.media.control(pb, op)
        await self.world.hub.drain()
        return json_response(None, 204)

    # ---- recordings -------------------------------------------------------------------------------
    async def stored_list(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response(self.media.stored())

    def _stored(self, name: str) -> Any:
        path = self.media.stored_path(name)
        if path is None:
            raise AriError(404, "Recording not found")
        return path

    async def stored_get(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        path = self._stored(ids["recordingName"])
        return json_response({"name": ids["recordingName"], "format": path.suffix.lstrip(".")})

    async def stored_delete(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self._stored(ids["recordingName"]).unlink()
        return json_response(None, 204)

    async def stored_file(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        path = self._stored(ids["recordingName"])
        ctype = "audio/wav" if path.suffix == ".wav" else "application/octet-stream"
        return web.Response(body=path.read_bytes(), content_type=ctype)

    def _live(self, name: str) -> Any:
        rec = self.media.live.get(name)
        if rec is None:
            raise AriError(404, "Recording not found")
        return rec

    async def live_get(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response(self._live(ids["recordingName"]).to_json())

    async def live_stop(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self._live(ids["recordingName"])
        self.media.stop_recording(ids["recordingName"])
        return json_response(None, 204)

    async def live_cancel(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self._live(ids["recordingName"])
        self.media.stop_recording(ids["recordingName"], cancel=True)
        return json_response(None, 204)

    async def live_noop(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        self._live(ids["recordingName"])
        return json_response(None, 204)

    # ---- endpoints --------------------------------------------------------------------------------
    async def endpoints_list(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response([self.world.endpoint_json(e) for e in self.world.endpoints.values()])

    async def endpoints_tech(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        eps = [e for e in self.world.endpoints.values() if e.technology == ids["tech"]]
        if not eps:
            raise AriError(404, f"No Endpoints found - invalid tech {ids['tech']}")
        return json_response([self.world.endpoint_json(e) for e in eps])

    async def endpoint_get(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        ep = self.world.endpoints.get(f"{ids['tech']}/{ids['resource']}")
        if ep is None:
            raise AriError(404, "Endpoint not found")
        return json_response(self.world.endpoint_json(ep))

    async def device_states(self, r: web.Request, ids: dict[str, str], p: Params) -> web.Response:
        return json_response([])
