"""scripts/deploy.sh against stand-in docker, kind and kubectl commands: a failed Job stops the
deploy at once, with the Job's log, instead of waiting out the timeout; the first
administrator's Secret is made once, with a random password that never reaches a command line."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.deploy.manifests import ROOT

FAKE_KUBECTL = """#!/bin/sh
# Records its arguments (and what a Secret is created from); the migration Job has failed, the
# bucket Job has completed; the admin Secret exists when ADMIN_SECRET_EXISTS=1.
echo "$*" >>"$CALLS"
case "$*" in
  *"get secret runyard-admin"*) [ "$ADMIN_SECRET_EXISTS" = 1 ] || exit 1 ;;
  *"create secret generic runyard-admin"*) cat >>"$SECRET_INPUT" ;;
  *"get job runyard-migrate"*) echo "Failed " ;;
  *"get job minio-bucket"*) echo "Complete " ;;
  *"logs job/runyard-migrate"*) echo "relation already exists: boom" ;;
  *"get deployment runyard"*) exit 1 ;;
esac
exit 0
"""


def _stand_in(directory: Path, name: str, script: str) -> None:
    path = directory / name
    path.write_text(script)
    path.chmod(0o755)


def _deploy(tmp_path: Path, admin_secret_exists: bool) -> subprocess.CompletedProcess[str]:
    _stand_in(tmp_path, "kubectl", FAKE_KUBECTL)
    _stand_in(tmp_path, "docker", "#!/bin/sh\nexit 0\n")  # the image exists
    _stand_in(tmp_path, "kind", "#!/bin/sh\nexit 0\n")
    env = {
        **os.environ,
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "KUBECTL": str(tmp_path / "kubectl"),
        "CALLS": str(tmp_path / "calls"),
        "SECRET_INPUT": str(tmp_path / "secret-input"),
        "ADMIN_SECRET_EXISTS": "1" if admin_secret_exists else "0",
        "KIND_CLUSTER": "unit",
    }
    return subprocess.run(
        [str(ROOT / "scripts" / "deploy.sh")], env=env, capture_output=True, text=True, timeout=120
    )


def test_a_failed_job_stops_the_deploy_at_once(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    started = time.monotonic()
    done = _deploy(tmp_path, admin_secret_exists=True)
    assert done.returncode != 0
    assert time.monotonic() - started < 60, "it waited instead of stopping"
    assert "job/runyard-migrate failed" in done.stderr
    assert "relation already exists: boom" in done.stderr
    log = calls.read_text()
    assert "--context kind-unit apply -k" in log
    assert "rollout status deployment/runyard" not in log, "no rollout after a failed Job"


def test_the_admin_secret_is_made_once_with_a_random_password(tmp_path: Path) -> None:
    passwords = []
    for attempt in range(2):
        run_dir = tmp_path / str(attempt)
        run_dir.mkdir()
        done = _deploy(run_dir, admin_secret_exists=False)
        log = (run_dir / "calls").read_text()
        created = [
            line for line in log.splitlines() if "create secret generic runyard-admin" in line
        ]
        assert created == [
            "--context kind-unit -n runyard create secret generic runyard-admin "
            "--from-literal=username=admin --from-file=password=/dev/stdin"
        ], created
        password = (run_dir / "secret-input").read_text()
        assert len(password) >= 32 and password.isprintable() and "\n" not in password
        assert password not in log + done.stdout + done.stderr, "the password leaked"
        assert log.index("create secret") < log.index("apply -k"), "Secret before the servers"
        passwords.append(password)
    assert passwords[0] != passwords[1]


def test_an_existing_admin_secret_is_kept(tmp_path: Path) -> None:
    _deploy(tmp_path, admin_secret_exists=True)
    log = (tmp_path / "calls").read_text()
    assert "get secret runyard-admin" in log
    assert "create secret" not in log
    assert not (tmp_path / "secret-input").exists()
