"""Waiting for the tracking database before the server starts.

A server started before its database (a fresh cluster, a database restart) must not exit and
crash-loop: it waits, with backoff and one clear log line per try, and starts serving once the
database answers. While it waits nothing listens, so the pod is neither ready nor live; the
orchestrator's start-up budget (a startup probe) decides how long that may take.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlparse

from runyard.errors import TemporarilyUnavailable

log = logging.getLogger("runyard.server")

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 15.0


def needs_database(uri: str) -> bool:
    """Whether ``uri`` is a networked database worth waiting for (SQLite and files are local)."""
    return urlparse(uri).scheme.lower().startswith("postgres")


@contextlib.contextmanager
def _exit_on_sigterm() -> Iterator[None]:
    """As PID 1 in a container the default SIGTERM action is ignored: stop waiting on it."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_for_database(
    uri: str,
    sleep: Callable[[float], None] = time.sleep,
    first_delay: float = FIRST_DELAY_SECONDS,
    max_delay: float = MAX_DELAY_SECONDS,
) -> int:
    """Block until the database at ``uri`` answers ``SELECT 1``; return the number of tries.

    Only an unreachable or unavailable database is waited for; a malformed URI or a missing
    driver raises at once, since waiting cannot fix it.
    """
    if not needs_database(uri):
        return 0
    from runyard.store.sql.engine import create_engine, translated_errors

    engine = create_engine(uri)
    shown = engine.url.render_as_string(hide_password=True)
    started = time.monotonic()
    delay, attempt = first_delay, 0
    try:
        with _exit_on_sigterm():
            while True:
                attempt += 1
                try:
                    with translated_errors(), engine.connect() as conn:
                        conn.exec_driver_sql("SELECT 1")
                except TemporarilyUnavailable as exc:
                    log.warning(
                        "waiting for the tracking database at %s (try %d, %.0fs so far): %s; "
                        "next try in %.0fs",
                        shown,
                        attempt,
                        time.monotonic() - started,
                        exc.message,
                        delay,
                    )
                    sleep(delay)
                    delay = min(delay * 2, max_delay)
                    continue
                if attempt > 1:
                    log.info(
                        "the tracking database at %s answers after %.0fs; starting",
                        shown,
                        time.monotonic() - started,
                    )
                return attempt
    finally:
        engine.dispose()
