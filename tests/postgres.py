"""Fresh PostgreSQL databases for tests, on the server ``RUNYARD_TEST_POSTGRES_URI`` names.

Tests take the ``postgres_uri`` fixtures of tests/conftest.py; code that needs a database outside
a fixture (a parametrised store, a session-wide server) uses ``fresh_postgres_database``. When
the server cannot be reached the test is skipped (or fails when ``RUNYARD_REQUIRE`` lists
``postgres``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

from tests.requirements import require

DEFAULT_TEST_POSTGRES_URI = "postgresql://runyard:runyard@127.0.0.1:5432/runyard"


def _server_uri() -> str:
    # Test-only setting: it names the server the suite may create databases on.
    return os.environ.get("RUNYARD_TEST_POSTGRES_URI", DEFAULT_TEST_POSTGRES_URI)


def _admin_connection(server_uri: str):  # type: ignore[no-untyped-def]
    import psycopg2
    from sqlalchemy.engine import make_url

    url = make_url(server_uri)
    conn = psycopg2.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname=url.database or "postgres",
        connect_timeout=3,
    )
    conn.autocommit = True
    return conn


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create ``rt_<random>`` on the test server, yield its URI, drop it afterwards."""
    from sqlalchemy.engine import make_url

    server_uri = _server_uri()
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        require("postgres", "psycopg2 is not installed")
    try:
        conn = _admin_connection(server_uri)
    except Exception as exc:
        require("postgres", f"PostgreSQL at {make_url(server_uri).host} is unreachable: {exc}")
    name = f"rt_{secrets.token_hex(6)}"
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield make_url(server_uri).set(database=name).render_as_string(hide_password=False)
    finally:
        with contextlib.suppress(Exception), conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
