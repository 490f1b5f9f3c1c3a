"""The real ``runyard server`` (gunicorn) in a subprocess: serving, draining, database outages."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
import requests

from tests.live_server import RUNYARD, free_port, start_live_server
from tests.requirements import require

API = "/api/2.0/mlflow"


def test_gunicorn_serves_the_api_with_several_workers(tmp_path) -> None:
    with start_live_server(f"sqlite:///{tmp_path / 'live.db'}", workers=2) as server:
        assert "Using worker: runyard.server.serve.DrainingThreadWorker" in server.log()
        created = requests.post(server.url + f"{API}/experiments/create", json={"name": "live"})
        assert created.status_code == 200
        experiment_id = created.json()["experiment_id"]
        for _ in range(6):  # any worker sees what another wrote
            got = requests.get(
                server.url + f"{API}/experiments/get", params={"experiment_id": experiment_id}
            )
            assert got.json()["experiment"]["name"] == "live"
        assert requests.get(server.url + f"{API}/nope").json()["error_code"] == (
            "ENDPOINT_NOT_FOUND"
        )


def test_sigterm_drains_in_flight_requests(tmp_path) -> None:
    with start_live_server(f"sqlite:///{tmp_path / 'drain.db'}") as server:
        body = b'{"name": "drained"}'
        head = (
            f"POST {API}/experiments/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
            sock.sendall(head + body[:5])  # the request is now in flight, its body half-sent
            time.sleep(0.5)
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            sock.sendall(body[5:])
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
        assert b'"experiment_id"' in reply
        assert server.process.wait(15) == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url + "/health", timeout=2)


# ---- database outage on a throwaway PostgreSQL cluster ----------------------------------------
def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_postgres(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True, timeout=60
    )


class ThrowawayPostgres:
    """A private cluster (initdb under /tmp, its own port) that a test may stop and start."""

    def __init__(self) -> None:
        initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not initdb or not self.pg_ctl or os.geteuid() != 0 or not shutil.which("runuser"):
            require("postgres", "initdb/pg_ctl or root (to run them as postgres) unavailable")
        self.workdir = tempfile.mkdtemp(prefix="runyard-pg-")
        shutil.chown(self.workdir, "postgres")
        self.datadir = os.path.join(self.workdir, "data")
        self.port = free_port()
        self.uri = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        result = _as_postgres(initdb, "-D", self.datadir, "-A", "trust", "-U", "postgres")
        if result.returncode != 0:
            require("postgres", f"initdb failed: {result.stderr[-500:]}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = os.path.join(self.workdir, "log")
        result = _as_postgres(
            self.pg_ctl, "-D", self.datadir, "-o", options, "-l", log, "-w", "start"
        )
        assert result.returncode == 0, result.stderr

    def stop(self, mode: str = "fast") -> None:
        result = _as_postgres(self.pg_ctl, "-D", self.datadir, "-m", mode, "stop")
        assert result.returncode == 0, result.stderr

    def remove(self) -> None:
        _as_postgres(self.pg_ctl, "-D", self.datadir, "-m", "immediate", "stop")
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    cluster = ThrowawayPostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.mark.postgres
def test_database_outage_is_503_and_the_server_recovers() -> None:
    with throwaway_postgres() as cluster, start_live_server(cluster.uri) as server:
        create = server.url + f"{API}/runs/create"
        assert requests.post(create, json={"experiment_id": "0"}).status_code == 200

        cluster.stop()
        response = requests.post(create, json={"experiment_id": "0"}, timeout=30)
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"].isdigit()
        assert response.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        assert requests.get(server.url + "/ready", timeout=10).status_code == 503
        assert requests.get(server.url + "/health", timeout=5).status_code == 200

        cluster.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            response = requests.post(create, json={"experiment_id": "0"}, timeout=30)
            if response.status_code == 200:
                break
            time.sleep(0.5)
        assert response.status_code == 200, response.text
        assert requests.get(server.url + "/ready", timeout=10).status_code == 200


@pytest.mark.postgres
def test_server_started_before_its_database_waits_for_it_instead_of_exiting() -> None:
    cluster = ThrowawayPostgres()  # initialised, not started yet
    try:
        port = free_port()
        argv = [str(RUNYARD), "server", "--backend-store-uri", cluster.uri]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while b"waiting for the tracking database" not in _read(log):
                    assert process.poll() is None, _read(log).decode()
                    assert time.monotonic() < deadline, _read(log).decode()
                    time.sleep(0.2)
                time.sleep(3)  # several tries: still waiting, not exited
                assert process.poll() is None, _read(log).decode()
                text = _read(log).decode()
                assert "postgres:***@" in text or "postgres@" in text
                cluster.start()
                url = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 60
                while True:
                    with contextlib.suppress(requests.RequestException):
                        if requests.get(url + "/ready", timeout=2).status_code == 200:
                            break
                    assert process.poll() is None, _read(log).decode()
                    assert time.monotonic() < deadline, _read(log).decode()
                    time.sleep(0.5)
                create = requests.post(f"{url}{API}/runs/create", json={"experiment_id": "0"})
                assert create.status_code == 200, create.text
            finally:
                process.terminate()
                process.wait(30)
    finally:
        cluster.remove()


def _read(log) -> bytes:  # type: ignore[no-untyped-def]
    log.seek(0)
    return log.read()


def test_json_logs_are_one_object_per_line(tmp_path) -> None:
    with start_live_server(
        f"sqlite:///{tmp_path / 'json.db'}", extra_args=["--json-logs"]
    ) as server:
        requests.get(server.url + f"{API}/experiments/get", params={"experiment_id": "0"})
        lines = [line for line in server.log().splitlines() if line.startswith("{")]
        entries = [json.loads(line) for line in lines]
        access = [e for e in entries if e.get("path") == f"{API}/experiments/get"]
        assert access and access[0]["status"] == 200 and access[0]["method"] == "GET"
        assert "duration_ms" in access[0]


def test_runyard_ui_serves_the_embedded_store(tmp_path) -> None:
    port = free_port()
    log = open(tmp_path / "ui.log", "wb")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        [str(RUNYARD), "ui", "--port", str(port)],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                    break
            time.sleep(0.2)
        response = requests.post(
            f"http://127.0.0.1:{port}{API}/experiments/create", json={"name": "local"}
        )
        assert response.status_code == 200, (tmp_path / "ui.log").read_text()
        assert (tmp_path / "mlruns" / response.json()["experiment_id"] / "meta.yaml").exists()
        assert "Booting worker" in (tmp_path / "ui.log").read_text()
        assert (tmp_path / "ui.log").read_text().count("Booting worker") == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
        log.close()
