"""One HTTP client for everything that talks to a server: the REST store and the artifact proxy.

Why one place: timeouts, auth and retries must behave the same for a metric and for a file.
Retries use exponential backoff with full jitter (sleep a random time in ``[0, factor * 2**n]``)
so that many clients hitting a restarting server do not come back in lock-step, and they honour
``Retry-After``. Connection errors, 429, 502, 503 and 504 are retried; every runyard write is
safe to replay (the server dedupes identical metric points; the same param value again is fine;
a replayed ``runs/create`` carries the same ``Idempotency-Key`` and gets the first run back).
When retries run out on a connection failure or a 503, ``TemporarilyUnavailable`` is raised so
callers (for example a durable spool) can tell "server away" from "request wrong".
"""

from __future__ import annotations

import email.utils
import io
import json
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from runyard import config, wire_json
from runyard.errors import RunyardError, TemporarilyUnavailable, error_code_for_status

RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Never sleep longer than this between two tries, whatever Retry-After or the backoff says.
MAX_BACKOFF_SECONDS = 60.0
USER_AGENT = "runyard-python-client"
#: Writes of a streamed request body (an uploaded artifact): urllib3's 16 KiB blocks cost an
#: upload through the artifact proxy a fifth more of the client's CPU and of the server's.
BODY_BLOCK_SIZE = 1024 * 1024


class _LargeBlockAdapter(HTTPAdapter):
    """requests' adapter with connections that send a streamed body in ``BODY_BLOCK_SIZE``
    writes."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blocksize", BODY_BLOCK_SIZE)
        super().init_poolmanager(*args, **kwargs)


def backoff_delay(attempt: int, factor: float, rng: Callable[[], float] = random.random) -> float:
    """Full jitter: a uniform sleep in ``[0, factor * 2**attempt]``, capped."""
    return min(MAX_BACKOFF_SECONDS, factor * (2**attempt)) * rng()


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either a number or an HTTP date; None if absent or garbage."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_from_response(response: requests.Response) -> RunyardError:
    """A server's error reply as the matching ``RunyardError`` subclass.

    A JSON body with ``error_code`` keeps its code and message; anything else (an HTML page from
    a proxy, an empty body) is mapped from the HTTP status, with the start of the body shown.
    """
    status = response.status_code
    try:
        body = wire_json.loads(response.content)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error_code"):
        error = RunyardError.from_code(str(body["error_code"]), str(body.get("message", "")))
    else:
        text = (response.text or "")[:500].strip()
        code = error_code_for_status(status)
        error = RunyardError.from_code(
            code,
            f"{response.request.method} {response.url} failed with HTTP {status}"
            + (f": {text}" if text else ""),
        )
    if status == 503 and not isinstance(error, TemporarilyUnavailable):
        return TemporarilyUnavailable(error.message)
    return error


class HttpClient:
    """A ``requests.Session`` bound to a base URL, with runyard's timeouts, auth and retries.

    ``sleep`` and ``session`` can be swapped (tests use a recording sleep). Settings are read
    once, when the client is made.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff_factor: float | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout if timeout is not None else config.get_float("http_timeout")
        retries = config.get_int("http_max_retries") if max_retries is None else max_retries
        self.max_retries = max(0, retries if retries is not None else 7)
        if backoff_factor is None:
            backoff_factor = config.get_float("http_backoff_factor")
        self.backoff_factor = 0.5 if backoff_factor is None else backoff_factor
        self.sleep = sleep
        self.session = session or requests.Session()
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, _LargeBlockAdapter())
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        token = config.get("tracking_token")
        username = config.get("tracking_username")
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        elif username:
            self.session.auth = (username, config.get("tracking_password") or "")

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        retries: int | None = None,
    ) -> requests.Response:
        """Send a request, retrying transient failures; return the final response.

        A ``data`` file object is rewound before each retry; one that cannot be rewound is sent
        once; ``retries`` overrides the configured count. After the last try a connection
        failure or 503 raises ``TemporarilyUnavailable``; other statuses are returned for the
        caller to judge (see ``error_from_response``).
        """
        body = data
        send_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            send_headers.setdefault("Content-Type", "application/json")
        rewind = _rewinder(body)
        retries = self.max_retries if retries is None else retries
        if rewind is None:
            retries = 0
        url = self.url(path)
        attempt = 0
        while True:
            if attempt and rewind is not None:
                rewind()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=body,
                    headers=send_headers,
                    stream=stream,
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= retries:
                    raise TemporarilyUnavailable(
                        f"{method} {url} failed after {attempt + 1} tries: {exc}"
                    ) from exc
                self.sleep(backoff_delay(attempt, self.backoff_factor))
                attempt += 1
                continue
            if response.status_code not in RETRY_STATUSES or attempt >= retries:
                if response.status_code == 503 and attempt >= retries:
                    error = error_from_response(response)
                    response.close()
                    raise error
                return response
            delay = retry_after_seconds(response.headers.get("Retry-After"))
            if delay is None:
                delay = backoff_delay(attempt, self.backoff_factor)
            response.close()
            self.sleep(min(delay, MAX_BACKOFF_SECONDS))
            attempt += 1

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A JSON API call: the parsed body of a 2xx reply (``{}`` for an empty one), else the
        server's error raised as a ``RunyardError``."""
        response = self.request(method, path, **kwargs)
        if not response.ok:
            raise error_from_response(response)
        if not response.content:
            return {}
        try:
            payload = wire_json.loads(response.content)
        except ValueError as exc:
            raise RunyardError(
                f"{method} {response.url} returned a body that is not JSON: {response.text[:200]!r}"
            ) from exc
        return payload if isinstance(payload, dict) else {}

    def close(self) -> None:
        self.session.close()


def _rewinder(body: Any) -> Callable[[], None] | None:
    """How to resend ``body``: nothing to do for bytes, seek back for a seekable file, and None
    (no retry) for a one-shot stream or generator."""
    if body is None or isinstance(body, (bytes, bytearray, str, dict)):
        return lambda: None
    if isinstance(body, io.IOBase) or hasattr(body, "seek"):
        try:
            start = body.tell()
        except (OSError, ValueError, AttributeError):
            return None
        if getattr(body, "seekable", lambda: True)():
            return lambda: body.seek(start)
    return None


__all__ = [
    "RETRY_STATUSES",
    "HttpClient",
    "backoff_delay",
    "error_from_response",
    "retry_after_seconds",
]
