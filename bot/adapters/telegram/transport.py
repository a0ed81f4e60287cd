"""python-telegram-bot's HTTP calls made with aiohttp instead of httpx.

Sending was most of what a reply cost: for every request httpx/httpcore walk their whole connection pool
asking each connection whether it expired (about half the CPU of a bare PTB bot on a busy pool). aiohttp,
already our web server's library, keeps idle connections in a plain list and parses HTTP in C. PTB needs
only (status, body) back and turns statuses into its own errors; failures here become its `TimedOut` and
`NetworkError`, so the adapter's retry and error mapping see exactly what they saw with httpx. Their
messages never carry the request URL: it holds the bot token.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_TOKEN_IN_URL = re.compile(r"/bot[^/\s]+")


class AiohttpRequest(BaseRequest):
    """One aiohttp session per PTB request object: opened by `initialize`, closed by `shutdown`.

    Timeouts mean what PTB's mean: `read` for the answer (getUpdates passes its long-poll time plus a
    margin), `connect` for the connection; aiohttp has no write timeout, so the whole exchange is also
    bounded by their sum plus `write`.
    """

    def __init__(
        self,
        *,
        connection_pool_size: int,
        read_timeout: float | None,
        write_timeout: float | None,
        connect_timeout: float | None = 5.0,
        trust_env: bool = True,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._trust_env = trust_env  # HTTPS_PROXY and NO_PROXY, as httpx honoured them
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                trust_env=self._trust_env,
                headers={"User-Agent": self.USER_AGENT},
                raise_for_status=False,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("this AiohttpRequest is not initialized")
        read = _given(read_timeout, self._read_timeout)
        write = _given(write_timeout, self._write_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        parts = (read, write, connect)
        total = None if any(part is None for part in parts) else sum(part for part in parts if part is not None)
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout, allow_redirects=False
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's own timeouts are TimeoutErrors too
            raise TimedOut(_describe(error)) from None
        except aiohttp.ClientError as error:
            raise NetworkError(_describe(error)) from None


_DEFAULT = type(BaseRequest.DEFAULT_NONE)  # PTB's "not given" marker, whose class is private


def _given(value: Any, default: float | None) -> float | None:
    """A timeout PTB passed, or ours when it passed its "not given" marker."""
    return default if isinstance(value, _DEFAULT) else value


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """Form fields, as PTB sends them with httpx; multipart once there is a file (a picture, an export)."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields or None
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def _describe(error: BaseException) -> str:
    """The error's kind and text for logs, with any Bot API path (and so the token) cut out."""
    text = _TOKEN_IN_URL.sub("/bot[redacted]", str(error))
    return f"aiohttp.{type(error).__name__}: {text}" if text else f"aiohttp.{type(error).__name__}"


__all__ = ["AiohttpRequest"]
