"""Fixtures shared by every test directory.

``postgres_uri`` gives a brand-new, empty database on the test PostgreSQL server and drops it
afterwards, so tests never see each other's rows. The server comes from
``RUNYARD_TEST_POSTGRES_URI``; when it cannot be reached the test is skipped (or fails when
``RUNYARD_REQUIRE`` lists ``postgres``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import pytest

from tests.ftp_server import FtpServer, start_ftp_server
from tests.gcs_server import GcsServer, start_gcs_server
from tests.requirements import require
from tests.sftp_server import SftpServer, start_sftp_server

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


@pytest.fixture
def postgres_uri() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    with fresh_postgres_database() as uri:
        yield uri


@pytest.fixture(scope="session")
def postgres_session_uri() -> Iterator[str]:
    """A fresh PostgreSQL database shared by a whole test session (create unique names)."""
    with fresh_postgres_database() as uri:
        yield uri


# ---- file servers and object stores for the artifact repositories --------------------------
@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SftpServer]:
    """OpenSSH's sshd with a throwaway host key and test account (tests/sftp_server.py)."""
    with start_sftp_server(tmp_path_factory.mktemp("sftp")) as server:
        yield server


@pytest.fixture(scope="session")
def ftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FtpServer]:
    """vsftpd with explicit TLS and the test account (tests/ftp_server.py)."""
    with start_ftp_server(tmp_path_factory.mktemp("ftp")) as server:
        yield server


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcsServer]:
    """gcp-storage-emulator with the buckets "runyard" and "contract" (tests/gcs_server.py)."""
    with start_gcs_server(tmp_path_factory.mktemp("gcs"), ("runyard", "contract")) as server:
        yield server
