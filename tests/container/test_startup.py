"""A server started before its database waits for it (clear log line, no exit, no restart)
and serves once the database is up: what a fresh cluster or a database restart looks like."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.container.docker_stack import Stack, wait_for
from tests.container.images import RUNYARD_IMAGE
from tests.container.rest import call, metric_steps, new_run

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]


@pytest.fixture
def late(docker_client: Any, images: None) -> Iterator[Stack]:
    stack = Stack(docker_client)
    try:
        yield stack
    finally:
        stack.close()


def test_server_waits_for_a_late_database_instead_of_crashing(late: Stack) -> None:
    late.start_s3()
    server = late.run(
        "a",
        RUNYARD_IMAGE,
        environment=late.server_env(),
        ports={"5000/tcp": ("127.0.0.1", None)},
        read_only=True,
        tmpfs={"/tmp": "rw,size=64m"},
        restart_policy={"Name": "no"},  # an exit would show, not be hidden by a restart
    )

    def logs() -> str:
        return server.logs().decode(errors="replace")

    wait_for(lambda: "waiting for the tracking database" in logs(), 60, "the waiting log line")
    time.sleep(5)
    server.reload()
    assert server.attrs["State"]["Status"] == "running", logs()[-2000:]
    assert "runyard-test-password" not in logs(), "the database password must not be logged"
    with pytest.raises(requests.RequestException):
        requests.get(late.url("a") + "/ready", timeout=3)  # nothing listens while waiting

    late.start_postgres()
    late.wait_ready("a", timeout=120)
    _, run_id = new_run(late.url("a"))
    body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0}
    call(late.url("a"), "POST", "runs/log-metric", json=body)
    assert metric_steps(late.url("a"), run_id, "m") == [0]
    server.reload()
    assert server.attrs["RestartCount"] == 0
    assert "answers after" in logs()
