"""The walkthrough with artifacts on file servers and in GCS, end to end.

``runyard server --default-artifact-root sftp://…`` or ``ftp://…``: runyard's client and the
unmodified ``mlflow`` client each log an artifact there directly and read the other's back.
``--artifacts-destination gs://…``: both clients log through the server's proxy with no Google
credentials of their own. Each client runs in its own process, configured only through its
environment (and, for MLflow's SFTP client, a throwaway home directory with ``.ssh``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from tests.ftp_server import FtpServer
from tests.gcs_server import GcsServer
from tests.live_server import start_live_server
from tests.sftp_server import SftpServer

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mlflow") is None, reason="the mlflow package is not installed"
)

RUNYARD_CLIENT = """
import json, os, sys, tempfile
import runyard

src = os.path.join(tempfile.mkdtemp(), "model.txt")
with open(src, "w") as fh:
    fh.write("written by runyard")
with runyard.start_run() as run:
    runyard.log_artifact(src, "models")
    artifact_uri = runyard.get_artifact_uri()
client = runyard.Client()
listing = [[f.path, f.file_size] for f in client.list_artifacts(run.info.run_id, "models")]
read = None
if len(sys.argv) > 1:
    local = client.download_artifacts(sys.argv[1], "models/model.txt", tempfile.mkdtemp())
    read = open(local).read()
print(json.dumps({"run_id": run.info.run_id, "artifact_uri": artifact_uri,
                  "listing": listing, "read": read}))
"""

MLFLOW_CLIENT = """
import json, os, sys, tempfile
import mlflow
from mlflow import MlflowClient

src = os.path.join(tempfile.mkdtemp(), "model.txt")
with open(src, "w") as fh:
    fh.write("written by mlflow")
with mlflow.start_run() as run:
    mlflow.log_artifact(src, "models")
    artifact_uri = mlflow.get_artifact_uri()
listing = [[f.path, f.file_size] for f in MlflowClient().list_artifacts(run.info.run_id, "models")]
read = None
if len(sys.argv) > 1:
    local = mlflow.artifacts.download_artifacts(
        run_id=sys.argv[1], artifact_path="models/model.txt", dst_path=tempfile.mkdtemp()
    )
    read = open(local).read()
print(json.dumps({"run_id": run.info.run_id, "artifact_uri": artifact_uri,
                  "listing": listing, "read": read}))
"""


def run_client(script: str, tracking_uri: str, env: dict[str, str], *args: str) -> dict:
    """Run a client script in a fresh process; it prints one JSON object last."""
    child = {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_", "MLFLOW_"))}
    child.pop("STORAGE_EMULATOR_HOST", None)
    child.update(
        RUNYARD_TRACKING_URI=tracking_uri,
        MLFLOW_TRACKING_URI=tracking_uri,
        GIT_PYTHON_REFRESH="quiet",
        RUNYARD_SPOOL="false",
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=child,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def both_clients_log_and_read_each_other(
    url: str, runyard_env: dict[str, str], mlflow_env: dict[str, str], root_prefix: str
) -> None:
    ours = run_client(RUNYARD_CLIENT, url, runyard_env)
    theirs = run_client(MLFLOW_CLIENT, url, mlflow_env, ours["run_id"])
    again = run_client(RUNYARD_CLIENT, url, runyard_env, theirs["run_id"])
    for result, author in ((ours, "runyard"), (theirs, "mlflow")):
        assert result["artifact_uri"].startswith(root_prefix), result
        assert result["listing"] == [["models/model.txt", len(f"written by {author}")]]
    assert theirs["read"] == "written by runyard"
    assert again["read"] == "written by mlflow"


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tracking.db'}"


# ---- SFTP ---------------------------------------------------------------------------------------
def mlflow_ssh_home(tmp_path: Path, server: SftpServer) -> Path:
    """A home directory for MLflow's SFTP client (pysftp reads ~/.ssh and nothing else)."""
    home = tmp_path / "home"
    ssh = home / ".ssh"
    ssh.mkdir(parents=True)
    key = server.known_hosts.read_text().split(" ", 1)[1]
    # pysftp looks a host up by its bare name, OpenSSH style tools by [host]:port
    (ssh / "known_hosts").write_text(f"127.0.0.1 {key}[127.0.0.1]:{server.port} {key}")
    (ssh / "config").write_text(f"Host 127.0.0.1\n  IdentityFile {server.identity_file}\n")
    return home


def test_sftp_default_artifact_root_for_runyard_and_mlflow(
    sftp_server: SftpServer, tmp_path: Path
) -> None:
    root = sftp_server.uri("walkthrough")
    # as in the seed's walkthrough: the explicit root wins over the proxy (MLflow's rule)
    with start_live_server(
        _sqlite(tmp_path), extra_args=["--default-artifact-root", root]
    ) as server:
        both_clients_log_and_read_each_other(
            server.url,
            sftp_server.env(),
            {"HOME": str(mlflow_ssh_home(tmp_path, sftp_server))},
            root,
        )
    on_disk = sftp_server.root / "walkthrough"
    assert len(list(on_disk.rglob("model.txt"))) == 3  # one per client run
    assert not [p for p in on_disk.rglob("*") if p.name.startswith(".runyard-upload-")]


# ---- FTP ----------------------------------------------------------------------------------------
def test_ftp_root_with_a_password_runyard_logs_and_the_password_is_never_shown(
    ftp_server: FtpServer, tmp_path: Path
) -> None:
    """The server is given the password in the URI; it stores and shows the URI without it,
    and clients take the password from their netrc."""
    password = ftp_server.password
    given = f"ftp://{ftp_server.user}:{password}@127.0.0.1:{ftp_server.port}{ftp_server.root}/pw"
    shown = ftp_server.uri("pw")
    with start_live_server(
        _sqlite(tmp_path), extra_args=["--default-artifact-root", given, "--no-serve-artifacts"]
    ) as server:
        ours = run_client(RUNYARD_CLIENT, server.url, ftp_server.env())
        again = run_client(RUNYARD_CLIENT, server.url, ftp_server.env(), ours["run_id"])
        replies = [
            requests.get(f"{server.url}{path}", timeout=10).text
            for path in (
                "/api/2.0/mlflow/experiments/get?experiment_id=0",
                f"/api/2.0/mlflow/runs/get?run_id={ours['run_id']}",
                f"/api/2.0/mlflow/artifacts/list?run_id={ours['run_id']}&path=models",
                f"/ajax-api/2.0/mlflow/runs/get?run_id={ours['run_id']}",
            )
        ]
        refused = requests.post(
            f"{server.url}/api/2.0/mlflow/experiments/create",
            json={"name": "elsewhere", "artifact_location": given.replace("/pw", "/../x")},
            timeout=10,
        )
        log = server.log_path.read_text()
    assert ours["artifact_uri"].startswith(shown + "/")
    assert ours["listing"] == [["models/model.txt", len("written by runyard")]]
    assert again["read"] == "written by runyard"
    assert refused.status_code == 400
    assert shown in replies[0] and ours["run_id"] in replies[1]
    for text in (*replies, refused.text, log, json.dumps(ours)):
        assert password not in text


def test_ftp_default_artifact_root_for_runyard_and_mlflow(
    ftp_server: FtpServer, tmp_path: Path
) -> None:
    """MLflow's FTP client takes a password only from the URI, which runyard never stores, so
    MLflow logs to a root the server lets in without one (anonymous uploads)."""
    root = ftp_server.anonymous_uri("walkthrough")
    with start_live_server(
        _sqlite(tmp_path), extra_args=["--default-artifact-root", root, "--no-serve-artifacts"]
    ) as server:
        both_clients_log_and_read_each_other(server.url, {}, {}, root)
    assert (
        len(list((ftp_server.anonymous_root / "walkthrough").rglob("model.txt"))) == 3
    )  # one per client run


# ---- GCS through the proxy ----------------------------------------------------------------------
def test_gcs_destination_behind_the_proxy_for_runyard_and_mlflow(
    gcs_server: GcsServer, tmp_path: Path
) -> None:
    """Only the server knows where GCS is; the clients have no Google settings at all."""
    with start_live_server(
        _sqlite(tmp_path), artifacts_destination="gs://runyard/proxied", env=gcs_server.env()
    ) as server:
        both_clients_log_and_read_each_other(server.url, {}, {}, "mlflow-artifacts:/")
    names = [b.name for b in gcs_server.client().list_blobs("runyard", prefix="proxied/")]
    assert len([n for n in names if n.endswith("/models/model.txt")]) == 3
