"""No test reads or writes the user's home directory: the session has its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runyard import config
from runyard.store.spool.spool import default_spool_dir

from tests.home_guard import real_home


def test_home_is_the_sessions_own() -> None:
    home = Path(os.path.expanduser("~"))
    assert home != real_home()
    assert home.name.startswith("runyard-test-home-")


def test_runyard_state_and_credentials_resolve_under_the_session_home() -> None:
    home = Path(os.path.expanduser("~"))
    for path in (
        default_spool_dir(),
        config.get_path("netrc"),
        config.get_path("sftp_ssh_config"),
        config.get_path("sftp_known_hosts"),
    ):
        assert Path(path).is_relative_to(home), path


def test_commands_the_tests_start_inherit_it() -> None:
    shown = subprocess.run(
        [sys.executable, "-c", "import os; print(os.path.expanduser('~'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(shown) == Path(os.path.expanduser("~")) != real_home()
