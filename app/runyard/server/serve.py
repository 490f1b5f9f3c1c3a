"""Running the server: gunicorn (gthread workers) in production, Flask's server with ``--dev``.

Gunicorn is embedded through ``BaseApplication`` so ``runyard server`` is one process tree with
no config file. Each worker builds its own app (and so its own database pool) after the fork.
On SIGTERM gunicorn stops accepting connections and gives in-flight requests
``graceful_timeout`` seconds to finish, which is what a Kubernetes rolling update needs.
"""

from __future__ import annotations

import gc
import shlex
import ssl
from collections.abc import Mapping
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker

from runyard.errors import InvalidParameterValue
from runyard.server import chunk_framing
from runyard.server.chunked_body import MALFORMED
from runyard.server.limits import GUNICORN_LIMIT_REQUEST_LINE
from runyard.server.settings import ServerConfig
from runyard.server.socket_body import limit_idle_reads, limit_idle_writes
from runyard.store import is_sql_uri


class DrainingThreadWorker(ThreadWorker):
    """gthread, but on SIGTERM idle keep-alive connections are closed at once, and a request
    already read ahead is answered at once. Chunked answers go out without a copy of each
    chunk (``chunk_framing``).

    Stock gthread waits up to ``graceful_timeout`` for idle connections although no request is
    in flight, so every rolling update would stall for the whole grace period. And it puts a
    kept-alive connection back in its poller even when the client's next request (pipelined
    behind the last one) already sits in the parser's buffer: the socket then never becomes
    readable, and the connection is closed at its keep-alive timeout with that request
    unanswered.
    """

    #: Seconds a read waits for the client (``client_timeout``), set before the workers start.
    client_timeout: float = 120.0

    def init_process(self) -> None:
        chunk_framing.install()  # before gunicorn's own setup, which ends by serving
        super().init_process()

    def handle(self, conn: Any) -> Any:
        if type(conn) is TConn:
            conn.__class__ = IdleLimitedConn
            conn.idle_seconds = self.client_timeout
        return super().handle(conn)

    def handle_request(self, req: Any, conn: Any) -> bool:
        try:
            return bool(super().handle_request(req, conn))
        except (BlockingIOError, ssl.SSLWantWriteError):
            # the client took nothing of the answer for client_timeout seconds: let it go
            # quietly, as one that hung up
            return False

    def _keepalive_after(self, conn: Any, keepalive: bool) -> bool:
        try:
            return bool(super()._keepalive_after(conn, keepalive))
        except MALFORMED as error:
            # The answer is out; the rest of the body cannot be framed, so neither can a next
            # request behind it. Close, as for a client that hung up, without a traceback.
            self.log.debug("Closing after a malformed chunked body: %s", error)
            return False

    def finish_request(self, conn: Any, fs: Any) -> None:
        if self.alive and _kept_alive(fs) and _read_ahead(conn):
            self.enqueue_req(conn)
            return
        super().finish_request(conn, fs)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if not self.alive:
            for conn in (*self.keepalived_conns, *self.pending_conns):
                conn.timeout = 0
            self.murder_keepalived()
            self.murder_pending()
            timeout = min(timeout, 0.2)
        super().wait_for_and_dispatch_events(timeout)


class IdleLimitedConn(TConn):
    """gthread's connection, whose HTTP/1 reads wait at most ``idle_seconds`` for the client
    to send, and whose writes at most as long for it to take more of the answer."""

    idle_seconds: float

    def init(self) -> None:
        fresh = self.parser is None
        super().init()
        if fresh:
            limit_idle_reads(self.parser, self.idle_seconds)
            limit_idle_writes(self.sock, self.idle_seconds)


def _kept_alive(fs: Any) -> bool:
    """Whether a finished request left its connection open for the next one."""
    return not fs.cancelled() and fs.exception() is None and fs.result() is True


def _read_ahead(conn: Any) -> bool:
    """Whether bytes of the connection's next request are already in the parser's buffer."""
    unreader = getattr(conn.parser, "unreader", None)
    buffer = getattr(unreader, "buf", None)
    return buffer is not None and buffer.getbuffer().nbytes > 0


def bind_address(host: str, port: int) -> str:
    """``host:port`` for gunicorn, with brackets around an IPv6 literal."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def gunicorn_options(cfg: ServerConfig) -> dict[str, Any]:
    return {
        "bind": [bind_address(cfg.host, cfg.port)],
        "workers": cfg.workers,
        "worker_class": "runyard.server.serve.DrainingThreadWorker",
        "threads": cfg.threads,
        "graceful_timeout": cfg.graceful_timeout,
        "timeout": cfg.gunicorn_timeout,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": cfg.log_level.lower(),
        "proc_name": "runyard-server",
        "preload_app": False,
        "control_socket_disable": True,
        "limit_request_line": GUNICORN_LIMIT_REQUEST_LINE,
    }


def settle_heap() -> None:
    """Move everything the worker built at start-up out of the garbage collector's sight.

    Loading the app leaves hundreds of thousands of long-lived objects (modules, SQLAlchemy
    metadata); every full collection would scan them again while a large response is being
    built. A higher first-generation threshold means fewer collections while a 1000-run page
    allocates its dicts; reference counting still frees them as soon as the response is sent.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def check_artifact_locations(cfg: ServerConfig) -> None:
    """Refuse, before any worker starts, an artifact location whose scheme is unknown or not
    supported yet, or whose optional package is missing (the error says what to install)."""
    from runyard.artifacts import repo_for_uri

    if cfg.serve_artifacts:
        repo_for_uri(cfg.artifacts_destination)
    if cfg.default_artifact_root:
        repo_for_uri(cfg.default_artifact_root)


def run_gunicorn(overrides: Mapping[str, object | None]) -> None:
    """Serve ``create_app(overrides)`` with gunicorn until it is told to stop."""
    from gunicorn.app.base import BaseApplication

    from runyard.server.ops.logs import configure_logging
    from runyard.server.ops.startup import wait_for_database

    cfg = ServerConfig.resolve(overrides)
    check_artifact_locations(cfg)
    settings = dict(overrides)
    configure_logging(cfg.json_logs, cfg.log_level)
    wait_for_database(cfg.backend_store_uri)
    if is_sql_uri(cfg.backend_store_uri):
        from runyard.store.sql.migrate import refuse_unknown_schema

        refuse_unknown_schema(cfg.backend_store_uri)

    class RunyardApplication(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_options(cfg).items():
                self.cfg.set(key, value)
            if cfg.gunicorn_opts:
                self._apply_extra(shlex.split(cfg.gunicorn_opts))

        def _apply_extra(self, argv: list[str]) -> None:
            parser = self.cfg.parser()
            try:
                parsed = parser.parse_args(argv)
            except SystemExit:
                raise InvalidParameterValue(
                    f"Invalid --gunicorn-opts {cfg.gunicorn_opts!r}"
                ) from None
            for key, value in vars(parsed).items():
                if value is not None and key in self.cfg.settings and key != "args":
                    self.cfg.set(key.lower(), value)

        def load(self) -> Any:
            from runyard.server.app import create_app
            from runyard.server.chunked_body import check_chunked_bodies
            from runyard.server.socket_body import read_bodies_from_socket

            app = create_app(settings)
            bodies = read_bodies_from_socket(check_chunked_bodies(app.wsgi_app))
            app.wsgi_app = bodies  # type: ignore[method-assign]
            settle_heap()
            return app

    DrainingThreadWorker.client_timeout = cfg.client_timeout  # the workers fork after this
    RunyardApplication().run()


def run_dev(overrides: Mapping[str, object | None]) -> None:
    """Flask's development server: one process, reloader off, for local debugging only."""
    from runyard.server.app import create_app

    cfg = ServerConfig.resolve(overrides)
    check_artifact_locations(cfg)
    app = create_app(dict(overrides))
    app.run(host=cfg.host, port=cfg.port, threaded=True, use_reloader=False)
