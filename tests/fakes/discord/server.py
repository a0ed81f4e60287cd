"""Loopback fake of Discord's gateway (WebSocket) and REST API v10, good enough for the real discord.py 2.7.

One aiohttp app on 127.0.0.1 serves both: the gateway on ``/`` (and ``/resume``, advertised as
``resume_gateway_url`` so tests can see that discord.py resumes there) and REST under ``/api/v10``.
Everything received is recorded (``rest_calls``, ``gateway_frames``) and tests wait on it with event-driven
helpers instead of sleeping.  Point discord.py at it with
``bot.adapters.discord.endpoints.configure_discord_endpoints(server.api_url, server.gateway_url)``.
"""

# The wait_for_* helpers deliberately take ``timeout=`` (the test-facing API); ASYNC109 prefers callers
# wrapping them in asyncio.timeout, which would lose the diagnostic message listing what was recorded.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from . import payloads
from .payloads import JSON

__all__ = ["API_PREFIX", "FakeDiscordServer", "GatewayConnection", "GatewayFrame", "RestCall", "UploadedFile"]

API_PREFIX = "/api/v10"
EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7
T = TypeVar("T")
CALL_KEY: web.RequestKey[RestCall]

# Interaction callback types (Discord developer docs, "Receiving and Responding").
CB_PONG = 1
CB_CHANNEL_MESSAGE = 4
CB_DEFERRED_CHANNEL_MESSAGE = 5
CB_DEFERRED_UPDATE_MESSAGE = 6
CB_UPDATE_MESSAGE = 7

# Gateway opcodes.
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11


@dataclass(slots=True)
class UploadedFile:
    """One ``files[n]`` part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class RestCall:
    """A REST request as received.

    ``path`` is relative to ``/api/v10``; ``json`` is the parsed body (``payload_json`` for multipart);
    ``response`` is the JSON the fake answered with (None for 204).
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    headers: dict[str, str]
    status: int = 0
    response: Any = None


CALL_KEY = web.RequestKey("fake_discord_call", RestCall)


@dataclass(slots=True)
class GatewayFrame:
    """A gateway payload received from the client, tagged with the connection index it arrived on."""

    op: int
    d: Any
    connection: int


@dataclass(eq=False)
class GatewayConnection:
    """One WebSocket connection; ``path`` tells ``/`` (fresh connect) from ``/resume``."""

    index: int
    path: str
    query: dict[str, str]
    ws: web.WebSocketResponse
    request: web.Request
    compressor: Any = None
    session: _Session | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sent: list[JSON] = field(default_factory=list)

    async def send(self, frame: JSON) -> bool:
        """Send one payload (zlib-stream compressed when negotiated); False if the socket is gone."""
        text = json.dumps(frame)
        async with self.send_lock:
            if self.ws.closed:
                return False
            try:
                if self.compressor is not None:
                    data = self.compressor.compress(text.encode()) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return False
        self.sent.append(frame)
        return True


@dataclass(eq=False)
class _Session:
    session_id: str
    identify: JSON
    seq: int = 0
    events: list[JSON] = field(default_factory=list)
    connection: GatewayConnection | None = None


@dataclass(eq=False)
class _Interaction:
    payload: JSON
    acknowledged: bool = False
    callback_type: int | None = None
    original_message_id: str | None = None

    @property
    def invoker(self) -> JSON:
        return self.payload["member"]["user"] if "member" in self.payload else self.payload["user"]


@dataclass(eq=False)
class _Waiter:
    check: Callable[[], Any]
    future: asyncio.Future[Any]


def _json_response(data: Any, status: int = 200) -> web.Response:
    """discord.py only parses bodies whose Content-Type is exactly ``application/json`` (no charset)."""
    return web.Response(status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


def _error(status: int, message: str, code: int = 0) -> web.Response:
    return _json_response({"message": message, "code": code}, status=status)


def _assign_component_ids(components: list[JSON], start: int = 1) -> int:
    """Discord numbers every component; discord.py sends none."""
    next_id = start
    for component in components:
        component.setdefault("id", next_id)
        next_id = max(next_id, int(component["id"])) + 1
        if isinstance(component.get("components"), list):
            next_id = _assign_component_ids(component["components"], next_id)
    return next_id


class FakeDiscordServer:
    """Discord gateway + REST fake for end-to-end tests of discord.py clients.

    ``async with FakeDiscordServer(token="tkn", guilds=[payloads.guild(...)]) as server:`` then
    ``configure_discord_endpoints(server.api_url, server.gateway_url)``.  ``guilds=None`` creates one
    default guild with a #general channel; the bot's member and managed role are added to every guild.
    """

    def __init__(
        self,
        *,
        token: str = "tkn",
        guilds: Sequence[JSON] | None = None,
        heartbeat_interval_ms: int = 1000,
        bot_username: str = "StudyBuddy",
        application_id: str | None = None,
        honour_compression: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.honour_compression = honour_compression
        self.host = host
        self.application_id = application_id or payloads.snowflake()
        self.bot_user: JSON = payloads.bot_user(user_id=self.application_id, username=bot_username)
        self.owner_user: JSON = payloads.user(username="owner", global_name="Owner")
        raw_guilds = [payloads.guild(owner_id=self.owner_user["id"])] if guilds is None else list(guilds)
        self.guilds: list[JSON] = [self._with_bot_member(g) for g in raw_guilds]
        self.channels: dict[str, JSON] = {c["id"]: c for g in self.guilds for c in g["channels"]}
        self.dm_channels: dict[str, JSON] = {}
        self.messages: dict[str, JSON] = {}
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[str, list[JSON]] = {}
        self.interactions: dict[str, _Interaction] = {}

        self.rest_calls: list[RestCall] = []
        self.gateway_frames: list[GatewayFrame] = []
        self.connections: list[GatewayConnection] = []
        self.ready_payloads: list[JSON] = []
        self.sessions: dict[str, _Session] = {}
        self._session: _Session | None = None
        self._waiters: list[_Waiter] = []
        self._runner: web.AppRunner | None = None
        self._port = 0
        self.rejected_429 = 0
        self._rate_per_second: float | None = None
        self._rate_window: deque[float] = deque()

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeDiscordServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Bind to a free port on 127.0.0.1."""
        app = web.Application(middlewares=[self._rest_middleware])
        app.router.add_get("/", self._gateway)
        app.router.add_get("/resume", self._gateway)
        self._add_rest_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self._port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Close open gateway sockets (1001) and stop listening; idempotent."""
        for conn in self.connections:
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.ws.close(code=1001, message=b"fake shutting down"), 2)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.cancel()

    @property
    def port(self) -> int:
        return self._port

    @property
    def api_url(self) -> str:
        """Server root; discord.py requests land on ``{api_url}/api/v10/...``."""
        return f"http://{self.host}:{self._port}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self._port}/"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://{self.host}:{self._port}/resume"

    @property
    def current_connection(self) -> GatewayConnection | None:
        return self.connections[-1] if self.connections else None

    # ----------------------------------------------------------------- waiting

    def _poke(self) -> None:
        for waiter in list(self._waiters):
            if waiter.future.done():
                self._waiters.remove(waiter)
                continue
            result = waiter.check()
            if result is not None:
                waiter.future.set_result(result)
                self._waiters.remove(waiter)

    async def _wait(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        result = check()
        if result is not None:
            return result
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(check, future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            seen = [f"{c.method} {c.path} -> {c.status}" for c in self.rest_calls]
            ops = [f.op for f in self.gateway_frames]
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}; REST: {seen}; ops: {ops}") from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def rest(self, method: str, path_prefix: str = "") -> list[RestCall]:
        """Recorded calls matching ``method`` and a path prefix (relative to ``/api/v10``)."""
        return [c for c in self.rest_calls if c.method == method.upper() and c.path.startswith(path_prefix)]

    async def wait_for_rest(
        self, method: str, path_prefix: str = "", count: int = 1, timeout: float = 5.0
    ) -> list[RestCall]:
        """Wait until at least ``count`` matching calls were *answered* in total; returns all matches."""

        def check() -> list[RestCall] | None:
            calls = self.rest(method, path_prefix)
            return calls if len(calls) >= count else None

        return await self._wait(check, timeout, f"{count}x {method} {path_prefix}")

    async def wait_for_callback(self, interaction: JSON, timeout: float = 5.0) -> RestCall:
        """The initial-response POST for one interaction payload sent via :meth:`send_interaction`."""
        calls = await self.wait_for_rest("POST", f"/interactions/{interaction['id']}/", timeout=timeout)
        return calls[0]

    async def wait_for_gateway_op(self, op: int, count: int = 1, timeout: float = 5.0) -> list[GatewayFrame]:
        """Wait until ``count`` frames with opcode ``op`` were received in total."""

        def check() -> list[GatewayFrame] | None:
            frames = [f for f in self.gateway_frames if f.op == op]
            return frames if len(frames) >= count else None

        return await self._wait(check, timeout, f"{count}x gateway op {op}")

    async def wait_for_identify(self, count: int = 1, timeout: float = 5.0) -> JSON:
        """The ``d`` of the ``count``-th IDENTIFY (has ``intents``, ``properties``, ``token``)."""
        frames = await self.wait_for_gateway_op(OP_IDENTIFY, count, timeout)
        return frames[count - 1].d

    async def wait_for_resume(self, count: int = 1, timeout: float = 5.0) -> JSON:
        """The ``d`` of the ``count``-th RESUME (``session_id``, ``seq``, ``token``)."""
        frames = await self.wait_for_gateway_op(OP_RESUME, count, timeout)
        return frames[count - 1].d

    async def wait_for_ready_sent(self, count: int = 1, timeout: float = 5.0) -> JSON:
        """Wait until READY and all GUILD_CREATEs of the ``count``-th session were sent; returns READY's d."""

        def check() -> JSON | None:
            return self.ready_payloads[count - 1] if len(self.ready_payloads) >= count else None

        return await self._wait(check, timeout, f"READY #{count}")

    async def wait_for_resumed_sent(self, count: int = 1, timeout: float = 5.0) -> GatewayConnection:
        """Wait until the ``count``-th RESUMED dispatch went out; returns the connection it went out on."""

        def check() -> GatewayConnection | None:
            resumed = [c for c in self.connections for f in c.sent if f.get("t") == "RESUMED"]
            return resumed[count - 1] if len(resumed) >= count else None

        return await self._wait(check, timeout, f"RESUMED #{count}")

    # ----------------------------------------------------------------- gateway control

    async def dispatch(self, event: str, data: JSON) -> int:
        """Send a DISPATCH on the current session; buffered (replayed on RESUME) while disconnected."""
        if self._session is None:
            raise RuntimeError("no gateway session yet; wait_for_ready_sent() first")
        return await self._dispatch(self._session, event, data)

    async def send_interaction(self, payload: JSON) -> JSON:
        """Dispatch INTERACTION_CREATE; the fake then accepts callbacks/webhooks for its id and token."""
        self.interactions[payload["id"]] = _Interaction(payload=payload)
        if "message" in payload:
            self.messages.setdefault(payload["message"]["id"], payload["message"])
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def drop_socket(self, code: int | None = 4000, timeout: float = 5.0) -> GatewayConnection:
        """Close the current gateway socket: with a close ``code`` (4000 = resumable) or abruptly (None)."""
        conn = self.current_connection
        if conn is None or conn.ws.closed:
            raise RuntimeError("no open gateway connection to drop")
        if code is None:
            transport = conn.request.transport
            if transport is not None:
                transport.abort()
        else:
            await conn.ws.close(code=code, message=b"dropped by fake")
        await asyncio.wait_for(conn.closed.wait(), timeout)
        return conn

    async def send_reconnect(self) -> None:
        """Op 7: ask the client to reconnect and resume."""
        conn = self._require_connection()
        await conn.send({"op": OP_RECONNECT, "d": None, "s": None, "t": None})

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Op 9; with ``resumable=False`` the session is forgotten and the client must IDENTIFY again."""
        conn = self._require_connection()
        if not resumable and conn.session is not None:
            self.sessions.pop(conn.session.session_id, None)
        await conn.send({"op": OP_INVALID_SESSION, "d": resumable, "s": None, "t": None})

    def _require_connection(self) -> GatewayConnection:
        conn = self.current_connection
        if conn is None or conn.ws.closed:
            raise RuntimeError("no open gateway connection")
        return conn

    # ----------------------------------------------------------------- gateway internals

    async def _dispatch(self, session: _Session, event: str, data: JSON) -> int:
        session.seq += 1
        frame = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
        session.events.append(frame)
        conn = session.connection
        if conn is not None:
            await conn.send(frame)
        self._poke()
        return session.seq

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        if not ws.can_prepare(request).ok:
            return _error(404, "404: Not Found")
        await ws.prepare(request)
        query = dict(request.query)
        conn = GatewayConnection(index=len(self.connections), path=request.path, query=query, ws=ws, request=request)
        if self.honour_compression and query.get("compress") == "zlib-stream":
            conn.compressor = zlib.compressobj()
        self.connections.append(conn)
        try:
            await conn.send(
                {
                    "op": OP_HELLO,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                    "s": None,
                    "t": None,
                }
            )
            self._poke()
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
        finally:
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            conn.closed.set()
            self._poke()
        return ws

    async def _on_frame(self, conn: GatewayConnection, frame: JSON) -> None:
        op, data = frame.get("op"), frame.get("d")
        self.gateway_frames.append(GatewayFrame(op=op if isinstance(op, int) else -1, d=data, connection=conn.index))
        self._poke()
        if op == OP_HEARTBEAT:
            await conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, data)
        elif op == OP_RESUME:
            await self._resume(conn, data)
        elif op == OP_REQUEST_MEMBERS:
            await self._members_chunk(conn, data)
        elif op in (OP_PRESENCE, OP_VOICE_STATE):
            pass
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, conn: GatewayConnection, data: JSON) -> None:
        if conn.session is not None:
            await conn.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = _Session(session_id=secrets.token_hex(16), identify=data)
        self.sessions[session.session_id] = session
        self._session = session
        session.connection = conn
        conn.session = session
        ready = {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "email": None, "flags": 0},
            "guilds": [{"id": g["id"], "unavailable": True} for g in self.guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "shard": data.get("shard", [0, 1]),
            "application": {"id": self.application_id, "flags": 0},
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "guild_join_requests": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": ["us-east"],
            "_trace": ['["fake-gateway",{"micros":0}]'],
        }
        await self._dispatch(session, "READY", ready)
        for guild_payload in self.guilds:
            await self._dispatch(session, "GUILD_CREATE", copy.deepcopy(guild_payload))
        self.ready_payloads.append(ready)
        self._poke()

    async def _resume(self, conn: GatewayConnection, data: JSON) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.token:
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        previous = session.connection
        session.connection = conn
        conn.session = session
        self._session = session
        if previous is not None and previous is not conn and not previous.ws.closed:
            await previous.ws.close(code=4000, message=b"session resumed elsewhere")
        last_seen = data.get("seq") or 0
        for frame in list(session.events):
            if frame["s"] > last_seen:
                await conn.send(frame)
        await self._dispatch(session, "RESUMED", {"_trace": ['["fake-gateway",{"micros":0}]']})

    async def _members_chunk(self, conn: GatewayConnection, data: JSON) -> None:
        if conn.session is None:
            return
        guild_payload = next((g for g in self.guilds if g["id"] == str(data.get("guild_id"))), None)
        if guild_payload is None:
            return
        chunk = {
            "guild_id": guild_payload["id"],
            "members": guild_payload["members"],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._dispatch(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    def _with_bot_member(self, guild_payload: JSON) -> JSON:
        """Add the bot's managed role and member (Discord always lists the bot itself in GUILD_CREATE)."""
        result = copy.deepcopy(guild_payload)
        if any(m["user"]["id"] == self.bot_user["id"] for m in result["members"]):
            return result
        bot_role = payloads.role(
            name=self.bot_user["username"],
            permissions=payloads.DEFAULT_EVERYONE_PERMISSIONS,
            position=len(result["roles"]),
            managed=True,
            bot_id=self.bot_user["id"],
        )
        result["roles"].append(bot_role)
        result["members"].append(payloads.member(member_user=self.bot_user, roles=[bot_role["id"]]))
        result["member_count"] = len(result["members"])
        return result

    # ----------------------------------------------------------------- REST plumbing

    @web.middleware
    async def _rest_middleware(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        """Record, authenticate and turn aiohttp errors into Discord's JSON error shape."""
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        path = request.path[len(API_PREFIX) :]
        body, files = await self._read_body(request)
        call = RestCall(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=body,
            files=files,
            headers=dict(request.headers),
        )
        request[CALL_KEY] = call
        response: web.StreamResponse
        try:
            if self._needs_bot_auth(path) and request.headers.get("Authorization") != f"Bot {self.token}":
                response = _error(401, "401: Unauthorized")
            elif (limited := self._over_limit(request.method, path)) is not None:
                response = limited
            else:
                response = await handler(request)
        except web.HTTPNotFound:
            response = _error(404, "404: Not Found")
        except web.HTTPMethodNotAllowed:
            response = _error(405, "405: Method Not Allowed")
        call.status = response.status
        if isinstance(response, web.Response) and response.body is not None and response.status != 204:
            with contextlib.suppress(ValueError, TypeError):
                call.response = json.loads(bytes(response.body))  # type: ignore[arg-type]
        self.rest_calls.append(call)
        self._poke()
        return response

    def rate_limit(self, per_second: float | None = 50) -> None:
        """A global sliding 1 s window over message-sending REST calls (channel messages, interaction
        callbacks and follow-ups); excess answers Discord's global 429 with ``retry_after``. None: off."""
        self._rate_per_second = per_second
        self._rate_window.clear()

    def _over_limit(self, method: str, path: str) -> web.Response | None:
        sends = method == "POST" and (path.endswith(("/messages", "/callback")) or path.startswith("/webhooks/"))
        if self._rate_per_second is None or not sends:
            return None
        now = time.monotonic()
        window = self._rate_window
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self._rate_per_second:
            self.rejected_429 += 1
            retry_after = round(window[0] + 1.0 - now, 3)
            body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": True}
            headers = {"Retry-After": str(retry_after), "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
            return web.json_response(body, status=429, headers=headers)
        window.append(now)
        return None

    @staticmethod
    def _needs_bot_auth(path: str) -> bool:
        """Interaction callbacks and interaction webhooks authenticate by their token in the URL."""
        return not (path.startswith("/interactions/") or path.startswith("/webhooks/"))

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if not request.can_read_body:
            return None, []
        if request.content_type == "multipart/form-data":
            body: Any = None
            files: list[UploadedFile] = []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not hasattr(part, "read_chunk"):
                    continue
                raw = await part.read()  # type: ignore[union-attr]
                name = part.name or ""
                if name == "payload_json":
                    body = json.loads(raw)
                else:
                    files.append(
                        UploadedFile(
                            field=name,
                            filename=part.filename or name,  # type: ignore[union-attr]
                            content_type=part.headers.get("Content-Type", "application/octet-stream"),
                            data=bytes(raw),
                        )
                    )
            return body, files
        raw_text = await request.text()
        if not raw_text:
            return None, []
        try:
            return json.loads(raw_text), []
        except json.JSONDecodeError:
            return raw_text, []

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error(404, "404: Not Found")

    def _add_rest_routes(self, app: web.Application) -> None:
        p = API_PREFIX
        add = app.router.add_route
        add("GET", f"{p}/users/@me", self._get_me)
        add("POST", f"{p}/users/@me/channels", self._open_dm)
        add("GET", f"{p}/oauth2/applications/@me", self._get_application)
        add("GET", f"{p}/applications/@me", self._get_application)
        add("GET", f"{p}/gateway", self._get_gateway)
        add("GET", f"{p}/gateway/bot", self._get_gateway_bot)
        for route in (
            f"{p}/applications/{{app_id}}/commands",
            f"{p}/applications/{{app_id}}/guilds/{{guild_id}}/commands",
        ):
            add("GET", route, self._list_commands)
            add("PUT", route, self._overwrite_commands)
            add("POST", route, self._upsert_command)
        add("POST", f"{p}/interactions/{{interaction_id}}/{{token}}/callback", self._interaction_callback)
        add("POST", f"{p}/webhooks/{{app_id}}/{{token}}", self._followup)
        for verb in ("GET", "PATCH", "DELETE"):
            add(verb, f"{p}/webhooks/{{app_id}}/{{token}}/messages/{{message_id}}", self._webhook_message)
        add("GET", f"{p}/channels/{{channel_id}}", self._get_channel)
        add("POST", f"{p}/channels/{{channel_id}}/messages", self._create_message)

    # ----------------------------------------------------------------- REST handlers

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json_response(
            {**self.bot_user, "verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"}
        )

    async def _get_application(self, request: web.Request) -> web.Response:
        return _json_response(
            {
                "id": self.application_id,
                "name": self.bot_user["username"],
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": self.bot_user,
                "owner": self.owner_user,
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(self.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return _json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _open_dm(self, request: web.Request) -> web.Response:
        body = request[CALL_KEY].json or {}
        recipient_id = str(body.get("recipient_id", ""))
        if not recipient_id.isdigit():
            return _error(400, "Invalid Form Body", 50035)
        for channel in self.dm_channels.values():
            if channel["recipients"][0]["id"] == recipient_id:
                return _json_response(channel)
        recipient = self._known_user(recipient_id)
        channel = payloads.dm_channel(recipient=recipient)
        self.dm_channels[channel["id"]] = channel
        self.channels[channel["id"]] = channel
        return _json_response(channel)

    def _known_user(self, user_id: str) -> JSON:
        for guild_payload in self.guilds:
            for m in guild_payload["members"]:
                if m["user"]["id"] == user_id:
                    return m["user"]
        for record in self.interactions.values():
            if record.invoker["id"] == user_id:
                return record.invoker
        return payloads.user(user_id=user_id, username=f"user{user_id[-4:]}", global_name=None)

    def _command_store(self, request: web.Request) -> list[JSON] | web.Response:
        if request.match_info["app_id"] != self.application_id:
            return _error(403, "Missing Access", 50001)
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return self.global_commands
        if all(g["id"] != guild_id for g in self.guilds):
            return _error(403, "Missing Access", 50001)
        return self.guild_commands.setdefault(guild_id, [])

    def _stored_command(self, data: JSON, existing: list[JSON], guild_id: str | None) -> JSON:
        kind = data.get("type", 1)
        previous = next((c for c in existing if c["name"] == data.get("name") and c["type"] == kind), None)
        command: JSON = {
            "id": previous["id"] if previous else payloads.snowflake(),
            "application_id": self.application_id,
            "version": payloads.snowflake(),
            "type": kind,
            "name": data.get("name"),
            "description": data.get("description", ""),
            "options": data.get("options", []),
            "default_member_permissions": data.get("default_member_permissions"),
            "nsfw": data.get("nsfw", False),
            "contexts": data.get("contexts"),
            "integration_types": data.get("integration_types", [0]),
        }
        for key in ("name_localizations", "description_localizations", "dm_permission"):
            if key in data:
                command[key] = data[key]
        if guild_id is not None:
            command["guild_id"] = guild_id
        return command

    async def _list_commands(self, request: web.Request) -> web.Response:
        store = self._command_store(request)
        return store if isinstance(store, web.Response) else _json_response(store)

    async def _overwrite_commands(self, request: web.Request) -> web.Response:
        store = self._command_store(request)
        if isinstance(store, web.Response):
            return store
        body = request[CALL_KEY].json
        if not isinstance(body, list):
            return _error(400, "Invalid Form Body", 50035)
        guild_id = request.match_info.get("guild_id")
        new = [self._stored_command(c, store, guild_id) for c in body]
        store[:] = new
        return _json_response(new)

    async def _upsert_command(self, request: web.Request) -> web.Response:
        store = self._command_store(request)
        if isinstance(store, web.Response):
            return store
        command = self._stored_command(request[CALL_KEY].json or {}, store, request.match_info.get("guild_id"))
        existed = any(c["id"] == command["id"] for c in store)
        store[:] = [c for c in store if c["id"] != command["id"]] + [command]
        return _json_response(command, status=200 if existed else 201)

    def registered_command(self, name: str, guild_id: str | None = None) -> JSON | None:
        """A command stored by the last sync (global, or for ``guild_id``); handy for command ids."""
        store = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, [])
        return next((c for c in store if c["name"] == name), None)

    def _build_message(
        self,
        *,
        channel_id: str,
        body: JSON,
        files: list[UploadedFile],
        existing: JSON | None = None,
        **extra: Any,
    ) -> JSON:
        """A message as Discord would store it from a create/edit request body (JSON or multipart)."""
        uploads = {f.field: f for f in files}
        old_attachments = {str(a["id"]): a for a in (existing or {}).get("attachments", [])}
        attachments: list[JSON] = []
        wanted = body.get("attachments")
        if wanted is None:
            wanted = [{"id": i} for i in range(len(files))] if files else None
        if wanted is None:
            attachments = list(old_attachments.values())
        else:
            for entry in wanted:
                key = str(entry.get("id"))
                if key in old_attachments:
                    attachments.append(old_attachments[key])
                elif (upload := uploads.get(f"files[{key}]")) is not None:
                    attachments.append(
                        payloads.attachment(
                            filename=entry.get("filename") or upload.filename,
                            size=len(upload.data),
                            url_base=self.api_url,
                            content_type=upload.content_type,
                        )
                    )
        components = copy.deepcopy(body.get("components", (existing or {}).get("components", [])))
        _assign_component_ids(components)
        embeds = [{"type": "rich", **e} for e in body.get("embeds", (existing or {}).get("embeds", []))]
        if existing is not None:
            updated = dict(existing)
            if "content" in body:
                updated["content"] = body["content"] or ""
            updated.update(
                attachments=attachments,
                components=components,
                embeds=embeds,
                edited_timestamp=payloads.iso_now(),
            )
            if "flags" in body:
                updated["flags"] = body["flags"]
            return updated
        return payloads.message(
            channel_id=channel_id,
            author=self.bot_user,
            content=body.get("content") or "",
            embeds=embeds,
            components=components,
            attachments=attachments,
            flags=int(body.get("flags") or 0),
            tts=bool(body.get("tts", False)),
            **extra,
        )

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        call: RestCall = request[CALL_KEY]
        record = self.interactions.get(request.match_info["interaction_id"])
        if record is None or record.payload["token"] != request.match_info["token"]:
            return _error(404, "Unknown interaction", 10062)
        if record.acknowledged:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        body = call.json if isinstance(call.json, dict) else {}
        cb_type = body.get("type")
        if not isinstance(cb_type, int):
            return _error(400, "Invalid Form Body", 50035)
        record.acknowledged = True
        record.callback_type = cb_type
        data = body.get("data") or {}
        payload = record.payload
        message: JSON | None = None
        if cb_type in (CB_CHANNEL_MESSAGE, CB_DEFERRED_CHANNEL_MESSAGE):
            if cb_type == CB_DEFERRED_CHANNEL_MESSAGE:
                data = {"content": "", "flags": int(data.get("flags") or 0) | LOADING_FLAG}
            message = self._build_message(
                channel_id=payload["channel_id"],
                body=data,
                files=call.files,
                webhook_id=self.application_id,
                application_id=self.application_id,
                message_type=20 if payload["type"] == payloads.APPLICATION_COMMAND else 0,
                interaction_metadata=self._interaction_metadata(record),
            )
            record.original_message_id = message["id"]
        elif cb_type == CB_UPDATE_MESSAGE and "message" in payload:
            current = self.messages.get(payload["message"]["id"], payload["message"])
            message = self._build_message(
                channel_id=payload["channel_id"], body=data, files=call.files, existing=current
            )
            record.original_message_id = message["id"]
        elif cb_type == CB_DEFERRED_UPDATE_MESSAGE and "message" in payload:
            record.original_message_id = payload["message"]["id"]
        if message is not None:
            self.messages[message["id"]] = message
        if call.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        interaction_info: JSON = {"id": payload["id"], "type": payload["type"]}
        resource: JSON = {"type": cb_type}
        if message is not None:
            interaction_info.update(
                response_message_id=message["id"],
                response_message_loading=cb_type == CB_DEFERRED_CHANNEL_MESSAGE,
                response_message_ephemeral=bool(message["flags"] & EPHEMERAL_FLAG),
            )
            resource["message"] = message
        result: JSON = {"interaction": interaction_info}
        if cb_type != CB_DEFERRED_UPDATE_MESSAGE:
            result["resource"] = resource
        return _json_response(result)

    def _interaction_metadata(self, record: _Interaction) -> JSON:
        payload = record.payload
        metadata: JSON = {
            "id": payload["id"],
            "type": payload["type"],
            "user": record.invoker,
            "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
        }
        if payload["type"] == payloads.APPLICATION_COMMAND:
            metadata["name"] = payload["data"]["name"]
        return metadata

    def _interaction_by_token(self, app_id: str, token: str) -> _Interaction | None:
        if app_id != self.application_id:
            return None
        return next((r for r in self.interactions.values() if r.payload["token"] == token), None)

    async def _followup(self, request: web.Request) -> web.Response:
        call: RestCall = request[CALL_KEY]
        record = self._interaction_by_token(request.match_info["app_id"], request.match_info["token"])
        if record is None or not record.acknowledged:
            return _error(404, "Unknown Webhook", 10015)
        body = call.json if isinstance(call.json, dict) else {}
        message = self._build_message(
            channel_id=record.payload["channel_id"],
            body=body,
            files=call.files,
            webhook_id=self.application_id,
            application_id=self.application_id,
            message_type=20 if record.payload["type"] == payloads.APPLICATION_COMMAND else 0,
            interaction_metadata=self._interaction_metadata(record),
        )
        self.messages[message["id"]] = message
        if call.query.get("wait") in ("1", "true", "True"):
            return _json_response(message)
        return web.Response(status=204)

    async def _webhook_message(self, request: web.Request) -> web.Response:
        call: RestCall = request[CALL_KEY]
        record = self._interaction_by_token(request.match_info["app_id"], request.match_info["token"])
        if record is None:
            return _error(404, "Unknown Webhook", 10015)
        message_id = request.match_info["message_id"]
        if message_id == "@original":
            message_id = record.original_message_id or ""
        message = self.messages.get(message_id)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        if request.method == "DELETE":
            del self.messages[message_id]
            return web.Response(status=204)
        if request.method == "PATCH":
            body = call.json if isinstance(call.json, dict) else {}
            message = self._build_message(
                channel_id=message["channel_id"], body=body, files=call.files, existing=message
            )
            if record.callback_type == CB_DEFERRED_CHANNEL_MESSAGE:
                message["flags"] &= ~LOADING_FLAG
            self.messages[message_id] = message
        return _json_response(message)

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channels.get(request.match_info["channel_id"])
        if channel is None:
            return _error(404, "Unknown Channel", 10003)
        return _json_response(channel)

    async def _create_message(self, request: web.Request) -> web.Response:
        call: RestCall = request[CALL_KEY]
        channel = self.channels.get(request.match_info["channel_id"])
        if channel is None:
            return _error(404, "Unknown Channel", 10003)
        body = call.json if isinstance(call.json, dict) else {}
        if not (body.get("content") or body.get("embeds") or call.files or body.get("components") or body.get("poll")):
            return _error(400, "Cannot send an empty message", 50006)
        message = self._build_message(
            channel_id=channel["id"],
            body=body,
            files=call.files,
            guild_id=channel.get("guild_id"),
            message_type=19 if body.get("message_reference") else 0,
        )
        self.messages[message["id"]] = message
        channel["last_message_id"] = message["id"]
        return _json_response(message)
