"""The test session's own home directory, so no test reads or writes the user's.

runyard keeps state under ``~`` (the offline spool in ``~/.runyard/spool``) and reads
credentials from it (``~/.netrc``, ``~/.ssh``); servers and commands the tests start inherit the
environment. Pointing ``HOME`` at a fresh directory before any test module is imported keeps all
of them away from the real one. Tools that keep large caches or their own configuration under
home (Playwright's browsers, Docker's CLI configuration) are pointed back at theirs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_REAL_HOME_KEY = "RUNYARD_TEST_REAL_HOME"


def enter_session_home() -> Path:
    """Make a temporary home, point ``HOME`` (and the caches that must survive) at it."""
    real = Path(os.environ.get(_REAL_HOME_KEY) or os.path.expanduser("~"))
    os.environ[_REAL_HOME_KEY] = str(real)
    home = Path(tempfile.mkdtemp(prefix="runyard-test-home-"))
    browsers = real / ".cache" / "ms-playwright"
    if browsers.is_dir():
        os.environ.setdefault("PLAYWRIGHT_BROWSERS_PATH", str(browsers))
    docker = real / ".docker"
    if docker.is_dir():
        os.environ.setdefault("DOCKER_CONFIG", str(docker))
    os.environ["HOME"] = str(home)
    os.environ.pop("RUNYARD_SPOOL_DIR", None)  # the default now lies under the session home
    return home


def leave_session_home(home: Path) -> None:
    os.environ["HOME"] = os.environ.get(_REAL_HOME_KEY, os.environ["HOME"])
    shutil.rmtree(home, ignore_errors=True)


def real_home() -> Path:
    """The user's home directory, which tests must leave alone."""
    return Path(os.environ[_REAL_HOME_KEY])
