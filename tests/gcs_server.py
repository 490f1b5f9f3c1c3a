"""``gcp-storage-emulator`` in its own process, for the Google Cloud Storage tests.

It speaks GCS's JSON API (resumable uploads, ranged reads, prefix/delimiter listings), so the
``google-cloud-storage`` client runs its real code paths against it; runyard finds it through
``STORAGE_EMULATOR_HOST`` as it would in any emulator setup. What it does not emulate of real
GCS: authentication and IAM (every request is anonymous, so 403s are never exercised; missing
credentials are, without the emulator), rate limits (429) and 5xx retries, and real GCS's speed: it
rewrites everything received so far for each chunk of a resumable upload, so large uploads to
it slow down with the square of their size.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.file_server_user import free_port, stop, wait_for_port
from tests.requirements import require


@dataclass(frozen=True)
class GcsServer:
    endpoint: str

    def env(self) -> dict[str, str]:
        return {"STORAGE_EMULATOR_HOST": self.endpoint}

    def client(self):  # type: ignore[no-untyped-def]
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project="runyard-test",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )


@contextlib.contextmanager
def start_gcs_server(
    state: Path, buckets: tuple[str, ...] = ("runyard",), host: str = "127.0.0.1"
) -> Iterator[GcsServer]:
    """Start the emulator on ``host`` with its data under ``state``, create ``buckets``, stop
    it on exit."""
    emulator = shutil.which("gcp-storage-emulator", path=str(Path(sys.executable).parent))
    if emulator is None:
        require("gcs", "gcp-storage-emulator is not installed (pip install gcp-storage-emulator)")
        raise AssertionError("unreachable")
    state.mkdir(parents=True, exist_ok=True)
    port = free_port(host)
    process = subprocess.Popen(
        [emulator, "-d", str(state), "start", "--host", host, "--port", str(port), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=open(state / "emulator.log", "wb"),  # noqa: SIM115 - owned by the child
        cwd=state,
    )
    try:
        problem = wait_for_port(port, process, host=host)
        if problem:
            require("gcs", f"gcp-storage-emulator {problem}")
        server = GcsServer(endpoint=f"http://{host}:{port}")
        for bucket in buckets:
            server.client().create_bucket(bucket)
        yield server
    finally:
        stop(process)
