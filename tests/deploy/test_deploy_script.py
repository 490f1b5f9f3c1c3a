"""scripts/deploy.sh against stand-in docker, kind and kubectl commands: a failed Job stops the
deploy at once, with the Job's log, instead of waiting out the timeout."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.deploy.manifests import ROOT

FAKE_KUBECTL = """#!/bin/sh
# Records its arguments; the migration Job has failed, the bucket Job has completed.
echo "$*" >>"$CALLS"
case "$*" in
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


def test_a_failed_job_stops_the_deploy_at_once(tmp_path: Path) -> None:
    _stand_in(tmp_path, "kubectl", FAKE_KUBECTL)
    _stand_in(tmp_path, "docker", "#!/bin/sh\nexit 0\n")  # the image exists
    _stand_in(tmp_path, "kind", "#!/bin/sh\nexit 0\n")
    calls = tmp_path / "calls"
    env = {
        **os.environ,
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "KUBECTL": str(tmp_path / "kubectl"),
        "CALLS": str(calls),
        "KIND_CLUSTER": "unit",
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(ROOT / "scripts" / "deploy.sh")], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert time.monotonic() - started < 60, "it waited instead of stopping"
    assert "job/runyard-migrate failed" in done.stderr
    assert "relation already exists: boom" in done.stderr
    log = calls.read_text()
    assert "--context kind-unit apply -k" in log
    assert "rollout status deployment/runyard" not in log, "no rollout after a failed Job"
