"""Waiting for the database at start: backoff, one clear log line per try, no password shown."""

from __future__ import annotations

import logging

import pytest
from runyard.server.ops.startup import needs_database, wait_for_database

from tests.live_server import free_port


class _Stop(Exception):
    pass


def test_waits_with_doubling_capped_delays_and_says_why() -> None:
    uri = f"postgresql://runyard:s3cret-pw@127.0.0.1:{free_port()}/runyard"
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 6:
            raise _Stop

    # A handler on the logger itself: the server's logging setup stops propagation to root.
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("runyard.server")
    logger.addHandler(handler)
    try:
        with pytest.raises(_Stop):
            wait_for_database(uri, sleep=sleep, first_delay=1, max_delay=8)
    finally:
        logger.removeHandler(handler)
    assert delays == [1, 2, 4, 8, 8, 8]
    lines = [r.getMessage() for r in records]
    assert len(lines) == 6 and all("waiting for the tracking database" in x for x in lines)
    assert "runyard:***@127.0.0.1" in lines[0] and "(try 1," in lines[0]
    assert not any("s3cret-pw" in line for line in lines)


def test_returns_at_once_when_the_database_answers(postgres_uri: str) -> None:
    assert wait_for_database(postgres_uri, sleep=lambda _: pytest.fail("no wait expected")) == 1


@pytest.mark.parametrize(
    ("uri", "waits"),
    [
        ("postgresql://u@h/db", True),
        ("postgres://u@h/db", True),
        ("postgresql+psycopg2://u@h/db", True),
        ("sqlite:///x.db", False),
        ("./mlruns", False),
        ("file:///tmp/mlruns", False),
    ],
)
def test_only_networked_databases_are_waited_for(uri: str, waits: bool) -> None:
    assert needs_database(uri) is waits
