"""scripts/metrics-token.sh against a stand-in kubectl whose ``exec deploy/runyard`` runs the
real ``runyard`` CLI on a local store: the Secret it applies holds a token that reads /metrics,
and running it again replaces the token and revokes the old one."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from runyard.server.app import create_app

from tests.deploy.manifests import ROOT

FAKE_KUBECTL = """#!/bin/sh
# exec deploy/runyard -- runyard ...: the real CLI on the test's store;
# create secret ... -o yaml: the manifest kubectl would print; apply -f -: kept in $APPLIED.
echo "$*" >>"$CALLS"
case "$*" in
  *"exec deploy/runyard -- runyard "*)
    shift_to=$(echo "$*" | sed 's/.*exec deploy\\/runyard -- runyard //')
    exec "$PYTHON" -m runyard.cli $shift_to ;;
  *"create secret generic runyard-metrics-token"*)
    token=$(cat | base64 | tr -d '\\n')
    printf 'apiVersion: v1\\nkind: Secret\\nmetadata:\\n  name: runyard-metrics-token\\n'
    printf 'data:\\n  token: %s\\n' "$token" ;;
  *"apply -f -"*) cat >"$APPLIED" ;;
esac
exit 0
"""


def _run(tmp_path: Path, store: str) -> str:
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    env = {
        **os.environ,
        "KUBECTL": str(kubectl),
        "CALLS": str(tmp_path / "calls"),
        "APPLIED": str(tmp_path / "applied.yaml"),
        "PYTHON": sys.executable,
        "RUNYARD_BACKEND_STORE_URI": store,
    }
    done = subprocess.run(
        [str(ROOT / "scripts" / "metrics-token.sh"), "--context", "prod"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    token_line = (tmp_path / "applied.yaml").read_text().split("token: ")[1].strip()
    token = base64.b64decode(token_line).decode()
    assert token not in done.stdout + done.stderr, "the token was printed"
    return token


def test_the_secret_token_reads_metrics_and_a_rerun_revokes_the_old_one(tmp_path: Path) -> None:
    store = str(tmp_path / "mlruns")
    first = _run(tmp_path, store)
    assert first.startswith("ryt_")
    assert "--context prod -n runyard exec deploy/runyard" in (tmp_path / "calls").read_text()
    app = create_app({"backend_store_uri": store, "auth": "true"})
    client = app.test_client()
    assert client.get("/metrics", headers={"Authorization": f"Bearer {first}"}).status_code == 200
    second = _run(tmp_path, store)  # renew: the account is kept, the token replaced
    assert second != first
    app.config["RUNYARD_AUTH_STORE"].refresh(now=True)
    assert client.get("/metrics", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {second}"}).status_code == 200
