"""Fixtures shared by every test directory.

``postgres_uri`` gives a brand-new, empty database on the test PostgreSQL server and drops it
afterwards, so tests never see each other's rows. The server comes from
``RUNYARD_TEST_POSTGRES_URI``; when it cannot be reached the test is skipped (or fails when
``RUNYARD_REQUIRE`` lists ``postgres``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import home_guard
from tests.ftp_server import FtpServer, start_ftp_server
from tests.gcs_server import GcsServer, start_gcs_server
from tests.mlsd_ftp_server import MlsdFtpServer, start_mlsd_ftp_server
from tests.postgres import fresh_postgres_database
from tests.sftp_server import SftpServer, start_sftp_server


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module is imported: the session's own home directory."""
    config._runyard_home = home_guard.enter_session_home()  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    home = getattr(config, "_runyard_home", None)
    if home is not None:
        home_guard.leave_session_home(home)


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
def mlsd_ftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlsdFtpServer]:
    """pyftpdlib, which lists directories with MLSD (tests/mlsd_ftp_server.py)."""
    with start_mlsd_ftp_server(tmp_path_factory.mktemp("mlsd-ftp")) as server:
        yield server


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcsServer]:
    """gcp-storage-emulator with the buckets "runyard" and "contract" (tests/gcs_server.py)."""
    with start_gcs_server(tmp_path_factory.mktemp("gcs"), ("runyard", "contract")) as server:
        yield server
